//! `cargo xtask chaos`: the whole pipeline under faults, then an audit of every promise.
//!
//! On a throwaway durable Postgres: webhook-ingest, several job-runner and outbound-sender
//! replicas, and whatsapp-fake injecting transient errors, latency, throughput limits, lost
//! answers and connection resets. A driver delivers many customer conversations as signed
//! webhooks (batched across customers and out of order, some delivered twice, each retried
//! until acknowledged as Meta does), while a killer SIGKILLs a random runner or sender every
//! few seconds and starts it again, and Postgres itself crashes and restarts once. When the
//! pipeline is quiet again, [`report`] checks from the database and the double's records that
//! nothing was lost, duplicated, stuck or reordered.

mod driver;
mod faults;
mod report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use testkit::stack::{Stack, StackOptions};

use crate::workspace;

/// Options of `cargo xtask chaos`.
#[derive(clap::Args, Debug, Clone)]
pub struct ChaosArgs {
    /// Customer conversations to drive.
    #[arg(long, default_value_t = 2000)]
    conversations: usize,
    /// Lines per conversation (1 to 6, the steps of the qualification script).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=6))]
    messages: u8,
    /// The runners' quiet period (TURN_QUIET_MS): half of every customer's lines are sent
    /// as bursts of fragments within it, which must get one reply each. 0 answers every
    /// message on its own and sends no bursts.
    #[arg(long, default_value_t = 1000)]
    quiet_ms: u64,
    /// Inbound messages per second the driver aims at.
    #[arg(long, default_value_t = 80.0)]
    rate: f64,
    /// job-runner replicas.
    #[arg(long, default_value_t = 3)]
    runners: usize,
    /// outbound-sender replicas.
    #[arg(long, default_value_t = 2)]
    senders: usize,
    /// Seconds between two kills of a random runner or sender (0: no kills).
    #[arg(long, default_value_t = 4.0)]
    kill_every: f64,
    /// Do not crash and restart Postgres halfway through.
    #[arg(long)]
    no_postgres_restart: bool,
    /// Build and run release binaries (as for the figures in docs/RELIABILITY.md).
    #[arg(long)]
    release: bool,
    /// A run of about a minute for CI: 120 conversations of 4 messages at 24/s, a kill
    /// every 3 s.
    #[arg(long)]
    short: bool,
    /// Seed of every random choice (batches, duplicates, order, kills); printed, so a run
    /// can be repeated.
    #[arg(long)]
    seed: Option<u64>,
}

impl ChaosArgs {
    fn effective(mut self) -> Self {
        if self.short {
            self.conversations = 120;
            self.messages = 4;
            self.rate = 24.0;
            self.kill_every = 3.0;
        }
        self
    }
}

/// Timings that make faults resolve within a run: short leases, a short uncertainty window;
/// turns of `quiet_ms` (and at most three times that).
fn stack_options(quiet_ms: u64) -> StackOptions {
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    StackOptions {
        // Warnings only, but the `listening` line the launcher waits for.
        all: env(&[
            (
                "RUST_LOG",
                "warn,webhook_ingest::startup=info,job_runner::startup=info,outbound_sender::startup=info,\
                 whatsapp_fake::server=info",
            ),
            ("DATABASE_POOL_SIZE", "6"),
        ]),
        fake: env(&[
            ("FAKE_ERROR_RATE", "0.05"),
            ("FAKE_ERROR_CODES", "131000,2,131016,133004"),
            ("FAKE_LATENCY_MIN_MS", "2"),
            ("FAKE_LATENCY_MAX_MS", "60"),
            ("FAKE_LOST_RESPONSE_RATE", "0.01"),
            ("FAKE_RESET_RATE", "0.01"),
            ("FAKE_MAX_PER_SECOND", "120"),
            ("FAKE_STATUS_DELAY_MS", "50"),
        ]),
        runner: env(&[
            ("JOB_LEASE_SECS", "5"),
            ("JOB_RETRY_BASE_MS", "500"),
            ("JOB_RETRY_MAX_MS", "5000"),
            ("TURN_QUIET_MS", &quiet_ms.to_string()),
            ("TURN_MAX_WAIT_MS", &(quiet_ms * 3).to_string()),
        ]),
        sender: env(&[
            ("SEND_TIMEOUT_SECS", "2"),
            ("SEND_UNCERTAIN_WINDOW_SECS", "8"),
            ("SEND_RETRY_BASE_MS", "200"),
            ("SEND_RETRY_MAX_MS", "5000"),
            ("SEND_RATE_PER_SECOND", "100"),
            ("SEND_THROTTLE_PAUSE_SECS", "1"),
        ]),
        ..StackOptions::default()
    }
}

pub async fn run(args: ChaosArgs) -> anyhow::Result<()> {
    let args = args.effective();
    let seed = args.seed.unwrap_or_else(rand::random);
    let bin = if args.release {
        workspace::build(true, &["webhook-ingest", "job-runner", "outbound-sender", "whatsapp-fake"])?
    } else {
        workspace::build_all()?
    };
    let (admin_url, cluster) = workspace::database("chaos-pg", true)?;
    let cluster = cluster.map(Arc::new);
    let url = crate::bench::fresh_database(&admin_url, "chaos").await?;
    store::migrations::run_pending(&url).await.context("migrating")?;
    println!(
        "chaos: {} conversations × {} lines at {}/s, turns of {} ms, {} runners, {} senders, a kill every {} s, seed {seed}",
        args.conversations,
        args.messages,
        args.rate,
        args.quiet_ms,
        args.runners,
        args.senders,
        args.kill_every
    );

    let stack = Stack::start(&bin, &url, stack_options(args.quiet_ms)).await.context("starting the stack")?;
    let replicas = faults::Replicas::start(stack, args.runners, args.senders).await?;
    let (ingest_addr, fake_url) = (replicas.ingest_addr(), replicas.fake_url());
    let plan = driver::plan(args.conversations, args.messages.into(), args.rate, args.quiet_ms > 0, seed);
    let driving_for = plan.duration();
    println!("driving for about {:.0} s…", driving_for.as_secs_f64());

    let started = Instant::now();
    let killer = faults::Killer::start(replicas, Duration::from_secs_f64(args.kill_every), seed);
    let restart_expected = cluster.is_some() && !args.no_postgres_restart;
    let outage = match (&cluster, args.no_postgres_restart) {
        (Some(cluster), false) => Some(faults::restart_postgres_at(cluster.clone(), driving_for / 2)),
        _ => {
            println!("Postgres is not restarted (DATABASE_URL given, or --no-postgres-restart)");
            None
        }
    };
    let driven = driver::deliver(ingest_addr, plan).await;
    let (replicas, kills) = killer.stop().await?;
    let outage = match outage {
        Some(handle) => Some(handle.await.context("restarting Postgres")??),
        None => None,
    };
    let driving = started.elapsed();
    println!("driven in {:.1} s; waiting for the pipeline to finish…", driving.as_secs_f64());
    let quiet = report::wait_until_quiet(&url, &fake_url, Duration::from_secs(300)).await;
    let sends = report::fake_sends(&fake_url).await?;
    let mut audit = report::audit(&url, &driven, &sends).await;
    let figures = report::Figures {
        driving,
        settled: started.elapsed(),
        quiet,
        kills,
        postgres_outage: outage,
        seed,
        args: format!(
            "{} conversations × {} lines at {}/s, turns of {} ms, {} runners, {} senders",
            args.conversations, args.messages, args.rate, args.quiet_ms, args.runners, args.senders
        ),
    };
    audit.check_faults(&figures, args.kill_every > 0.0, restart_expected);
    replicas.stop().await;
    drop(cluster);
    report::print(&audit, &driven, &sends, &figures);
    if audit.passed() { Ok(()) } else { anyhow::bail!("chaos run found broken promises (see the table)") }
}
