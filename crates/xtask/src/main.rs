//! Project tasks, run as `cargo xtask <task>`.

mod bench;
mod demo;
mod dev;
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
    /// set), migrations, and every service built so far, until Ctrl-C.
    Dev(dev::DevArgs),
    /// Send a scripted customer conversation through the stack `cargo xtask dev` runs and
    /// print it as the customer's phone shows it, with delivery ticks.
    Demo,
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
    }
}
