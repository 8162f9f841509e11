//! The send queue on its own: every way a claimed reply can end, fenced by its lease, and
//! the order and uncertainty rules the sender relies on.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::time::Duration;

use domain::template::TemplateSend;
use store::outbound::sent::{Sent, SentRecorder, SentWriter};
use store::outbound::{ClaimedSend, SendFailure, Sends, UncertainPolicy, UnreadableTemplate};
use store::{Fenced, Retry};
use testkit::{TestDb, records, sql};

const LEASE: Duration = Duration::from_secs(30);

/// A database with one conversation of `customer`, and its replies queued with `bodies`.
async fn conversation_with_replies(db: &TestDb, customer: &str, bodies: &[&str]) -> i64 {
    let batch = records::text_delivery(customer, &format!("wamid.in.{customer}"), "hello");
    store::ingest::ingest(&db.pool(), &batch).await.expect("ingest");
    let conversation = sql::count(db.url(), "SELECT max(id) AS n FROM conversation").await;
    for (n, body) in bodies.iter().enumerate() {
        sql::execute(
            db.url(),
            &format!(
                "INSERT INTO outbound_message_log (conversation_id, dedupe_key, body, request_id) \
                 VALUES ({conversation}, '{conversation}:{customer}:{n}', '{body}', 'req-outbound')"
            ),
        )
        .await;
    }
    conversation
}

async fn status_of(db: &TestDb, id: i64) -> String {
    sql::strings(db.url(), &format!("SELECT status AS s FROM outbound_message_log WHERE id = {id}"))
        .await
        .pop()
        .expect("the row exists")
}

async fn claim_one(sends: &Sends, lease: Duration) -> ClaimedSend {
    let mut claimed = sends.claim(10, lease).await.expect("claim");
    assert_eq!(claimed.len(), 1, "exactly one reply is due: {claimed:?}");
    claimed.pop().expect("one")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_carries_its_lease_and_origin_and_the_next_reply_waits_for_it() {
    let db = TestDb::new().await;
    conversation_with_replies(&db, "971500000701", &["first", "second"]).await;
    let sends = Sends::new(db.pool());
    let first = claim_one(&sends, LEASE).await;
    assert_eq!(first.body, "first");
    assert_eq!(first.lease.attempts, 1);
    assert_eq!(first.origin.request_id.as_deref(), Some("req-outbound"));
    assert!(first.in_service_window, "the customer just wrote");
    assert!(sends.claim(10, LEASE).await.expect("claim").is_empty(), "the second waits for the first");

    assert_eq!(sends.record_sent(&first, "wamid.out.1").await.expect("sent"), Fenced::Applied(()));
    let second = claim_one(&sends, LEASE).await;
    assert_eq!(second.body, "second", "sent in creation order");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_waits_behind_an_uncertain_one_until_a_status_settles_it() {
    let db = TestDb::new().await;
    conversation_with_replies(&db, "971500000702", &["first", "second"]).await;
    let sends = Sends::new(db.pool());
    let first = claim_one(&sends, LEASE).await;
    let window = Duration::from_secs(600);
    assert!(sends.mark_uncertain(&first, window, "no answer").await.expect("mark").is_applied());
    assert_eq!(status_of(&db, first.id).await, "uncertain");
    assert!(
        sends.claim(10, LEASE).await.expect("claim").is_empty(),
        "nothing of the conversation is sent while the earlier reply may or may not have arrived"
    );

    // A status webhook echoing the row settles it as sent, whoever holds it.
    assert!(sends.record_sent(&first, "wamid.out.2").await.expect("settled").is_applied());
    assert_eq!(status_of(&db, first.id).await, "sent");
    assert_eq!(claim_one(&sends, LEASE).await.body, "second");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_lease_mid_send_becomes_uncertain_then_is_resent_or_held() {
    for (policy, expected_status, notices) in
        [(UncertainPolicy::Resend, "queued", 0), (UncertainPolicy::Hold, "uncertain", 1)]
    {
        let db = TestDb::new().await;
        conversation_with_replies(&db, "971500000703", &["only"]).await;
        let sends = Sends::new(db.pool());
        // The sender claims with a lease that is already over, then stops.
        let stalled = claim_one(&sends, Duration::ZERO).await;

        let upkeep = sends.upkeep(Duration::ZERO, policy).await.expect("upkeep");
        assert_eq!((upkeep.stalled, upkeep.unsettled), (1, 0), "{policy:?}: first it becomes uncertain");
        assert_eq!(status_of(&db, stalled.id).await, "uncertain", "never blindly resent");
        assert!(sends.claim(10, LEASE).await.expect("claim").is_empty(), "not claimable while uncertain");

        let upkeep = sends.upkeep(Duration::ZERO, policy).await.expect("upkeep");
        assert_eq!(upkeep.unsettled, 1, "{policy:?}: the window passed without a status");
        assert_eq!(status_of(&db, stalled.id).await, expected_status, "{policy:?}");
        let held =
            sql::count(db.url(), "SELECT count(*) AS n FROM notification WHERE kind = 'outbound_uncertain'");
        assert_eq!(held.await, notices, "{policy:?}: staff hear of a held reply");

        // The sender that stalled comes back: its lease is gone.
        let late = SendFailure { code: None, text: "late" };
        assert_eq!(sends.fail(&stalled, &late).await.expect("fail"), Fenced::LeaseLost);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_failing_on_every_attempt_fails_after_the_last_with_a_notification() {
    let db = TestDb::new().await;
    conversation_with_replies(&db, "971500000704", &["only"]).await;
    let max_attempts =
        sql::count(db.url(), "SELECT max_attempts::bigint AS n FROM outbound_message_log").await;
    assert_eq!(max_attempts, 10, "the documented retry budget");
    let sends = Sends::new(db.pool());
    let failure = SendFailure { code: Some(131000), text: "something went wrong" };
    for attempt in 1..=max_attempts {
        let send = claim_one(&sends, LEASE).await;
        assert_eq!(i64::from(send.lease.attempts), attempt);
        let retried = sends.retry(&send, Duration::ZERO, &failure, false).await.expect("retry");
        let expected = if attempt < max_attempts { Retry::Requeued } else { Retry::Failed };
        assert_eq!(retried, Fenced::Applied(expected), "attempt {attempt}");
    }
    assert!(sends.claim(10, LEASE).await.expect("claim").is_empty(), "a failed reply is not claimed again");
    assert_eq!(
        sql::count(db.url(), "SELECT count(*) AS n FROM notification WHERE kind = 'outbound_failed'").await,
        1
    );
    let code = sql::count(db.url(), "SELECT error_code::bigint AS n FROM outbound_message_log").await;
    assert_eq!(code, 131000, "the last error is kept for staff");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_retry_does_not_use_an_attempt() {
    let db = TestDb::new().await;
    conversation_with_replies(&db, "971500000705", &["only"]).await;
    let sends = Sends::new(db.pool());
    let throttled = SendFailure { code: Some(130429), text: "rate limit hit" };
    for _ in 0..3 {
        let send = claim_one(&sends, LEASE).await;
        assert_eq!(send.lease.attempts, 1, "throttling never counts as an attempt");
        let retried = sends.retry(&send, Duration::ZERO, &throttled, true).await.expect("retry");
        assert_eq!(retried, Fenced::Applied(Retry::Requeued));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_sender_holding_the_row_fences_every_transition_of_the_first() {
    let db = TestDb::new().await;
    conversation_with_replies(&db, "971500000706", &["only"]).await;
    let sends = Sends::new(db.pool());
    let first = claim_one(&sends, Duration::ZERO).await;
    // The lease expired; upkeep and the uncertainty window hand the row to a second sender.
    sends.upkeep(Duration::ZERO, UncertainPolicy::Resend).await.expect("stalled");
    sends.upkeep(Duration::ZERO, UncertainPolicy::Resend).await.expect("requeued");
    let second = claim_one(&sends, LEASE).await;
    assert_eq!(second.id, first.id);
    assert_ne!(second.lease.claim_token, first.lease.claim_token);

    let failure = SendFailure { code: Some(131000), text: "late" };
    assert_eq!(sends.retry(&first, Duration::ZERO, &failure, false).await.expect("retry"), Fenced::LeaseLost);
    assert_eq!(sends.fail(&first, &failure).await.expect("fail"), Fenced::LeaseLost);
    assert_eq!(sends.mark_uncertain(&first, LEASE, "late").await.expect("mark"), Fenced::LeaseLost);
    assert_eq!(sends.record_sent(&first, "wamid.late").await.expect("sent"), Fenced::LeaseLost);
    assert_eq!(status_of(&db, first.id).await, "sending", "the second sender's claim is untouched");
    assert_eq!(sends.record_sent(&second, "wamid.second").await.expect("sent"), Fenced::Applied(()));
    assert_eq!(status_of(&db, first.id).await, "sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_carries_the_rows_template_parsed_or_unreadable() {
    let db = TestDb::new().await;
    let customer = "971500000707";
    let conversation = conversation_with_replies(&db, customer, &["a text", "Hello Omar", "?", "??"]).await;
    for (n, json) in [
        (1, r#"{"name": "follow_up_en", "language": "en", "parameters": ["Omar"]}"#),
        (2, r#"{"name": "follow_up_en", "language": "en-US", "parameters": ["Omar"]}"#),
        (3, r#""follow_up_en""#),
    ] {
        let key = format!("{conversation}:{customer}:{n}");
        sql::execute(
            db.url(),
            &format!("UPDATE outbound_message_log SET template = '{json}' WHERE dedupe_key = '{key}'"),
        )
        .await;
    }
    let sends = Sends::new(db.pool());

    let text = claim_one(&sends, LEASE).await;
    assert_eq!((text.body.as_str(), &text.template), ("a text", &Ok(None)));
    assert!(sends.record_sent(&text, "wamid.out.text").await.expect("sent").is_applied());

    let template = claim_one(&sends, LEASE).await;
    let expected = TemplateSend {
        name: "follow_up_en".to_owned(),
        language: "en".parse().expect("code"),
        parameters: vec!["Omar".to_owned()],
    };
    assert_eq!(template.template, Ok(Some(expected)));
    assert_eq!(template.body, "Hello Omar", "the preview travels with it");
    assert!(sends.record_sent(&template, "wamid.out.template").await.expect("sent").is_applied());

    for (n, wamid) in [(2, "wamid.out.bad.1"), (3, "wamid.out.bad.2")] {
        let unreadable = claim_one(&sends, LEASE).await;
        assert_eq!(unreadable.template, Err(UnreadableTemplate), "row {n}: loading the claim did not fail");
        assert!(sends.record_sent(&unreadable, wamid).await.expect("sent").is_applied());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sends_accepted_together_share_a_commit_and_each_is_fenced_on_its_own() {
    let db = TestDb::new().await;
    for c in 0..20 {
        conversation_with_replies(&db, &format!("9715000008{c:02}"), &["hello"]).await;
    }
    let sends = Sends::new(db.pool());
    let claimed = sends.claim(50, LEASE).await.expect("claim");
    assert_eq!(claimed.len(), 20);
    // Another sender took one of them over since.
    let taken = claimed[7].id;
    sql::execute(
        db.url(),
        &format!("UPDATE outbound_message_log SET claim_token = gen_random_uuid() WHERE id = {taken}"),
    )
    .await;

    let recorder = SentRecorder::start(db.pool(), SentWriter, 1);
    let results = futures_util::future::join_all(claimed.iter().map(|send| {
        let sent = Sent {
            id: send.id,
            claim_token: send.lease.claim_token,
            wamid: format!("wamid.group.{}", send.id),
        };
        recorder.commit(sent)
    }))
    .await;

    for (send, (_, fenced)) in claimed.iter().zip(&results) {
        let expected = if send.id == taken { Fenced::LeaseLost } else { Fenced::Applied(()) };
        assert_eq!(fenced.as_ref().expect("recorded"), &expected, "send {}", send.id);
    }
    assert_eq!(status_of(&db, taken).await, "sending", "the other sender's claim is untouched");
    assert_eq!(
        sql::count(db.url(), "SELECT count(*) AS n FROM outbound_message_log WHERE status = 'sent'").await,
        19
    );
    let transactions = sql::count(
        db.url(),
        "SELECT count(DISTINCT xmin::text) AS n FROM outbound_message_log WHERE status = 'sent'",
    )
    .await;
    assert!(transactions < 19, "results share commits: 19 recorded in {transactions}");
}
