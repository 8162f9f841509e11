//! The `outbound_job` queue: claim, complete, retry, release and rescue.
//!
//! Every transition is fenced by the claim token (invariant 3): a worker whose lease was
//! lost changes nothing. A job's result (conversation state, reply row, notification,
//! lead, job done) commits as one statement (invariant 4). Jobs of one conversation run one
//! at a time and in arrival order (invariant 5): only the oldest open job of a conversation
//! can be claimed.
//!
//! `started_at` and `completed_at` use `clock_timestamp()`: a claim's clock reading comes
//! after its snapshot, a completion's before its commit, so within a conversation a job's
//! `started_at` is never earlier than the previous job's `completed_at` (`now()`, the
//! transaction's start, does not order them).

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Double, Int4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::StoreError;
use crate::prepared::Prepared;

/// The channel `job-runner` notifies when it writes an outbound message.
pub const OUTBOUND_MESSAGE_CHANNEL: &str = "outbound_message_queued";

/// A job a runner now holds, with what it needs to run it.
#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedJob {
    /// `outbound_job.id`.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The conversation.
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    /// The inbound message it answers.
    #[diesel(sql_type = BigInt)]
    pub inbound_message_id: i64,
    /// Its wamid.
    #[diesel(sql_type = Text)]
    pub inbound_provider_message_id: String,
    /// This attempt's number (1 for the first).
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    /// Attempts allowed.
    #[diesel(sql_type = Int4)]
    pub max_attempts: i32,
    /// The fence of every later transition.
    #[diesel(sql_type = SqlUuid)]
    pub claim_token: Uuid,
    /// The request id of the webhook delivery.
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    /// The trace to continue.
    #[diesel(sql_type = Nullable<Text>)]
    pub traceparent: Option<String>,
    /// `conversation.known_fields`, as JSON text.
    #[diesel(sql_type = Text)]
    pub known_fields: String,
    /// `conversation.engine_state`, as JSON text.
    #[diesel(sql_type = Text)]
    pub engine_state: String,
    /// `conversation.version` when claimed.
    #[diesel(sql_type = BigInt)]
    pub conversation_version: i64,
    /// `inbound_message.message_type`.
    #[diesel(sql_type = Text)]
    pub message_type: String,
    /// `inbound_message.text_body`.
    #[diesel(sql_type = Nullable<Text>)]
    pub text_body: Option<String>,
    /// Seconds from the job's creation to this claim.
    #[diesel(sql_type = Double)]
    pub waited_secs: f64,
}

const CLAIM_SQL: &str = "WITH due AS (
    SELECT j.id FROM outbound_job j
    WHERE j.status IN ('queued', 'running') AND j.run_at <= now() AND j.attempts < j.max_attempts
      AND NOT EXISTS (SELECT 1 FROM outbound_job earlier
                      WHERE earlier.conversation_id = j.conversation_id AND earlier.id < j.id
                        AND earlier.status IN ('queued', 'running'))
    ORDER BY j.run_at, j.id
    LIMIT $1
    FOR UPDATE OF j SKIP LOCKED
)
UPDATE outbound_job j
SET status = 'running',
    attempts = j.attempts + 1,
    claim_token = gen_random_uuid(),
    lease_until = now() + make_interval(secs => $2),
    run_at = now() + make_interval(secs => $2),
    started_at = clock_timestamp(),
    error = CASE WHEN j.status = 'running' THEN 'lease expired; retried' ELSE j.error END
FROM due, conversation c, inbound_message m
WHERE j.id = due.id AND c.id = j.conversation_id AND m.id = j.inbound_message_id
RETURNING j.id, j.conversation_id, j.inbound_message_id, j.inbound_provider_message_id, j.attempts,
          j.max_attempts, j.claim_token, j.request_id, j.traceparent, c.known_fields::text AS known_fields,
          c.engine_state::text AS engine_state, c.version AS conversation_version, m.message_type, m.text_body,
          EXTRACT(EPOCH FROM now() - j.created_at)::float8 AS waited_secs";

/// Claims up to `limit` due jobs for `lease`: queued jobs whose time has come and running
/// jobs whose lease expired (counted as a new attempt), only the oldest open job of each
/// conversation, skipping rows other runners hold.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease: Duration,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let query = diesel::sql_query(CLAIM_SQL).bind::<BigInt, _>(limit).bind::<Double, _>(lease.as_secs_f64());
    Ok(Prepared(query).load::<ClaimedJob>(conn).await?)
}

/// A reply to write with a job's result.
#[derive(Debug, Clone)]
pub struct NewReply<'a> {
    /// `{conversationId}:{inboundProviderMessageId}:{questionKey or 'reply'}`.
    pub dedupe_key: &'a str,
    /// The question it asks (`ASK_NAME`, ...).
    pub question_key: &'a str,
    /// The exact text to send.
    pub body: &'a str,
}

/// A notification to raise with a job's result.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    /// `lead_qualified`, `human_requested`, ...
    pub kind: &'a str,
    /// Makes it idempotent.
    pub dedupe_key: &'a str,
    /// Title.
    pub title: &'a str,
    /// Body.
    pub body: &'a str,
}

/// The lead row to write with a job's result.
#[derive(Debug, Clone, Default)]
pub struct LeadUpdate<'a> {
    /// `qualified` or `handed_off`.
    pub status: &'a str,
    /// Service.
    pub service: Option<&'a str>,
    /// Name.
    pub name: Option<&'a str>,
    /// Nationality.
    pub nationality: Option<&'a str>,
    /// Email.
    pub email: Option<&'a str>,
    /// Best time to call.
    pub best_time_to_call: Option<&'a str>,
}

/// Everything a finished job writes.
#[derive(Debug, Clone)]
pub struct JobResult<'a> {
    /// The job, as claimed.
    pub job: &'a ClaimedJob,
    /// The runner's trace, stored on the reply for the sender to continue.
    pub traceparent: Option<&'a str>,
    /// The new `known_fields` JSON.
    pub known_fields: &'a str,
    /// The new `engine_state` JSON.
    pub engine_state: &'a str,
    /// The reply, if any.
    pub reply: Option<NewReply<'a>>,
    /// The notification, if any.
    pub notification: Option<NewNotification<'a>>,
    /// The lead, when the conversation leaves qualification.
    pub lead: Option<LeadUpdate<'a>>,
}

/// What [`complete`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Committed. `outbound_id` is the new reply row; `None` with a reply means its dedupe
    /// key was already taken.
    Done {
        /// The new `outbound_message_log.id`.
        outbound_id: Option<i64>,
    },
    /// The claim is no longer ours (lease expired and another runner took the job): nothing
    /// was written.
    LeaseLost,
    /// The conversation changed since the claim: nothing was written.
    ConversationChanged,
}

const COMPLETE_SQL: &str = "WITH job_held AS (
    SELECT id FROM outbound_job WHERE id = $1 AND claim_token = $2 AND status = 'running' FOR UPDATE
), conversation_saved AS (
    UPDATE conversation
    SET known_fields = $5::jsonb, engine_state = $6::jsonb, version = version + 1, updated_at = now()
    WHERE id = $3 AND version = $4 AND EXISTS (SELECT 1 FROM job_held)
    RETURNING id
), job_done AS (
    UPDATE outbound_job SET status = 'done', completed_at = clock_timestamp(), lease_until = NULL, error = NULL
    WHERE id = $1 AND EXISTS (SELECT 1 FROM conversation_saved)
    RETURNING id
), reply_row AS (
    INSERT INTO outbound_message_log
        (conversation_id, outbound_job_id, dedupe_key, question_key, body, reply_to_provider_message_id,
         request_id, traceparent)
    SELECT $3, $1, $7, $8, $9, $10, $11, $12 FROM conversation_saved WHERE $7 IS NOT NULL
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
), notice_row AS (
    INSERT INTO notification (kind, conversation_id, dedupe_key, title, body)
    SELECT $13, $3, $14, $15, $16 FROM conversation_saved WHERE $13 IS NOT NULL
    ON CONFLICT (dedupe_key) DO NOTHING
), lead_row AS (
    INSERT INTO lead (conversation_id, status, service, name, nationality, email, best_time_to_call)
    SELECT $3, $17, $18, $19, $20, $21, $22 FROM conversation_saved WHERE $17 IS NOT NULL
    ON CONFLICT (conversation_id) DO UPDATE
        SET status = EXCLUDED.status, service = EXCLUDED.service, name = EXCLUDED.name,
            nationality = EXCLUDED.nationality, email = EXCLUDED.email,
            best_time_to_call = EXCLUDED.best_time_to_call, updated_at = now()
), wake_sender AS (
    SELECT pg_notify('outbound_message_queued', '') FROM reply_row
)
SELECT EXISTS (SELECT 1 FROM job_held) AS held,
       EXISTS (SELECT 1 FROM job_done) AS done,
       (SELECT id FROM reply_row) AS outbound_id,
       (SELECT count(*) FROM wake_sender) AS notified";

#[derive(QueryableByName)]
struct CompleteRow {
    #[diesel(sql_type = Bool)]
    held: bool,
    #[diesel(sql_type = Bool)]
    done: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    outbound_id: Option<i64>,
}

/// Commits a job's result in one statement: conversation state (if unchanged since the
/// claim), reply row (`ON CONFLICT (dedupe_key) DO NOTHING`), notification, lead, the job
/// marked done, and a wake-up for the sender; or nothing at all.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    result: &JobResult<'_>,
) -> Result<Completion, StoreError> {
    let job = result.job;
    let reply = result.reply.as_ref();
    let notice = result.notification.as_ref();
    let lead = result.lead.as_ref();
    let query = diesel::sql_query(COMPLETE_SQL)
        .bind::<BigInt, _>(job.id)
        .bind::<SqlUuid, _>(job.claim_token)
        .bind::<BigInt, _>(job.conversation_id)
        .bind::<BigInt, _>(job.conversation_version)
        .bind::<Text, _>(result.known_fields)
        .bind::<Text, _>(result.engine_state)
        .bind::<Nullable<Text>, _>(reply.map(|r| r.dedupe_key))
        .bind::<Nullable<Text>, _>(reply.map(|r| r.question_key))
        .bind::<Nullable<Text>, _>(reply.map(|r| r.body))
        .bind::<Text, _>(&job.inbound_provider_message_id)
        .bind::<Nullable<Text>, _>(job.request_id.as_deref())
        .bind::<Nullable<Text>, _>(result.traceparent.or(job.traceparent.as_deref()))
        .bind::<Nullable<Text>, _>(notice.map(|n| n.kind))
        .bind::<Nullable<Text>, _>(notice.map(|n| n.dedupe_key))
        .bind::<Nullable<Text>, _>(notice.map(|n| n.title))
        .bind::<Nullable<Text>, _>(notice.map(|n| n.body))
        .bind::<Nullable<Text>, _>(lead.map(|l| l.status))
        .bind::<Nullable<Text>, _>(lead.and_then(|l| l.service))
        .bind::<Nullable<Text>, _>(lead.and_then(|l| l.name))
        .bind::<Nullable<Text>, _>(lead.and_then(|l| l.nationality))
        .bind::<Nullable<Text>, _>(lead.and_then(|l| l.email))
        .bind::<Nullable<Text>, _>(lead.and_then(|l| l.best_time_to_call));
    let row = Prepared(query).get_result::<CompleteRow>(conn).await?;
    Ok(match (row.held, row.done) {
        (false, _) => Completion::LeaseLost,
        (true, false) => Completion::ConversationChanged,
        (true, true) => Completion::Done { outbound_id: row.outbound_id },
    })
}

/// What [`retry`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Queued again, to run after the delay.
    Requeued,
    /// That was the last attempt: the job is `failed` and staff are notified.
    Failed,
    /// The claim is no longer ours: nothing was written.
    LeaseLost,
}

const RETRY_SQL: &str = "WITH updated AS (
    UPDATE outbound_job
    SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
        run_at = now() + make_interval(secs => $3),
        completed_at = CASE WHEN attempts >= max_attempts THEN now() END,
        error = $4, claim_token = NULL, lease_until = NULL
    WHERE id = $1 AND claim_token = $2 AND status = 'running'
    RETURNING id, conversation_id, status, attempts
), failure_notice AS (
    INSERT INTO notification (kind, conversation_id, dedupe_key, title, body)
    SELECT 'job_failed', conversation_id, 'job_failed:' || id, 'A reply could not be prepared',
           'Job ' || id || ' failed after ' || attempts || ' attempt(s): ' || $4
    FROM updated WHERE status = 'failed'
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT (SELECT status FROM updated) AS status";

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
}

/// Queues the job again after `delay`, or fails it with a `job_failed` notification when
/// it has used its attempts. `error` is stored on the row and shown to staff, so it must
/// not carry customer data.
pub async fn retry(
    conn: &mut AsyncPgConnection,
    job: &ClaimedJob,
    delay: Duration,
    error: &str,
) -> Result<Retry, StoreError> {
    let query = diesel::sql_query(RETRY_SQL)
        .bind::<BigInt, _>(job.id)
        .bind::<SqlUuid, _>(job.claim_token)
        .bind::<Double, _>(delay.as_secs_f64())
        .bind::<Text, _>(error);
    let row = Prepared(query).get_result::<StatusRow>(conn).await?;
    Ok(match row.status.as_deref() {
        Some("failed") => Retry::Failed,
        Some(_) => Retry::Requeued,
        None => Retry::LeaseLost,
    })
}

const RELEASE_SQL: &str = "UPDATE outbound_job
    SET status = 'queued', attempts = attempts - 1, run_at = now(), claim_token = NULL, lease_until = NULL
    WHERE id = $1 AND claim_token = $2 AND status = 'running'";

/// Gives an unstarted or interrupted job back without counting the attempt (shutdown).
pub async fn release(conn: &mut AsyncPgConnection, job: &ClaimedJob) -> Result<bool, StoreError> {
    let query = diesel::sql_query(RELEASE_SQL).bind::<BigInt, _>(job.id).bind::<SqlUuid, _>(job.claim_token);
    Ok(Prepared(query).execute(conn).await? == 1)
}

const RESCUE_SQL: &str = "WITH expired AS (
    UPDATE outbound_job
    SET status = 'failed', completed_at = now(), claim_token = NULL, lease_until = NULL,
        error = 'lease expired on the last attempt'
    WHERE status = 'running' AND lease_until < now() AND attempts >= max_attempts
    RETURNING id, conversation_id, attempts
), failure_notice AS (
    INSERT INTO notification (kind, conversation_id, dedupe_key, title, body)
    SELECT 'job_failed', conversation_id, 'job_failed:' || id, 'A reply could not be prepared',
           'Job ' || id || ' failed: its worker stopped during the last of ' || attempts || ' attempt(s)'
    FROM expired
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT count(*) AS n FROM expired";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Fails jobs whose worker died during their last attempt (their lease expired and no
/// attempt is left), with a notification each. Returns how many.
pub async fn rescue_exhausted(conn: &mut AsyncPgConnection) -> Result<i64, StoreError> {
    Ok(Prepared(diesel::sql_query(RESCUE_SQL)).get_result::<Count>(conn).await?.n)
}

/// The queue at a glance, for `/api/jobs/metrics` and dashboards.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct QueueMetrics {
    /// Jobs waiting (including those waiting for a retry).
    #[diesel(sql_type = BigInt)]
    pub queued: i64,
    /// Jobs being run.
    #[diesel(sql_type = BigInt)]
    pub running: i64,
    /// Jobs done in the last 24 hours.
    #[diesel(sql_type = BigInt)]
    pub done_last_24h: i64,
    /// Jobs failed in the last 24 hours.
    #[diesel(sql_type = BigInt)]
    pub failed_last_24h: i64,
    /// Mean run time (claim to done) of the jobs done in the last 24 hours.
    #[diesel(sql_type = Nullable<Double>)]
    pub avg_processing_ms: Option<f64>,
    /// Done / (done + failed) over the last 24 hours.
    #[diesel(sql_type = Nullable<Double>)]
    pub success_rate: Option<f64>,
    /// Age of the oldest queued job.
    #[diesel(sql_type = Nullable<Double>)]
    pub oldest_queued_age_secs: Option<f64>,
}

const METRICS_SQL: &str = "WITH recent AS (
    SELECT status, completed_at - started_at AS took FROM outbound_job
    WHERE completed_at > now() - interval '24 hours'
)
SELECT (SELECT count(*) FROM outbound_job WHERE status = 'queued') AS queued,
       (SELECT count(*) FROM outbound_job WHERE status = 'running') AS running,
       (SELECT count(*) FROM recent WHERE status = 'done') AS done_last_24h,
       (SELECT count(*) FROM recent WHERE status = 'failed') AS failed_last_24h,
       (SELECT (avg(EXTRACT(EPOCH FROM took)) * 1000)::float8 FROM recent WHERE status = 'done') AS avg_processing_ms,
       (SELECT (count(*) FILTER (WHERE status = 'done'))::float8 / NULLIF(count(*), 0) FROM recent) AS success_rate,
       (SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 FROM outbound_job WHERE status = 'queued')
           AS oldest_queued_age_secs";

/// The queue's current figures.
pub async fn metrics(conn: &mut AsyncPgConnection) -> Result<QueueMetrics, StoreError> {
    Ok(Prepared(diesel::sql_query(METRICS_SQL)).get_result::<QueueMetrics>(conn).await?)
}
