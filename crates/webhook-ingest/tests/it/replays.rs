//! Late, replayed, far-future and oversized deliveries: newer contact data is never
//! overwritten, a wrong clock does not hold the 24-hour window open, and a delivery's items
//! past the limit are quarantined rather than dropped. Customer text is kept as text.

use serde_json::{Value, json};
use testkit::payloads::{self, Customer, unique_wamid};

use crate::helpers::TestApp;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One text from `customer`, sent at `at`, with `name` as the profile name.
fn named_message(customer: &Customer, at: i64, name: &str) -> Value {
    let mut message = payloads::text(customer, &unique_wamid(), "hello");
    message["timestamp"] = json!(at.to_string());
    let mut envelope = payloads::single_message(customer, message);
    envelope["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = json!(name);
    envelope
}

async fn profile_name(app: &TestApp, customer: &Customer) -> String {
    let names = ["Newer Name", "Older Name", "Newest Name"];
    for (n, name) in names.iter().enumerate() {
        let sql = format!(
            "SELECT count(*) AS n FROM contact WHERE wa_id = '{}' AND profile_name = '{name}'",
            customer.wa_id
        );
        if app.count(&sql).await == 1 {
            return names[n].to_owned();
        }
    }
    "other".to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_or_replayed_message_never_overwrites_a_newer_profile_name() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let newer = named_message(&customer, now() - 60, "Newer Name");
    assert_eq!(app.post_signed(&newer).await.status(), 200);
    let older = named_message(&customer, now() - 3600, "Older Name");
    assert_eq!(app.post_signed(&older).await.status(), 200);
    assert_eq!(profile_name(&app, &customer).await, "Newer Name", "the late message changes nothing");
    assert_eq!(app.post_signed(&older).await.status(), 200, "a replay is acknowledged");
    assert_eq!(profile_name(&app, &customer).await, "Newer Name");

    let newest = named_message(&customer, now(), "Newest Name");
    assert_eq!(app.post_signed(&newest).await.status(), 200);
    assert_eq!(profile_name(&app, &customer).await, "Newest Name", "a newer message does");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timestamp_far_in_the_future_is_stored_but_does_not_hold_the_window_open() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let wamid = unique_wamid();
    let mut message = payloads::text(&customer, &wamid, "from the future");
    message["timestamp"] = json!("253402300799"); // 9999-12-31T23:59:59Z
    assert_eq!(app.post_signed(&payloads::single_message(&customer, message)).await.status(), 200);
    let stored = app
        .count(&format!(
            "SELECT count(*) AS n FROM inbound_message WHERE provider_message_id = '{wamid}' \
             AND extract(year FROM provider_timestamp) = 9999"
        ))
        .await;
    assert_eq!(stored, 1, "the timestamp is kept as sent");
    let window_now = app
        .count("SELECT count(*) AS n FROM conversation WHERE last_inbound_at BETWEEN now() - interval '1 minute' AND now()")
        .await;
    assert_eq!(window_now, 1, "the window opens at arrival, not in 9999");

    // A timestamp a little ahead (clock skew under a day) still counts as sent.
    let skewed = now() + 3600;
    let mut message = payloads::text(&customer, &unique_wamid(), "skewed");
    message["timestamp"] = json!(skewed.to_string());
    assert_eq!(app.post_signed(&payloads::single_message(&customer, message)).await.status(), 200);
    let window_skewed = app
        .count(&format!(
            "SELECT count(*) AS n FROM conversation WHERE last_inbound_at = to_timestamp({skewed})"
        ))
        .await;
    assert_eq!(window_skewed, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn items_past_the_per_delivery_limit_are_quarantined_not_dropped() {
    let app = TestApp::spawn_with(|c| c.max_items = 50).await;
    let customer = Customer::unique();
    let messages = (0..60).map(|n| payloads::text(&customer, &unique_wamid(), &format!("m{n}"))).collect();
    let envelope = payloads::envelope(vec![vec![payloads::messages_change(&customer, messages)]]);
    assert_eq!(app.post_signed(&envelope).await.status(), 200);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, 50);
    let over = app
        .count(
            "SELECT count(*) AS n FROM quarantine WHERE reason = 'over the limit of 50 items per delivery'",
        )
        .await;
    assert_eq!(over, 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn markup_in_every_customer_field_is_stored_as_text() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let markup = r#"<script>alert("x")</script><b onmouseover='y'>&amp;"#;
    let wamid = unique_wamid();
    let mut envelope = payloads::single_message(&customer, payloads::text(&customer, &wamid, markup));
    envelope["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = json!(markup);
    assert_eq!(app.post_signed(&envelope).await.status(), 200);
    let quoted = markup.replace('\'', "''");
    let kept = app
        .count(&format!(
            "SELECT count(*) AS n FROM inbound_message m JOIN conversation v ON v.id = m.conversation_id \
             JOIN contact c ON c.id = v.contact_id WHERE m.provider_message_id = '{wamid}' \
             AND m.text_body = '{quoted}' AND c.profile_name = '{quoted}' AND m.raw->'text'->>'body' = '{quoted}'"
        ))
        .await;
    assert_eq!(kept, 1, "byte for byte, neither escaped nor stripped");
}
