//! `cargo xtask bench runner`: jobs per second through the release `job-runner` (claim,
//! engine, commit) with 1 and 4 tasks, and the pickup latency from an ingest commit's
//! NOTIFY to the claim.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use diesel::QueryableByName;
use diesel::sql_types::{Double, Nullable};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use testkit::demo::SCRIPT;
use testkit::service::ChildService;

use crate::workspace;

/// Options of `cargo xtask bench runner`.
#[derive(clap::Args)]
pub struct RunnerArgs {
    /// Conversations seeded for the throughput runs; each gets the six messages of a full
    /// qualification, so jobs = 6 × this.
    #[arg(long, default_value_t = 4000)]
    conversations: u32,
    /// Runner task counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    tasks: Vec<u32>,
    /// Arrival rate of the pickup-latency run, messages per second.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Length of the pickup-latency run, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

pub async fn run(args: RunnerArgs) -> anyhow::Result<()> {
    let bin = workspace::build(true, &["job-runner"])?.join("job-runner");
    let (admin_url, cluster) = super::database().await?;

    let mut throughput = Vec::new();
    for &tasks in &args.tasks {
        let url = super::fresh_database(&admin_url, &format!("bench_runner_{tasks}")).await?;
        seed(&url, args.conversations).await?;
        let jobs = u64::from(args.conversations) * SCRIPT.len() as u64;
        println!("run-once over {jobs} jobs with {tasks} task(s)…");
        let started = Instant::now();
        let output = tokio::process::Command::new(&bin)
            .args(["run-once", "--max", &jobs.to_string()])
            .env("DATABASE_URL", &url)
            .env("JOB_CONCURRENCY", tasks.to_string())
            .env("TURN_QUIET_MS", "0")
            .env("RUST_LOG", "warn")
            .output()
            .await?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            bail!("run-once failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let done =
            testkit::sql::count(&url, "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'").await;
        let replies = testkit::sql::count(&url, "SELECT count(*) AS n FROM outbound_message_log").await;
        throughput.push((tasks, done, replies, elapsed));
    }

    let url = super::fresh_database(&admin_url, "bench_runner_pickup").await?;
    store::migrations::run_pending(&url).await?;
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("JOB_POLL_INTERVAL_MS", "600000"),
        ("TURN_QUIET_MS", "0"),
        ("RUST_LOG", "info"),
    ];
    let service =
        ChildService::start_quiet(&bin, &["serve"], &env).await.context("starting job-runner serve")?;
    wait_for_listener(&url).await?;
    println!("pickup latency: {} messages/s for {} s…", args.rate, args.seconds);
    let sent = feed(&url, args.rate, Duration::from_secs(args.seconds)).await?;
    let settled = wait_until_done(&url, sent).await?;
    drop(service);
    let pickup = pickup_latency(&url).await?;

    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!();
    println!("| job-runner, {cpus} CPUs shared with Postgres; fsync on | |");
    println!("|---|---|");
    for (tasks, done, replies, elapsed) in &throughput {
        println!(
            "| run-once, {tasks} task(s): {done} jobs ({replies} replies) in {:.2} s | {:.0} jobs/s |",
            elapsed.as_secs_f64(),
            *done as f64 / elapsed.as_secs_f64()
        );
    }
    println!(
        "| pickup, NOTIFY to claim, at {}/s ({} jobs, all done: {settled}) p50 / p99 / max | {:.2} / {:.2} / {:.2} ms |",
        args.rate,
        sent,
        pickup.p50.unwrap_or(f64::NAN),
        pickup.p99.unwrap_or(f64::NAN),
        pickup.max.unwrap_or(f64::NAN)
    );
    drop(cluster);
    Ok(())
}

/// `conversations` conversations, each with the six messages of a full qualification and
/// their jobs, inserted in bulk (the throughput run measures the runner, not the ingest).
/// Only the seeded tables are analysed: a new server never analyses an empty table by
/// itself, and one analysed while empty is planned as empty by every statement cached
/// before autovacuum analyses it again.
async fn seed(url: &str, conversations: u32) -> anyhow::Result<()> {
    store::migrations::run_pending(url).await?;
    let mut conn = AsyncPgConnection::establish(url).await?;
    let texts = SCRIPT.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    conn.batch_execute(&format!(
        "INSERT INTO contact (wa_id) SELECT '9715' || lpad(g::text, 8, '0') FROM generate_series(1, {conversations}) g;
         INSERT INTO conversation (contact_id, phone_number_id) SELECT id, '106540352242922' FROM contact;
         INSERT INTO inbound_message (conversation_id, provider_message_id, message_type, text_body, raw)
             SELECT c.id, 'wamid.bench.' || c.id || '.' || k, 'text', (ARRAY[{texts}])[k], '{{}}'::jsonb
             FROM generate_series(1, {steps}) k, conversation c ORDER BY k, c.id;
         INSERT INTO outbound_job (conversation_id, inbound_message_id, inbound_provider_message_id)
             SELECT conversation_id, id, provider_message_id FROM inbound_message ORDER BY id;
         ANALYZE contact, conversation, inbound_message, outbound_job;",
        steps = SCRIPT.len()
    ))
    .await?;
    Ok(())
}

async fn wait_for_listener(url: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if testkit::sql::count(url, "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN %'")
            .await
            > 0
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bail!("job-runner never started listening")
}

/// Stores messages through the ingest statement at `rate` per second, one customer after
/// another (so no conversation waits on its previous job), and returns how many.
async fn feed(url: &str, rate: u32, duration: Duration) -> anyhow::Result<u64> {
    let settings = store::PoolSettings {
        application_name: "bench",
        max_size: 4,
        timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(10),
    };
    let pool = store::build_pool(url, &settings)?;
    let total = u64::from(rate) * duration.as_secs();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let start = tokio::time::Instant::now();
    for i in 0..total {
        tokio::time::sleep_until(start + interval.mul_f64(i as f64)).await;
        let (wa_id, wamid) = (format!("9716{:08}", i % 1000), format!("wamid.pickup.{i}"));
        let batch = testkit::records::text_delivery(&wa_id, &wamid, "hello");
        store::ingest::ingest(&pool, &batch).await?;
    }
    Ok(total)
}

async fn wait_until_done(url: &str, jobs: u64) -> anyhow::Result<bool> {
    for _ in 0..400 {
        if testkit::sql::count(url, "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'").await
            >= jobs as i64
        {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Ok(false)
}

#[derive(QueryableByName)]
struct Percentiles {
    #[diesel(sql_type = Nullable<Double>)]
    p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p99: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    max: Option<f64>,
}

/// Milliseconds from each job's creation (its ingest transaction) to its claim.
async fn pickup_latency(url: &str) -> anyhow::Result<Percentiles> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    Ok(diesel::sql_query(
        "WITH waits AS (SELECT EXTRACT(EPOCH FROM started_at - created_at) * 1000 AS ms FROM outbound_job)
         SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::float8 AS p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::float8 AS p99,
                max(ms)::float8 AS max FROM waits",
    )
    .get_result::<Percentiles>(&mut conn)
    .await?)
}
