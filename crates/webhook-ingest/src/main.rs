//! `webhook-ingest` binary: parse the command line, run with telemetry.

use clap::Parser;
use webhook_ingest::{Application, Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::run_service("webhook-ingest", &cli.telemetry, async {
        match cli.command {
            Command::Migrate(args) => Ok(args.run().await?),
            Command::Quarantine(args) => webhook_ingest::quarantine::run(args).await,
            Command::Serve(config) => Ok(Application::build(config).await?.run_until_stopped().await?),
        }
    })
    .await
}
