//! `cargo xtask bench e2e`: the whole pipeline on release binaries. Latency from a
//! webhook's 200 to the reply's request arriving at the Graph API double, at a fixed
//! arrival rate; then a burst, for sends per second.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use bytes::Bytes;
use serde_json::Value;
use testkit::payloads::{self, Customer};
use testkit::stack::{Stack, StackOptions};
use tokio::task::JoinSet;

use super::load::{self, Prepared};
use crate::{sends, workspace};

/// Options of `cargo xtask bench e2e`.
#[derive(clap::Args)]
pub struct E2eArgs {
    /// Arrival rate of the latency phase, messages per second.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Length of the latency phase, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Messages of the burst phase (posted as fast as ingest takes them).
    #[arg(long, default_value_t = 4000)]
    burst: u64,
    /// The sender's per-number rate limit (SEND_RATE_PER_SECOND).
    #[arg(long, default_value_t = 1000)]
    rate_limit: u32,
}

pub async fn run(args: E2eArgs) -> anyhow::Result<()> {
    let bin = workspace::build(true, &["webhook-ingest", "job-runner", "outbound-sender", "whatsapp-fake"])?;
    let (admin_url, cluster) = super::database().await?;
    let url = super::fresh_database(&admin_url, "bench_e2e").await?;
    store::migrations::run_pending(&url).await?;
    println!("database: {url}");
    // Meta raises a number's throughput from 80 to 1,000 messages/s once it qualifies; the
    // benchmark runs at that tier so it measures the pipeline, not the default quota.
    let options = StackOptions {
        sender: vec![("SEND_RATE_PER_SECOND".to_owned(), args.rate_limit.to_string())],
        ..StackOptions::default()
    };
    let stack = Stack::start(&bin, &url, options).await.context("starting the stack")?;
    let client = load::Client::new(stack.ingest.addr(), "/api/webhooks/whatsapp");
    let mut messages = Messages::new();

    println!("latency: {} messages/s for {} s…", args.rate, args.seconds);
    let acks = post_at_rate(&client, messages.take(u64::from(args.rate) * args.seconds), args.rate).await;
    let sends = wait_for(&stack, acks.len(), Duration::from_secs(60)).await;
    let latency = sends::latency_us(&acks, &sends);

    println!("burst: {} messages…", args.burst);
    let before = sends.len();
    let burst_started = Instant::now();
    load::closed_loop(
        &client,
        messages.take(args.burst).into_iter().map(|m| m.request).collect(),
        32,
        Duration::from_secs(600),
    )
    .await;
    let posted_in = burst_started.elapsed();
    let all = wait_for(&stack, before + args.burst as usize, Duration::from_secs(300)).await;
    let drained_in = burst_started.elapsed();
    let burst_sends = all.len() - before;
    let duplicates = all.len() - distinct_callbacks(&all);
    drop(stack);
    drop(cluster);

    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    println!();
    println!(
        "| pipeline (ingest, runner, sender, Graph API double), release, fsync on, {} sends/s per number allowed | |",
        args.rate_limit
    );
    println!("|---|---|");
    println!(
        "| latency phase | {} messages at {}/s, {} replies received |",
        acks.len(),
        args.rate,
        latency.len()
    );
    println!(
        "| webhook 200 → request at the Graph API: p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        ms(0.5),
        ms(0.99),
        latency.max() as f64 / 1000.0
    );
    println!(
        "| burst: {} messages posted in {:.1} s, {} replies sent in {:.1} s | {:.0} sends/s |",
        args.burst,
        posted_in.as_secs_f64(),
        burst_sends,
        drained_in.as_secs_f64(),
        burst_sends as f64 / drained_in.as_secs_f64()
    );
    println!("| replies sent twice | {duplicates} |");
    Ok(())
}

/// One customer message: the request to post and its inbound wamid.
struct Message {
    wamid: String,
    request: Prepared,
}

/// First messages of new customers, each with a unique wamid: every one gets a reply (a
/// customer who kept repeating "hello" would be handed to staff, and the bot would go quiet).
struct Messages {
    next: u64,
}

impl Messages {
    fn new() -> Self {
        Self { next: 0 }
    }

    fn take(&mut self, n: u64) -> Vec<Message> {
        (0..n)
            .map(|_| {
                self.next += 1;
                let customer = Customer::unique();
                let wamid = format!("wamid.e2e.{}", self.next);
                let envelope =
                    payloads::single_message(&customer, payloads::text(&customer, &wamid, "hello"));
                let signed = payloads::signed(&envelope);
                Message {
                    wamid,
                    request: Prepared { body: Bytes::from(signed.body), signature: signed.signature },
                }
            })
            .collect()
    }
}

/// Posts `messages` at `rate` per second (open loop); returns when each was acknowledged.
async fn post_at_rate(
    client: &load::Client,
    messages: Vec<Message>,
    rate: u32,
) -> HashMap<String, SystemTime> {
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let start = tokio::time::Instant::now();
    let mut posted = JoinSet::new();
    for (i, message) in messages.into_iter().enumerate() {
        tokio::time::sleep_until(start + interval.mul_f64(i as f64)).await;
        let client = client.clone();
        posted.spawn(async move {
            client.send(message.request).await.then(|| (message.wamid, SystemTime::now()))
        });
    }
    let mut acks = HashMap::new();
    while let Some(done) = posted.join_next().await {
        if let Ok(Some((wamid, at))) = done {
            acks.insert(wamid, at);
        }
    }
    acks
}

async fn wait_for(stack: &Stack, n: usize, timeout: Duration) -> Vec<Value> {
    stack.wait_for_sends(n, timeout).await
}

fn distinct_callbacks(sends: &[Value]) -> usize {
    sends.iter().filter_map(|s| s["callback_data"].as_str()).collect::<std::collections::HashSet<_>>().len()
}
