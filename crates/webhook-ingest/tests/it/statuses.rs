//! Delivery statuses: recorded once, never enqueue work, and move outbound rows only forward.

use domain::callback::outbound_callback_data;
use serde_json::Value;
use testkit::payloads::{self, Customer, unique_wamid};

use crate::helpers::{TestApp, execute};

/// Stores an inbound message so a conversation exists, then an outbound row in `status`
/// with `wamid` (or none), and returns the row's id.
async fn outbound_row(app: &TestApp, customer: &Customer, status: &str, wamid: Option<&str>) -> i64 {
    let inbound = payloads::single_message(customer, payloads::text(customer, &unique_wamid(), "hi"));
    assert_eq!(app.post_signed(&inbound).await.status(), 200);
    let wamid_sql = wamid.map_or("NULL".to_owned(), |w| format!("'{w}'"));
    let key = unique_wamid();
    execute(
        &app.db,
        &format!(
            "INSERT INTO outbound_message_log (conversation_id, dedupe_key, body, status, provider_message_id) \
             SELECT id, '{key}', 'How can I help you today?', '{status}', {wamid_sql} FROM conversation"
        ),
    )
    .await;
    app.count(&format!("SELECT id AS n FROM outbound_message_log WHERE dedupe_key = '{key}'")).await
}

async fn post_statuses(app: &TestApp, statuses: Vec<Value>) {
    let envelope = payloads::envelope(vec![vec![payloads::statuses_change(statuses)]]);
    assert_eq!(app.post_signed(&envelope).await.status(), 200);
}

async fn row_status(app: &TestApp, id: i64) -> String {
    let statuses = ["queued", "sending", "sent", "delivered", "read", "failed", "uncertain"];
    for (i, s) in statuses.iter().enumerate() {
        let found = app
            .count(&format!(
                "SELECT count(*) AS n FROM outbound_message_log WHERE id = {id} AND status = '{s}'"
            ))
            .await;
        if found == 1 {
            return statuses[i].to_owned();
        }
    }
    panic!("row {id} not found");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_only_payload_records_statuses_and_enqueues_nothing() {
    let app = TestApp::spawn().await;
    let statuses =
        (0..3).map(|_| payloads::status(&unique_wamid(), "delivered", "971500000000", None)).collect();
    post_statuses(&app, statuses).await;
    assert_eq!(app.count("SELECT count(*) AS n FROM message_status_event").await, 3);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbound_job").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn statuses_move_a_row_forward_and_never_back() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let wamid = unique_wamid();
    let id = outbound_row(&app, &customer, "sent", Some(&wamid)).await;
    let status = |s: &str| payloads::status(&wamid, s, &customer.wa_id, None);

    post_statuses(&app, vec![status("read")]).await;
    assert_eq!(row_status(&app, id).await, "read");

    // A late delivered, a duplicated read and a late failed change nothing.
    post_statuses(&app, vec![status("delivered")]).await;
    post_statuses(&app, vec![status("read")]).await;
    post_statuses(&app, vec![status("failed")]).await;
    assert_eq!(row_status(&app, id).await, "read");
    let timestamps = app
        .count(&format!(
            "SELECT count(*) AS n FROM outbound_message_log WHERE id = {id} \
             AND read_at IS NOT NULL AND delivered_at IS NOT NULL AND failed_at IS NULL"
        ))
        .await;
    assert_eq!(timestamps, 1);

    // Each (wamid, status) is recorded once, however often it is delivered.
    let events = app
        .count(&format!(
            "SELECT count(*) AS n FROM message_status_event WHERE provider_message_id = '{wamid}'"
        ))
        .await;
    assert_eq!(events, 3, "read, delivered and failed, each once");
    assert_eq!(app.count("SELECT count(*) AS n FROM notification").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn delivered_then_read_in_one_batch_ends_read() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let wamid = unique_wamid();
    let id = outbound_row(&app, &customer, "sent", Some(&wamid)).await;
    let batch = ["sent", "delivered", "read"]
        .iter()
        .map(|s| payloads::status(&wamid, s, &customer.wa_id, None))
        .collect();
    post_statuses(&app, batch).await;
    assert_eq!(row_status(&app, id).await, "read");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_status_fails_the_row_with_its_code_notifies_staff_and_is_terminal() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let wamid = unique_wamid();
    let id = outbound_row(&app, &customer, "sent", Some(&wamid)).await;

    post_statuses(&app, vec![payloads::status(&wamid, "failed", &customer.wa_id, None)]).await;
    post_statuses(&app, vec![payloads::status(&wamid, "failed", &customer.wa_id, None)]).await;
    post_statuses(&app, vec![payloads::status(&wamid, "delivered", &customer.wa_id, None)]).await;

    assert_eq!(row_status(&app, id).await, "failed");
    let failed = app
        .count(&format!(
            "SELECT count(*) AS n FROM outbound_message_log WHERE id = {id} AND error_code = 131047 \
             AND error_text LIKE 'Re-engagement message:%' AND failed_at IS NOT NULL"
        ))
        .await;
    assert_eq!(failed, 1);
    let notices = app
        .count(&format!(
            "SELECT count(*) AS n FROM notification WHERE kind = 'outbound_failed' \
             AND dedupe_key = 'outbound_failed:{id}' AND body NOT LIKE '%{}%'",
            customer.wa_id
        ))
        .await;
    assert_eq!(notices, 1, "one notification, without the phone number");
}

#[tokio::test(flavor = "multi_thread")]
async fn callback_data_settles_an_uncertain_send_and_records_its_wamid() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let id = outbound_row(&app, &customer, "uncertain", None).await;
    let wamid = unique_wamid();
    let callback = outbound_callback_data(id);
    post_statuses(&app, vec![payloads::status(&wamid, "sent", &customer.wa_id, Some(&callback))]).await;

    assert_eq!(row_status(&app, id).await, "sent");
    let recorded = app
        .count(&format!(
            "SELECT count(*) AS n FROM outbound_message_log WHERE id = {id} \
             AND provider_message_id = '{wamid}' AND sent_at IS NOT NULL"
        ))
        .await;
    assert_eq!(recorded, 1);

    // Later statuses find the row by its wamid alone.
    post_statuses(&app, vec![payloads::status(&wamid, "delivered", &customer.wa_id, None)]).await;
    assert_eq!(row_status(&app, id).await, "delivered");
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_and_statuses_in_one_payload_are_both_handled() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let wamid = unique_wamid();
    let id = outbound_row(&app, &customer, "sent", Some(&wamid)).await;
    let envelope = payloads::envelope(vec![vec![
        payloads::messages_change(&customer, vec![payloads::text(&customer, &unique_wamid(), "again")]),
        payloads::statuses_change(vec![payloads::status(&wamid, "read", &customer.wa_id, None)]),
    ]]);
    assert_eq!(app.post_signed(&envelope).await.status(), 200);
    assert_eq!(row_status(&app, id).await, "read");
    assert_eq!(app.count("SELECT count(*) AS n FROM outbound_job").await, 2);
}
