//! The real binaries together: ingest, runner, sender and the Graph API double.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::collections::HashMap;
use std::time::Duration;

use e2e::{Pipeline, callbacks, env};
use serde_json::json;
use testkit::payloads::{self, Customer};
use testkit::stack::StackOptions;

const GREETING: &str = "Hi 👋 I'm ABCai from Al Ain Business Center.";
const WAIT: Duration = Duration::from_secs(30);

/// Timings short enough for tests: a 2 s Graph API timeout (lease 9 s) and a 3 s
/// uncertainty window.
fn quick_sender() -> Vec<(String, String)> {
    env(&[("SEND_TIMEOUT_SECS", "2"), ("SEND_UNCERTAIN_WINDOW_SECS", "3"), ("SEND_RETRY_BASE_MS", "100")])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scripted_conversation_reaches_the_phone_in_order_with_the_exact_texts() {
    let p = Pipeline::start(StackOptions { sender: quick_sender(), ..StackOptions::default() }).await;
    let customer = Customer::unique();
    let script =
        ["Hello", "I need a family visa", "Ahmed Khan", "Pakistani", "ahmed.khan@gmail.com", "after 5pm"];
    let mut inbound = Vec::new();
    for (i, text) in script.iter().enumerate() {
        inbound.push(p.customer_says(&customer, text).await);
        let sends = p.stack.wait_for_sends(i + 1, WAIT).await;
        assert_eq!(sends.len(), i + 1, "reply to {text:?} arrived");
    }
    let sends = p.stack.sends().await;
    let bodies: Vec<&str> = sends.iter().map(|s| s["body"].as_str().expect("body")).collect();
    assert_eq!(
        bodies,
        [
            &format!("{GREETING}\n\nHow can I help you today?") as &str,
            "May I know your full name, please?",
            "What is your nationality?",
            "What is your email address? We will send your quotation there.",
            "What is the best time to call you?",
            "Thank you, Ahmed! Here is what I have: Ahmed Khan, Family visa, Pakistani, ahmed.khan@gmail.com, after 5pm. Our team will prepare your quotation and call you at the time you chose. If anything needs changing, just tell me here.",
        ]
    );
    for (send, wamid) in sends.iter().zip(&inbound) {
        assert_eq!(send["to"], format!("+{}", customer.wa_id));
        assert_eq!(send["reply_to"], wamid.as_str(), "each reply quotes its message");
        assert!(send["callback_data"].as_str().expect("callback").starts_with("outbound:"));
    }
    // The fake's status webhooks come back through ingest: every reply ends read.
    let read = p
        .wait_for_count("SELECT count(*) AS n FROM outbound_message_log WHERE status = 'read'", 6, WAIT)
        .await;
    assert_eq!(read, 6);
    let matched = p
        .count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE provider_message_id LIKE 'wamid.FAKE%' \
             AND sent_at IS NOT NULL AND delivered_at IS NOT NULL AND read_at IS NOT NULL",
        )
        .await;
    assert_eq!(matched, 6);
    assert_eq!(p.count("SELECT count(*) AS n FROM notification WHERE kind = 'lead_qualified'").await, 1);

    // A late `delivered` never moves a read reply back.
    let wamid = sends[0]["wamid"].as_str().expect("wamid").to_owned();
    let late = payloads::envelope(vec![vec![payloads::statuses_change(vec![payloads::status(
        &wamid,
        "delivered",
        &customer.wa_id,
        None,
    )])]]);
    assert_eq!(p.stack.deliver(&late).await, 200);
    assert_eq!(p.count("SELECT count(*) AS n FROM outbound_message_log WHERE status = 'read'").await, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_thirty_percent_transient_errors_every_reply_arrives_exactly_once() {
    let options = StackOptions {
        fake: env(&[("FAKE_ERROR_RATE", "0.3"), ("FAKE_ERROR_CODES", "131000,2,131016,133004")]),
        sender: quick_sender(),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    let customers: Vec<Customer> = (0..10).map(|_| Customer::unique()).collect();
    for round in ["hello", "I need a golden visa", "Maria Lopez"] {
        for customer in &customers {
            p.customer_says(customer, round).await;
        }
    }
    // 30 turns, 30 replies; a reply still waiting for its retry when the customer's next
    // turn is decided is superseded by the newer one (invariant 10) and never sent.
    let jobs_done = "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'";
    assert_eq!(p.wait_for_count(jobs_done, 30, WAIT).await, 30);
    let settled = "SELECT count(*) AS n FROM outbound_message_log WHERE status IN ('queued', 'sending')";
    assert_eq!(p.wait_for_count(settled, 0, WAIT).await, 0, "every reply sent or superseded");
    assert_eq!(p.count("SELECT count(*) AS n FROM outbound_message_log").await, 30);
    let to_send =
        p.count("SELECT count(*) AS n FROM outbound_message_log WHERE status <> 'superseded'").await;
    let sends = p.stack.wait_for_sends(usize::try_from(to_send).unwrap_or(30), WAIT).await;
    let mut per_reply: HashMap<String, usize> = HashMap::new();
    for callback in callbacks(&sends) {
        *per_reply.entry(callback).or_default() += 1;
    }
    assert_eq!(per_reply.len() as i64, to_send, "every reply not superseded reached the phone");
    assert!(per_reply.values().all(|n| *n == 1), "{per_reply:?}");
    let superseded: Vec<String> = testkit::sql::strings(
        p.db.url(),
        "SELECT 'outbound:' || id AS s FROM outbound_message_log WHERE status = 'superseded'",
    )
    .await;
    assert!(superseded.iter().all(|s| !per_reply.contains_key(s)), "a superseded reply is never sent");
    let retried = p.count("SELECT count(*) AS n FROM outbound_message_log WHERE attempts > 1").await;
    assert!(retried > 0, "some sends were retried");
    // Each customer got their replies in order: per recipient, the Graph API saw reply ids
    // (created in conversation order) ascending.
    assert_eq!(out_of_order(&sends), 0);
}

/// Sends that reached the Graph API before an earlier reply of the same customer.
fn out_of_order(sends: &[serde_json::Value]) -> usize {
    let mut last: HashMap<String, i64> = HashMap::new();
    let mut late = 0;
    for send in sends {
        let to = send["to"].as_str().expect("to").to_owned();
        let id: i64 = send["callback_data"]
            .as_str()
            .and_then(|c| c.strip_prefix("outbound:"))
            .and_then(|id| id.parse().ok())
            .expect("outbound:{id}");
        let previous = last.insert(to, id).unwrap_or(0);
        if id < previous {
            late += 1;
        }
    }
    late
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_settled_by_a_status_webhook_is_not_sent_again() {
    let options = StackOptions {
        fake: env(&[("FAKE_LOST_RESPONSE_RATE", "1.0"), ("FAKE_LOST_RESPONSE_STATUSES", "true")]),
        sender: quick_sender(),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    p.customer_says(&Customer::unique(), "hello").await;
    assert_eq!(p.stack.wait_for_sends(1, WAIT).await.len(), 1);
    // The sender times out (2 s), marks the send uncertain; the `sent` webhook settles it.
    let settled = p
        .wait_for_count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE status IN ('sent', 'delivered', 'read') \
             AND provider_message_id IS NOT NULL",
            1,
            WAIT,
        )
        .await;
    assert_eq!(settled, 1);
    // Well past the uncertainty window: still one send, never resent.
    assert!(
        p.stack.sender.wait_for_log("no answer from the Graph API", WAIT).await,
        "the send was uncertain"
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(p.stack.sends().await.len(), 1);
    assert_eq!(p.count("SELECT uncertain_resends::bigint AS n FROM outbound_message_log").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_with_no_status_is_sent_again_once_after_the_window() {
    let options = StackOptions {
        fake: env(&[("FAKE_LOST_RESPONSE_RATE", "1.0"), ("FAKE_LOST_RESPONSE_STATUSES", "false")]),
        sender: quick_sender(),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    p.customer_says(&Customer::unique(), "hello").await;
    assert_eq!(p.stack.wait_for_sends(1, WAIT).await.len(), 1);
    // From now on Meta answers normally.
    assert!(p.stack.set_faults(&json!({"lost_response_rate": 0.0, "lost_response_statuses": true})).await);
    let sends = p.stack.wait_for_sends(2, WAIT).await;
    assert_eq!(sends.len(), 2);
    assert_eq!(callbacks(&sends)[0], callbacks(&sends)[1], "the same reply, sent again");
    let resent = p
        .wait_for_count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE uncertain_resends = 1 AND status = 'read'",
            1,
            WAIT,
        )
        .await;
    assert_eq!(resent, 1);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(p.stack.sends().await.len(), 2, "exactly once more");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_error_fails_the_reply_with_a_notification() {
    let options = StackOptions {
        fake: env(&[("FAKE_ERROR_RATE", "1.0"), ("FAKE_ERROR_CODES", "131026")]),
        sender: quick_sender(),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    p.customer_says(&Customer::unique(), "hello").await;
    let failed = p
        .wait_for_count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE status = 'failed' AND error_code = 131026 \
             AND attempts = 1",
            1,
            WAIT,
        )
        .await;
    assert_eq!(failed, 1);
    assert_eq!(p.count("SELECT count(*) AS n FROM notification WHERE kind = 'outbound_failed'").await, 1);
    assert!(p.stack.sends().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_sender_mid_batch_loses_nothing_and_duplicates_nothing() {
    let options = StackOptions {
        fake: env(&[("FAKE_LATENCY_MIN_MS", "200"), ("FAKE_LATENCY_MAX_MS", "600")]),
        sender: quick_sender(),
        ..StackOptions::default()
    };
    let mut p = Pipeline::start(options).await;
    let customers: Vec<Customer> = (0..24).map(|_| Customer::unique()).collect();
    for customer in &customers {
        p.customer_says(customer, "I need a work permit").await;
    }
    p.stack.wait_for_sends(4, WAIT).await;
    p.stack.sender.kill().await.expect("SIGKILL");
    let at_kill = p.stack.sends().await.len();
    assert!(at_kill < 24, "killed mid-batch ({at_kill} sent)");
    p.stack.restart_sender().await.expect("restarts");

    let sends = p.stack.wait_for_sends(24, Duration::from_secs(60)).await;
    let mut per_reply: HashMap<String, usize> = HashMap::new();
    for callback in callbacks(&sends) {
        *per_reply.entry(callback).or_default() += 1;
    }
    assert_eq!(per_reply.len(), 24, "nothing lost");
    assert!(per_reply.values().all(|n| *n == 1), "nothing duplicated: {per_reply:?}");
    let settled = p
        .wait_for_count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE status IN ('sent', 'delivered', 'read')",
            24,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(settled, 24);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_hold_policy_an_unsettled_send_is_held_for_staff_not_resent() {
    let mut sender = quick_sender();
    sender.extend(env(&[("SEND_UNCERTAIN_POLICY", "hold")]));
    let options = StackOptions {
        fake: env(&[("FAKE_LOST_RESPONSE_RATE", "1.0"), ("FAKE_LOST_RESPONSE_STATUSES", "false")]),
        sender,
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    p.customer_says(&Customer::unique(), "hello").await;
    assert_eq!(p.stack.wait_for_sends(1, WAIT).await.len(), 1);
    let held = p
        .wait_for_count("SELECT count(*) AS n FROM notification WHERE kind = 'outbound_uncertain'", 1, WAIT)
        .await;
    assert_eq!(held, 1);
    assert_eq!(
        p.count("SELECT count(*) AS n FROM outbound_message_log WHERE status = 'uncertain' AND uncertain_resends = 0")
            .await,
        1
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(p.stack.sends().await.len(), 1, "never sent twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sender_stops_cleanly_on_sigterm() {
    let mut p = Pipeline::start(StackOptions { sender: quick_sender(), ..StackOptions::default() }).await;
    p.customer_says(&Customer::unique(), "hello").await;
    assert_eq!(p.stack.wait_for_sends(1, WAIT).await.len(), 1);
    let status = p.stack.sender.terminate().await.expect("exits");
    assert!(status.success(), "{status:?}");
    assert!(p.stack.sender.wait_for_log("\"stopped\"", WAIT).await);
    assert_eq!(p.count("SELECT count(*) AS n FROM outbound_message_log WHERE status = 'sending'").await, 0);
}

/// A sender holding a send that takes `latency_ms` at the Graph API double when SIGTERM
/// arrives, with `grace_secs` to finish: the exit status, how long the exit took and the
/// reply's status after it.
async fn sigterm_during_a_send(latency_ms: &str, grace_secs: &str) -> (bool, Duration, String) {
    let sender = env(&[("SHUTDOWN_TIMEOUT_SECS", grace_secs), ("SEND_TIMEOUT_SECS", "30")]);
    let fake = env(&[("FAKE_LATENCY_MIN_MS", latency_ms), ("FAKE_LATENCY_MAX_MS", latency_ms)]);
    let mut p = Pipeline::start(StackOptions { sender, fake, ..StackOptions::default() }).await;
    p.customer_says(&Customer::unique(), "hello").await;
    let sending = "SELECT count(*) AS n FROM outbound_message_log WHERE status = 'sending'";
    assert_eq!(p.wait_for_count(sending, 1, WAIT).await, 1, "the send is under way");
    let started = tokio::time::Instant::now();
    let status = p.stack.sender.terminate().await.expect("exits");
    let took = started.elapsed();
    let status_after = testkit::sql::strings(p.db.url(), "SELECT status AS s FROM outbound_message_log")
        .await
        .pop()
        .expect("the reply's row");
    (status.success(), took, status_after)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_send_in_flight_at_sigterm_finishes_within_the_grace_period() {
    let (clean, took, status) = sigterm_during_a_send("1500", "20").await;
    assert!(clean, "clean exit");
    assert_eq!(status, "sent", "the send finished and was recorded before the exit");
    assert!(took < Duration::from_secs(10), "it exits once the send is done: {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_send_still_in_flight_when_the_grace_period_ends_becomes_uncertain() {
    let (clean, took, status) = sigterm_during_a_send("20000", "1").await;
    assert!(clean, "clean exit");
    assert_eq!(status, "uncertain", "it may have reached Meta: never blindly resent, never left 'sending'");
    assert!(took < Duration::from_secs(8), "the grace period bounds the exit: {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn asking_the_fake_for_its_sends_fails_when_the_fake_is_down() {
    use futures_util::FutureExt;
    let mut p = Pipeline::start(StackOptions::default()).await;
    p.stack.fake.kill().await.expect("killed");
    let asked = std::panic::AssertUnwindSafe(p.stack.sends()).catch_unwind().await;
    assert!(asked.is_err(), "a fake that is down is not 'nothing was sent'");
}
