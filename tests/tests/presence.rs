//! Presence through the real services: a customer's messages turn read and "typing…" shows
//! while the turn's quiet period runs, one request a second per conversation at most and
//! always for the newest message; nothing when turned off or for a customer who opted out;
//! and a failing request never holds up the reply.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::time::Duration;

use chrono::{DateTime, Utc};
use e2e::{Pipeline, env, wait_for_metric};
use serde_json::Value;
use testkit::payloads::Customer;
use testkit::stack::StackOptions;

const WAIT: Duration = Duration::from_secs(30);

/// The series of presence requests ending in `outcome`.
fn requests(outcome: &str) -> String {
    format!("presence_requests_total{{outcome=\"{outcome}\"}}")
}

fn received_at(record: &Value) -> DateTime<Utc> {
    record["received_at"].as_str().expect("received_at").parse().expect("a time")
}

/// The presence requests the fake accepted for any of `wamids`.
async fn presence_for(p: &Pipeline, wamids: &[&str]) -> Vec<Value> {
    let all = p.stack.presence().await;
    all.into_iter().filter(|r| r["message_id"].as_str().is_some_and(|id| wamids.contains(&id))).collect()
}

/// Waits until every job is done and no reply waits to be sent.
async fn settled(p: &Pipeline, jobs: i64) {
    let done = "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'";
    assert_eq!(p.wait_for_count(done, jobs, WAIT).await, jobs, "every job ran");
    let open = "SELECT count(*) AS n FROM outbound_message_log WHERE status IN ('queued', 'sending')";
    assert_eq!(p.wait_for_count(open, 0, WAIT).await, 0, "every reply was sent");
}

/// Waits until presence of `wamid`'s conversation was decided for it and nothing is in
/// flight: the request was made (or skipped) and ended.
async fn presence_decided(p: &Pipeline, wamid: &str) {
    let sql = format!(
        "SELECT count(*) AS n FROM conversation_presence p JOIN inbound_message m ON m.id = p.requested_message_id \
         WHERE m.provider_message_id = '{wamid}' AND p.lease_until IS NULL"
    );
    assert_eq!(p.wait_for_count(&sql, 1, WAIT).await, 1, "presence of {wamid} was decided");
}

#[tokio::test(flavor = "multi_thread")]
async fn three_fragments_are_read_with_typing_before_their_one_reply() {
    let options = StackOptions { runner: env(&[("TURN_QUIET_MS", "1500")]), ..StackOptions::default() };
    let p = Pipeline::start(options).await;
    let customer = Customer::unique();
    let mut wamids = Vec::new();
    for (i, fragment) in ["Hi", "I need", "a family visa"].into_iter().enumerate() {
        if i > 0 {
            // The customer types the next fragment.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        wamids.push(p.customer_says(&customer, fragment).await);
    }
    settled(&p, 3).await;
    let sends = p.stack.sends().await;
    assert_eq!(sends.len(), 1, "one turn, one reply: {sends:#?}");
    let reply = &sends[0];
    assert_eq!(reply["reply_to"], wamids[2].as_str(), "the reply answers the newest fragment");

    let wamids: Vec<&str> = wamids.iter().map(String::as_str).collect();
    let presence = presence_for(&p, &wamids).await;
    assert_eq!(presence.len(), p.stack.presence().await.len(), "nothing else was marked");
    assert!((1..=2).contains(&presence.len()), "coalesced into one or two requests: {presence:#?}");
    let last = presence.last().expect("at least one");
    assert_eq!(last["message_id"], wamids[2], "the last is for the newest fragment: {presence:#?}");
    for record in &presence {
        assert_eq!(record["typing"], true, "read with the typing indicator: {record}");
        assert!(received_at(record) < received_at(reply), "before the reply: {record} / {reply}");
    }
    if let [first, second] = presence.as_slice() {
        let gap = received_at(second) - received_at(first);
        assert!(gap >= chrono::Duration::milliseconds(800), "one request a second at most: {gap}");
    }
    let sent = presence.len() as f64;
    assert_eq!(wait_for_metric(&p.stack.sender, &requests("sent"), sent, WAIT).await, Some(sent), "counted");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_typing_indicator_the_message_is_only_marked_read() {
    let options = StackOptions {
        runner: env(&[("TURN_QUIET_MS", "1000")]),
        sender: env(&[("SEND_TYPING_INDICATOR", "false")]),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    let wamid = p.customer_says(&Customer::unique(), "hello").await;
    settled(&p, 1).await;
    let presence = p.stack.presence().await;
    assert_eq!(presence.len(), 1, "{presence:#?}");
    assert_eq!(presence[0]["message_id"], wamid.as_str());
    assert_eq!(presence[0]["typing"], false, "read only");
    assert!(received_at(&presence[0]) < received_at(&p.stack.sends().await[0]), "before the reply");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_read_receipts_and_typing_off_nothing_is_sent() {
    let options = StackOptions {
        runner: env(&[("TURN_QUIET_MS", "1000")]),
        sender: env(&[("SEND_READ_RECEIPTS", "false"), ("SEND_TYPING_INDICATOR", "false")]),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    let customer = Customer::unique();
    p.customer_says(&customer, "hello").await;
    settled(&p, 1).await;
    p.customer_says(&customer, "I need a family visa").await;
    settled(&p, 2).await;
    // Presence would have gone out a quiet period before each reply.
    assert_eq!(p.stack.sends().await.len(), 2, "both replies went out");
    assert!(p.stack.presence().await.is_empty(), "{:#?}", p.stack.presence().await);
    let metrics = e2e::scrape(&p.stack.sender).await;
    for outcome in ["sent", "failed", "skipped"] {
        assert_eq!(e2e::value(&metrics, &requests(outcome)), Some(0.0), "{outcome}: {metrics}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_who_opted_out_gets_no_read_receipt_and_no_typing() {
    // Each message's presence goes out well before its reply: no skip but the opt-out's.
    let p = Pipeline::start(StackOptions {
        runner: env(&[("TURN_QUIET_MS", "1000")]),
        ..StackOptions::default()
    })
    .await;
    let customer = Customer::unique();
    let hi = p.customer_says(&customer, "hi").await;
    settled(&p, 1).await;
    let stop = p.customer_says(&customer, "stop").await;
    settled(&p, 2).await;
    assert_eq!(presence_for(&p, &[&hi, &stop]).await.len(), 2, "read while the customer listened");
    let opted_out = format!(
        "SELECT count(*) AS n FROM contact WHERE wa_id = '{}' AND opted_out_at IS NOT NULL",
        customer.wa_id
    );
    assert_eq!(p.count(&opted_out).await, 1, "the opt-out is stored");

    let after = p.customer_says(&customer, "hello?").await;
    presence_decided(&p, &after).await;
    assert!(presence_for(&p, &[&after]).await.is_empty(), "nothing marks it read");
    let skipped = wait_for_metric(&p.stack.sender, &requests("skipped"), 1.0, WAIT).await;
    assert_eq!(skipped, Some(1.0), "the skip is counted");
    settled(&p, 3).await;
    assert_eq!(p.stack.sends().await.len(), 2, "the greeting and the opt-out confirmation, nothing since");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_presence_request_neither_holds_up_nor_stops_the_reply_and_is_counted() {
    // Every read receipt fails, four seconds after it was asked for.
    let options = StackOptions {
        fake: env(&[("FAKE_PRESENCE_ERROR_RATE", "1.0"), ("FAKE_PRESENCE_LATENCY_MS", "4000")]),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    let customer = Customer::unique();
    let asked = Utc::now();
    p.customer_says(&customer, "hello").await;
    let sends = p.stack.wait_for_sends(1, WAIT).await;
    assert_eq!(sends.len(), 1, "the reply went out");
    let took = received_at(&sends[0]) - asked;
    assert!(took < chrono::Duration::milliseconds(4000), "the reply did not wait for presence: {took}");
    let failed = wait_for_metric(&p.stack.sender, &requests("failed"), 1.0, WAIT).await;
    assert_eq!(failed, Some(1.0), "the failure is counted");
    assert!(p.stack.sender.wait_for_log("presence request failed; not retried", WAIT).await, "and logged");

    // The next message is answered too, and its presence is asked for (once) again.
    p.customer_says(&customer, "I need a family visa").await;
    assert_eq!(p.stack.wait_for_sends(2, WAIT).await.len(), 2, "the second reply went out");
    let failed = wait_for_metric(&p.stack.sender, &requests("failed"), 2.0, WAIT).await;
    assert_eq!(failed, Some(2.0), "one request per message, never retried");
    assert!(p.stack.presence().await.is_empty(), "none went through");
    settled(&p, 2).await;
    assert_eq!(p.stack.sends().await.len(), 2, "each reply once");
}
