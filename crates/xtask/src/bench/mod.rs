//! `cargo xtask bench …`.

mod e2e;
mod ingest;
pub(crate) mod load;
mod pgbench;
mod runner;
mod soak;

/// What to benchmark.
#[derive(clap::Subcommand)]
pub enum Target {
    /// webhook-ingest: latency at a fixed arrival rate (open loop), peak throughput, and the
    /// database's own ceiling for the same transaction (pgbench), on a durable Postgres.
    Ingest(ingest::IngestArgs),
    /// job-runner: jobs per second with 1 and 4 tasks, and the pickup latency from an
    /// ingest commit's NOTIFY to the claim, on a durable Postgres.
    Runner(runner::RunnerArgs),
    /// The whole pipeline: latency from webhook to Graph API request at a fixed rate, and
    /// sends per second in a burst, on release binaries and a durable Postgres.
    E2e(e2e::E2eArgs),
    /// The whole pipeline at a steady rate for minutes, pruning on: each service's memory and
    /// each table's size, sampled, to show they level off.
    Soak(soak::SoakArgs),
}

pub async fn run(target: Target) -> anyhow::Result<()> {
    match target {
        Target::Ingest(args) => ingest::run(args).await,
        Target::Runner(args) => runner::run(args).await,
        Target::E2e(args) => e2e::run(args).await,
        Target::Soak(args) => soak::run(args).await,
    }
}

/// A fresh database `name` on the server of `admin_url`; returns its URL.
pub(crate) async fn fresh_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut admin = AsyncPgConnection::establish(admin_url).await?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    Ok(testkit::db::with_database(admin_url, name))
}
