//! `job-runner`: runs one outbound job per inbound message.
//!
//! A job is claimed with `FOR UPDATE SKIP LOCKED` under a lease and a fresh claim token,
//! only when it is the oldest open job of its conversation; the conversation engine decides
//! the reply; the conversation state, the reply row (unique dedupe key), notifications, the
//! lead and the job's completion commit as one statement fenced by the claim token.
//! Failures are retried with capped exponential backoff until `max_attempts`, then the job
//! fails with a `job_failed` notification. [`operations`] prunes finished rows and lets an
//! operator list and re-queue what failed.

pub mod config;
mod http;
pub mod operations;
mod process;
pub mod runner;
mod startup;

use anyhow::Context;
pub use config::{Cli, Command, RunOnceConfig, RunnerArgs, ServeConfig};
pub use runner::{Runner, RunnerSettings, Summary};
pub use startup::Application;
use worker::CancellationToken;

/// `run-once`: runs due jobs (and, with `--drain-for`, new ones as they arrive) and returns
/// what it did. SIGTERM stops it between batches.
pub async fn run_once(config: RunOnceConfig) -> anyhow::Result<Summary> {
    let settings = config.runner.settings()?;
    let pool = store::build_pool(
        config.runner.db.database_url.expose(),
        &config.runner.db.pool_settings("job-runner"),
    )?;
    store::migrations::refuse_if_behind(&pool).await.context("database is not ready for this version")?;
    let runner = Runner::new(pool, settings);
    let stop = CancellationToken::new();
    let signals = tokio::spawn(worker::stop_on_signal(stop.clone()));
    let drain_for = std::time::Duration::from_secs(config.drain_for);
    let listening = (config.drain_for > 0).then(|| {
        let url = config.runner.db.database_url.expose().to_owned();
        tokio::spawn(worker::listen(url, store::OUTBOUND_JOB_CHANNEL, runner.wake_signal(), stop.clone()))
    });
    let summary = runner.drain(config.max, drain_for, &stop).await;
    stop.cancel();
    if let Some(listening) = listening {
        let _ = listening.await;
    }
    signals.abort();
    summary.context("running jobs")
}
