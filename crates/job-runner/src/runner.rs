//! Claiming jobs and running them: on demand (run-once, HTTP) or continuously (serve).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use store::jobs::{self, ClaimedJob};
use store::{DbPool, StoreError};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::process::{Outcome, run_job};
use crate::retry_policy::RetryPolicy;

/// How a runner claims and runs jobs.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Jobs run at once.
    pub concurrency: usize,
    /// Most jobs claimed per query.
    pub batch_size: usize,
    /// Lease of a claim.
    pub lease: Duration,
    /// Poll period without notifications.
    pub poll_interval: Duration,
    /// Retry delays.
    pub retry: RetryPolicy,
}

/// Counts of what a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Jobs claimed.
    pub claimed: usize,
    /// Jobs whose result is committed.
    pub done: usize,
    /// Jobs queued again after a failure.
    pub retried: usize,
    /// Jobs failed on their last attempt.
    pub failed: usize,
    /// Jobs another runner took over.
    pub lease_lost: usize,
}

impl Summary {
    fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Done => self.done += 1,
            Outcome::Retried => self.retried += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::LeaseLost => self.lease_lost += 1,
        }
    }

    fn add(&mut self, other: Summary) {
        self.claimed += other.claimed;
        self.done += other.done;
        self.retried += other.retried;
        self.failed += other.failed;
        self.lease_lost += other.lease_lost;
    }
}

/// Claims and runs outbound jobs.
#[derive(Clone)]
pub struct Runner {
    pool: DbPool,
    settings: RunnerSettings,
    wake: Arc<Notify>,
}

impl Runner {
    /// A runner on `pool`.
    pub fn new(pool: DbPool, settings: RunnerSettings) -> Self {
        Self { pool, settings, wake: Arc::new(Notify::new()) }
    }

    /// Wakes the runner: new jobs may be due.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Claims and runs due jobs until `max` were claimed or none is due.
    pub async fn run_due(&self, max: usize) -> Result<Summary, StoreError> {
        let mut summary = Summary::default();
        self.rescue().await;
        while summary.claimed < max {
            let jobs = self.claim((max - summary.claimed).min(self.settings.batch_size)).await?;
            if jobs.is_empty() {
                break;
            }
            summary.claimed += jobs.len();
            let outcomes: Vec<Outcome> = futures_util::stream::iter(jobs)
                .map(|job| run_job(&self.pool, &self.settings.retry, job))
                .buffer_unordered(self.settings.concurrency)
                .collect()
                .await;
            outcomes.into_iter().for_each(|o| summary.record(o));
        }
        Ok(summary)
    }

    /// Runs due jobs, then keeps waiting for new ones (woken by [`Runner::wake`]) until
    /// `drain_for` has passed, `max` jobs were claimed, or `stop` is cancelled.
    pub async fn drain(
        &self,
        max: usize,
        drain_for: Duration,
        stop: &CancellationToken,
    ) -> Result<Summary, StoreError> {
        let deadline = tokio::time::Instant::now() + drain_for;
        let mut summary = Summary::default();
        loop {
            summary.add(self.run_due(max - summary.claimed).await?);
            if summary.claimed >= max || tokio::time::Instant::now() >= deadline || stop.is_cancelled() {
                return Ok(summary);
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                () = tokio::time::sleep_until(deadline) => {}
                () = stop.cancelled() => {}
            }
        }
    }

    /// Runs jobs as they become due, `concurrency` at a time, until `stop` is cancelled;
    /// then waits up to `grace` for in-flight jobs and releases those still running.
    pub async fn serve(&self, stop: CancellationToken, grace: Duration) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency));
        let in_flight: Arc<Mutex<HashMap<i64, ClaimedJob>>> = Arc::default();
        let mut tasks = JoinSet::new();
        let mut poll = tokio::time::interval(self.settings.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            while tasks.try_join_next().is_some() {}
            let first = tokio::select! {
                permit = slots.clone().acquire_owned() => permit,
                () = stop.cancelled() => break,
            };
            let Ok(first) = first else { break };
            let mut permits = vec![first];
            while permits.len() < self.settings.batch_size {
                match slots.clone().try_acquire_owned() {
                    Ok(permit) => permits.push(permit),
                    Err(_) => break,
                }
            }
            let wanted = permits.len();
            let jobs = match self.claim(wanted).await {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim jobs; retrying after the poll interval");
                    Vec::new()
                }
            };
            let claimed = jobs.len();
            for (job, permit) in jobs.into_iter().zip(permits) {
                let (pool, retry, in_flight) = (self.pool.clone(), self.settings.retry, in_flight.clone());
                if let Ok(mut map) = in_flight.lock() {
                    map.insert(job.id, job.clone());
                }
                tasks.spawn(async move {
                    let id = job.id;
                    run_job(&pool, &retry, job).await;
                    if let Ok(mut map) = in_flight.lock() {
                        map.remove(&id);
                    }
                    drop(permit);
                });
            }
            if claimed < wanted {
                tokio::select! {
                    () = self.wake.notified() => {}
                    _ = poll.tick() => self.rescue().await,
                    () = stop.cancelled() => break,
                }
            }
        }
        self.finish_in_flight(tasks, in_flight, grace).await;
    }

    async fn finish_in_flight(
        &self,
        mut tasks: JoinSet<()>,
        in_flight: Arc<Mutex<HashMap<i64, ClaimedJob>>>,
        grace: Duration,
    ) {
        tracing::info!(in_flight = tasks.len(), "stopped claiming; finishing in-flight jobs");
        if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await.is_err() {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        let unfinished: Vec<ClaimedJob> =
            in_flight.lock().map(|m| m.values().cloned().collect()).unwrap_or_default();
        for job in unfinished {
            let released = async {
                let mut conn = store::connection(&self.pool).await?;
                jobs::release(&mut conn, &job).await
            }
            .await;
            tracing::warn!(job_id = job.id, released = released.unwrap_or(false), "in-flight job released");
        }
    }

    async fn claim(&self, limit: usize) -> Result<Vec<ClaimedJob>, StoreError> {
        let span = tracing::info_span!("job.claim", requested = limit, claimed = tracing::field::Empty);
        async {
            let mut conn = store::connection(&self.pool).await?;
            let jobs =
                jobs::claim(&mut conn, i64::try_from(limit).unwrap_or(i64::MAX), self.settings.lease).await?;
            tracing::Span::current().record("claimed", jobs.len());
            metrics::counter!("jobs_claimed_total").increment(jobs.len() as u64);
            Ok(jobs)
        }
        .instrument(span)
        .await
    }

    /// Fails jobs whose worker died on their last attempt.
    async fn rescue(&self) {
        let rescued = async {
            let mut conn = store::connection(&self.pool).await?;
            jobs::rescue_exhausted(&mut conn).await
        }
        .await;
        match rescued {
            Ok(0) => {}
            Ok(n) => {
                tracing::error!(jobs = n, "jobs failed: their worker stopped during the last attempt");
                metrics::counter!("jobs_failed_total").increment(n as u64);
            }
            Err(e) => tracing::warn!(error = %e, "cannot rescue expired jobs"),
        }
    }
}
