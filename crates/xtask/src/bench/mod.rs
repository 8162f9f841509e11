//! `cargo xtask bench …`.

mod ingest;
mod load;
mod pgbench;
mod runner;

/// What to benchmark.
#[derive(clap::Subcommand)]
pub enum Target {
    /// webhook-ingest: latency at a fixed arrival rate (open loop), peak throughput, and the
    /// database's own ceiling for the same transaction (pgbench), on a durable Postgres.
    Ingest(ingest::IngestArgs),
    /// job-runner: jobs per second with 1 and 4 tasks, and the pickup latency from an
    /// ingest commit's NOTIFY to the claim, on a durable Postgres.
    Runner(runner::RunnerArgs),
}

pub async fn run(target: Target) -> anyhow::Result<()> {
    match target {
        Target::Ingest(args) => ingest::run(args).await,
        Target::Runner(args) => runner::run(args).await,
    }
}
