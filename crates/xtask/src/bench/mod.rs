//! `cargo xtask bench …`.

mod capacity;
mod console;
mod e2e;
mod ingest;
pub(crate) mod load;
mod pgbench;
mod pipeline;
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
    /// The whole pipeline at stepped offered rates with statuses on: replies per second,
    /// reply latency and write transactions per reply at each step, as a table and an SVG
    /// plot; `--baseline` measures other code's binaries the same way.
    Capacity(capacity::CapacityArgs),
    /// staff-console: the inbox and a conversation page on 100,000 conversations and
    /// 1,000,000 messages, one request at a time, on a release binary.
    Console(console::ConsoleArgs),
    /// The whole pipeline at a steady rate for minutes, pruning on: each service's memory and
    /// each table's size, sampled, to show they level off.
    Soak(soak::SoakArgs),
}

pub async fn run(target: Target) -> anyhow::Result<()> {
    match target {
        Target::Ingest(args) => ingest::run(args).await,
        Target::Runner(args) => runner::run(args).await,
        Target::E2e(args) => e2e::run(args).await,
        Target::Capacity(args) => capacity::run(args).await,
        Target::Soak(args) => soak::run(args).await,
        Target::Console(args) => console::run(args).await,
    }
}

/// How much WAL [`database`] has a new cluster write and recycle before a benchmark.
const PREALLOCATED_WAL_MIB: u64 = 768;

/// The benchmarks' durable Postgres: `DATABASE_URL` when set, else a throwaway cluster
/// under `target/bench-pg`, its WAL run in.
///
/// A new cluster has no WAL segments to recycle, so each 16 MiB segment is created (written
/// full of zeros and synced) inside the commit that first needs it, and every commit waits
/// for it: 27–31 ms on this machine's disk, more on a slow day, every 12–15 s at 500
/// webhooks/s. A server that has been running renames old segments instead. Writing
/// [`PREALLOCATED_WAL_MIB`] of WAL and checkpointing leaves the throwaway cluster with
/// segments to recycle, as a running server has, so the benchmarks measure that server.
pub(crate) async fn database() -> anyhow::Result<(String, Option<testkit::PgCluster>)> {
    let (url, cluster) = crate::workspace::database("bench-pg", true)?;
    if cluster.is_some() {
        println!("running in the WAL of the new cluster ({PREALLOCATED_WAL_MIB} MiB)…");
        preallocate_wal(&url).await?;
    }
    Ok((url, cluster))
}

async fn preallocate_wal(url: &str) -> anyhow::Result<()> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    // Rows of about 2 KiB, each logged whole.
    let rows = PREALLOCATED_WAL_MIB * 1024 / 2;
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!(
        "CREATE TABLE bench_wal_filler AS SELECT repeat('x', 1900) AS filler FROM generate_series(1, {rows});
         DROP TABLE bench_wal_filler;
         CHECKPOINT;"
    ))
    .await?;
    Ok(())
}

/// A fresh database `name` on the server of `admin_url`; returns its URL.
pub(crate) async fn fresh_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut admin = AsyncPgConnection::establish(admin_url).await?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    Ok(testkit::db::with_database(admin_url, name))
}
