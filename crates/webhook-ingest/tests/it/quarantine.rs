//! Invariant 12: an item of a delivery that cannot be parsed or stored is quarantined raw,
//! with its reason; the rest is stored and acknowledged. Business numbers: only digits, only
//! those served.

use std::process::Command;

use serde_json::{Value, json};
use testkit::payloads::{self, Customer, unique_wamid};

use crate::helpers::TestApp;

const BINARY: &str = env!("CARGO_BIN_EXE_webhook-ingest");

/// `envelope` serialised as Meta does, with each `"<name>"` string replaced by raw JSON text.
fn with_raw(envelope: &Value, replacements: &[(&str, String)]) -> Vec<u8> {
    let mut text = String::from_utf8(payloads::meta_bytes(envelope)).expect("utf-8");
    for (name, raw) in replacements {
        text = text.replace(&format!("\"{name}\""), raw);
    }
    text.into_bytes()
}

async fn post_bytes(app: &TestApp, body: Vec<u8>) -> reqwest::Response {
    let signature = payloads::sign_bytes(&body);
    app.post_raw(body, Some(&signature)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn poisoned_items_are_quarantined_raw_and_the_good_ones_of_the_batch_stored() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let mut messages: Vec<Value> =
        (0..100).map(|n| payloads::text(&customer, &unique_wamid(), &format!("good {n}"))).collect();
    // Postgres refuses these two (jsonb nesting, numeric range) ...
    let mut deep = payloads::text(&customer, &unique_wamid(), "deep");
    deep["extra"] = json!("DEEP");
    let mut huge = payloads::text(&customer, &unique_wamid(), "huge");
    huge["extra"] = json!("HUGE");
    // ... and these do not parse: no id, a numeric id, a timestamp serde cannot read.
    let no_id = json!({"from": customer.wa_id, "type": "text", "text": {"body": "no id"}});
    let numeric_id = json!({"from": customer.wa_id, "id": 12345, "type": "text"});
    let mut far_timestamp = payloads::text(&customer, &unique_wamid(), "ts");
    far_timestamp["timestamp"] = json!("TS");
    messages.insert(10, deep);
    messages.insert(40, huge);
    messages.insert(50, no_id);
    messages.insert(60, numeric_id);
    messages.insert(70, far_timestamp);
    let statuses = vec![json!({"status": "read", "timestamp": "1750030073"})];
    let envelope = payloads::envelope(vec![vec![
        payloads::messages_change(&customer, messages),
        payloads::statuses_change(statuses),
    ]]);
    let nested = "[".repeat(60_000) + &"]".repeat(60_000);
    let body = with_raw(&envelope, &[("DEEP", nested), ("HUGE", "1e200000".into()), ("TS", "1e400".into())]);

    let response = post_bytes(&app, body.clone()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, 100);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbound_job").await, 100);
    assert_eq!(app.count("SELECT count(*) AS n FROM quarantine").await, 6);
    let refused = app
        .count(
            "SELECT count(*) AS n FROM quarantine WHERE item_kind = 'message' AND sqlstate IS NOT NULL \
             AND reason LIKE sqlstate || ': %'",
        )
        .await;
    assert_eq!(refused, 2, "Postgres' refusals keep their SQLSTATE");
    let byte_for_byte = app
        .count("SELECT count(*) AS n FROM quarantine WHERE raw LIKE '%1e200000%' AND length(raw) > 20")
        .await;
    assert_eq!(byte_for_byte, 1);
    let deep_kept = app.count("SELECT count(*) AS n FROM quarantine WHERE length(raw) > 120000").await;
    assert_eq!(deep_kept, 1, "the deep item is kept whole");
    let unparsable =
        app.count("SELECT count(*) AS n FROM quarantine WHERE reason LIKE '%does not parse%'").await;
    assert_eq!(unparsable, 4, "no id, numeric id, unreadable timestamp, status without id");
    assert_eq!(app.count("SELECT count(*) AS n FROM notification WHERE kind = 'quarantined'").await, 1);
    let leaked = app.count("SELECT count(*) AS n FROM quarantine WHERE reason LIKE '%no id%'").await;
    assert_eq!(leaked, 0, "reasons carry no message content");

    // A redelivery is acknowledged again and keeps each item once.
    assert_eq!(post_bytes(&app, body).await.status(), 200);
    assert_eq!(app.count("SELECT count(*) AS n FROM quarantine").await, 6);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, 100);

    let metrics = app.client.get(app.url("/metrics")).send().await.expect("sent").text().await.expect("body");
    assert!(metrics.contains(r#"webhook_quarantined_total{cause="refused"}"#), "{metrics}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_business_number_that_is_not_digits_is_never_stored_as_a_conversation() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let mut envelope = payloads::single_message(&customer, payloads::text(&customer, &unique_wamid(), "hi"));
    envelope["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("../../v1/me?x=");
    assert_eq!(app.post_signed(&envelope).await.status(), 200, "acknowledged, so Meta does not retry");
    assert_eq!(app.count("SELECT count(*) AS n FROM conversation").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbound_job").await, 0);
    let kept = app
        .count("SELECT count(*) AS n FROM quarantine WHERE phone_number_id = '../../v1/me?x=' AND reason LIKE '%digits%'")
        .await;
    assert_eq!(kept, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_for_numbers_not_served_are_acknowledged_recorded_and_never_answered_until_redriven() {
    let app = TestApp::spawn_with(|c| c.phone_number_ids = vec![payloads::PHONE_NUMBER_ID.to_owned()]).await;
    let customer = Customer::unique();
    let served = payloads::single_message(&customer, payloads::text(&customer, &unique_wamid(), "for us"));
    assert_eq!(app.post_signed(&served).await.status(), 200);
    let wamid = unique_wamid();
    let mut other = payloads::single_message(&customer, payloads::text(&customer, &wamid, "for another"));
    other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("999000111");
    assert_eq!(app.post_signed(&other).await.status(), 200);

    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbound_job").await,
        1,
        "only the served number is answered"
    );
    let recorded = app
        .count("SELECT count(*) AS n FROM quarantine WHERE reason = 'business number not served' AND phone_number_id = '999000111'")
        .await;
    assert_eq!(recorded, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM notification").await, 0, "not a problem for staff");
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("sent").text().await.expect("body");
    assert!(metrics.contains(r#"webhook_quarantined_total{cause="not_served"}"#));

    // The operator lists it, and redrives it once the number is served.
    let id = app.count("SELECT id AS n FROM quarantine").await.to_string();
    let list = Command::new(BINARY)
        .args(["quarantine", "list"])
        .env("DATABASE_URL", app.db.url())
        .output()
        .expect("runs");
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("business number not served") && listed.starts_with(&id), "{listed}");
    assert!(!listed.contains("for another") && !listed.contains(&customer.wa_id), "no content listed");

    let still_refused = Command::new(BINARY)
        .args(["quarantine", "redrive", "--id", &id])
        .env("DATABASE_URL", app.db.url())
        .env("WHATSAPP_PHONE_NUMBER_IDS", payloads::PHONE_NUMBER_ID)
        .output()
        .expect("runs");
    assert!(!still_refused.status.success());
    let both = format!("{},999000111", payloads::PHONE_NUMBER_ID);
    let redriven = Command::new(BINARY)
        .args(["quarantine", "redrive", "--id", &id])
        .env("DATABASE_URL", app.db.url())
        .env("WHATSAPP_PHONE_NUMBER_IDS", &both)
        .output()
        .expect("runs");
    assert!(redriven.status.success(), "{}", String::from_utf8_lossy(&redriven.stderr));
    let stored = app
        .count(&format!(
            "SELECT count(*) AS n FROM inbound_message m JOIN outbound_job j ON j.inbound_message_id = m.id \
             JOIN conversation v ON v.id = m.conversation_id \
             WHERE m.provider_message_id = '{wamid}' AND v.phone_number_id = '999000111'"
        ))
        .await;
    assert_eq!(stored, 1, "stored with its job, in the other number's conversation");
    assert_eq!(app.count("SELECT count(*) AS n FROM quarantine WHERE redriven_at IS NOT NULL").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_value_that_does_not_parse_is_quarantined_and_the_other_changes_stored() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let good = payloads::messages_change(&customer, vec![payloads::text(&customer, &unique_wamid(), "hi")]);
    let bad = json!({"field": "messages", "value": {"metadata": "not an object", "messages": "not a list"}});
    let envelope = payloads::envelope(vec![vec![bad, good]]);
    assert_eq!(app.post_signed(&envelope).await.status(), 200);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, 1);
    let kept = app
        .count("SELECT count(*) AS n FROM quarantine WHERE item_kind = 'change' AND raw LIKE '%not a list%'")
        .await;
    assert_eq!(kept, 1);
}
