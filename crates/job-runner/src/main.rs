//! `job-runner` binary: parse the command line, run with telemetry.

use clap::Parser;
use job_runner::{Application, Cli, Command};

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
        }
    })
    .await
}
