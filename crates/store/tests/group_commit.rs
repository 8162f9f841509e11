//! Group commit: concurrent deliveries share transactions, each gets its own outcome, and a
//! delivery that cannot be stored does not take the others of its group down with it.

#![allow(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use futures_util::future::join_all;
use store::group_commit::Ingestor;
use store::ingest::{InboundRecord, IngestBatch};
use testkit::TestDb;

fn delivery(customer: usize, wamid: &str, text: &str) -> IngestBatch {
    IngestBatch {
        request_id: format!("req-{wamid}"),
        traceparent: None,
        messages: vec![InboundRecord {
            wa_id: Some(format!("97150000{customer:04}")),
            user_id: None,
            profile_name: None,
            phone_number_id: "106540352242922".to_owned(),
            display_phone_number: None,
            provider_message_id: wamid.to_owned(),
            message_type: "text".to_owned(),
            text_body: Some(text.to_owned()),
            raw_json: "{}".to_owned(),
            provider_timestamp: None,
        }],
        statuses: Vec::new(),
    }
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    testkit::sql::count(db.url(), sql).await
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_deliveries_share_commits_and_each_gets_its_own_outcome() {
    let db = TestDb::new().await;
    let ingestor = Ingestor::start(db.pool(), 1);
    // 30 customers, 2 messages each, every delivery sent twice: 120 deliveries at once.
    let mut deliveries = Vec::new();
    for customer in 0..30 {
        for n in 0..2 {
            let wamid = format!("wamid.group.{customer}.{n}");
            deliveries.push(delivery(customer, &wamid, "hello"));
            deliveries.push(delivery(customer, &wamid, "hello"));
        }
    }
    let results = join_all(deliveries.into_iter().map(|d| ingestor.ingest(d))).await;

    let mut stored = 0;
    for (batch, outcome) in &results {
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
async fn a_delivery_that_cannot_be_stored_does_not_fail_its_group() {
    let db = TestDb::new().await;
    let ingestor = Ingestor::start(db.pool(), 1);
    // Postgres text cannot hold NUL: this one delivery fails whatever group it is in.
    let mut deliveries: Vec<IngestBatch> =
        (0..20).map(|c| delivery(c, &format!("wamid.ok.{c}"), "hello")).collect();
    deliveries.insert(10, delivery(99, "wamid.bad", "nul \0 inside"));
    let results = join_all(deliveries.into_iter().map(|d| ingestor.ingest(d))).await;

    for (batch, outcome) in &results {
        match batch.messages[0].provider_message_id.as_str() {
            "wamid.bad" => {
                let error = outcome.as_ref().expect_err("refused");
                assert!(!error.is_unavailable(), "a bad delivery, not an outage: {error}");
            }
            wamid => assert!(outcome.is_ok(), "{wamid}: {outcome:?}"),
        }
    }
    assert_eq!(count(&db, "SELECT count(*) AS n FROM inbound_message").await, 20);
    let transactions = count(&db, "SELECT count(DISTINCT xmin::text) AS n FROM inbound_message").await;
    assert!(transactions < 20, "the others still shared transactions: 20 messages in {transactions}");
}
