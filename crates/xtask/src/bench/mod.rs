//! `cargo xtask bench …`.

mod ingest;
mod load;
mod pgbench;

/// What to benchmark.
#[derive(clap::Subcommand)]
pub enum Target {
    /// webhook-ingest: latency at a fixed arrival rate (open loop), peak throughput, and the
    /// database's own ceiling for the same transaction (pgbench), on a durable Postgres.
    Ingest(ingest::IngestArgs),
}

pub async fn run(target: Target) -> anyhow::Result<()> {
    match target {
        Target::Ingest(args) => ingest::run(args).await,
    }
}
