//! Project tasks, run as `cargo xtask <task>`.

mod bench;
mod chaos;
mod demo;
mod dev;
mod sends;
mod workspace;

use clap::{Parser, Subcommand};

/// Project tasks.
#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run the pipeline locally: an embedded throwaway Postgres (unless DATABASE_URL is
    /// set), migrations, every service and the staff console with an admin login for this
    /// run, until Ctrl-C.
    Dev(dev::DevArgs),
    /// Send a scripted customer conversation through the stack `cargo xtask dev` runs and
    /// print it as the customer's phone shows it: their messages' read ticks, "typing…",
    /// the replies and their delivery ticks.
    Demo,
    /// The whole pipeline under faults (kills, a Postgres crash, Graph API errors, duplicate
    /// and out-of-order deliveries), then an audit: nothing lost, duplicated, stuck or
    /// reordered. Exits non-zero when a promise broke.
    Chaos(chaos::ChaosArgs),
    /// Benchmarks; each prints a table of its figures.
    Bench {
        #[command(subcommand)]
        target: bench::Target,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Dev(args) => dev::run(args).await,
        Task::Demo => demo::run().await,
        Task::Bench { target } => bench::run(target).await,
        Task::Chaos(args) => chaos::run(args).await,
    }
}
