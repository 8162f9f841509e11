//! `cargo xtask bench capacity`: the whole pipeline at stepped offered rates, statuses on
//! (the Graph API double posts sent, delivered and read back to ingest for every reply).
//!
//! Each step (the tables analyzed first, as autovacuum keeps them on a running database)
//! posts first messages of new customers at its rate for a while (open loop),
//! then waits until every one has its reply and every reply its three statuses. It reports
//! the replies per second achieved, the reply's latency from the webhook's 200, and the
//! write transactions per reply (transaction ids Postgres handed out, which only writes
//! take). With `--baseline`, the same steps run on other code's release binaries after
//! this workspace's, and the table and plot show both.

mod plot;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use hdrhistogram::Histogram;
use testkit::stack::StackOptions;

use super::load;
use super::pipeline::{self, Pipeline};
use crate::sends;

/// Options of `cargo xtask bench capacity`.
#[derive(clap::Args)]
pub struct CapacityArgs {
    /// Offered rates, messages per second, one step each.
    #[arg(long, value_delimiter = ',', default_value = "100,250,500,1000,1500")]
    rates: Vec<u32>,
    /// Customers per step (each writes once and gets one reply).
    #[arg(long, default_value_t = 6000)]
    customers: u64,
    /// The sender's per-number rate limit (SEND_RATE_PER_SECOND; Meta's highest tier).
    #[arg(long, default_value_t = 1000)]
    rate_limit: u32,
    /// job-runner's TURN_QUIET_MS; latency is counted from the end of the quiet period.
    #[arg(long, default_value_t = 0)]
    quiet_ms: u64,
    /// Run webhook-ingest, job-runner and outbound-sender from this directory too (release
    /// binaries of other code), after this workspace's, for a paired run.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Where to draw the plot (SVG).
    #[arg(long, default_value = "target/bench-capacity.svg")]
    plot: PathBuf,
}

/// One step's figures.
pub struct Step {
    /// Offered messages per second.
    offered: u32,
    /// Messages acknowledged.
    messages: usize,
    /// Replies received.
    replies: usize,
    /// Replies per second, from the first post to the last reply.
    replies_per_second: f64,
    /// Webhook 200 → reply at the Graph API double (after the quiet period), microseconds.
    latency_us: Histogram<u64>,
    /// Transaction ids handed out (writes) per reply.
    writes_per_reply: f64,
    /// Whether every reply's statuses were applied.
    statuses_applied: bool,
}

/// The steps of one code.
pub struct Series {
    /// Which code.
    name: String,
    steps: Vec<Step>,
}

pub async fn run(args: CapacityArgs) -> anyhow::Result<()> {
    let mut series = vec![measure(&args, None).await?];
    if let Some(baseline) = &args.baseline {
        series.push(measure(&args, Some(baseline)).await?);
    }
    println!();
    for s in &series {
        print_table(s, &args);
    }
    let svg = plot::draw(&series);
    if let Some(dir) = args.plot.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.plot, svg).with_context(|| format!("writing {}", args.plot.display()))?;
    println!("plot: {}", args.plot.display());
    Ok(())
}

async fn measure(args: &CapacityArgs, baseline: Option<&std::path::Path>) -> anyhow::Result<Series> {
    let options = StackOptions {
        sender: vec![("SEND_RATE_PER_SECOND".to_owned(), args.rate_limit.to_string())],
        runner: vec![("TURN_QUIET_MS".to_owned(), args.quiet_ms.to_string())],
        ..StackOptions::default()
    };
    let pipeline = Pipeline::start(baseline, "bench_capacity", options).await?;
    let quiet = if baseline.is_some() { Duration::ZERO } else { Duration::from_millis(args.quiet_ms) };
    let name = pipeline::code_name(baseline);
    let mut steps = Vec::new();
    for (i, &offered) in args.rates.iter().enumerate() {
        println!("{name}: {} customers at {offered} messages/s…", args.customers);
        pipeline.analyze().await?;
        steps.push(step(&pipeline, &format!("cap{i}"), offered, args.customers, quiet).await?);
    }
    Ok(Series { name, steps })
}

async fn step(
    pipeline: &Pipeline,
    tag: &str,
    offered: u32,
    customers: u64,
    quiet: Duration,
) -> anyhow::Result<Step> {
    let stack = &pipeline.stack;
    let client = load::Client::new(stack.ingest.addr(), "/api/webhooks/whatsapp");
    let messages = pipeline::first_messages(tag, customers);
    let already = stack.sends().await.len();
    let writes_before = transaction_ids(&pipeline.url).await;
    let started = SystemTime::now();
    let interval = Duration::from_secs_f64(1.0 / f64::from(offered));
    let scheduled =
        messages.into_iter().enumerate().map(|(i, (wamid, r))| (interval * i as u32, wamid, r)).collect();
    let acks = load::post_scheduled(&client, scheduled).await;
    let sends = stack.wait_for_sends(already + acks.len(), Duration::from_secs(180)).await;
    let mine: Vec<serde_json::Value> = sends[already..].to_vec();
    let last_reply = mine.iter().filter_map(sends::received_at).max().unwrap_or(started);
    let statuses_applied = wait_for_statuses(&pipeline.url, tag, acks.len()).await;
    let writes = transaction_ids(&pipeline.url).await - writes_before;
    let latency = shifted(&sends::latency_us(&acks, &mine), quiet);
    let span = last_reply.duration_since(started).unwrap_or_default().saturating_sub(quiet);
    Ok(Step {
        offered,
        messages: acks.len(),
        replies: mine.len(),
        replies_per_second: mine.len() as f64 / span.as_secs_f64().max(0.001),
        latency_us: latency,
        writes_per_reply: writes as f64 / mine.len().max(1) as f64,
        statuses_applied,
    })
}

/// Waits (up to a minute) until the replies to this step's messages are all `read`: their
/// three status webhooks applied.
async fn wait_for_statuses(url: &str, tag: &str, replies: usize) -> bool {
    let sql = format!(
        "SELECT count(*) AS n FROM outbound_message_log o JOIN outbound_job j ON j.id = o.outbound_job_id
         WHERE j.inbound_provider_message_id LIKE 'wamid.{tag}.%' AND o.status = 'read'"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if testkit::sql::count(url, &sql).await >= replies as i64 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The next transaction id: how many write transactions the server has had.
async fn transaction_ids(url: &str) -> i64 {
    testkit::sql::count(url, "SELECT pg_current_xact_id()::text::bigint AS n").await
}

/// `latency` with `quiet` taken off every value.
fn shifted(latency: &Histogram<u64>, quiet: Duration) -> Histogram<u64> {
    let mut shifted = latency.clone();
    if quiet.is_zero() {
        return shifted;
    }
    shifted.reset();
    let quiet_us = quiet.as_micros() as u64;
    for v in latency.iter_recorded() {
        let _ = shifted.record_n(v.value_iterated_to().saturating_sub(quiet_us).max(1), v.count_at_value());
    }
    shifted
}

fn print_table(series: &Series, args: &CapacityArgs) {
    println!(
        "| {} (release, fsync on, statuses on, {} sends/s allowed, {} customers a step) | replies | replies/s | reply latency p50 / p99 | writes per reply |",
        series.name, args.rate_limit, args.customers
    );
    println!("|---|---|---|---|---|");
    for s in &series.steps {
        let ms = |q: f64| s.latency_us.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "| {} messages/s offered | {} of {}{} | {:.0} | {:.0} / {:.0} ms | {:.1} |",
            s.offered,
            s.replies,
            s.messages,
            if s.statuses_applied { "" } else { " (statuses still arriving)" },
            s.replies_per_second,
            ms(0.5),
            ms(0.99),
            s.writes_per_reply
        );
    }
    println!();
}
