//! The `outbound_job` queue: claim, complete, retry, release and rescue.
//!
//! Every transition is fenced by the claim token (invariant 3): a worker whose lease was
//! lost changes nothing. A job's result (conversation state, reply row, notification,
//! lead, job done) commits as one statement (invariant 4). Jobs of one conversation run one
//! at a time and in arrival order (invariant 5): only the oldest open job of a conversation
//! can be claimed. A new reply supersedes the conversation's bot replies still queued
//! (invariant 10); one the sender has claimed is `sending` and never touched, and the
//! conversation's first reply, which carries the greeting (invariant 7), is always sent.
//!
//! `started_at` and `completed_at` use `clock_timestamp()`: a claim's clock reading comes
//! after its snapshot, a completion's before its commit, so within a conversation a job's
//! `started_at` is never earlier than the previous job's `completed_at` (`now()`, the
//! transaction's start, does not order them).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::conversation::{ConversationState, KnownFields, QuestionKey};
use domain::webhook::MessageType;

use crate::group_commit::{GroupCommitter, GroupWriter};
use crate::lease::{Fenced, Lease, Origin, Retry};
use crate::prepared::{Count, Prepared};
use crate::vocab::{JobStatus, LeadStatus, NoticeKind};
use crate::{DbPool, StoreError, connection};

/// The channel `job-runner` notifies when it writes an outbound message.
pub const OUTBOUND_MESSAGE_CHANNEL: &str = "outbound_message_queued";

/// A turn a runner now holds: the oldest open job of a conversation (its head) and the
/// conversation's later queued jobs, all under one claim, with what the engine needs to
/// decide the turn's one reply.
#[derive(Debug, Clone, Default)]
pub struct ClaimedJob {
    /// The head job's `outbound_job.id`.
    pub id: i64,
    /// Every job of the turn, the head first; they all end with the turn's result.
    pub job_ids: Vec<i64>,
    /// The conversation.
    pub conversation_id: i64,
    /// The turn's newest inbound message, which the reply answers.
    pub inbound_message_id: i64,
    /// Its wamid.
    pub inbound_provider_message_id: String,
    /// The claim (the head's attempts).
    pub lease: Lease,
    /// The webhook delivery of the head job.
    pub origin: Origin,
    /// What the conversation knew when the turn was claimed.
    pub state: ConversationState,
    /// `conversation.version` when claimed: the result commits only if it is unchanged.
    pub conversation_version: i64,
    /// The turn's messages in Meta's timestamp order, then arrival order.
    pub messages: Vec<TurnMessage>,
    /// Seconds from the head job's creation to this claim.
    pub waited_secs: f64,
    /// A member of staff holds the conversation: the bot stays silent in it.
    pub staff_holds: bool,
}

/// One inbound message of a claimed turn.
#[derive(Debug, Clone, Default)]
pub struct TurnMessage {
    /// `inbound_message.id`.
    pub id: i64,
    /// Its wamid.
    pub provider_message_id: String,
    /// Its type.
    pub message_type: MessageType,
    /// What the customer typed or chose.
    pub text_body: Option<String>,
    /// When Meta says it was sent.
    pub provider_timestamp: Option<DateTime<Utc>>,
    /// When webhook-ingest stored it.
    pub received_at: DateTime<Utc>,
    /// The trace of its webhook delivery.
    pub traceparent: Option<String>,
}

/// A claimed job as the claim statement returns it (one row per job of a turn).
#[derive(QueryableByName)]
struct ClaimRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = BigInt)]
    inbound_message_id: i64,
    #[diesel(sql_type = Text)]
    inbound_provider_message_id: String,
    #[diesel(embed)]
    lease: Lease,
    #[diesel(embed)]
    origin: Origin,
    #[diesel(sql_type = Text)]
    known_fields: String,
    #[diesel(sql_type = Text)]
    engine_state: String,
    #[diesel(sql_type = BigInt)]
    conversation_version: i64,
    #[diesel(sql_type = Text)]
    message_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    text_body: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    provider_timestamp: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    received_at: DateTime<Utc>,
    #[diesel(sql_type = Double)]
    waited_secs: f64,
    #[diesel(sql_type = Bool)]
    staff_holds: bool,
}

impl ClaimedJob {
    /// The turns of claimed rows: rows sharing a claim token are one turn, headed by its
    /// lowest job id.
    fn turns(mut rows: Vec<ClaimRow>) -> Vec<Self> {
        rows.sort_by_key(|r| (r.lease.claim_token, r.id));
        let mut turns: Vec<Self> = Vec::new();
        for row in rows {
            let message = TurnMessage {
                id: row.inbound_message_id,
                provider_message_id: row.inbound_provider_message_id.clone(),
                message_type: MessageType::from(row.message_type),
                text_body: row.text_body,
                provider_timestamp: row.provider_timestamp,
                received_at: row.received_at,
                traceparent: row.origin.traceparent.clone(),
            };
            match turns.last_mut() {
                Some(turn) if turn.lease.claim_token == row.lease.claim_token => {
                    turn.job_ids.push(row.id);
                    turn.messages.push(message);
                }
                _ => turns.push(Self {
                    id: row.id,
                    job_ids: vec![row.id],
                    conversation_id: row.conversation_id,
                    inbound_message_id: row.inbound_message_id,
                    inbound_provider_message_id: row.inbound_provider_message_id,
                    lease: row.lease,
                    origin: row.origin,
                    state: ConversationState {
                        known: parse_or_default(&row.known_fields, "known_fields"),
                        engine: parse_or_default(&row.engine_state, "engine_state"),
                    },
                    conversation_version: row.conversation_version,
                    messages: vec![message],
                    waited_secs: row.waited_secs,
                    staff_holds: row.staff_holds,
                }),
            }
        }
        for turn in &mut turns {
            turn.messages.sort_by_key(|m| (m.provider_timestamp.is_none(), m.provider_timestamp, m.id));
            if let Some(newest) = turn.messages.last() {
                turn.inbound_message_id = newest.id;
                turn.inbound_provider_message_id.clone_from(&newest.provider_message_id);
            }
        }
        turns
    }
}

/// A conversation column that does not parse is read as empty (the conversation starts
/// over) rather than blocking the customer's every message.
fn parse_or_default<T: serde::de::DeserializeOwned + Default>(json: &str, column: &str) -> T {
    serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(column, error = %e, "conversation state unreadable; starting from empty");
        T::default()
    })
}

/// A due turn: the oldest open job of a conversation whose quiet period (`$3` seconds since
/// the conversation's newest queued job, 0 for none) or longest wait (`$4` seconds since
/// the head job) has passed, with every later job of the conversation still queued (or
/// left running by a dead worker) as its members. Head and members share one claim token.
pub(crate) const CLAIM_SQL: &str = "WITH head AS (
    SELECT j.id, j.conversation_id, gen_random_uuid() AS token FROM outbound_job j
    WHERE j.status IN ('queued', 'running') AND j.run_at <= now() AND j.attempts < j.max_attempts
      -- Each row is checked with one probe of the index of open jobs by conversation (as
      -- an anti-join, a plan may scan that index once per due job, the queue squared).
      -- The oldest open job of its conversation:
      AND j.id = (SELECT earlier.id FROM outbound_job earlier
                  WHERE earlier.conversation_id = j.conversation_id AND earlier.status IN ('queued', 'running')
                  ORDER BY earlier.conversation_id, earlier.id LIMIT 1)
      -- and its turn is due: at the cap, or quiet since the conversation's newest job.
      AND ($3 <= 0
           OR j.created_at <= now() - make_interval(secs => $4)
           OR (j.created_at <= now() - make_interval(secs => $3)
               AND (SELECT newest.created_at FROM outbound_job newest
                    WHERE newest.conversation_id = j.conversation_id AND newest.status IN ('queued', 'running')
                    ORDER BY newest.conversation_id DESC, newest.id DESC LIMIT 1)
                   <= now() - make_interval(secs => $3)))
    ORDER BY j.run_at, j.id
    LIMIT $1
    FOR UPDATE OF j SKIP LOCKED
), member AS (
    -- the rest of each head's turn, looked up by its conversation
    SELECT m.id, h.token FROM head h
    CROSS JOIN LATERAL (
        SELECT m.id FROM outbound_job m
        WHERE m.conversation_id = h.conversation_id AND m.id > h.id AND m.status IN ('queued', 'running')
          AND $3 > 0 AND m.attempts < m.max_attempts
          AND (m.status = 'queued' OR m.lease_until < now())
        ORDER BY m.conversation_id, m.id
        FOR UPDATE OF m SKIP LOCKED
    ) m
), turn AS (
    SELECT id, token FROM head UNION ALL SELECT id, token FROM member
)
UPDATE outbound_job j
SET status = 'running',
    attempts = j.attempts + 1,
    claim_token = t.token,
    lease_until = now() + make_interval(secs => $2),
    run_at = now() + make_interval(secs => $2),
    started_at = clock_timestamp(),
    error = CASE WHEN j.status = 'running' THEN 'lease expired; retried' ELSE j.error END
FROM turn t, conversation c, inbound_message m
WHERE j.id = t.id AND c.id = j.conversation_id AND m.id = j.inbound_message_id
RETURNING j.id, j.conversation_id, j.inbound_message_id, j.inbound_provider_message_id, j.attempts,
          j.max_attempts, j.claim_token, j.request_id, j.traceparent, c.known_fields::text AS known_fields,
          c.engine_state::text AS engine_state, c.version AS conversation_version, m.message_type, m.text_body,
          m.provider_timestamp, m.received_at, EXTRACT(EPOCH FROM now() - j.created_at)::float8 AS waited_secs,
          c.held_by IS NOT NULL AS staff_holds";

/// When a conversation's queued messages form a turn that is due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TurnTiming {
    /// A turn is due once no message came for this long (zero: every message is a turn).
    pub quiet: Duration,
    /// ... or once its first message has waited this long.
    pub max_wait: Duration,
}

impl TurnTiming {
    /// Every message answered on its own, as soon as it is stored.
    pub const EACH_MESSAGE: Self = Self { quiet: Duration::ZERO, max_wait: Duration::ZERO };
}

/// The `outbound_job` queue, on a pool: every call checks a connection out for itself.
#[derive(Clone)]
pub struct Jobs {
    pool: DbPool,
}

impl Jobs {
    /// The queue on `pool`.
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    /// Claims up to `limit` due turns for `lease`: a conversation's oldest open job (queued
    /// and due, or running with an expired lease: counted as a new attempt) once its turn is
    /// due by `turns`, with the conversation's later queued jobs, skipping rows other
    /// runners hold.
    pub async fn claim(
        &self,
        limit: usize,
        lease: Duration,
        turns: TurnTiming,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        let query = diesel::sql_query(CLAIM_SQL)
            .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind::<Double, _>(lease.as_secs_f64())
            .bind::<Double, _>(turns.quiet.as_secs_f64())
            .bind::<Double, _>(turns.max_wait.as_secs_f64());
        let rows: Vec<ClaimRow> = Prepared(query).load(&mut *connection(&self.pool).await?).await?;
        Ok(ClaimedJob::turns(rows))
    }

    /// Queues the job again after `delay`, or fails it with a `job_failed` notification
    /// when it has used its attempts. `error` is stored on the row and shown to staff, so
    /// it must not carry customer data.
    pub async fn retry(
        &self,
        job: &ClaimedJob,
        delay: Duration,
        error: &str,
    ) -> Result<Fenced<Retry>, StoreError> {
        let query = diesel::sql_query(RETRY_SQL)
            .bind::<BigInt, _>(job.id)
            .bind::<SqlUuid, _>(job.lease.claim_token)
            .bind::<Double, _>(delay.as_secs_f64())
            .bind::<Text, _>(error);
        let row: StatusRow = Prepared(query).get_result(&mut *connection(&self.pool).await?).await?;
        Ok(match row.status {
            Some(JobStatus::Failed) => Fenced::Applied(Retry::Failed),
            Some(_) => Fenced::Applied(Retry::Requeued),
            None => Fenced::LeaseLost,
        })
    }

    /// How long until the next turn that waits for its quiet period or longest wait becomes
    /// due, if any is waiting.
    pub async fn next_turn_due(&self, turns: TurnTiming) -> Result<Option<Duration>, StoreError> {
        if turns.quiet.is_zero() {
            return Ok(None);
        }
        let query = diesel::sql_query(NEXT_TURN_DUE_SQL)
            .bind::<Double, _>(turns.quiet.as_secs_f64())
            .bind::<Double, _>(turns.max_wait.as_secs_f64());
        let row: NextDue = Prepared(query).get_result(&mut *connection(&self.pool).await?).await?;
        Ok(row.secs.map(Duration::from_secs_f64))
    }

    /// Gives an unstarted or interrupted turn back without counting the attempt (shutdown).
    pub async fn release(&self, job: &ClaimedJob) -> Result<Fenced<()>, StoreError> {
        let query = diesel::sql_query(RELEASE_SQL).bind::<SqlUuid, _>(job.lease.claim_token);
        let released = Prepared(query).execute(&mut *connection(&self.pool).await?).await?;
        Ok(if released > 0 { Fenced::Applied(()) } else { Fenced::LeaseLost })
    }

    /// Fails jobs whose worker died during their last attempt (their lease expired and no
    /// attempt is left), with a notification each. Returns how many.
    pub async fn rescue_exhausted(&self) -> Result<i64, StoreError> {
        let query = Prepared(diesel::sql_query(RESCUE_SQL));
        Ok(query.get_result::<Count>(&mut *connection(&self.pool).await?).await?.n)
    }

    /// The queue's current figures.
    pub async fn metrics(&self) -> Result<QueueMetrics, StoreError> {
        let query = Prepared(diesel::sql_query(METRICS_SQL));
        Ok(query.get_result(&mut *connection(&self.pool).await?).await?)
    }
}

/// A reply to write with a job's result.
#[derive(Debug, Clone)]
pub struct NewReply {
    /// `{conversationId}:{inboundProviderMessageId}:{questionKey or 'reply'}`.
    pub dedupe_key: String,
    /// The question it asks.
    pub question_key: QuestionKey,
    /// The exact text to send.
    pub body: String,
}

/// A notification to raise with a job's result.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// What happened.
    pub kind: NoticeKind,
    /// Makes it idempotent.
    pub dedupe_key: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

/// Everything a finished job writes (its `Default` only stands in for a result a
/// committer lost).
#[derive(Debug, Clone, Default)]
pub struct JobResult {
    /// The job, as claimed.
    pub job: ClaimedJob,
    /// The runner's trace, stored on the reply for the sender to continue.
    pub traceparent: Option<String>,
    /// The conversation's new state.
    pub state: ConversationState,
    /// The reply, if any.
    pub reply: Option<NewReply>,
    /// Notifications for staff, in the order they were raised.
    pub notifications: Vec<NewNotification>,
    /// A change to the customer's opt-out, written on the contact row.
    pub contact: Option<OptOut>,
    /// The lead's status once the conversation has left qualification; the lead row is
    /// written from `state`'s known fields.
    pub lead: Option<LeadStatus>,
}

impl JobResult {
    /// A result that writes the job's state back unchanged, with no reply, notice or lead.
    pub fn unchanged(job: ClaimedJob) -> Self {
        let state = job.state.clone();
        Self {
            job,
            traceparent: None,
            state,
            reply: None,
            notifications: Vec::new(),
            contact: None,
            lead: None,
        }
    }
}

/// A customer's choice about hearing from us (invariant 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptOut {
    /// Nothing more of ours may reach them: `contact.opted_out_at` is set.
    OptedOut,
    /// They asked to hear from us again: `contact.opted_out_at` is cleared.
    OptedIn,
}

impl OptOut {
    fn as_str(self) -> &'static str {
        match self {
            Self::OptedOut => "out",
            Self::OptedIn => "in",
        }
    }
}

/// What [`complete`] did with one job whose claim still held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Committed. `outbound_id` is the new reply row; `None` with a reply means its dedupe
    /// key was already taken.
    Done {
        /// The new `outbound_message_log.id`.
        outbound_id: Option<i64>,
        /// Earlier bot replies of the conversation, still queued, that the new reply made
        /// `superseded` (invariant 10).
        superseded: i64,
    },
    /// The conversation changed since the claim: nothing was written.
    ConversationChanged,
    /// Another transaction held the conversation's row, and a group does not wait for one:
    /// nothing was written. [`Completer`] writes such a job again on its own, so its callers
    /// never see this.
    Busy,
}

/// The statement that completes any number of jobs: each input row is one job's result, and
/// each job's rows are written only if its claim still holds and its conversation is
/// unchanged. Jobs are locked in id order, then their conversations in id order with
/// `$conversation_lock`.
macro_rules! complete_sql {
    ($conversation_lock:literal) => {
        concat!(
            "WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                         $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
                         $19::text[])
        WITH ORDINALITY AS i(job_id, claim_token, conversation_id, conversation_version, known_fields,
                             engine_state, dedupe_key, question_key, body, reply_to, request_id, traceparent,
                             opt_out, lead_status, service, name, nationality, email, best_time_to_call,
                             position)
), notice AS (
    SELECT * FROM unnest($20::bigint[], $21::text[], $22::text[], $23::text[], $24::text[])
        WITH ORDINALITY AS n(job_id, kind, dedupe_key, title, body, position)
), job_held AS (
    SELECT j.id, j.claim_token FROM outbound_job j
    -- by claim token, the status checked on the rows (see the crate docs on queue plans)
    WHERE j.claim_token = ANY($2::uuid[]) AND (j.status = 'running') IS TRUE
    ORDER BY j.id
    FOR UPDATE
), conversation_locked AS (
    SELECT c.id FROM conversation c
    WHERE c.id IN (SELECT i.conversation_id FROM input i JOIN job_held h ON h.id = i.job_id AND h.claim_token = i.claim_token)
    ORDER BY c.id
    ",
            $conversation_lock,
            "
), conversation_saved AS (
    UPDATE conversation c
    SET known_fields = i.known_fields::jsonb, engine_state = i.engine_state::jsonb, version = c.version + 1,
        updated_at = now()
    FROM input i
    WHERE c.id = i.conversation_id AND c.version = i.conversation_version
      AND EXISTS (SELECT 1 FROM job_held h WHERE h.id = i.job_id AND h.claim_token = i.claim_token)
      AND c.id IN (SELECT id FROM conversation_locked)
    RETURNING i.job_id
), saved AS (
    SELECT i.* FROM input i JOIN conversation_saved s ON s.job_id = i.job_id
), job_done AS (
    UPDATE outbound_job SET status = 'done', completed_at = clock_timestamp(), lease_until = NULL, error = NULL
    WHERE id IN (SELECT h.id FROM job_held h JOIN saved s ON s.claim_token = h.claim_token)
    RETURNING id
), reply_row AS (
    INSERT INTO outbound_message_log
        (conversation_id, outbound_job_id, dedupe_key, question_key, body, reply_to_provider_message_id,
         request_id, traceparent)
    SELECT conversation_id, job_id, dedupe_key, question_key, body, reply_to, request_id, traceparent
    FROM saved WHERE dedupe_key IS NOT NULL
    ORDER BY job_id
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, outbound_job_id
), superseded AS (
    -- by conversation: the status is checked on the conversation's replies, never through
    -- the status index, which lists every queued reply (thousands while the sender is
    -- away or behind)
    UPDATE outbound_message_log o SET status = 'superseded', updated_at = now()
    FROM saved s
    WHERE s.dedupe_key IS NOT NULL AND o.conversation_id = s.conversation_id AND (o.status = 'queued') IS TRUE
      AND o.question_key IS NOT NULL AND o.author_staff_id IS NULL AND o.dedupe_key <> s.dedupe_key
      AND EXISTS (SELECT 1 FROM outbound_message_log e WHERE e.conversation_id = o.conversation_id AND e.id < o.id)
    RETURNING o.conversation_id
), notice_row AS (
    INSERT INTO notification (kind, conversation_id, dedupe_key, title, body)
    SELECT n.kind, s.conversation_id, n.dedupe_key, n.title, n.body
    FROM notice n JOIN saved s ON s.job_id = n.job_id
    ORDER BY n.job_id, n.position
    ON CONFLICT (dedupe_key) DO NOTHING
), contact_row AS (
    UPDATE contact k
    SET opted_out_at = CASE WHEN s.opt_out = 'out' THEN COALESCE(k.opted_out_at, now()) END, updated_at = now()
    FROM saved s JOIN conversation c ON c.id = s.conversation_id
    WHERE k.id = c.contact_id AND s.opt_out IS NOT NULL
), lead_row AS (
    INSERT INTO lead (conversation_id, status, service, name, nationality, email, best_time_to_call)
    SELECT conversation_id, lead_status, service, name, nationality, email, best_time_to_call
    FROM saved WHERE lead_status IS NOT NULL
    ORDER BY conversation_id
    ON CONFLICT (conversation_id) DO UPDATE
        SET status = EXCLUDED.status, service = EXCLUDED.service, name = EXCLUDED.name,
            nationality = EXCLUDED.nationality, email = EXCLUDED.email,
            best_time_to_call = EXCLUDED.best_time_to_call, updated_at = now()
), wake_sender AS (
    SELECT pg_notify('outbound_message_queued', '') WHERE EXISTS (SELECT 1 FROM reply_row)
)
SELECT EXISTS (SELECT 1 FROM job_held h WHERE h.id = i.job_id AND h.claim_token = i.claim_token) AS held,
       EXISTS (SELECT 1 FROM conversation_locked l WHERE l.id = i.conversation_id) AS locked,
       EXISTS (SELECT 1 FROM job_done d WHERE d.id = i.job_id) AS done,
       (SELECT r.id FROM reply_row r WHERE r.outbound_job_id = i.job_id) AS outbound_id,
       (SELECT count(*) FROM superseded x WHERE x.conversation_id = i.conversation_id) AS superseded,
       (SELECT count(*) FROM wake_sender) AS notified
FROM input i
ORDER BY i.position"
        )
    };
}

/// Completes jobs, waiting for their conversations' row locks.
pub(crate) const COMPLETE_SQL: &str = complete_sql!("FOR UPDATE");

/// Completes a group of jobs, skipping (leaving for [`COMPLETE_SQL`]) those whose
/// conversation another transaction holds. Webhook ingest locks conversations in its own
/// order (by customer), so a group that waited could deadlock with an ingest group; a lone
/// job waits for one conversation only and cannot.
pub(crate) const COMPLETE_GROUP_SQL: &str = complete_sql!("FOR UPDATE SKIP LOCKED");

#[derive(QueryableByName)]
struct CompleteRow {
    #[diesel(sql_type = Bool)]
    held: bool,
    #[diesel(sql_type = Bool)]
    locked: bool,
    #[diesel(sql_type = Bool)]
    done: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    outbound_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    superseded: i64,
}

/// Commits jobs' results in one statement: for each job, its conversation state (if
/// unchanged since the claim), reply row (`ON CONFLICT (dedupe_key) DO NOTHING`),
/// notification, lead, the job marked done, and a wake-up for the sender; or nothing at all
/// for that job. Returns one fenced [`Completion`] per result, in order. The results must
/// be of different conversations (claims never hold two jobs of one).
pub async fn complete(
    conn: &mut AsyncPgConnection,
    results: &[&JobResult],
) -> Result<Vec<Fenced<Completion>>, StoreError> {
    run_complete(conn, COMPLETE_SQL, results).await
}

/// A state serialised for its `jsonb` column.
pub(crate) fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}

async fn run_complete(
    conn: &mut AsyncPgConnection,
    sql: &'static str,
    results: &[&JobResult],
) -> Result<Vec<Fenced<Completion>>, StoreError> {
    let column = |f: &dyn Fn(&JobResult) -> Option<&str>| -> Vec<Option<&str>> {
        results.iter().map(|r| f(r)).collect()
    };
    let ids = |f: fn(&JobResult) -> i64| -> Vec<i64> { results.iter().map(|r| f(r)).collect() };
    let known: Vec<String> = results.iter().map(|r| json_text(&r.state.known)).collect();
    let engine: Vec<String> = results.iter().map(|r| json_text(&r.state.engine)).collect();
    let reply = |f: fn(&NewReply) -> &str| column(&|r| r.reply.as_ref().map(f));
    let notices: Vec<(i64, &NewNotification)> =
        results.iter().flat_map(|r| r.notifications.iter().map(|n| (r.job.id, n))).collect();
    let lead = |f: fn(&KnownFields) -> Option<&str>| column(&|r| r.lead.and_then(|_| f(&r.state.known)));
    let query = diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(ids(|r| r.job.id))
        .bind::<Array<SqlUuid>, _>(results.iter().map(|r| r.job.lease.claim_token).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(ids(|r| r.job.conversation_id))
        .bind::<Array<BigInt>, _>(ids(|r| r.job.conversation_version))
        .bind::<Array<Text>, _>(&known)
        .bind::<Array<Text>, _>(&engine)
        .bind::<Array<Nullable<Text>>, _>(reply(|r| &r.dedupe_key))
        .bind::<Array<Nullable<Text>>, _>(reply(|r| r.question_key.as_str()))
        .bind::<Array<Nullable<Text>>, _>(reply(|r| &r.body))
        .bind::<Array<Nullable<Text>>, _>(column(&|r| Some(&r.job.inbound_provider_message_id)))
        .bind::<Array<Nullable<Text>>, _>(column(&|r| r.job.origin.request_id.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(column(&|r| {
            r.traceparent.as_deref().or(r.job.origin.traceparent.as_deref())
        }))
        .bind::<Array<Nullable<Text>>, _>(column(&|r| r.contact.map(OptOut::as_str)))
        .bind::<Array<Nullable<Text>>, _>(column(&|r| r.lead.map(LeadStatus::as_str)))
        .bind::<Array<Nullable<Text>>, _>(lead(|k| k.service.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(lead(|k| k.name.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(lead(|k| k.nationality.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(lead(|k| k.email.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(lead(|k| k.best_time_to_call.as_deref()))
        .bind::<Array<BigInt>, _>(notices.iter().map(|(job, _)| *job).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(notices.iter().map(|(_, n)| n.kind.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(notices.iter().map(|(_, n)| n.dedupe_key.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(notices.iter().map(|(_, n)| n.title.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(notices.iter().map(|(_, n)| n.body.as_str()).collect::<Vec<_>>());
    let rows = Prepared(query).load::<CompleteRow>(conn).await?;
    Ok(rows
        .into_iter()
        .map(|row| match (row.held, row.locked, row.done) {
            (false, _, _) => Fenced::LeaseLost,
            (true, false, _) => Fenced::Applied(Completion::Busy),
            (true, true, false) => Fenced::Applied(Completion::ConversationChanged),
            (true, true, true) => {
                Fenced::Applied(Completion::Done { outbound_id: row.outbound_id, superseded: row.superseded })
            }
        })
        .collect())
}

/// Commits job results for a [`GroupCommitter`]: results that finish while the committers
/// are busy share one [`complete`] statement.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompletionWriter;

/// Commits job results with group commit.
pub type Completer = GroupCommitter<CompletionWriter>;

impl GroupWriter for CompletionWriter {
    type Item = JobResult;
    type Outcome = Fenced<Completion>;
    const MAX_GROUP: usize = 64;
    const NAME: &'static str = "job_results";

    async fn write(
        &self,
        conn: &mut AsyncPgConnection,
        results: &[(&JobResult, &tracing::Span)],
    ) -> Result<Vec<Fenced<Completion>>, StoreError> {
        let results: Vec<&JobResult> = results.iter().map(|(r, _)| *r).collect();
        let sql = if results.len() == 1 { COMPLETE_SQL } else { COMPLETE_GROUP_SQL };
        run_complete(conn, sql, &results).await
    }

    fn write_alone_instead(outcome: &Fenced<Completion>) -> bool {
        *outcome == Fenced::Applied(Completion::Busy)
    }
}

pub(crate) const RETRY_SQL: &str = "WITH updated AS (
    UPDATE outbound_job
    SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
        run_at = now() + make_interval(secs => $3),
        completed_at = CASE WHEN attempts >= max_attempts THEN now() END,
        error = $4, claim_token = NULL, lease_until = NULL
    WHERE claim_token = $2 AND (status = 'running') IS TRUE
    RETURNING id, conversation_id, status, attempts
), failure_notice AS (
    INSERT INTO notification (kind, conversation_id, dedupe_key, title, body)
    SELECT 'job_failed', conversation_id, 'job_failed:' || id, 'A reply could not be prepared',
           'Job ' || id || ' failed after ' || attempts || ' attempt(s): ' || $4
    FROM updated WHERE status = 'failed'
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT (SELECT status FROM updated WHERE id = $1) AS status";

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<JobStatus>,
}

/// When the first waiting turn becomes due: its quiet period or longest wait ended, and not
/// before its retry time. A conversation whose turn is being run waits for that run (the
/// runner's completion or the poll wakes it), and with nothing waiting the answer is NULL:
/// a 0 there would wake the loop at once, again and again.
pub(crate) const NEXT_TURN_DUE_SQL: &str = "SELECT CASE WHEN min(due) IS NOT NULL
           THEN EXTRACT(EPOCH FROM GREATEST(now(), min(due)) - now())::float8 END AS secs
    FROM (SELECT GREATEST(min(j.run_at), LEAST(max(j.created_at) + make_interval(secs => $1),
                                               min(j.created_at) + make_interval(secs => $2))) AS due
          FROM outbound_job j
          WHERE j.status IN ('queued', 'running')
          GROUP BY j.conversation_id
          -- conversations with a turn running wait for it
          HAVING bool_and(j.status = 'queued')) waiting";

#[derive(QueryableByName)]
struct NextDue {
    #[diesel(sql_type = Nullable<Double>)]
    secs: Option<f64>,
}

/// A job whose completion statement is still running (it holds the row) is skipped: that
/// statement commits it or, failing, leaves it for its lease to expire.
pub(crate) const RELEASE_SQL: &str = "UPDATE outbound_job
    SET status = 'queued', attempts = attempts - 1, run_at = now(), claim_token = NULL, lease_until = NULL
    WHERE id IN (SELECT id FROM outbound_job WHERE claim_token = $1 AND (status = 'running') IS TRUE
                 FOR UPDATE SKIP LOCKED)";

pub(crate) const RESCUE_SQL: &str = "WITH expired AS (
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

pub(crate) const METRICS_SQL: &str = "WITH recent AS (
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
