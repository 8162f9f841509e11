//! `cargo xtask demo`: a scripted customer conversation through the stack `cargo xtask dev`
//! runs, printed as the customer's phone shows it.

use std::path::PathBuf;

use anyhow::Context;
pub use testkit::demo::Target;

use crate::workspace;

/// Where `cargo xtask dev` records the addresses of the stack it runs.
pub fn state_file() -> PathBuf {
    workspace::target_dir().join("xtask-dev.json")
}

/// Runs the demo against the stack `cargo xtask dev` started.
pub async fn run() -> anyhow::Result<()> {
    let path = state_file();
    let state = std::fs::read(&path).with_context(|| {
        format!("no running stack ({} is missing): start `cargo xtask dev` first", path.display())
    })?;
    let target: Target =
        serde_json::from_slice(&state).with_context(|| format!("reading {}", path.display()))?;
    show(&target).await
}

/// Sends the script to `target` and prints each turn as it completes.
pub async fn show(target: &Target) -> anyhow::Result<()> {
    println!();
    println!("  A new customer writes to the business on WhatsApp:");
    println!();
    testkit::demo::run(target, &testkit::demo::SCRIPT, |turn| println!("{turn}")).await?;
    println!("  The lead is qualified: staff have a `lead_qualified` notification (GET /api/notifications).");
    Ok(())
}
