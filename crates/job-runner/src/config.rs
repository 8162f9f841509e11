//! Command line and environment.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use domain::Secret;
use store::DbArgs;
use store::migrations::MigrateArgs;
use telemetry::TelemetryArgs;

use crate::runner::RunnerSettings;
use worker::RetryPolicy;

/// Runs outbound jobs: for each inbound message, decides the next question and writes the
/// reply exactly once.
#[derive(Debug, Parser)]
#[command(name = "job-runner", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Logging and tracing.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run jobs as they arrive (LISTEN/NOTIFY, with polling as a fallback) and serve the
    /// operator HTTP API, until SIGTERM.
    Serve(ServeConfig),
    /// Run the jobs that are due, then exit (one Kubernetes CronJob tick).
    RunOnce(RunOnceConfig),
    /// Apply the embedded database migrations and exit.
    Migrate(MigrateArgs),
}

/// How jobs are claimed and run, in every mode.
#[derive(Debug, Clone, Args)]
pub struct RunnerArgs {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// Jobs run at the same time by this process.
    #[arg(long, env = "JOB_CONCURRENCY", default_value_t = 4)]
    pub concurrency: usize,
    /// Most jobs claimed by one query.
    #[arg(long, env = "JOB_BATCH_SIZE", default_value_t = 32)]
    pub batch_size: usize,
    /// How long a claim holds a job; a job whose worker died is retried after this.
    #[arg(long, env = "JOB_LEASE_SECS", default_value_t = 30)]
    pub lease_secs: u64,
    /// How often to look for due jobs when no notification arrives (retries, expired
    /// leases, missed notifications), in milliseconds.
    #[arg(long, env = "JOB_POLL_INTERVAL_MS", default_value_t = 1000)]
    pub poll_interval_ms: u64,
    /// Delay before the first retry, in milliseconds; doubles each attempt.
    #[arg(long, env = "JOB_RETRY_BASE_MS", default_value_t = 2000)]
    pub retry_base_ms: u64,
    /// Longest delay between retries, in milliseconds.
    #[arg(long, env = "JOB_RETRY_MAX_MS", default_value_t = 300_000)]
    pub retry_max_ms: u64,
}

impl RunnerArgs {
    /// The runner's settings.
    pub fn settings(&self) -> RunnerSettings {
        RunnerSettings {
            concurrency: self.concurrency.max(1),
            batch_size: self.batch_size.max(1),
            lease: Duration::from_secs(self.lease_secs.max(1)),
            poll_interval: Duration::from_millis(self.poll_interval_ms.max(10)),
            retry: RetryPolicy {
                base: Duration::from_millis(self.retry_base_ms),
                max: Duration::from_millis(self.retry_max_ms.max(self.retry_base_ms)),
            },
        }
    }
}

/// Everything `serve` needs.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Claiming and running.
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Address of the operator HTTP API.
    #[arg(long, env = "BIND_ADDR", default_value = "0.0.0.0:8081")]
    pub bind_addr: SocketAddr,
    /// Bearer token of /api/jobs/* and /api/notifications* (those endpoints refuse every
    /// request when unset).
    #[arg(long, env = "JOB_RUNNER_TOKEN", hide_env_values = true)]
    pub runner_token: Option<Secret>,
    /// Bearer token of /api/cron/run-outbound-jobs (refused when unset).
    #[arg(long, env = "CRON_SECRET", hide_env_values = true)]
    pub cron_secret: Option<Secret>,
    /// Jobs one call of run-outbound or cron runs when `max` is not given.
    #[arg(long, env = "RUN_OUTBOUND_DEFAULT_MAX", default_value_t = 100)]
    pub run_outbound_default_max: usize,
    /// Seconds to finish in-flight jobs after SIGTERM; unfinished ones are released.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 25)]
    pub shutdown_timeout_secs: u64,
}

/// Everything `run-once` needs.
#[derive(Debug, Clone, Args)]
pub struct RunOnceConfig {
    /// Claiming and running.
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Most jobs to run before exiting.
    #[arg(long, default_value_t = 1000)]
    pub max: usize,
    /// Keep waiting for new jobs (woken by notifications) for this many seconds instead of
    /// exiting as soon as the queue is empty. Kubernetes cron ticks once a minute at best,
    /// so a tick can drain for most of that minute.
    #[arg(long, default_value_t = 0)]
    pub drain_for: u64,
}
