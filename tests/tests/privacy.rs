//! Log privacy: at the default `RUST_LOG=info`, our services never log who a customer is or
//! what was said. A full conversation and the error paths that tend to leak (permanent and
//! transient Graph API errors, a send with an unknown outcome, rejected webhooks, a failed
//! status) run through the real binaries; then the logs of webhook-ingest, job-runner and
//! outbound-sender are searched for every phone number, name, email and message text.
//! (whatsapp-fake is Meta's double, not our service, and is not checked.)

use std::time::Duration;

use e2e::{Pipeline, env};
use serde_json::{Value, json};
use testkit::payloads::{self, Customer, unique_wamid};
use testkit::stack::{FAKE_ACCESS_TOKEN, StackOptions};

const WAIT: Duration = Duration::from_secs(30);
const GREETING: &str = "Hi 👋 I'm ABCai from Al Ain Business Center.";

/// A customer with a distinctive profile name (the phone number is unique already).
fn customer(profile_name: &str) -> Customer {
    Customer { name: profile_name.to_owned(), ..Customer::unique() }
}

/// What must never appear in our logs about `customer`.
fn identity(customer: &Customer) -> Vec<String> {
    vec![
        customer.wa_id.clone(),
        format!("+{}", customer.wa_id),
        customer.user_id.clone(),
        customer.name.clone(),
    ]
}

/// Every string value of a JSON log line, unescaped, so `\uXXXX` or `\n` in the line
/// cannot hide a match.
fn strings_of(line: &str) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(fields) => fields.iter().for_each(|(k, v)| {
                out.push(k.clone());
                walk(v, out);
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_str::<Value>(line) {
        walk(&value, &mut out);
    }
    out
}

/// `(service, line, needle)` for every log line of `logs` containing a needle.
fn leaks<'a>(
    service: &'a str,
    logs: &'a [String],
    needles: &'a [String],
) -> Vec<(&'a str, &'a str, &'a str)> {
    let mut found = Vec::new();
    for line in logs {
        let decoded = strings_of(line);
        for needle in needles {
            if line.contains(needle.as_str()) || decoded.iter().any(|s| s.contains(needle.as_str())) {
                found.push((service, line.as_str(), needle.as_str()));
            }
        }
    }
    found
}

/// POSTs `body` as is, signed with the app secret unless `signature` is given.
async fn post_raw(p: &Pipeline, body: Vec<u8>, signature: Option<String>) -> u16 {
    let signature = signature.unwrap_or_else(|| payloads::sign_bytes(&body));
    reqwest::Client::new()
        .post(p.stack.ingest.url("/api/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread")]
async fn no_customer_data_reaches_the_logs_even_on_error_paths() {
    let options = StackOptions {
        sender: env(&[
            ("SEND_TIMEOUT_SECS", "2"),
            ("SEND_UNCERTAIN_WINDOW_SECS", "3"),
            ("SEND_RETRY_BASE_MS", "100"),
        ]),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    let mut needles: Vec<String> = Vec::new();

    // 1. A whole conversation, from greeting to the closing message.
    let ahmed = customer("Yusra Qadeerabadi");
    let script = [
        "Hello, evening greetings Zq81x",
        "I need a family visa for my wife",
        "Ahmed Khan",
        "Pakistani",
        "ahmed.khan@outlook.com",
        "After 5pm please, on my second line Zq86w",
    ];
    let mut inbound = Vec::new();
    for (i, text) in script.iter().enumerate() {
        inbound.push(p.customer_says(&ahmed, text).await);
        assert_eq!(p.stack.wait_for_sends(i + 1, WAIT).await.len(), i + 1, "reply to {text:?} arrived");
    }
    let sends = p.stack.sends().await;
    let replies: Vec<String> = sends.iter().map(|s| s["body"].as_str().expect("body").to_owned()).collect();
    assert_eq!(replies[0], format!("{GREETING}\n\nHow can I help you today?"));
    assert_eq!(replies[1], "May I know your full name, please?");
    assert_eq!(replies[2], "What is your nationality?");
    assert!(replies[5].starts_with("Thank you, Ahmed!"), "the conversation closed: {replies:?}");
    let read = p
        .wait_for_count("SELECT count(*) AS n FROM outbound_message_log WHERE status = 'read'", 6, WAIT)
        .await;
    assert_eq!(read, 6, "the status webhooks came back through ingest");
    needles.extend(identity(&ahmed));
    needles.extend(script.iter().map(|t| (*t).to_owned()));
    needles.extend(["Ahmed", "ahmed.khan", "Zq81x", "Zq86w"].map(str::to_owned));
    // Every reply, and each of its lines (the greeting is a line of the first).
    for reply in &replies {
        needles.push(reply.clone());
        needles.extend(reply.lines().filter(|l| l.len() >= 12).map(str::to_owned));
    }

    // 2. A permanent Graph API error (131026, undeliverable): failed, staff notified.
    assert!(p.stack.set_faults(&json!({"error_rate": 1.0, "error_codes": [131026]})).await);
    let nadira = customer("Nadira Feroukh");
    let text = "Hi, I want a golden visa, call me back Zq91p";
    p.customer_says(&nadira, text).await;
    let failed = p
        .wait_for_count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE status = 'failed' AND error_code = 131026",
            1,
            WAIT,
        )
        .await;
    assert_eq!(failed, 1);
    assert!(p.stack.sender.wait_for_log("send failed for good", WAIT).await);
    needles.extend(identity(&nadira));
    needles.extend([text, "Zq91p"].map(str::to_owned));

    // 3. A transient error (retried), then a reset connection (outcome unknown, settled by
    //    the status webhook the double still posts).
    assert!(p.stack.set_faults(&json!({"error_codes": [131000]})).await);
    let tariq = customer("Tariq Velmoran");
    let text = "Salam, need a work permit for my cousin Zq93r";
    p.customer_says(&tariq, text).await;
    assert!(p.stack.sender.wait_for_log("send failed; will retry", WAIT).await);
    assert!(p.stack.set_faults(&json!({"error_rate": 0.0, "reset_rate": 1.0})).await);
    assert!(p.stack.sender.wait_for_log("no answer from the Graph API", WAIT).await);
    let settled = p
        .wait_for_count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE status IN ('sent', 'delivered', 'read') \
             AND attempts > 1",
            1,
            WAIT,
        )
        .await;
    assert_eq!(settled, 1, "the uncertain send was settled by its status webhook");
    assert!(p.stack.set_faults(&json!({"reset_rate": 0.0})).await);
    needles.extend(identity(&tariq));
    needles.extend([text, "Zq93r"].map(str::to_owned));

    // 4. Webhooks ingest rejects or sets aside, each carrying customer data: a wrong
    //    signature, JSON cut short, a message without an id (quarantined, acknowledged); and a
    //    `failed` delivery status.
    let leena = customer("Leena Osterhaut");
    let text = "This must never be stored or logged Zq95m";
    let envelope = payloads::single_message(&leena, payloads::text(&leena, &unique_wamid(), text));
    let wrong = payloads::signed_with(&envelope, "not-the-app-secret");
    assert_eq!(post_raw(&p, wrong.body.clone(), Some(wrong.signature)).await, 401);
    let mut cut = wrong.body.clone();
    cut.truncate(cut.len() - 5);
    assert_eq!(post_raw(&p, cut, None).await, 400);
    let mut no_id = envelope.clone();
    if let Some(message) = no_id["entry"][0]["changes"][0]["value"]["messages"][0].as_object_mut() {
        message.remove("id");
    }
    assert_eq!(post_raw(&p, payloads::meta_bytes(&no_id), None).await, 200, "quarantined, not refused");
    let wamid = sends[0]["wamid"].as_str().expect("wamid");
    let status = payloads::status(wamid, "failed", &ahmed.wa_id, sends[0]["callback_data"].as_str());
    let failed_status = payloads::envelope(vec![vec![payloads::statuses_change(vec![status])]]);
    assert_eq!(p.stack.deliver(&failed_status).await, 200);
    // Meta's handshake with a wrong token: refused, the token not logged.
    let handshake = p
        .stack
        .ingest
        .url("/api/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong-token-Zq97k&hub.challenge=1");
    let refused = reqwest::get(handshake).await.map_or(0, |r| r.status().as_u16());
    assert_eq!(refused, 403);
    assert_eq!(
        p.count(&format!("SELECT count(*) AS n FROM contact WHERE wa_id = '{}'", leena.wa_id)).await,
        0
    );
    needles.extend(identity(&leena));
    needles.extend([text, "Zq95m", "wrong-token-Zq97k"].map(str::to_owned));
    // Secrets do not belong in logs either.
    needles.extend(
        [payloads::APP_SECRET, payloads::VERIFY_TOKEN, FAKE_ACCESS_TOKEN, "not-the-app-secret"]
            .map(str::to_owned),
    );

    // The services logged what they did (this test is not vacuous)…
    assert!(p.stack.ingest.wait_for_log("webhook rejected", WAIT).await);
    assert!(p.stack.ingest.wait_for_log("webhook verification refused", WAIT).await);
    assert!(p.stack.ingest.wait_for_log("status-only webhook", WAIT).await);
    assert!(p.stack.runner.wait_for_log("Orchestrator completed", WAIT).await);
    assert!(p.stack.sender.wait_for_log("outbound sent", WAIT).await);
    // …and none of it names the customer or repeats what was said.
    let services = [
        ("webhook-ingest", p.stack.ingest.logs()),
        ("job-runner", p.stack.runner.logs()),
        ("outbound-sender", p.stack.sender.logs()),
    ];
    let mut found = Vec::new();
    for (service, logs) in &services {
        assert!(logs.len() > 10, "{service} logged: {logs:?}");
        found.extend(leaks(service, logs, &needles));
    }
    let report: Vec<String> =
        found.iter().map(|(service, line, needle)| format!("{service}: {needle:?} in {line}")).collect();
    assert!(report.is_empty(), "customer data in the logs:\n{}", report.join("\n"));
}
