//! `outbound-sender` binary: parse the command line, start telemetry, run.

use anyhow::Context;
use clap::Parser;
use outbound_sender::{Application, Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let telemetry = telemetry::init("outbound-sender", &cli.telemetry)?;
    let result = match cli.command {
        Command::Migrate { database_url } => store::migrations::run_pending(&database_url)
            .await
            .map(|applied| tracing::info!(applied = applied.len(), "migrations applied"))
            .context("applying migrations"),
        Command::Serve(config) => match Application::build(*config).await {
            Ok(app) => app.run_until_stopped().await,
            Err(e) => Err(e),
        },
    };
    if let Err(e) = &result {
        tracing::error!(error = format!("{e:#}"), "outbound-sender failed");
    }
    telemetry.shutdown().await;
    result
}
