//! `cargo xtask bench soak`: the whole pipeline at a steady rate for a long time, with
//! pruning on, sampling each service's memory and each table's size, to show both level
//! off.

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use testkit::demo::SCRIPT;
use testkit::payloads::{self, Customer, unique_wamid};
use testkit::stack::{Stack, StackOptions};
use tokio::task::JoinSet;

use super::load::{Client, Prepared};
use crate::workspace;

/// Options of `cargo xtask bench soak`.
#[derive(clap::Args)]
pub struct SoakArgs {
    /// Length of the run, in minutes.
    #[arg(long, default_value_t = 10)]
    minutes: u64,
    /// Inbound messages per second.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Seconds between two samples.
    #[arg(long, default_value_t = 60)]
    sample_every: u64,
    /// How old a done job or a status event must be to be pruned, in minutes (the services'
    /// default is days; minutes make pruning visible within the run).
    #[arg(long, default_value_t = 2)]
    keep_minutes: u64,
}

/// Customers talking at the same time; each sends the qualification script, then a new
/// customer takes their place.
const CONCURRENT_CUSTOMERS: usize = 200;

/// Tables whose size is sampled: the pruned ones level off, the audit trail grows.
const TABLES: [&str; 6] = [
    "outbound_job",
    "message_status_event",
    "inbound_message",
    "outbound_message_log",
    "conversation",
    "notification",
];

pub async fn run(args: SoakArgs) -> anyhow::Result<()> {
    let bin = workspace::build(true, &["webhook-ingest", "job-runner", "outbound-sender", "whatsapp-fake"])?;
    let (admin_url, cluster) = super::database().await?;
    let url = super::fresh_database(&admin_url, "bench_soak").await?;
    store::migrations::run_pending(&url).await?;
    let keep_days = (args.keep_minutes as f64 / (24.0 * 60.0)).to_string();
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let options = StackOptions {
        // Warnings, the `listening` lines the launcher waits for, and what pruning did.
        all: env(&[(
            "RUST_LOG",
            "warn,webhook_ingest::startup=info,job_runner::startup=info,job_runner::operations=info,\
             outbound_sender::startup=info,whatsapp_fake::server=info",
        )]),
        runner: env(&[
            ("PRUNE_INTERVAL_SECS", "30"),
            ("PRUNE_JOBS_AFTER_DAYS", &keep_days),
            ("PRUNE_STATUS_EVENTS_AFTER_DAYS", &keep_days),
        ]),
        sender: env(&[("SEND_RATE_PER_SECOND", "1000")]),
        ..StackOptions::default()
    };
    let stack = Stack::start(&bin, &url, options).await.context("starting the stack")?;
    let client = Client::new(stack.ingest.addr(), "/api/webhooks/whatsapp");
    println!(
        "soak: {} messages/s for {} min, pruning every 30 s what is older than {} min; a sample every {} s",
        args.rate, args.minutes, args.keep_minutes, args.sample_every
    );
    let header = sample_header();
    println!("{header}");
    println!("{}", "|---".repeat(header.matches('|').count() - 1) + "|");

    let mut traffic = Traffic::new();
    let mut posting = JoinSet::new();
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let start = tokio::time::Instant::now();
    let end = start + Duration::from_secs(args.minutes * 60);
    let mut next_sample = start;
    let mut samples = Vec::new();
    let mut failed = 0_u64;
    let mut sent = 0_u64;
    while tokio::time::Instant::now() < end {
        if tokio::time::Instant::now() >= next_sample {
            let sample = Sample::take(&stack, &url, start.elapsed(), sent).await;
            println!("{}", sample.row());
            samples.push(sample);
            // The double keeps every send in memory, which is not the pipeline's to level off.
            stack.clear_sends().await;
            next_sample += Duration::from_secs(args.sample_every.max(1));
        }
        tokio::time::sleep_until(start + interval.mul_f64(sent as f64)).await;
        let (client, request) = (client.clone(), traffic.next());
        posting.spawn(async move { client.send(request).await });
        sent += 1;
        while let Some(done) = posting.try_join_next() {
            failed += u64::from(!done.unwrap_or(false));
        }
    }
    while let Some(done) = posting.join_next().await {
        failed += u64::from(!done.unwrap_or(false));
    }
    let last = Sample::take(&stack, &url, start.elapsed(), sent).await;
    println!("{}", last.row());
    samples.push(last);
    println!();
    println!("{sent} messages posted, {failed} not answered 200");
    verdict(&samples);
    drop(stack);
    drop(cluster);
    Ok(())
}

/// Customer messages: [`CONCURRENT_CUSTOMERS`] customers in turn, each walking through the
/// script.
struct Traffic {
    customers: Vec<(Customer, usize)>,
    turn: usize,
}

impl Traffic {
    fn new() -> Self {
        Self { customers: (0..CONCURRENT_CUSTOMERS).map(|_| (Customer::unique(), 0)).collect(), turn: 0 }
    }

    fn next(&mut self) -> Prepared {
        let slot = &mut self.customers[self.turn % CONCURRENT_CUSTOMERS];
        self.turn += 1;
        if slot.1 == SCRIPT.len() {
            *slot = (Customer::unique(), 0);
        }
        let (customer, step) = (&slot.0, slot.1);
        slot.1 += 1;
        let envelope =
            payloads::single_message(customer, payloads::text(customer, &unique_wamid(), SCRIPT[step]));
        let signed = payloads::signed(&envelope);
        Prepared { body: Bytes::from(signed.body), signature: signed.signature }
    }
}

/// One sample: resident memory of each service and the size of each table.
struct Sample {
    at: Duration,
    posted: u64,
    rss_mib: Vec<f64>,
    table_mib: Vec<f64>,
    rows: Vec<i64>,
}

const SERVICES: [&str; 4] = ["ingest", "runner", "sender", "fake"];

fn sample_header() -> String {
    let mut header = "| min | posted |".to_owned();
    for service in SERVICES {
        header.push_str(&format!(" {service} RSS MiB |"));
    }
    for table in TABLES {
        header.push_str(&format!(" {table} MiB (rows) |"));
    }
    header
}

impl Sample {
    async fn take(stack: &Stack, url: &str, at: Duration, posted: u64) -> Self {
        let services = [&stack.ingest, &stack.runner, &stack.sender, &stack.fake];
        let rss_mib = services
            .iter()
            .map(|s| s.pid().and_then(rss_kib).map_or(f64::NAN, |k| k as f64 / 1024.0))
            .collect();
        let mut table_mib = Vec::new();
        let mut rows = Vec::new();
        for table in TABLES {
            let bytes =
                testkit::sql::count(url, &format!("SELECT pg_total_relation_size('{table}') AS n")).await;
            table_mib.push(bytes as f64 / (1024.0 * 1024.0));
            rows.push(testkit::sql::count(url, &format!("SELECT count(*) AS n FROM {table}")).await);
        }
        Self { at, posted, rss_mib, table_mib, rows }
    }

    fn row(&self) -> String {
        let mut row = format!("| {:.1} | {} |", self.at.as_secs_f64() / 60.0, self.posted);
        for rss in &self.rss_mib {
            row.push_str(&format!(" {rss:.1} |"));
        }
        for (mib, rows) in self.table_mib.iter().zip(&self.rows) {
            row.push_str(&format!(" {mib:.1} ({rows}) |"));
        }
        row
    }
}

/// `VmRSS` of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Growth over the second half of the run against the first half, for memory and the
/// pruned tables: levelling off means the second half grows much less.
fn verdict(samples: &[Sample]) {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else { return };
    let middle = &samples[samples.len() / 2];
    println!("growth, first half → second half of the run:");
    for (i, service) in SERVICES.iter().enumerate() {
        println!(
            "  {service:>6} RSS: +{:.1} MiB → +{:.1} MiB",
            middle.rss_mib[i] - first.rss_mib[i],
            last.rss_mib[i] - middle.rss_mib[i]
        );
    }
    for (i, table) in TABLES.iter().enumerate() {
        println!(
            "  {table}: +{} rows → +{} rows ({:.1} → {:.1} MiB)",
            middle.rows[i] - first.rows[i],
            last.rows[i] - middle.rows[i],
            first.table_mib[i],
            last.table_mib[i]
        );
    }
}
