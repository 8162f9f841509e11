//! `whatsapp-fake` binary.

use clap::Parser;
use whatsapp_fake::{Cli, Fake};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let telemetry = telemetry::init("whatsapp-fake", &cli.telemetry)?;
    let fake = Fake::bind(&cli).await?;
    fake.run(stop_signal()).await;
    telemetry.shutdown().await;
    Ok(())
}

/// SIGTERM or SIGINT.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
