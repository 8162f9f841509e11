//! Keeping the hot tables small, and measuring the queues.
//!
//! Finished jobs and old delivery-status events are deleted in small batches (short
//! transactions, no long locks). Inbound messages and the outbound log are the audit trail
//! and are never pruned; an outbound row keeps its text when its job is deleted
//! (`outbound_job_id` becomes NULL).

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::prepared::Prepared;
use crate::{DbPool, StoreError, connection};

/// Rows deleted by one statement; small enough to hold row locks only briefly.
const PRUNE_BATCH: i64 = 5_000;

pub(crate) const PRUNE_JOBS_SQL: &str = "DELETE FROM outbound_job WHERE id IN (
    SELECT id FROM outbound_job
    WHERE status = 'done' AND completed_at < now() - make_interval(secs => $1)
    LIMIT $2
)";

pub(crate) const PRUNE_STATUS_EVENTS_SQL: &str = "DELETE FROM message_status_event WHERE id IN (
    SELECT id FROM message_status_event WHERE received_at < now() - make_interval(secs => $1)
    LIMIT $2
)";

/// How old finished rows must be before [`prune`] deletes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// `done` jobs completed longer ago than this. Failed jobs are kept for redrive.
    pub done_jobs: Duration,
    /// Status events received longer ago than this (the outbound row keeps the outcome).
    pub status_events: Duration,
}

/// What [`prune`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    /// `outbound_job` rows.
    pub jobs: u64,
    /// `message_status_event` rows.
    pub status_events: u64,
}

/// Deletes finished jobs and status events older than `retention`, batch by batch. Each
/// table is pruned even when the other fails; the first error is returned.
pub async fn prune(pool: &DbPool, retention: Retention) -> Result<Pruned, StoreError> {
    let mut conn = connection(pool).await?;
    let jobs = delete_in_batches(&mut conn, PRUNE_JOBS_SQL, retention.done_jobs).await;
    let status_events = delete_in_batches(&mut conn, PRUNE_STATUS_EVENTS_SQL, retention.status_events).await;
    Ok(Pruned { jobs: jobs?, status_events: status_events? })
}

async fn delete_in_batches(
    conn: &mut AsyncPgConnection,
    sql: &'static str,
    older_than: Duration,
) -> Result<u64, StoreError> {
    let mut deleted = 0_u64;
    loop {
        let query =
            diesel::sql_query(sql).bind::<Double, _>(older_than.as_secs_f64()).bind::<BigInt, _>(PRUNE_BATCH);
        let n = Prepared(query).execute(conn).await?;
        deleted += n as u64;
        if (n as i64) < PRUNE_BATCH {
            return Ok(deleted);
        }
    }
}

/// A table workers drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkQueue {
    /// `outbound_job`, drained by job-runner.
    OutboundJob,
    /// `outbound_message_log`, drained by outbound-sender.
    OutboundMessageLog,
}

impl WorkQueue {
    /// The table's name, used as the `queue` label of the gauges.
    pub fn table(self) -> &'static str {
        match self {
            Self::OutboundJob => "outbound_job",
            Self::OutboundMessageLog => "outbound_message_log",
        }
    }

    /// The statuses of items not yet settled.
    pub fn open_statuses(self) -> &'static [&'static str] {
        match self {
            Self::OutboundJob => &["queued", "running"],
            Self::OutboundMessageLog => &["queued", "sending", "uncertain"],
        }
    }

    pub(crate) fn depth_sql(self) -> &'static str {
        match self {
            Self::OutboundJob => {
                "SELECT status, count(*) AS n,
                        COALESCE(EXTRACT(EPOCH FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::float8
                            AS oldest_due_secs
                 FROM outbound_job WHERE status IN ('queued', 'running') GROUP BY status"
            }
            Self::OutboundMessageLog => {
                "SELECT status, count(*) AS n,
                        COALESCE(EXTRACT(EPOCH FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::float8
                            AS oldest_due_secs
                 FROM outbound_message_log WHERE status IN ('queued', 'sending', 'uncertain') GROUP BY status"
            }
        }
    }
}

#[derive(QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Double)]
    oldest_due_secs: f64,
}

/// A queue's size at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueDepth {
    /// Items per open status (every open status is listed, with 0 when empty).
    pub by_status: Vec<(&'static str, i64)>,
    /// Seconds since the oldest `queued` item became due (0 when none is due): how far
    /// behind the workers are. A retry waiting for its backoff is not due yet.
    pub oldest_due_secs: f64,
}

/// How many items of `queue` are open, per status, and how late the oldest due one is.
pub async fn depth(pool: &DbPool, queue: WorkQueue) -> Result<QueueDepth, StoreError> {
    let query = Prepared(diesel::sql_query(queue.depth_sql()));
    let rows: Vec<StatusCount> = query.load(&mut *connection(pool).await?).await?;
    let count_of = |status: &str| rows.iter().find(|r| r.status == status).map_or(0, |r| r.n);
    Ok(QueueDepth {
        by_status: queue.open_statuses().iter().map(|s| (*s, count_of(s))).collect(),
        oldest_due_secs: rows.iter().find(|r| r.status == "queued").map_or(0.0, |r| r.oldest_due_secs),
    })
}
