//! Operator actions: pruning finished rows, listing what failed and queueing it again.
//! The same functions back the subcommands, the HTTP API and `serve`'s pruning schedule.

use std::time::Duration;

use serde::Serialize;
use store::maintenance::{self, Pruned, Retention};
use store::redrive::{self, FailedJob, FailedSend, Selection};
use store::{DbPool, StoreError};
use worker::CancellationToken;

use crate::config::{FailedArgs, PruneArgs, RequeueArgs};

/// Prunes once and logs what was deleted.
pub async fn prune(pool: &DbPool, retention: Retention) -> Result<Pruned, StoreError> {
    let pruned = maintenance::prune(pool, retention).await?;
    tracing::info!(jobs = pruned.jobs, status_events = pruned.status_events, "pruned finished rows");
    Ok(pruned)
}

/// Prunes every `interval` until `stop` is cancelled; failures are logged and retried at
/// the next interval.
pub async fn prune_periodically(
    pool: DbPool,
    retention: Retention,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        if let Err(e) = prune(&pool, retention).await {
            tracing::warn!(error = %e, "pruning failed; trying again at the next interval");
        }
    }
}

/// What failed, newest first.
#[derive(Debug, Serialize)]
pub struct FailedItems {
    /// Jobs that used their attempts.
    pub jobs: Vec<FailedJob>,
    /// Replies that failed or are held as uncertain.
    pub outbound: Vec<FailedSend>,
}

/// Lists up to `limit` failed jobs and up to `limit` failed or held replies.
pub async fn failed(pool: &DbPool, limit: i64) -> Result<FailedItems, StoreError> {
    Ok(FailedItems {
        jobs: redrive::failed_jobs(pool, limit).await?,
        outbound: redrive::failed_sends(pool, limit).await?,
    })
}

/// What was queued again.
#[derive(Debug, Default, Serialize)]
pub struct Requeued {
    /// Job ids.
    pub jobs: Vec<i64>,
    /// Outbound message ids.
    pub outbound: Vec<i64>,
}

/// Queues the selected jobs and replies again (an empty id list with `all` false selects
/// nothing).
pub async fn requeue(
    pool: &DbPool,
    jobs: Option<Selection<'_>>,
    outbound: Option<Selection<'_>>,
) -> Result<Requeued, StoreError> {
    let mut requeued = Requeued::default();
    if let Some(which) = jobs {
        requeued.jobs = redrive::requeue_jobs(pool, which).await?;
    }
    if let Some(which) = outbound {
        requeued.outbound = redrive::requeue_sends(pool, which).await?;
    }
    tracing::info!(jobs = ?requeued.jobs, outbound = ?requeued.outbound, "requeued by an operator");
    Ok(requeued)
}

fn selection(all: bool, ids: &[i64]) -> Option<Selection<'_>> {
    if all { Some(Selection::All) } else { (!ids.is_empty()).then_some(Selection::Ids(ids)) }
}

/// `job-runner prune`.
pub async fn prune_command(args: PruneArgs) -> anyhow::Result<Pruned> {
    let pool = store::build_pool(args.db.database_url.expose(), &args.db.pool_settings("job-runner"))?;
    Ok(prune(&pool, args.retention.retention()).await?)
}

/// `job-runner failed`.
pub async fn failed_command(args: FailedArgs) -> anyhow::Result<FailedItems> {
    let pool = store::build_pool(args.db.database_url.expose(), &args.db.pool_settings("job-runner"))?;
    Ok(failed(&pool, args.limit.clamp(1, 10_000)).await?)
}

/// `job-runner requeue`.
pub async fn requeue_command(args: RequeueArgs) -> anyhow::Result<Requeued> {
    let pool = store::build_pool(args.db.database_url.expose(), &args.db.pool_settings("job-runner"))?;
    let jobs = selection(args.all_failed_jobs, &args.jobs);
    let outbound = selection(args.all_failed_outbound, &args.outbound);
    Ok(requeue(&pool, jobs, outbound).await?)
}
