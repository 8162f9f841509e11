//! `outbound-sender` binary: parse the command line, run with telemetry.

use clap::Parser;
use outbound_sender::{Application, Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::run_service("outbound-sender", &cli.telemetry, async {
        match cli.command {
            Command::Migrate(args) => Ok(args.run().await?),
            Command::Serve(config) => Application::build(*config).await?.run_until_stopped().await,
        }
    })
    .await
}
