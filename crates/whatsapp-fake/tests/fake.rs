//! The double answers like the Graph API, records what it accepts, and misbehaves on
//! request. Driven through the real Graph client of the `whatsapp` crate.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::time::Duration;

use clap::Parser;
use domain::Secret;
use domain::template::TemplateSend;
use serde_json::{Value, json};
use whatsapp::errors::Disposition;
use whatsapp::graph::{GraphClient, Outcome, ReadReceipt, SendError, TemplateMessage, TextMessage};
use whatsapp_fake::{Cli, Fake, RecordedPresence, RecordedSend};

async fn start(args: &[&str]) -> String {
    let mut argv = vec!["whatsapp-fake", "--bind-addr", "127.0.0.1:0"];
    argv.extend_from_slice(args);
    let fake = Fake::bind(&Cli::parse_from(argv)).await.expect("binds");
    let base = format!("http://{}", fake.addr());
    tokio::spawn(fake.run(std::future::pending()));
    base
}

fn client(base: &str, token: &str) -> GraphClient {
    GraphClient::new(base, "v25.0", Secret::new(token), Duration::from_secs(2)).expect("client")
}

fn message(body: &str) -> TextMessage<'_> {
    TextMessage {
        phone_number_id: "106540352242922",
        to: "971500000001",
        body,
        reply_to: Some("wamid.INBOUND"),
        callback_data: "outbound:7",
    }
}

async fn sends(base: &str) -> Vec<RecordedSend> {
    reqwest::get(format!("{base}/_fake/sends")).await.expect("sent").json().await.expect("json")
}

async fn presence(base: &str) -> Vec<RecordedPresence> {
    reqwest::get(format!("{base}/_fake/presence")).await.expect("sent").json().await.expect("json")
}

const RECEIPT: ReadReceipt<'static> =
    ReadReceipt { phone_number_id: "106540352242922", message_id: "wamid.IN1", typing: true };

async fn set_faults(base: &str, faults: Value) {
    let response =
        reqwest::Client::new().put(format!("{base}/_fake/faults")).json(&faults).send().await.expect("sent");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn accepted_sends_get_a_wamid_and_are_recorded() {
    let base = start(&[]).await;
    let wamid = client(&base, "fake-access-token").send_text(&message("Hello 👋")).await.expect("sent");
    assert!(wamid.starts_with("wamid."));
    let recorded = sends(&base).await;
    assert_eq!(recorded.len(), 1);
    let send = &recorded[0];
    assert_eq!(
        (send.wamid.as_str(), send.to.as_str(), send.body.as_str()),
        (wamid.as_str(), "+971500000001", "Hello 👋")
    );
    assert_eq!(send.reply_to.as_deref(), Some("wamid.INBOUND"));
    assert_eq!(send.callback_data.as_deref(), Some("outbound:7"));
    assert_eq!(send.template, None, "a text is not a template");
}

fn template(parameters: &[&str]) -> TemplateSend {
    TemplateSend {
        name: "follow_up_ar".to_owned(),
        language: "ar".parse().expect("code"),
        parameters: parameters.iter().map(|p| (*p).to_owned()).collect(),
    }
}

async fn send_template(base: &str, template: &TemplateSend) -> Result<String, SendError> {
    let message = TemplateMessage {
        phone_number_id: "106540352242922",
        to: "971500000001",
        template,
        callback_data: "outbound:9",
    };
    client(base, "fake-access-token").send_template(&message).await
}

#[tokio::test]
async fn template_sends_are_recorded_with_name_language_and_parameters() {
    let base = start(&[]).await;
    let sent = template(&["فاطمة", "تأشيرة عائلية"]);
    let wamid = send_template(&base, &sent).await.expect("sent");
    let recorded = sends(&base).await;
    assert_eq!(recorded.len(), 1);
    let send = &recorded[0];
    assert_eq!(send.wamid, wamid);
    assert_eq!(send.template.as_ref(), Some(&sent));
    assert_eq!((send.body.as_str(), send.reply_to.as_deref()), ("", None), "a template quotes nothing");
    assert_eq!(send.callback_data.as_deref(), Some("outbound:9"));

    // What GET /_fake/sends lists for it, as tests of the whole stack read it.
    let listed: Vec<Value> =
        reqwest::get(format!("{base}/_fake/sends")).await.expect("sent").json().await.expect("json");
    assert_eq!(
        listed[0]["template"],
        json!({"name": "follow_up_ar", "language": "ar", "parameters": ["فاطمة", "تأشيرة عائلية"]})
    );
}

#[tokio::test]
async fn template_parameters_meta_refuses_are_refused_with_132018() {
    let base = start(&[]).await;
    for bad in ["two\nlines", "a\ttab", "five     spaces"] {
        let refused = send_template(&base, &template(&["Fatima", bad])).await.expect_err("refused");
        assert!(matches!(refused, SendError::Api { code: 132018, status: 400, .. }), "{bad:?}: {refused:?}");
        assert_eq!(refused.outcome(), Outcome::Failed(Disposition::Permanent));
    }
    let raw = |template: Value| {
        reqwest::Client::new()
            .post(format!("{base}/v25.0/106540352242922/messages"))
            .bearer_auth("fake-access-token")
            .json(&json!({
                "messaging_product": "whatsapp",
                "to": "+971500000001",
                "type": "template",
                "template": template,
            }))
            .send()
    };
    for template in [
        json!({"language": {"code": "en"}}),
        json!({"name": "follow_up_en", "language": {"code": "en-US"}}),
        json!({
            "name": "follow_up_en",
            "language": {"code": "en"},
            "components": [{"type": "header", "parameters": []}],
        }),
    ] {
        let answer = raw(template.clone()).await.expect("sent");
        assert_eq!(answer.status(), 400, "{template}");
        let error: Value = answer.json().await.expect("json");
        assert_eq!(error["error"]["code"], 100, "{template}");
    }
    assert!(sends(&base).await.is_empty(), "nothing refused is recorded");
}

#[tokio::test]
async fn requests_are_validated_like_the_cloud_api() {
    let base = start(&[]).await;
    let wrong_token = client(&base, "nope").send_text(&message("hi")).await.expect_err("refused");
    assert!(matches!(wrong_token, SendError::Api { code: 190, status: 401, .. }), "{wrong_token:?}");
    assert_eq!(wrong_token.outcome(), Outcome::Failed(Disposition::Auth));

    let too_long = "x".repeat(4097);
    let refused =
        client(&base, "fake-access-token").send_text(&message(&too_long)).await.expect_err("refused");
    assert!(matches!(refused, SendError::Api { code: 100, .. }), "{refused:?}");

    let raw = reqwest::Client::new()
        .post(format!("{base}/v25.0/106540352242922/messages"))
        .bearer_auth("fake-access-token")
        .json(&json!({"to": "+971500000001", "type": "text", "text": {"body": "hi"}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(raw.status(), 400);
    let error: Value = raw.json().await.expect("json");
    assert_eq!(error["error"]["code"], 100);
    assert!(error["error"]["fbtrace_id"].is_string());
    assert!(sends(&base).await.is_empty(), "nothing invalid is recorded");
}

#[tokio::test]
async fn injected_errors_lost_answers_resets_and_throughput_limits() {
    let base = start(&[]).await;
    let graph = client(&base, "fake-access-token");

    set_faults(&base, json!({"error_rate": 1.0, "error_codes": [131026]})).await;
    let error = graph.send_text(&message("hi")).await.expect_err("error");
    assert_eq!(error.code(), Some(131026));
    assert_eq!(error.outcome(), Outcome::Failed(Disposition::Permanent));
    assert!(sends(&base).await.is_empty());

    set_faults(&base, json!({"error_rate": 0.0, "lost_response_rate": 1.0})).await;
    let lost = graph.send_text(&message("lost")).await.expect_err("no answer");
    assert_eq!(lost.outcome(), Outcome::Uncertain, "{lost:?}");

    set_faults(&base, json!({"lost_response_rate": 0.0, "reset_rate": 1.0})).await;
    let reset = graph.send_text(&message("reset")).await.expect_err("reset");
    assert_eq!(reset.outcome(), Outcome::Uncertain, "{reset:?}");
    let answers: Vec<String> = sends(&base).await.into_iter().map(|s| s.answer).collect();
    assert_eq!(answers, ["lost", "reset"], "both were accepted and recorded");

    set_faults(&base, json!({"reset_rate": 0.0, "max_per_second": 1})).await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(graph.send_text(&message("fast")).await.err().and_then(|e| e.code()));
    }
    assert!(codes.contains(&Some(130429)), "{codes:?}");
}

#[tokio::test]
async fn nothing_listens_on_a_closed_port_so_the_request_is_not_sent() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let error = client(&format!("http://127.0.0.1:{port}"), "t")
        .send_text(&message("hi"))
        .await
        .expect_err("refused");
    assert!(matches!(error, SendError::NotSent(_)), "{error:?}");
    assert_eq!(error.outcome(), Outcome::Failed(Disposition::Transient));
}

#[test]
fn the_token_and_app_secret_never_show_in_debug_output_or_help() {
    let (token, secret) = ("fake-token-3c9e1a", "fake-secret-77d0b4");
    let cli = Cli::try_parse_from(["whatsapp-fake", "--access-token", token, "--app-secret", secret])
        .expect("parses");
    assert_eq!((cli.access_token.expose(), cli.app_secret.expose()), (token, secret));
    testkit::secrets::assert_hidden("Debug", &format!("{cli:?} {cli:#?}"), &[token, secret]);
    let env = [("FAKE_ACCESS_TOKEN", token), ("FAKE_APP_SECRET", secret)];
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_whatsapp-fake"));
    testkit::secrets::assert_help_hides(binary, &[""], &env, &[token, secret]);
}

#[tokio::test]
async fn read_receipts_are_acknowledged_like_meta_and_recorded_apart_from_sends() {
    let base = start(&[]).await;
    let graph = client(&base, "fake-access-token");
    graph.mark_read(&RECEIPT).await.expect("acknowledged");
    graph
        .mark_read(&ReadReceipt { message_id: "wamid.IN2", typing: false, ..RECEIPT })
        .await
        .expect("acknowledged");
    let recorded = presence(&base).await;
    let seen: Vec<(&str, &str, bool)> =
        recorded.iter().map(|r| (r.phone_number_id.as_str(), r.message_id.as_str(), r.typing)).collect();
    assert_eq!(seen, [("106540352242922", "wamid.IN1", true), ("106540352242922", "wamid.IN2", false)]);
    assert!(sends(&base).await.is_empty(), "a read receipt is no message");

    let wrong_token = client(&base, "nope").mark_read(&RECEIPT).await.expect_err("refused");
    assert!(matches!(wrong_token, SendError::Api { code: 190, status: 401, .. }), "{wrong_token:?}");
    let raw = |body: Value| {
        reqwest::Client::new()
            .post(format!("{base}/v25.0/106540352242922/messages"))
            .bearer_auth("fake-access-token")
            .json(&body)
            .send()
    };
    let answer = raw(json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN3"}));
    let answer: Value = answer.await.expect("sent").json().await.expect("json");
    assert_eq!(answer, json!({"success": true}), "Meta's answer");
    for refused in [
        json!({"messaging_product": "whatsapp", "status": "read"}),
        json!({"messaging_product": "whatsapp", "status": "delivered", "message_id": "wamid.IN4"}),
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN4",
               "typing_indicator": {"type": "audio"}}),
    ] {
        let answer = raw(refused.clone()).await.expect("sent");
        assert_eq!(answer.status(), 400, "{refused}");
        let error: Value = answer.json().await.expect("json");
        assert_eq!(error["error"]["code"], 100, "{refused}");
    }
    assert_eq!(presence(&base).await.len(), 3, "nothing refused is recorded");
}

#[tokio::test]
async fn presence_faults_fail_or_slow_read_receipts_and_leave_sends_alone() {
    let base = start(&["--presence-error-rate", "1", "--error-codes", "131000"]).await;
    let graph = client(&base, "fake-access-token");
    let failed = graph.mark_read(&RECEIPT).await.expect_err("injected");
    assert_eq!(failed.code(), Some(131000));
    assert!(presence(&base).await.is_empty(), "a failed read receipt is not recorded");
    graph.send_text(&message("hi")).await.expect("sends are not affected");

    set_faults(&base, json!({"presence_error_rate": 0.0, "presence_latency_ms": 300})).await;
    let started = std::time::Instant::now();
    graph.mark_read(&RECEIPT).await.expect("acknowledged");
    assert!(started.elapsed() >= Duration::from_millis(300), "slowed: {:?}", started.elapsed());
    let started = std::time::Instant::now();
    graph.send_text(&message("hi")).await.expect("sent");
    assert!(started.elapsed() < Duration::from_millis(300), "sends are not slowed: {:?}", started.elapsed());
}
