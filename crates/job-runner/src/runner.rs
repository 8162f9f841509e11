//! Claiming jobs and running them: on demand (run-once, HTTP) or continuously (serve).

use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use store::jobs::{self, ClaimedJob, Completer, CompletionWriter};
use store::{DbPool, StoreError};
use telemetry::metrics::Counter;
use tracing::Instrument;
use worker::{CancellationToken, LoopSettings, Queue, Wake};

use crate::process::{Outcome, run_job};
use worker::RetryPolicy;

/// The counters a runner exports from its start.
pub const COUNTERS: &[Counter] = &[
    Counter { name: "jobs_claimed_total", labels: &[], help: "Jobs claimed (a retry is claimed again)" },
    Counter { name: "jobs_done_total", labels: &[], help: "Jobs whose result is committed" },
    Counter { name: "jobs_retried_total", labels: &[], help: "Jobs queued again after a failed attempt" },
    Counter { name: "jobs_failed_total", labels: &[], help: "Jobs failed after their last attempt" },
    Counter {
        name: "jobs_lease_lost_total",
        labels: &[],
        help: "Results dropped because another runner took the job",
    },
    Counter {
        name: "outbound_duplicates_blocked_total",
        labels: &[],
        help: "Replies not written because their dedupe key was taken",
    },
];

/// How a runner claims and runs jobs.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Jobs run at once.
    pub concurrency: usize,
    /// Most jobs claimed per query.
    pub batch_size: usize,
    /// Connections committing finished jobs (see [`store::group_commit`]).
    pub committers: usize,
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
    completer: Completer,
    settings: RunnerSettings,
    wake: Wake,
}

impl Runner {
    /// A runner on `pool`; starts its committers, so call it within a Tokio runtime.
    pub fn new(pool: DbPool, settings: RunnerSettings) -> Self {
        let completer = Completer::start(pool.clone(), CompletionWriter, settings.committers);
        Self { pool, completer, settings, wake: Wake::default() }
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
                .map(|job| run_job(&self.pool, &self.completer, &self.settings.retry, job))
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
                () = self.wake.woken() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                () = tokio::time::sleep_until(deadline) => {}
                () = stop.cancelled() => {}
            }
        }
    }

    /// Runs jobs as they become due, `concurrency` at a time, until `stop` is cancelled;
    /// then waits up to `grace` for in-flight jobs and releases those still running.
    pub async fn serve(&self, stop: CancellationToken, grace: Duration) {
        let settings = LoopSettings {
            concurrency: self.settings.concurrency,
            batch_size: self.settings.batch_size,
            poll_interval: self.settings.poll_interval,
            grace,
        };
        worker::serve(self.clone(), settings, self.wake.clone(), stop).await;
    }

    /// The wake-up signal of this runner.
    pub fn wake_signal(&self) -> Wake {
        self.wake.clone()
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
    pub(crate) async fn rescue(&self) {
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

impl Queue for Runner {
    type Item = ClaimedJob;

    fn id(job: &ClaimedJob) -> i64 {
        job.id
    }

    async fn claim(&self, limit: usize) -> Result<Vec<ClaimedJob>, StoreError> {
        Runner::claim(self, limit).await
    }

    async fn run(&self, job: ClaimedJob) {
        run_job(&self.pool, &self.completer, &self.settings.retry, job).await;
    }

    async fn release(&self, job: ClaimedJob) {
        let released = async {
            let mut conn = store::connection(&self.pool).await?;
            jobs::release(&mut conn, &job).await
        }
        .await;
        if let Err(e) = released {
            tracing::warn!(job_id = job.id, error = %e, "cannot release; its lease will expire");
        }
    }

    async fn upkeep(&self) {
        self.rescue().await;
    }
}
