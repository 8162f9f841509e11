//! `--help` names every option's environment variable.

use std::process::Command;

#[test]
fn help_lists_every_option_with_its_environment_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_outbound-sender")).args(["serve", "--help"]).output();
    let help = String::from_utf8_lossy(&output.map(|o| o.stdout).unwrap_or_default()).into_owned();
    for variable in [
        "DATABASE_URL",
        "BIND_ADDR",
        "WHATSAPP_API_BASE_URL",
        "WHATSAPP_API_VERSION",
        "WHATSAPP_ACCESS_TOKEN",
        "SEND_CONCURRENCY",
        "SEND_TIMEOUT_SECS",
        "SEND_UNCERTAIN_WINDOW_SECS",
        "SEND_UNCERTAIN_POLICY",
        "SEND_RATE_PER_SECOND",
        "SEND_AUTH_PAUSE_SECS",
        "WHATSAPP_TEMPLATES",
        "SEND_READ_RECEIPTS",
        "SEND_TYPING_INDICATOR",
        "LOG_FORMAT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "RUST_LOG",
    ] {
        assert!(help.contains(variable), "{variable} missing from:\n{help}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_or_placeholder_access_token_refuses_to_start_naming_it() {
    let db = testkit::TestDb::new().await;
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_outbound-sender"));
    for token in ["", "PLACEHOLDER_ACCESS_TOKEN"] {
        let env = [("DATABASE_URL", db.url()), ("WHATSAPP_ACCESS_TOKEN", token)];
        let started = testkit::service::ChildService::start(binary, &["serve"], &env).await;
        let Err(refused) = started else { panic!("started with WHATSAPP_ACCESS_TOKEN={token:?}") };
        assert!(refused.to_string().contains("WHATSAPP_ACCESS_TOKEN"), "{token:?}: {refused}");
    }
}
