//! Group commit: concurrent deliveries (and job results) share transactions, each gets its
//! own outcome, and one that cannot be stored does not take the others of its group down
//! with it.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use domain::conversation::QuestionKey;
use futures_util::future::join_all;
use store::Fenced;
use store::group_commit::GroupWriter;
use store::ingest::{DeliveryWriter, IngestBatch, Ingestor};
use store::jobs::{
    self, ClaimedJob, Completer, Completion, CompletionWriter, JobResult, Jobs, NewReply, TurnTiming,
};
use testkit::{TestDb, records};

fn delivery(customer: usize, wamid: &str, text: &str) -> IngestBatch {
    IngestBatch {
        request_id: format!("req-{wamid}"),
        ..records::text_delivery(&format!("97150000{customer:04}"), wamid, text)
    }
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    testkit::sql::count(db.url(), sql).await
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_deliveries_share_commits_and_each_gets_its_own_outcome() {
    let db = TestDb::new().await;
    let ingestor = Ingestor::start(db.pool(), DeliveryWriter, 1);
    // 30 customers, 2 messages each, every delivery sent twice: 120 deliveries at once.
    let mut deliveries = Vec::new();
    for customer in 0..30 {
        for n in 0..2 {
            let wamid = format!("wamid.group.{customer}.{n}");
            deliveries.push(delivery(customer, &wamid, "hello"));
            deliveries.push(delivery(customer, &wamid, "hello"));
        }
    }
    let results = join_all(deliveries.into_iter().map(|d| ingestor.commit(d.into()))).await;

    let mut stored = 0;
    for (delivery, outcome) in &results {
        let batch = &delivery.batch;
        let outcome = outcome.as_ref().expect("stored");
        assert_eq!(outcome.messages.len(), 1, "{}: one outcome per message", batch.request_id);
        stored += usize::from(outcome.messages[0].inbound_message_id.is_some());
    }
    assert_eq!(stored, 60, "each message stored once, its duplicate acknowledged as one");
    assert_eq!(count(&db, "SELECT count(*) AS n FROM inbound_message").await, 60);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM outbound_job").await, 60);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM conversation").await, 30);
    let transactions = count(&db, "SELECT count(DISTINCT xmin::text) AS n FROM inbound_message").await;
    assert!(transactions < 60, "rows share transactions: 60 messages in {transactions}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_cannot_be_stored_is_quarantined_without_failing_its_group() {
    let db = TestDb::new().await;
    let ingestor = Ingestor::start(db.pool(), DeliveryWriter, 1);
    // Postgres text cannot hold NUL: this one delivery fails whatever group it is in.
    let mut deliveries: Vec<IngestBatch> =
        (0..20).map(|c| delivery(c, &format!("wamid.ok.{c}"), "hello")).collect();
    deliveries.insert(10, delivery(99, "wamid.bad", "nul \0 inside"));
    let results = join_all(deliveries.into_iter().map(|d| ingestor.commit(d.into()))).await;

    for (delivery, outcome) in &results {
        let outcome = outcome.as_ref().expect("acknowledged");
        match delivery.batch.messages[0].provider_message_id.as_str() {
            "wamid.bad" => {
                assert_eq!(outcome.quarantined_messages, [0], "the refused message is quarantined");
                assert!(outcome.messages.is_empty());
            }
            wamid => assert_eq!(outcome.messages.len(), 1, "{wamid}: {outcome:?}"),
        }
    }
    assert_eq!(count(&db, "SELECT count(*) AS n FROM inbound_message").await, 20);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM quarantine WHERE sqlstate IS NULL").await, 1);
    let transactions = count(&db, "SELECT count(DISTINCT xmin::text) AS n FROM inbound_message").await;
    assert!(transactions < 20, "the others still shared transactions: 20 messages in {transactions}");
}

fn result_of(job: ClaimedJob) -> JobResult {
    JobResult {
        reply: Some(NewReply {
            dedupe_key: format!("{}:{}:ASK_SERVICE", job.conversation_id, job.inbound_provider_message_id),
            question_key: QuestionKey::AskService,
            body: "How can I help you today?".to_owned(),
        }),
        ..JobResult::unchanged(job)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn job_results_share_commits_and_each_is_fenced_on_its_own() {
    let db = TestDb::new().await;
    let ingestor = Ingestor::start(db.pool(), DeliveryWriter, 1);
    for customer in 0..40 {
        let (_, stored) =
            ingestor.commit(delivery(customer, &format!("wamid.job.{customer}"), "hi").into()).await;
        stored.expect("stored");
    }
    let claimed = Jobs::new(db.pool())
        .claim(100, Duration::from_secs(30), TurnTiming::EACH_MESSAGE)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 40);

    // Two results that must not commit, whatever group they land in: one whose claim was
    // taken over, one whose conversation changed since the claim.
    let mut results: Vec<JobResult> = claimed.into_iter().map(result_of).collect();
    results[7].job.lease.claim_token = uuid::Uuid::new_v4();
    results[23].job.conversation_version -= 1;
    let (lost, changed) = (results[7].job.id, results[23].job.id);

    let completer = Completer::start(db.pool(), CompletionWriter, 1);
    let outcomes = join_all(results.into_iter().map(|r| completer.commit(r))).await;
    for (result, outcome) in &outcomes {
        let expected = match result.job.id {
            id if id == lost => Fenced::LeaseLost,
            id if id == changed => Fenced::Applied(Completion::ConversationChanged),
            _ => {
                let outcome = outcome.as_ref().expect("completed");
                assert!(
                    matches!(outcome, Fenced::Applied(Completion::Done { outbound_id: Some(_), .. })),
                    "{outcome:?}"
                );
                continue;
            }
        };
        assert_eq!(outcome.as_ref().expect("completed"), &expected, "job {}", result.job.id);
    }
    assert_eq!(count(&db, "SELECT count(*) AS n FROM outbound_message_log").await, 38);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'").await, 38);
    let replies_of_unfinished = count(
        &db,
        &format!(
            "SELECT count(*) AS n FROM outbound_message_log WHERE outbound_job_id IN ({lost}, {changed})"
        ),
    )
    .await;
    assert_eq!(replies_of_unfinished, 0, "a fenced job writes nothing");
    let transactions = count(&db, "SELECT count(DISTINCT xmin::text) AS n FROM outbound_message_log").await;
    assert!(transactions < 38, "results share commits: 38 replies in {transactions}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_does_not_wait_for_a_conversation_another_transaction_holds() {
    let db = TestDb::new().await;
    for customer in 0..2 {
        store::ingest::ingest(&db.pool(), &delivery(customer, &format!("wamid.lock.{customer}"), "hi"))
            .await
            .expect("stored");
    }
    let mut conn = db.connect().await;
    let results: Vec<JobResult> = Jobs::new(db.pool())
        .claim(10, Duration::from_secs(30), TurnTiming::EACH_MESSAGE)
        .await
        .expect("claim")
        .into_iter()
        .map(result_of)
        .collect();
    assert_eq!(results.len(), 2);
    let (held_elsewhere, free) = (&results[0], &results[1]);

    // Another transaction (say, webhook ingest storing the customer's next message) holds
    // the first conversation.
    let mut blocker = db.connect().await;
    blocker
        .batch_execute(&format!(
            "BEGIN; SELECT id FROM conversation WHERE id = {} FOR UPDATE",
            held_elsewhere.job.conversation_id
        ))
        .await
        .expect("lock");

    let span = tracing::Span::none();
    let group = [(held_elsewhere, &span), (free, &span)];
    let outcomes = tokio::time::timeout(Duration::from_secs(30), CompletionWriter.write(&mut conn, &group))
        .await
        .expect("the group waited for the held conversation")
        .expect("written");
    assert_eq!(outcomes[0], Fenced::Applied(Completion::Busy), "skipped, nothing written");
    assert!(
        matches!(outcomes[1], Fenced::Applied(Completion::Done { outbound_id: Some(_), .. })),
        "{:?}",
        outcomes[1]
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'").await, 1);

    // Alone, it waits for the lock like any statement, and commits once it is released.
    let alone = tokio::spawn({
        let (url, result) = (db.url().to_owned(), held_elsewhere.clone());
        async move {
            let mut conn = <AsyncPgConnection as AsyncConnection>::establish(&url).await.expect("connect");
            jobs::complete(&mut conn, &[&result]).await.expect("complete")
        }
    });
    blocker.batch_execute("COMMIT").await.expect("commit");
    let outcome = alone.await.expect("task");
    assert!(
        matches!(outcome[..], [Fenced::Applied(Completion::Done { outbound_id: Some(_), .. })]),
        "{outcome:?}"
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'").await, 2);
}
