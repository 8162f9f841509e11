//! The sender's rules on crafted rows: the sanitizer, the 24-hour window, throughput limits
//! and broken tokens.

use std::time::Duration;

use e2e::{Pipeline, env};
use testkit::payloads::Customer;
use testkit::stack::StackOptions;

const WAIT: Duration = Duration::from_secs(30);

/// A conversation whose first reply has gone out, so later rows can be crafted in it.
async fn conversation_with_a_reply(p: &Pipeline) -> i64 {
    p.customer_says(&Customer::unique(), "I need a family visa").await;
    assert_eq!(p.stack.wait_for_sends(1, WAIT).await.len(), 1);
    p.count("SELECT id AS n FROM conversation").await
}

/// Queues a reply with `body` in `conversation` and wakes the sender.
async fn queue_reply(p: &Pipeline, conversation: i64, key: &str, body: &str) {
    let body = body.replace('\'', "''");
    p.count(&format!(
        "WITH queued AS (INSERT INTO outbound_message_log (conversation_id, dedupe_key, question_key, body, request_id) \
         VALUES ({conversation}, '{key}', 'ASK_SERVICE', '{body}', 'req-crafted') RETURNING id) \
         SELECT count(*) AS n FROM queued, pg_notify('outbound_message_queued', '')"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_list_is_stripped_before_sending_and_logged() {
    let p = Pipeline::start(StackOptions::default()).await;
    let conversation = conversation_with_a_reply(&p).await;
    queue_reply(
        &p,
        conversation,
        "crafted:1",
        "How can I help you today? (Family Visa, Work Permit, Business Setup)",
    )
    .await;
    queue_reply(&p, conversation, "crafted:2", "(golden visa / PRO services)").await;
    let sends = p.stack.wait_for_sends(3, WAIT).await;
    assert_eq!(sends[1]["body"], "How can I help you today?");
    assert_eq!(sends[2]["body"], "How can I help you today?", "nothing left falls back to the question");
    assert!(p.stack.sender.wait_for_log("Blocked service list", WAIT).await);
    let logged =
        p.stack.sender.logs().iter().any(|l| l.contains("Blocked service list") && l.contains("req-crafted"));
    assert!(logged, "logged with the request id");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_outside_the_24_hour_window_fails_without_an_api_call() {
    let p = Pipeline::start(StackOptions::default()).await;
    let conversation = conversation_with_a_reply(&p).await;
    p.count("WITH u AS (UPDATE conversation SET last_inbound_at = now() - interval '25 hours' RETURNING id) SELECT count(*) AS n FROM u")
        .await;
    queue_reply(&p, conversation, "crafted:late", "What is your nationality?").await;
    let failed = p
        .wait_for_count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE dedupe_key = 'crafted:late' \
             AND status = 'failed' AND error_code = 131047",
            1,
            WAIT,
        )
        .await;
    assert_eq!(failed, 1);
    assert_eq!(p.count("SELECT count(*) AS n FROM notification WHERE kind = 'outbound_failed'").await, 1);
    assert_eq!(p.stack.sends().await.len(), 1, "no API call was spent on it");
}

#[tokio::test(flavor = "multi_thread")]
async fn throughput_limits_pause_the_number_and_every_reply_still_arrives_once() {
    let options = StackOptions {
        fake: env(&[("FAKE_MAX_PER_SECOND", "3")]),
        sender: env(&[("SEND_THROTTLE_PAUSE_SECS", "1")]),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    for _ in 0..15 {
        p.customer_says(&Customer::unique(), "hello").await;
    }
    let sends = p.stack.wait_for_sends(15, WAIT).await;
    assert_eq!(sends.len(), 15);
    let callbacks: std::collections::HashSet<_> = e2e::callbacks(&sends).into_iter().collect();
    assert_eq!(callbacks.len(), 15, "each reply once");
    let paused = p
        .count("SELECT count(*) AS n FROM sender_throttle WHERE reason = 'throughput limit' AND error_code = 130429")
        .await;
    assert_eq!(paused, 1, "the pause was shared through Postgres");
    let failed = p.count("SELECT count(*) AS n FROM outbound_message_log WHERE status = 'failed'").await;
    assert_eq!(failed, 0, "throttling never uses up attempts");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_token_fails_the_reply_pauses_sending_and_says_so_loudly() {
    let options = StackOptions {
        fake: env(&[("FAKE_ERROR_RATE", "1.0"), ("FAKE_ERROR_CODES", "190")]),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    p.customer_says(&Customer::unique(), "hello").await;
    let failed = p
        .wait_for_count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE status = 'failed' AND error_code = 190",
            1,
            WAIT,
        )
        .await;
    assert_eq!(failed, 1);
    let paused = p
        .count(
            "SELECT count(*) AS n FROM sender_throttle WHERE reason = 'access token rejected' \
             AND paused_until > now() + interval '1 minute'",
        )
        .await;
    assert_eq!(paused, 1);
    assert!(p.stack.sender.wait_for_log("ACCESS TOKEN REJECTED", WAIT).await);

    // While paused, a new reply waits instead of failing too.
    p.customer_says(&Customer::unique(), "hello").await;
    let queued = p
        .wait_for_count("SELECT count(*) AS n FROM outbound_message_log WHERE status = 'queued'", 1, WAIT)
        .await;
    assert_eq!(queued, 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(p.count("SELECT count(*) AS n FROM outbound_message_log WHERE status = 'failed'").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transient_error_with_retry_after_waits_at_least_that_long() {
    let options = StackOptions {
        fake: env(&[
            ("FAKE_ERROR_RATE", "1.0"),
            ("FAKE_ERROR_CODES", "131000"),
            ("FAKE_RETRY_AFTER_SECS", "30"),
        ]),
        sender: env(&[("SEND_RETRY_BASE_MS", "100")]),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    p.customer_says(&Customer::unique(), "hello").await;
    let retried = "SELECT count(*) AS n FROM outbound_message_log \
                   WHERE status = 'queued' AND attempts = 1 AND error_code = 131000";
    assert_eq!(p.wait_for_count(retried, 1, WAIT).await, 1, "the first attempt failed and was queued again");
    let wait =
        p.count("SELECT EXTRACT(EPOCH FROM run_at - now())::bigint AS n FROM outbound_message_log").await;
    assert!(wait >= 25, "Meta's Retry-After (30 s) wins over a 100 ms backoff: next attempt in {wait} s");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_per_number_rate_limit_spaces_the_sends() {
    let options = StackOptions { sender: env(&[("SEND_RATE_PER_SECOND", "2")]), ..StackOptions::default() };
    let p = Pipeline::start(options).await;
    for _ in 0..8 {
        p.customer_says(&Customer::unique(), "hello").await;
    }
    let sends = p.stack.wait_for_sends(8, WAIT).await;
    assert_eq!(sends.len(), 8);
    let mut at: Vec<chrono::DateTime<chrono::Utc>> = sends
        .iter()
        .map(|s| s["received_at"].as_str().expect("received_at").parse().expect("a time"))
        .collect();
    at.sort();
    let busiest_second = at
        .iter()
        .map(|start| {
            at.iter().filter(|t| **t >= *start && **t < *start + chrono::Duration::seconds(1)).count()
        })
        .max()
        .unwrap_or_default();
    // A burst of 2, then one every 500 ms: 3 in a second, 4 when a window's edges meet two sends.
    assert!(busiest_second <= 4, "{busiest_second} sends in one second at 2/s");
    let spread = at[7] - at[0];
    assert!(
        spread >= chrono::Duration::milliseconds(2500),
        "8 sends at 2/s after a burst of 2 take 3 s: {spread}"
    );
}
