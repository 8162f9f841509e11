//! Claiming jobs and running them: on demand (run-once, HTTP) or continuously (serve).

use std::time::Duration;

use std::sync::{Arc, Mutex};

use orchestrator_core::BusinessProfile;
use serde::Serialize;
use store::jobs::{ClaimedJob, Completer, CompletionWriter, Jobs, TurnTiming};
use store::{DbPool, StoreError};
use telemetry::metrics::Counter;
use tracing::Instrument;
use worker::{Budget, CancellationToken, LoopSettings, Queue, Wake};

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
        name: "outbound_superseded_total",
        labels: &[],
        help: "Queued bot replies never sent because a newer turn's reply answers everything",
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
    /// Jobs run at once (at least 1).
    pub concurrency: usize,
    /// Most jobs claimed per query (at least 1).
    pub batch_size: usize,
    /// Connections committing finished jobs, at least 1 (see [`store::group_commit`]).
    pub committers: usize,
    /// Lease of a claim.
    pub lease: Duration,
    /// Poll period without notifications.
    pub poll_interval: Duration,
    /// Retry delays.
    pub retry: RetryPolicy,
    /// The business facts the bot may tell customers.
    pub profile: Arc<BusinessProfile>,
    /// When a conversation's messages form a turn that is due.
    pub turns: TurnTiming,
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
}

/// Claims and runs outbound jobs; cheap to clone.
#[derive(Clone)]
pub struct Runner {
    jobs: Jobs,
    completer: Completer,
    settings: RunnerSettings,
    wake: Wake,
    /// What this run did (each [`Runner::run_due`] or [`Runner::drain`] counts its own).
    tally: Arc<Mutex<Summary>>,
}

impl Runner {
    /// A runner on `pool`; starts its committers, so call it within a Tokio runtime.
    pub fn new(pool: DbPool, settings: RunnerSettings) -> Self {
        let completer = Completer::start(pool.clone(), CompletionWriter, settings.committers);
        Self { jobs: Jobs::new(pool), completer, settings, wake: Wake::default(), tally: Arc::default() }
    }

    /// Claims and runs due jobs until `max` were claimed or none is due (a job's
    /// completion makes its conversation's next job due, so conversations run to the end).
    pub async fn run_due(&self, max: usize) -> Result<Summary, StoreError> {
        let budget = Budget { max_items: max, until_idle: true, whole_batches: true };
        self.run(budget, CancellationToken::new()).await
    }

    /// Runs due jobs, then keeps running new ones (woken by [`Runner::wake_signal`]) until
    /// `drain_for` has passed, `max` jobs were claimed, or `stop` is cancelled. With a
    /// `drain_for` of zero it is [`Runner::run_due`].
    pub async fn drain(
        &self,
        max: usize,
        drain_for: Duration,
        stop: &CancellationToken,
    ) -> Result<Summary, StoreError> {
        if drain_for.is_zero() {
            let budget = Budget { max_items: max, until_idle: true, whole_batches: true };
            return self.run(budget, stop.clone()).await;
        }
        let until = stop.child_token();
        let deadline = tokio::spawn({
            let until = until.clone();
            async move {
                tokio::time::sleep(drain_for).await;
                until.cancel();
            }
        });
        let summary =
            self.run(Budget { max_items: max, until_idle: false, whole_batches: true }, until).await;
        deadline.abort();
        summary
    }

    /// Runs jobs as they become due, `concurrency` at a time, until `stop` is cancelled;
    /// then waits up to `grace` for in-flight jobs and releases those still running.
    pub async fn serve(&self, stop: CancellationToken, grace: Duration) {
        worker::serve(self.clone(), self.loop_settings(grace), self.wake.clone(), stop).await;
    }

    /// The wake-up signal of this runner.
    pub fn wake_signal(&self) -> Wake {
        self.wake.clone()
    }

    /// One bounded run through the shared queue loop, counting what it did. A run that
    /// stops by itself finishes its jobs; one stopped by `stop` gives them the lease as grace.
    async fn run(&self, budget: Budget, stop: CancellationToken) -> Result<Summary, StoreError> {
        self.rescue().await;
        let counted = Self { tally: Arc::default(), ..self.clone() };
        let settings = self.loop_settings(self.settings.lease);
        worker::run(counted.clone(), settings, self.wake.clone(), stop, budget).await?;
        Ok(counted.tally.lock().map(|t| *t).unwrap_or_default())
    }

    fn loop_settings(&self, grace: Duration) -> LoopSettings {
        LoopSettings {
            concurrency: self.settings.concurrency,
            batch_size: self.settings.batch_size,
            poll_interval: self.settings.poll_interval,
            grace,
            // A new message is due once its turn's quiet period has passed, not before.
            wake_delay: self.settings.turns.quiet,
        }
    }

    /// Fails jobs whose worker died on their last attempt.
    pub(crate) async fn rescue(&self) {
        match self.jobs.rescue_exhausted().await {
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
        let span = tracing::info_span!("job.claim", requested = limit, claimed = tracing::field::Empty);
        async {
            let jobs = self.jobs.claim(limit, self.settings.lease, self.settings.turns).await?;
            tracing::Span::current().record("claimed", jobs.len());
            metrics::counter!("jobs_claimed_total").increment(jobs.len() as u64);
            if let Ok(mut tally) = self.tally.lock() {
                tally.claimed += jobs.len();
            }
            Ok(jobs)
        }
        .instrument(span)
        .await
    }

    async fn run(&self, job: ClaimedJob) {
        let outcome =
            run_job(&self.jobs, &self.completer, &self.settings.retry, &self.settings.profile, job).await;
        if let Ok(mut tally) = self.tally.lock() {
            tally.record(outcome);
        }
    }

    async fn release(&self, job: ClaimedJob) {
        if let Err(e) = self.jobs.release(&job).await {
            tracing::warn!(job_id = job.id, error = %e, "cannot release; its lease will expire");
        }
    }

    async fn upkeep(&self) {
        self.rescue().await;
    }

    async fn next_due(&self) -> Option<Duration> {
        self.jobs.next_turn_due(self.settings.turns).await.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "cannot tell when the next turn is due; polling");
            None
        })
    }
}
