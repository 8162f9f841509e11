//! What failed, and sending it round again (operator actions).
//!
//! A failed job or reply is never retried by itself; an operator lists them, fixes the
//! cause (a token, a bug, the customer's window) and re-queues them. A re-queued item gets
//! a fresh set of attempts and wakes the workers. It keeps every uniqueness guarantee: a
//! re-run job still cannot write a second reply for the same question, and a re-sent reply
//! is still one row.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;

use crate::lease::Origin;
use crate::prepared::Prepared;
use crate::vocab::SendStatus;
use crate::{DbPool, StoreError, connection};

/// A job that used its attempts.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct FailedJob {
    /// `outbound_job.id`.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The conversation.
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    /// Attempts made.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    /// The last error (never customer data).
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    /// The webhook delivery, to find its trace.
    #[diesel(embed)]
    #[serde(flatten)]
    pub origin: Origin,
    /// When it failed.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub failed_at: Option<DateTime<Utc>>,
}

/// A reply that failed, or whose send is uncertain and held for staff.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct FailedSend {
    /// `outbound_message_log.id`.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The conversation.
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    /// Its dedupe key.
    #[diesel(sql_type = Text)]
    pub dedupe_key: String,
    /// `failed`, or `uncertain` (held).
    #[diesel(sql_type = Text)]
    pub status: SendStatus,
    /// Meta's error code, if any.
    #[diesel(sql_type = Nullable<Int4>)]
    pub error_code: Option<i32>,
    /// What went wrong.
    #[diesel(sql_type = Nullable<Text>)]
    pub error_text: Option<String>,
    /// Attempts made.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    /// The webhook delivery, to find its trace.
    #[diesel(embed)]
    #[serde(flatten)]
    pub origin: Origin,
    /// When it last changed.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

pub(crate) const FAILED_JOBS_SQL: &str =
    "SELECT id, conversation_id, attempts, error, request_id, traceparent, completed_at AS failed_at
    FROM outbound_job WHERE status = 'failed' ORDER BY id DESC LIMIT $1";

/// A held uncertain send waits with `run_at = infinity` (see `outbound::upkeep`).
pub(crate) const FAILED_SENDS_SQL: &str =
    "SELECT id, conversation_id, dedupe_key, status, error_code, error_text,
           attempts, request_id, traceparent, updated_at
    FROM outbound_message_log
    WHERE status = 'failed' OR (status = 'uncertain' AND run_at = 'infinity')
    ORDER BY id DESC LIMIT $1";

/// The newest failed jobs, at most `limit`.
pub async fn failed_jobs(pool: &DbPool, limit: i64) -> Result<Vec<FailedJob>, StoreError> {
    let query = Prepared(diesel::sql_query(FAILED_JOBS_SQL).bind::<BigInt, _>(limit));
    Ok(query.load(&mut *connection(pool).await?).await?)
}

/// The newest failed or held replies, at most `limit`.
pub async fn failed_sends(pool: &DbPool, limit: i64) -> Result<Vec<FailedSend>, StoreError> {
    let query = Prepared(diesel::sql_query(FAILED_SENDS_SQL).bind::<BigInt, _>(limit));
    Ok(query.load(&mut *connection(pool).await?).await?)
}

/// Which items to re-queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection<'a> {
    /// These ids (those not failed are left alone).
    Ids(&'a [i64]),
    /// Every failed (or held) one.
    All,
}

impl Selection<'_> {
    fn bind(self) -> (bool, Vec<i64>) {
        match self {
            Self::Ids(ids) => (false, ids.to_vec()),
            Self::All => (true, Vec::new()),
        }
    }
}

pub(crate) const REQUEUE_JOBS_SQL: &str = "WITH requeued AS (
    UPDATE outbound_job
    SET status = 'queued', attempts = 0, run_at = now(), completed_at = NULL,
        error = 'requeued by an operator after: ' || COALESCE(error, 'unknown error')
    WHERE status = 'failed' AND ($1 OR id = ANY($2))
    RETURNING id
), wake AS (
    SELECT pg_notify('outbound_job_queued', '') WHERE EXISTS (SELECT 1 FROM requeued)
)
SELECT id FROM requeued, (SELECT count(*) FROM wake) AS woken ORDER BY id";

pub(crate) const REQUEUE_SENDS_SQL: &str = "WITH requeued AS (
    UPDATE outbound_message_log
    SET uncertain_resends = uncertain_resends + CASE WHEN status = 'uncertain' THEN 1 ELSE 0 END,
        status = 'queued', attempts = 0, run_at = now(), failed_at = NULL, updated_at = now(),
        error_text = 'requeued by an operator after: ' || COALESCE(error_text, 'unknown error')
    WHERE (status = 'failed' OR (status = 'uncertain' AND run_at = 'infinity'))
      AND ($1 OR id = ANY($2))
    RETURNING id
), wake AS (
    SELECT pg_notify('outbound_message_queued', '') WHERE EXISTS (SELECT 1 FROM requeued)
)
SELECT id FROM requeued, (SELECT count(*) FROM wake) AS woken ORDER BY id";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Queues the selected failed jobs again with fresh attempts; returns their ids.
pub async fn requeue_jobs(pool: &DbPool, which: Selection<'_>) -> Result<Vec<i64>, StoreError> {
    requeue(pool, REQUEUE_JOBS_SQL, which).await
}

/// Queues the selected failed or held replies again with fresh attempts; returns their ids.
/// A held uncertain reply counts as an uncertain resend: the customer may already have it.
pub async fn requeue_sends(pool: &DbPool, which: Selection<'_>) -> Result<Vec<i64>, StoreError> {
    requeue(pool, REQUEUE_SENDS_SQL, which).await
}

async fn requeue(pool: &DbPool, sql: &'static str, which: Selection<'_>) -> Result<Vec<i64>, StoreError> {
    let (all, ids) = which.bind();
    let query = diesel::sql_query(sql).bind::<Bool, _>(all).bind::<Array<BigInt>, _>(ids);
    let rows: Vec<Id> = Prepared(query).load(&mut *connection(pool).await?).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
