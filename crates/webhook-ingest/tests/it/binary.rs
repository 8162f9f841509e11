//! The real binary: help, migrate, refusing a database behind its migrations, SIGTERM.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testkit::TestDb;
use testkit::payloads::{self, Customer, unique_wamid};
use testkit::service::ChildService;

use crate::helpers::{count, execute};

const BINARY: &str = env!("CARGO_BIN_EXE_webhook-ingest");

#[test]
fn help_lists_every_option_with_its_environment_variable() {
    let output = Command::new(BINARY).args(["serve", "--help"]).output().expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in [
        "DATABASE_URL",
        "BIND_ADDR",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
        "WEBHOOK_ALLOW_UNSIGNED",
        "WEBHOOK_MAX_BODY_BYTES",
        "WEBHOOK_MAX_INFLIGHT_BYTES",
        "WEBHOOK_MAX_ITEMS",
        "WHATSAPP_PHONE_NUMBER_IDS",
        "HTTP_MAX_CONNECTIONS",
        "LOG_FORMAT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_SERVICE_NAME",
        "RUST_LOG",
    ] {
        assert!(help.contains(variable), "{variable} missing from:\n{help}");
    }
}

async fn empty_database() -> (TestDb, String) {
    let db = TestDb::new().await;
    execute(&db, "DROP SCHEMA public CASCADE").await;
    execute(&db, "CREATE SCHEMA public").await;
    let url = db.url().to_owned();
    (db, url)
}

fn serve_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", url.to_owned()),
        ("WHATSAPP_APP_SECRET", payloads::APP_SECRET.to_owned()),
        ("WHATSAPP_VERIFY_TOKEN", payloads::VERIFY_TOKEN.to_owned()),
    ]
}

async fn start(url: &str) -> std::io::Result<ChildService> {
    let env = serve_env(url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ChildService::start(Path::new(BINARY), &["serve"], &env).await
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_to_start_on_an_unmigrated_database_until_migrate_runs() {
    let (db, url) = empty_database().await;
    let refused = Command::new(BINARY)
        .arg("serve")
        .envs(serve_env(&url))
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    let printed =
        String::from_utf8_lossy(&refused.stdout).into_owned() + &String::from_utf8_lossy(&refused.stderr);
    assert!(printed.contains("pending migration"), "clear message, got:\n{printed}");

    let migrated = Command::new(BINARY).arg("migrate").env("DATABASE_URL", &url).output().expect("runs");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    let service = start(&url).await.expect("starts once migrated");
    let ready = reqwest::get(service.url("/readyz")).await.expect("sent");
    assert_eq!(ready.status(), 200);
    drop(db);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_in_flight_work_and_exits_cleanly() {
    let db = TestDb::new().await;
    let mut service = start(db.url()).await.expect("starts");
    let customer = Customer::unique();
    let envelope = payloads::single_message(&customer, payloads::text(&customer, &unique_wamid(), "hi"));
    let signed = payloads::signed(&envelope);
    let response = reqwest::Client::new()
        .post(service.url("/api/webhooks/whatsapp"))
        .header("x-hub-signature-256", signed.signature)
        .body(signed.body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);

    let status = service.terminate().await.expect("exits");
    assert!(status.success(), "clean exit on SIGTERM, got {status:?}");
    let stopped = service.wait_for_log("\"stopped\"", Duration::from_secs(10)).await;
    assert!(stopped, "logged its shutdown: {:?}", service.logs());
    assert_eq!(count(&db, "SELECT count(*) AS n FROM inbound_message").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn info_logs_carry_ids_but_no_customer_data() {
    let db = TestDb::new().await;
    let service = start(db.url()).await.expect("starts");
    let customer = Customer::unique();
    let text = "My name is Zarathustra Quixote, email zq@example.com";
    let envelope = payloads::single_message(&customer, payloads::text(&customer, &unique_wamid(), text));
    let signed = payloads::signed(&envelope);
    let response = reqwest::Client::new()
        .post(service.url("/api/webhooks/whatsapp"))
        .header("x-hub-signature-256", signed.signature)
        .header("x-request-id", "req-privacy-1")
        .body(signed.body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "req-privacy-1");

    assert!(service.wait_for_log("delivery stored", Duration::from_secs(10)).await, "{:?}", service.logs());
    let logs = service.logs().join("\n");
    assert!(logs.contains(r#""jobs_enqueued":1"#), "{logs}");
    assert!(logs.contains("req-privacy-1"), "request id in the logs");
    for secret in
        [customer.wa_id.as_str(), "Zarathustra", "zq@example.com", "Test Customer", payloads::APP_SECRET]
    {
        assert!(!logs.contains(secret), "{secret} leaked into the logs:\n{logs}");
    }
}
