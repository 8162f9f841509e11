//! `staff-console` binary: parse the command line, run with telemetry.

use clap::Parser;
use staff_console::{Application, Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::run_service("staff-console", &cli.telemetry, async {
        match cli.command {
            Command::Migrate(args) => Ok(args.run().await?),
            Command::Serve(config) => Application::build(config).await?.run_until_stopped().await,
            Command::CreateUser(args) => staff_console::users::create_user(args).await,
        }
    })
    .await
}
