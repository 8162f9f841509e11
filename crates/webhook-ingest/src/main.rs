//! `webhook-ingest` binary: parse the command line, start telemetry, run.

use anyhow::Context;
use clap::Parser;
use webhook_ingest::{Application, Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let telemetry = telemetry::init("webhook-ingest", &cli.telemetry)?;
    let result = run(cli.command).await;
    if let Err(e) = &result {
        tracing::error!(error = format!("{e:#}"), "webhook-ingest failed");
    }
    telemetry.shutdown().await;
    result
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Migrate { database_url } => {
            let applied =
                store::migrations::run_pending(&database_url).await.context("applying migrations")?;
            tracing::info!(applied = applied.len(), versions = ?applied, "migrations applied");
            Ok(())
        }
        Command::Serve(config) => {
            let app = Application::build(config).await?;
            app.run_until_stopped().await.context("server failed")
        }
    }
}
