//! `job-runner` binary: parse the command line, run with telemetry.

use clap::Parser;
use job_runner::{Application, Cli, Command, operations};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::run_service("job-runner", &cli.telemetry, async {
        match cli.command {
            Command::Migrate(args) => Ok(args.run().await?),
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
            Command::Prune(args) => print_json(&operations::prune_command(args).await?),
            Command::Failed(args) => print_json(&operations::failed_command(args).await?),
            Command::Requeue(args) => print_json(&operations::requeue_command(args).await?),
        }
    })
    .await
}

/// Prints a command's result on stdout, as one JSON document.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
