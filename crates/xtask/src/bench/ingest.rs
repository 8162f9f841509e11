//! `cargo xtask bench ingest`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use testkit::payloads::{self, Customer};
use testkit::service::ChildService;

use super::load::{self, Prepared};
use super::pgbench;
use crate::workspace;

/// Options of `cargo xtask bench ingest`.
#[derive(clap::Args)]
pub struct IngestArgs {
    /// Arrival rate of the latency phase, requests per second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Length of each phase, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections of the peak-throughput phase.
    #[arg(long, default_value_t = 32)]
    peak_connections: usize,
    /// Database connections of the service (its DATABASE_POOL_SIZE).
    #[arg(long, default_value_t = 16)]
    pool_size: usize,
    /// Connections storing webhooks (its INGEST_COMMITTERS).
    #[arg(long, default_value_t = 4)]
    committers: usize,
    /// HTTP worker threads of the service (its HTTP_WORKERS; default one per CPU).
    #[arg(long)]
    http_workers: Option<usize>,
    /// pgbench client counts to try; the best is the ceiling.
    #[arg(long, value_delimiter = ',', default_value = "4,8,16,32")]
    pgbench_clients: Vec<u32>,
    /// Deliveries of the large-delivery phase, posted one after the other.
    #[arg(long, default_value_t = 50)]
    large_deliveries: u64,
    /// Messages in each large delivery (Meta batches up to 1,000).
    #[arg(long, default_value_t = 1000)]
    large_size: u64,
    /// Run the webhook-ingest of this directory (a release build of other code, migrated
    /// with its own migrations) instead of this workspace's, for paired runs.
    #[arg(long)]
    baseline: Option<PathBuf>,
}

/// Most requests a second the peak phase can send before it runs out of prepared ones.
const PEAK_BUDGET_PER_SECOND: u64 = 12_000;

pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    let bin = match &args.baseline {
        Some(baseline) => baseline.clone(),
        None => workspace::build(true, &["webhook-ingest"])?,
    };
    let (url, cluster) = super::database().await?;
    super::pipeline::migrate(&bin, &url, args.baseline.is_some()).await.context("migrating")?;
    let (pool_size, committers) = (args.pool_size.to_string(), args.committers.to_string());
    let mut env = vec![
        ("DATABASE_URL", url.as_str()),
        ("WHATSAPP_APP_SECRET", payloads::APP_SECRET),
        ("RUST_LOG", "info"),
        ("DATABASE_POOL_SIZE", pool_size.as_str()),
        ("INGEST_COMMITTERS", committers.as_str()),
    ];
    let http_workers = args.http_workers.map(|n| n.to_string());
    if let Some(workers) = &http_workers {
        env.push(("HTTP_WORKERS", workers.as_str()));
    }
    let service = ChildService::start_quiet(&bin.join("webhook-ingest"), &["serve"], &env)
        .await
        .context("starting webhook-ingest")?;
    let client = load::Client::new(service.addr(), "/api/webhooks/whatsapp");
    let rate = u64::from(args.rate);

    println!("preparing requests…");
    let mut factory = RequestFactory::new();
    let warm_up = factory.take(2 * rate);
    let open_requests = factory.take(args.seconds * rate);
    let peak_requests = factory.take(args.seconds * PEAK_BUDGET_PER_SECOND);
    let large_requests = large_deliveries(args.large_deliveries, args.large_size);

    let seconds = args.seconds;
    let (rate32, connections) = (args.rate, args.peak_connections);
    // The driver shares the CPUs with the service and Postgres: one thread is plenty and
    // spares the others the cost of a work-stealing scheduler.
    let (large_deliveries, large_size) = (args.large_deliveries, args.large_size);
    let (warm, open, peak, large) = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            println!("warming up…");
            let warm = load::open_loop(&client, warm_up, rate32).await;
            println!("open loop at {rate32}/s for {seconds} s…");
            let open = load::open_loop(&client, open_requests, rate32).await;
            println!("closed loop with {connections} connections for {seconds} s…");
            let peak =
                load::closed_loop(&client, peak_requests, connections, Duration::from_secs(seconds)).await;
            println!("{large_deliveries} deliveries of {large_size} messages, one at a time…");
            let large = load::closed_loop(&client, large_requests, 1, Duration::from_secs(600)).await;
            anyhow::Ok((warm, open, peak, large))
        })
    })
    .await??;
    drop(service);
    let stored = testkit::sql::count(&url, "SELECT count(*) AS n FROM inbound_message").await;
    let jobs = testkit::sql::count(&url, "SELECT count(*) AS n FROM outbound_job").await;

    let script_path = workspace::target_dir().join("bench-ingest.pgbench.sql");
    std::fs::write(&script_path, pgbench::script())?;
    let pgbench_bin = cluster.as_ref().map_or_else(|| "pgbench".into(), |c| c.bin_dir().join("pgbench"));
    println!("pgbench at {}/s with {} clients for {} s…", args.rate, args.committers, args.seconds);
    let committers = u32::try_from(args.committers)?;
    let pgbench_open =
        pgbench::open_loop(&pgbench_bin, &url, &script_path, committers, args.rate, args.seconds)?;
    let mut ceiling = (0.0_f64, 0);
    for &clients in &args.pgbench_clients {
        println!("pgbench with {clients} clients for {} s…", args.seconds);
        let tps = pgbench::run(&pgbench_bin, &url, &script_path, clients, args.seconds)?;
        println!("  {tps:.0} tps");
        if tps > ceiling.0 {
            ceiling = (tps, clients);
        }
    }

    let acknowledged = warm.latency_us.len()
        + open.latency_us.len()
        + peak.latency_us.len()
        + large.latency_us.len() * args.large_size;
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!();
    println!(
        "| webhook-ingest ({}), {cpus} CPUs shared by driver, service and Postgres; fsync on | |",
        super::pipeline::code_name(args.baseline.as_deref())
    );
    println!("|---|---|");
    println!(
        "| service: HTTP workers, database pool, committers | {}, {} connections, {} |",
        args.http_workers.map_or_else(|| format!("{cpus} (one per CPU)"), |n| n.to_string()),
        args.pool_size,
        args.committers
    );
    println!("| open loop: offered rate | {}/s for {} s |", args.rate, args.seconds);
    println!("| open loop: latency p50 / p99 / max | {} |", load::percentiles(&open.latency_us));
    println!("| open loop: achieved | {:.0}/s, {} errors |", open.throughput(), open.errors);
    println!(
        "| pgbench, same statement, {}/s on {} connections: latency p50 / p99 / max | {} |",
        args.rate,
        args.committers,
        load::percentiles(&pgbench_open)
    );
    println!(
        "| open loop p99 / pgbench p99 | {:.2} |",
        open.latency_us.value_at_quantile(0.99) as f64 / pgbench_open.value_at_quantile(0.99).max(1) as f64
    );
    println!(
        "| peak ({} connections): throughput | {:.0}/s, {} errors |",
        args.peak_connections,
        peak.throughput(),
        peak.errors
    );
    println!("| peak: latency p50 / p99 / max | {} |", load::percentiles(&peak.latency_us));
    println!(
        "| {} deliveries of {} messages: latency p50 / p99 / max | {}, {} errors |",
        args.large_deliveries,
        args.large_size,
        load::percentiles(&large.latency_us),
        large.errors
    );
    println!("| pgbench, same statement: ceiling | {:.0} tps ({} clients) |", ceiling.0, ceiling.1);
    println!("| peak / ceiling | {:.0}% |", 100.0 * peak.throughput() / ceiling.0.max(1.0));
    println!("| acknowledged / inbound rows / jobs | {acknowledged} / {stored} / {jobs} |");
    drop(cluster);
    Ok(())
}

/// `n` signed deliveries of `size` text messages each, every message from a new customer
/// (Meta batches messages of many customers into one delivery).
fn large_deliveries(n: u64, size: u64) -> Vec<Prepared> {
    (0..n)
        .map(|d| {
            let changes = (0..size)
                .map(|i| {
                    let customer =
                        Customer { wa_id: format!("9716{:08}", d * size + i), ..Customer::unique() };
                    let wamid = format!("wamid.large.{d}.{i}");
                    payloads::messages_change(&customer, vec![payloads::text(&customer, &wamid, "Hello")])
                })
                .collect();
            let body = payloads::meta_bytes(&payloads::envelope(vec![changes]));
            let signature = payloads::sign_bytes(&body);
            Prepared { body: Bytes::from(body), signature }
        })
        .collect()
}

/// Signed single-text-message webhooks, each with a unique wamid, from a thousand
/// customers.
struct RequestFactory {
    template: String,
    next: u64,
}

const WAMID: &str = "WAMID_SLOT";
const WA_ID: &str = "971500000000";

impl RequestFactory {
    fn new() -> Self {
        let customer = Customer { wa_id: WA_ID.to_owned(), ..Customer::unique() };
        let message = payloads::text(&customer, WAMID, "Hello, I need a family visa");
        let envelope = payloads::single_message(&customer, message);
        let template = String::from_utf8_lossy(&payloads::meta_bytes(&envelope)).into_owned();
        Self { template, next: 0 }
    }

    fn take(&mut self, n: u64) -> Vec<Prepared> {
        (0..n)
            .map(|_| {
                self.next += 1;
                let body = self
                    .template
                    .replace(WAMID, &format!("wamid.bench.{}", self.next))
                    .replace(WA_ID, &format!("9715{:08}", self.next % 1000));
                let signature = payloads::sign_bytes(body.as_bytes());
                Prepared { body: Bytes::from(body), signature }
            })
            .collect()
    }
}
