//! `cargo xtask bench e2e`: the whole pipeline on release binaries, durable Postgres.
//!
//! A latency phase at a fixed message rate, customers writing in bursts of fragments (turns
//! on, as in production): how soon each burst turned read with "typing…", and how soon after
//! its quiet period its one reply reached the Graph API double. Then, with the tables
//! analyzed as autovacuum would have by then, a burst of first messages posted as fast as
//! ingest takes them, for sends per second. `--baseline` runs the
//! same phases against other code's release binaries, for paired runs.

mod bursts;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::stack::StackOptions;

use super::load;
use super::pipeline::{self, Pipeline};

/// Options of `cargo xtask bench e2e`.
#[derive(clap::Args)]
pub struct E2eArgs {
    /// Arrival rate of the latency phase, messages (fragments) per second.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Length of the latency phase, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The longest burst of the latency phase: customers write 1, 2, … this many fragments in
    /// turn.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=i64::from(bursts::MAX_FRAGMENTS)))]
    fragments: u32,
    /// Time between one customer's fragments, milliseconds.
    #[arg(long, default_value_t = 300)]
    fragment_gap_ms: u64,
    /// job-runner's TURN_QUIET_MS (its default; 0 answers every message on its own).
    #[arg(long, default_value_t = 2000)]
    quiet_ms: u64,
    /// Run outbound-sender with SEND_READ_RECEIPTS=false (no read receipts, no typing).
    #[arg(long)]
    no_presence: bool,
    /// Messages of the burst phase (posted as fast as ingest takes them).
    #[arg(long, default_value_t = 4000)]
    burst: u64,
    /// The sender's per-number rate limit (SEND_RATE_PER_SECOND).
    #[arg(long, default_value_t = 1000)]
    rate_limit: u32,
    /// Run webhook-ingest, job-runner and outbound-sender from this directory (release
    /// binaries of other code, for paired runs; code without turns answers each fragment).
    #[arg(long)]
    baseline: Option<PathBuf>,
}

pub async fn run(args: E2eArgs) -> anyhow::Result<()> {
    // Meta raises a number's throughput from 80 to 1,000 messages/s once it qualifies; the
    // benchmark runs at that tier so it measures the pipeline, not the default quota.
    let mut sender = vec![("SEND_RATE_PER_SECOND".to_owned(), args.rate_limit.to_string())];
    if args.no_presence {
        sender.push(("SEND_READ_RECEIPTS".to_owned(), "false".to_owned()));
    }
    let options = StackOptions {
        sender,
        runner: vec![("TURN_QUIET_MS".to_owned(), args.quiet_ms.to_string())],
        ..StackOptions::default()
    };
    let pipeline = Pipeline::start(args.baseline.as_deref(), "bench_e2e", options).await?;
    let stack = &pipeline.stack;
    let client = load::Client::new(stack.ingest.addr(), "/api/webhooks/whatsapp");
    // Code without turns answers at once, whatever TURN_QUIET_MS says.
    let quiet = if args.baseline.is_some() { Duration::ZERO } else { Duration::from_millis(args.quiet_ms) };

    println!(
        "latency: {} messages/s for {} s, bursts of 1–{} fragments {} ms apart…",
        args.rate, args.seconds, args.fragments, args.fragment_gap_ms
    );
    let (customers, scheduled) = bursts::schedule(
        u64::from(args.rate) * args.seconds,
        args.rate,
        args.fragments,
        Duration::from_millis(args.fragment_gap_ms),
    );
    let acks = load::post_scheduled(&client, scheduled).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut sends = stack.sends().await;
    while !bursts::all_answered(&customers, &sends) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        sends = stack.sends().await;
    }
    let presence = pipeline.presence().await;
    let turns = bursts::measure(&customers, &acks, &sends, &presence, quiet);

    pipeline.analyze().await?;
    println!("burst: {} messages…", args.burst);
    let before = sends.len();
    let burst_started = Instant::now();
    let firsts = pipeline::first_messages("e2e", args.burst).into_iter().map(|(_, r)| r).collect();
    load::closed_loop(&client, firsts, 32, Duration::from_secs(600)).await;
    let posted_in = burst_started.elapsed();
    let all = stack.wait_for_sends(before + args.burst as usize, Duration::from_secs(300)).await;
    let drained_in = burst_started.elapsed();
    let burst_sends = all.len() - before;
    let duplicates = all.len() - distinct_callbacks(&all);
    drop(pipeline);

    let code = pipeline::code_name(args.baseline.as_deref());
    let ms = |h: &hdrhistogram::Histogram<u64>| {
        if h.is_empty() {
            return "none".to_owned();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        format!(
            "{:.1} / {:.1} / {:.1} ms",
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max())
        )
    };
    println!();
    println!(
        "| pipeline ({code}), release, fsync on, {} sends/s per number allowed, TURN_QUIET_MS {}{} | |",
        args.rate_limit,
        args.quiet_ms,
        if args.no_presence { ", read receipts off" } else { "" }
    );
    println!("|---|---|");
    println!(
        "| latency phase | {} messages at {}/s from {} customers, bursts of 1–{} fragments {} ms apart |",
        turns.messages,
        args.rate,
        customers.len(),
        args.fragments,
        args.fragment_gap_ms
    );
    println!(
        "| messages per reply | {:.2} ({} replies, {} bursts unanswered) |",
        turns.messages as f64 / turns.replies.max(1) as f64,
        turns.replies,
        turns.unanswered
    );
    println!(
        "| first fragment's 200 → first read receipt with typing: p50 / p99 / max | {} |",
        ms(&turns.first_presence_us)
    );
    println!(
        "| read receipts per burst | {:.2} |",
        turns.presence_requests as f64 / customers.len().max(1) as f64
    );
    println!(
        "| end of the quiet period (last fragment's 200 + {} ms) → reply at the Graph API: p50 / p99 / max | {} |",
        quiet.as_millis(),
        ms(&turns.reply_us)
    );
    let sending = drained_in.saturating_sub(quiet).as_secs_f64();
    println!(
        "| burst: {} messages posted in {:.1} s, {} replies sent {:.1} s after the first post | {:.0} sends/s ({:.0} without the quiet period) |",
        args.burst,
        posted_in.as_secs_f64(),
        burst_sends,
        drained_in.as_secs_f64(),
        burst_sends as f64 / drained_in.as_secs_f64(),
        burst_sends as f64 / sending
    );
    println!("| replies sent twice | {duplicates} |");
    Ok(())
}

fn distinct_callbacks(sends: &[Value]) -> usize {
    sends.iter().filter_map(|s| s["callback_data"].as_str()).collect::<std::collections::HashSet<_>>().len()
}
