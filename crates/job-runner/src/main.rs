//! `job-runner` binary: parse the command line, start telemetry, run.

use anyhow::Context;
use clap::Parser;
use job_runner::{Application, Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let telemetry = telemetry::init("job-runner", &cli.telemetry)?;
    let result = run(cli.command).await;
    if let Err(e) = &result {
        tracing::error!(error = format!("{e:#}"), "job-runner failed");
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
        Command::Serve(config) => Application::build(config).await?.run_until_stopped().await,
        Command::RunOnce(config) => {
            let summary = job_runner::run_once(config).await?;
            tracing::info!(
                claimed = summary.claimed,
                done = summary.done,
                retried = summary.retried,
                failed = summary.failed,
                lease_lost = summary.lease_lost,
                "run-once finished"
            );
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
    }
}
