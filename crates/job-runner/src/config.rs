//! Command line and environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::{Args, Parser, Subcommand};
use domain::Secret;
use store::DbArgs;
use store::jobs::TurnTiming;
use store::migrations::MigrateArgs;
use telemetry::TelemetryArgs;

use crate::runner::RunnerSettings;
use orchestrator_core::BusinessProfile;
use worker::{RetryCapBelowBase, RetryPolicy};

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
    /// Delete finished jobs and old delivery-status events, then exit (inbound messages and
    /// the outbound log are kept as the audit trail).
    Prune(PruneArgs),
    /// List failed jobs and failed or held replies, newest first, as JSON.
    Failed(FailedArgs),
    /// Queue failed jobs or failed/held replies again with fresh attempts.
    Requeue(RequeueArgs),
}

/// How long finished rows are kept.
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Delete `done` jobs completed more than this many days ago (fractions allowed).
    /// Failed jobs are kept until requeued.
    #[arg(long = "jobs-older-than-days", env = "PRUNE_JOBS_AFTER_DAYS", default_value_t = 7.0)]
    pub jobs_after_days: f64,
    /// Delete delivery-status events received more than this many days ago (the outbound
    /// log keeps each reply's final status).
    #[arg(
        long = "status-events-older-than-days",
        env = "PRUNE_STATUS_EVENTS_AFTER_DAYS",
        default_value_t = 30.0
    )]
    pub status_events_after_days: f64,
}

impl RetentionArgs {
    /// The retention, as the store takes it.
    pub fn retention(&self) -> store::maintenance::Retention {
        let days = |d: f64| Duration::from_secs_f64(d.max(0.0) * 86_400.0);
        store::maintenance::Retention {
            done_jobs: days(self.jobs_after_days),
            status_events: days(self.status_events_after_days),
        }
    }
}

/// Everything `prune` needs.
#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// What to keep.
    #[command(flatten)]
    pub retention: RetentionArgs,
}

/// Everything `failed` needs.
#[derive(Debug, Clone, Args)]
pub struct FailedArgs {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// Most items of each kind to list.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
}

/// Everything `requeue` needs.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true)))]
pub struct RequeueArgs {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// A failed job to run again (repeatable).
    #[arg(long = "job", value_name = "ID", group = "what")]
    pub jobs: Vec<i64>,
    /// A failed or held reply to send again (repeatable).
    #[arg(long = "outbound", value_name = "ID", group = "what")]
    pub outbound: Vec<i64>,
    /// Every failed job.
    #[arg(long, group = "what")]
    pub all_failed_jobs: bool,
    /// Every failed or held reply.
    #[arg(long, group = "what")]
    pub all_failed_outbound: bool,
}

/// How jobs are claimed and run, in every mode.
#[derive(Debug, Clone, Args)]
pub struct RunnerArgs {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// Jobs run at the same time by this process. A job holds no connection while its result
    /// waits for a committer, so this can well exceed the pool size.
    #[arg(long, env = "JOB_CONCURRENCY", default_value_t = 16, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub concurrency: usize,
    /// Most jobs claimed by one query.
    #[arg(long, env = "JOB_BATCH_SIZE", default_value_t = 32, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub batch_size: usize,
    /// Connections that commit finished jobs. Jobs that finish while every one of them is
    /// busy are committed together, in one statement, so fewer make larger groups.
    #[arg(long, env = "JOB_COMMITTERS", default_value_t = 1, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub committers: usize,
    /// How long a claim holds a job; a job whose worker died is retried after this.
    #[arg(long, env = "JOB_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub lease_secs: u64,
    /// How often to look for due jobs when no notification arrives (retries, expired
    /// leases, missed notifications), in milliseconds.
    #[arg(long, env = "JOB_POLL_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval_ms: u64,
    /// Delay before the first retry, in milliseconds; doubles each attempt.
    #[arg(long, env = "JOB_RETRY_BASE_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub retry_base_ms: u64,
    /// Messages of one conversation arriving with gaps of at most this long form one turn,
    /// answered once, when this long has passed since its newest message (milliseconds;
    /// 0: every message is answered on its own, as soon as it is stored).
    #[arg(long, env = "TURN_QUIET_MS", default_value_t = 2000)]
    pub turn_quiet_ms: u64,
    /// A turn is answered at the latest this long after its first message, however the
    /// customer keeps typing (milliseconds; at least TURN_QUIET_MS).
    #[arg(long, env = "TURN_MAX_WAIT_MS", default_value_t = 6000)]
    pub turn_max_wait_ms: u64,
    /// The business profile: a TOML file of the facts the bot may tell customers (address,
    /// hours, languages, how fees are quoted; deploy/business-profile.example.toml). Without
    /// it, every such question gets "our team will tell you when they call".
    #[arg(long, env = "BUSINESS_PROFILE", value_name = "FILE")]
    pub business_profile: Option<PathBuf>,
    /// Longest delay between retries, in milliseconds.
    #[arg(long, env = "JOB_RETRY_MAX_MS", default_value_t = 300_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub retry_max_ms: u64,
}

/// Settings the runner cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The retry cap is below the first delay.
    #[error(transparent)]
    Retry(#[from] RetryCapBelowBase),
    /// A turn's longest wait is shorter than its quiet period.
    #[error("TURN_MAX_WAIT_MS ({max_wait_ms}) must not be below TURN_QUIET_MS ({quiet_ms})")]
    TurnWaitBelowQuiet {
        /// `TURN_QUIET_MS`.
        quiet_ms: u64,
        /// `TURN_MAX_WAIT_MS`.
        max_wait_ms: u64,
    },
    /// `BUSINESS_PROFILE` names a file that cannot be read or is not a valid profile.
    #[error("BUSINESS_PROFILE {}: {reason}", path.display())]
    Profile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl RunnerArgs {
    fn turn_timing(&self) -> Result<TurnTiming, SettingsError> {
        let (quiet_ms, max_wait_ms) = (self.turn_quiet_ms, self.turn_max_wait_ms);
        if quiet_ms > 0 && max_wait_ms < quiet_ms {
            return Err(SettingsError::TurnWaitBelowQuiet { quiet_ms, max_wait_ms });
        }
        Ok(TurnTiming {
            quiet: Duration::from_millis(quiet_ms),
            max_wait: Duration::from_millis(max_wait_ms),
        })
    }

    /// The runner's settings, with the business profile read; clap's ranges check each
    /// option, this how they relate.
    pub fn settings(&self) -> Result<RunnerSettings, SettingsError> {
        let profile = match &self.business_profile {
            Some(path) => {
                let read = |e: String| SettingsError::Profile { path: path.clone(), reason: e };
                let text = std::fs::read_to_string(path).map_err(|e| read(e.to_string()))?;
                BusinessProfile::from_toml(&text).map_err(|e| read(e.to_string()))?
            }
            None => BusinessProfile::default(),
        };
        Ok(RunnerSettings {
            concurrency: self.concurrency,
            batch_size: self.batch_size,
            committers: self.committers,
            lease: Duration::from_secs(self.lease_secs),
            poll_interval: Duration::from_millis(self.poll_interval_ms),
            retry: RetryPolicy::from_millis("JOB", self.retry_base_ms, self.retry_max_ms)?,
            profile: Arc::new(profile),
            turns: self.turn_timing()?,
        })
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
    /// Prune finished rows this often, in seconds (0: never; the `prune` subcommand can run
    /// from a scheduler instead).
    #[arg(long, env = "PRUNE_INTERVAL_SECS", default_value_t = 3600)]
    pub prune_interval_secs: u64,
    /// What pruning keeps.
    #[command(flatten)]
    pub retention: RetentionArgs,
}

impl ServeConfig {
    /// Refuses an operator token that is set but empty or a placeholder (unset tokens make
    /// their endpoints refuse every request).
    pub fn check_secrets(&self) -> Result<(), domain::UnusableSecret> {
        if let Some(token) = &self.runner_token {
            token.check_usable("JOB_RUNNER_TOKEN")?;
        }
        if let Some(secret) = &self.cron_secret {
            secret.check_usable("CRON_SECRET")?;
        }
        Ok(())
    }
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
