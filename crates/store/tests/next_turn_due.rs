//! When the runner's loop next wakes for a waiting turn: never at once for nothing.

use std::time::Duration;

use store::jobs::{Jobs, TurnTiming};
use testkit::TestDb;

const TURNS: TurnTiming = TurnTiming { quiet: Duration::from_secs(2), max_wait: Duration::from_secs(6) };

async fn job(db: &TestDb, wa_id: &str, extra: &str) {
    testkit::sql::execute(db.url(), &format!("INSERT INTO contact (wa_id) VALUES ('{wa_id}')")).await;
    testkit::sql::execute(
        db.url(),
        &format!(
            "INSERT INTO conversation (contact_id, phone_number_id) SELECT id, '123456789012345' FROM contact WHERE wa_id = '{wa_id}'"
        ),
    )
    .await;
    testkit::sql::execute(
        db.url(),
        &format!(
            "INSERT INTO inbound_message (conversation_id, provider_message_id, message_type, raw)
             SELECT c.id, 'wamid.{wa_id}', 'text', '{{}}' FROM conversation c JOIN contact k ON k.id = c.contact_id WHERE k.wa_id = '{wa_id}'"
        ),
    )
    .await;
    testkit::sql::execute(
        db.url(),
        &format!(
            "INSERT INTO outbound_job (conversation_id, inbound_message_id, inbound_provider_message_id {extra_columns})
             SELECT m.conversation_id, m.id, m.provider_message_id {extra_values} FROM inbound_message m
             WHERE m.provider_message_id = 'wamid.{wa_id}'",
            extra_columns = if extra.is_empty() { String::new() } else { ", status, run_at, created_at".to_owned() },
            extra_values = extra,
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_waiting_means_no_wake_up() {
    let db = TestDb::new().await;
    let jobs = Jobs::new(db.pool());
    assert_eq!(jobs.next_turn_due(TURNS).await.expect("query"), None, "an idle queue does not spin the loop");
    job(&db, "971500000001", ", 'running', now(), now() - interval '1 minute'").await;
    assert_eq!(jobs.next_turn_due(TURNS).await.expect("query"), None, "a turn being run is not waiting");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_message_is_due_when_its_quiet_period_ends_and_a_retry_at_its_time() {
    let db = TestDb::new().await;
    let jobs = Jobs::new(db.pool());
    job(&db, "971500000002", "").await;
    let due = jobs.next_turn_due(TURNS).await.expect("query").expect("a waiting turn");
    assert!(due > Duration::from_millis(1500) && due <= Duration::from_secs(2), "{due:?}");
    testkit::sql::execute(db.url(), "DELETE FROM outbound_job").await;
    job(&db, "971500000003", ", 'queued', now() + interval '30 seconds', now() - interval '1 minute'").await;
    let due = jobs.next_turn_due(TURNS).await.expect("query").expect("a waiting retry");
    assert!(due > Duration::from_secs(25), "a retry waiting for its backoff is not due at once: {due:?}");
}
