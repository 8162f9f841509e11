//! `cargo xtask dev`: the pipeline on this machine.

use anyhow::Context;
use testkit::service::ChildService;

use crate::workspace;

/// Options of `cargo xtask dev`.
#[derive(clap::Args)]
pub struct DevArgs {
    /// Port of webhook-ingest.
    #[arg(long, default_value_t = 8080)]
    ingest_port: u16,
}

/// The app secret and verify token the local stack uses.
const DEV_APP_SECRET: &str = "dev-app-secret";
const DEV_VERIFY_TOKEN: &str = "dev-verify-token";

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let bin = workspace::build(false, &["webhook-ingest"])?;
    let (database_url, cluster) = workspace::database("dev-pg", false)?;
    store::migrations::run_pending(&database_url).await.context("migrating")?;

    let bind = format!("127.0.0.1:{}", args.ingest_port);
    let ingest_env = [
        ("DATABASE_URL", database_url.as_str()),
        ("BIND_ADDR", bind.as_str()),
        ("WHATSAPP_APP_SECRET", DEV_APP_SECRET),
        ("WHATSAPP_VERIFY_TOKEN", DEV_VERIFY_TOKEN),
        ("WEBHOOK_ALLOW_UNSIGNED", "true"),
        ("OTEL_SERVICE_NAME", "webhook-ingest"),
    ];
    let mut ingest =
        ChildService::start_echoing(&bin.join("webhook-ingest"), &["serve"], &ingest_env, "ingest")
            .await
            .context("starting webhook-ingest")?;

    println!();
    println!(
        "  Postgres        {database_url}{}",
        if cluster.is_some() { " (embedded, throwaway)" } else { "" }
    );
    println!(
        "  webhook-ingest  {}  (app secret `{DEV_APP_SECRET}`, verify token `{DEV_VERIFY_TOKEN}`, unsigned accepted)",
        ingest.url("/api/webhooks/whatsapp")
    );
    println!(
        "                  {}  {}  {}",
        ingest.url("/healthz"),
        ingest.url("/readyz"),
        ingest.url("/metrics")
    );
    println!();
    println!(
        "  Send a message:  curl -s {} -H 'content-type: application/json' \\",
        ingest.url("/api/webhooks/whatsapp")
    );
    println!("    -d '{}'", sample_webhook());
    println!();
    println!("  Ctrl-C stops everything.");
    println!();

    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!("stopping…");
    ingest.terminate().await.context("stopping webhook-ingest")?;
    drop(cluster);
    Ok(())
}

fn sample_webhook() -> String {
    let customer = testkit::payloads::Customer::unique();
    let message =
        testkit::payloads::text(&customer, &testkit::payloads::unique_wamid(), "Hi, I need a family visa");
    testkit::payloads::single_message(&customer, message).to_string()
}
