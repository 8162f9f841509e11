//! Issue 14: secrets refused at start, the handshake, duplicate signatures, metric labels.

use std::path::Path;
use std::process::Command;

use domain::Secret;
use testkit::TestDb;
use testkit::payloads::{self, Customer, unique_wamid};
use testkit::service::ChildService;
use webhook_ingest::Application;

use crate::helpers::{TestApp, config};

const BINARY: &str = env!("CARGO_BIN_EXE_webhook-ingest");

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_or_placeholder_secret_in_the_environment_refuses_to_start_naming_it() {
    let db = TestDb::new().await;
    for (variable, value) in [
        ("WHATSAPP_APP_SECRET", ""),
        ("WHATSAPP_APP_SECRET", "PLACEHOLDER_APP_SECRET"),
        ("WHATSAPP_VERIFY_TOKEN", ""),
        ("WHATSAPP_VERIFY_TOKEN", "change-me"),
    ] {
        let mut env = vec![
            ("DATABASE_URL", db.url()),
            ("WHATSAPP_APP_SECRET", payloads::APP_SECRET),
            ("WHATSAPP_VERIFY_TOKEN", payloads::VERIFY_TOKEN),
        ];
        env.retain(|(k, _)| *k != variable);
        env.push((variable, value));
        let started = ChildService::start_quiet(Path::new(BINARY), &["serve"], &env).await;
        assert!(started.is_err(), "{variable}={value:?} must not start");
        let refused = Command::new(BINARY)
            .arg("serve")
            .env("BIND_ADDR", "127.0.0.1:0")
            .envs(env.iter().copied())
            .output()
            .expect("runs");
        assert!(!refused.status.success());
        let printed =
            String::from_utf8_lossy(&refused.stdout).into_owned() + &String::from_utf8_lossy(&refused.stderr);
        assert!(printed.contains(variable), "names {variable}:\n{printed}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn application_build_refuses_empty_secrets() {
    let db = TestDb::new().await;
    let mut empty_secret = config(db.url());
    empty_secret.app_secret = Some(Secret::new(""));
    let e = Application::build(empty_secret).await.err().expect("refused");
    assert!(format!("{e:#}").contains("WHATSAPP_APP_SECRET"), "{e:#}");

    let mut empty_token = config(db.url());
    empty_token.verify_token = Some(Secret::new(" "));
    let e = Application::build(empty_token).await.err().expect("refused");
    assert!(format!("{e:#}").contains("WHATSAPP_VERIFY_TOKEN"), "{e:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_handshake_echoes_only_a_digits_challenge_with_nosniff() {
    let app = TestApp::spawn().await;
    let get = |challenge: &str| {
        let url = app.url(&format!(
            "/api/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={}&hub.challenge={}",
            payloads::VERIFY_TOKEN,
            percent(challenge)
        ));
        app.client.get(url).send()
    };
    let ok = get("1158201444").await.expect("sent");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["x-content-type-options"], "nosniff");
    assert_eq!(ok.text().await.expect("body"), "1158201444");

    // A query that does not parse is refused like a wrong token, with no parser details.
    let unparsable = app
        .client
        .get(app.url("/api/webhooks/whatsapp?hub.mode=subscribe&hub.mode=subscribe&hub.challenge=1"))
        .send()
        .await
        .expect("sent");
    assert_eq!(unparsable.status(), 403);
    assert!(!unparsable.text().await.expect("body").contains("duplicate"));

    for hostile in ["<script>alert(1)</script>", "1\r\nSet-Cookie: a=b", "12ab", "", &"9".repeat(65)] {
        let refused = get(hostile).await.expect("sent");
        assert_eq!(refused.status(), 400, "{hostile:?}");
        let body = refused.text().await.expect("body");
        assert!(!body.contains("script") && !body.contains("Set-Cookie"), "not echoed: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_signature_headers_are_refused_whichever_comes_first() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let envelope = payloads::single_message(&customer, payloads::text(&customer, &unique_wamid(), "hi"));
    let signed = payloads::signed(&envelope);
    let wrong = "sha256=".to_owned() + &"0".repeat(64);
    for pair in [[signed.signature.as_str(), wrong.as_str()], [wrong.as_str(), signed.signature.as_str()]] {
        let response = app
            .client
            .post(app.url("/api/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", pair[0])
            .header("x-hub-signature-256", pair[1])
            .body(signed.body.clone())
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 401);
    }
    let twice_the_good_one = app
        .client
        .post(app.url("/api/webhooks/whatsapp"))
        .header("x-hub-signature-256", &signed.signature)
        .header("x-hub-signature-256", &signed.signature)
        .body(signed.body.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(twice_the_good_one.status(), 401);
    assert_eq!(app.stored().await, [0; 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn made_up_methods_do_not_grow_metrics() {
    let app = TestApp::spawn().await;
    let render = || async {
        app.client.get(app.url("/metrics")).send().await.expect("sent").text().await.expect("body")
    };
    // One request of each kind first, so every series the flood can touch exists.
    let first = reqwest::Method::from_bytes(b"FIRSTMADEUP").expect("method");
    let _ = app.client.request(first, app.url("/api/webhooks/whatsapp")).send().await.expect("sent");
    let _ = app.client.get(app.url("/made/up/path")).send().await.expect("sent");
    let _ = render().await;
    let before = render().await;
    for n in 0..300 {
        let token = format!("M{n:04}{}", "X".repeat(2000));
        let method = reqwest::Method::from_bytes(token.as_bytes()).expect("method");
        let _ = app.client.request(method, app.url("/api/webhooks/whatsapp")).send().await.expect("sent");
    }
    for n in 0..100 {
        let _ = app.client.get(app.url(&format!("/made/up/path-{n}"))).send().await.expect("sent");
    }
    let after = render().await;
    assert!(!after.contains("XXXXXXXX") && !after.contains("FIRSTMADEUP"), "made-up methods are not labels");
    assert!(!after.contains("/made/up/"), "raw paths are not labels");
    assert!(after.contains(r#"method="other""#), "counted as other");
    let series = |text: &str| text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(series(&after), series(&before), "no new series");
}

/// `value` percent-encoded for a query string.
fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
