//! The `outbound_message_log` send queue: claim, and every way a send can end.
//!
//! Only `queued` rows are claimed, and only the oldest unsettled row of each conversation
//! (so a customer never reads the second message before the first), and never for a
//! business number that is paused. A send whose outcome is unknown becomes `uncertain`
//! and is never blindly repeated (invariant 6): a status webhook echoing its id settles it,
//! and only after a window without one is it sent again (or held for staff).

pub mod sent;
mod stored_template;

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Double, Int4, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

use domain::conversation::QuestionKey;
use domain::template::TemplateSend;

use self::stored_template::TemplateColumn;
pub use self::stored_template::UnreadableTemplate;
use crate::lease::{Fenced, Lease, Origin, Retry};
use crate::prepared::Prepared;
use crate::vocab::SendStatus;
use crate::{DbPool, StoreError, connection};

/// A reply a sender now holds, with what it needs to send it.
#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedSend {
    /// `outbound_message_log.id`; also the callback data Meta echoes.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The conversation.
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    /// The dedupe key.
    #[diesel(sql_type = Text)]
    pub dedupe_key: String,
    /// The text; for a template, the preview the transcript shows (the template is sent).
    #[diesel(sql_type = Text)]
    pub body: String,
    /// The approved template to send instead of `body` as a free-form text (`None`: a
    /// text); unreadable when the column holds JSON of another shape.
    #[diesel(sql_type = Nullable<Jsonb>, deserialize_as = TemplateColumn)]
    pub template: Result<Option<TemplateSend>, UnreadableTemplate>,
    /// The inbound message answered.
    #[diesel(sql_type = Nullable<Text>)]
    pub reply_to_provider_message_id: Option<String>,
    /// The claim.
    #[diesel(embed)]
    pub lease: Lease,
    /// The webhook delivery it answers.
    #[diesel(embed)]
    pub origin: Origin,
    /// The business number.
    #[diesel(sql_type = Text)]
    pub phone_number_id: String,
    /// The customer's WhatsApp id (phone number).
    #[diesel(sql_type = Nullable<Text>)]
    pub wa_id: Option<String>,
    /// Whether the customer wrote in the last 24 hours (free-form texts are allowed).
    #[diesel(sql_type = Bool)]
    pub in_service_window: bool,
    /// Whether the customer opted out and this is not the one confirmation of it: nothing
    /// else may be sent to them.
    #[diesel(sql_type = Bool)]
    pub opted_out: bool,
    /// Seconds from the row's creation to this claim.
    #[diesel(sql_type = Double)]
    pub waited_secs: f64,
}

pub(crate) const CLAIM_SQL: &str = "WITH due AS (
    SELECT o.id FROM outbound_message_log o
    JOIN conversation c ON c.id = o.conversation_id
    -- Walks the due index in claim order and stops at the limit: the status is checked on
    -- each row rather than looked up (a lookup by status reads and sorts the whole queue).
    WHERE o.status IN ('queued', 'sending', 'uncertain') AND (o.status = 'queued') IS TRUE
      AND o.run_at <= now() AND o.attempts < o.max_attempts
      -- the oldest unsettled reply of its conversation, found per row in the index of open
      -- replies (as an anti-join it may scan that index once per queued row)
      AND o.id = (SELECT earlier.id FROM outbound_message_log earlier
                  WHERE earlier.conversation_id = o.conversation_id
                    AND earlier.status IN ('queued', 'sending', 'uncertain')
                  ORDER BY earlier.conversation_id, earlier.id LIMIT 1)
      AND NOT EXISTS (SELECT 1 FROM sender_throttle t
                      WHERE t.phone_number_id = c.phone_number_id AND t.paused_until > now())
    ORDER BY o.run_at, o.id
    LIMIT $1
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE outbound_message_log o
SET status = 'sending', attempts = o.attempts + 1, claim_token = gen_random_uuid(),
    lease_until = now() + make_interval(secs => $2), run_at = now() + make_interval(secs => $2),
    sending_at = clock_timestamp(), updated_at = now()
FROM due, conversation c, contact k
WHERE o.id = due.id AND c.id = o.conversation_id AND k.id = c.contact_id
RETURNING o.id, o.conversation_id, o.dedupe_key, o.body, o.template, o.reply_to_provider_message_id, o.attempts,
          o.max_attempts, o.claim_token, o.request_id, o.traceparent, c.phone_number_id, k.wa_id,
          COALESCE(c.last_inbound_at > now() - interval '24 hours', false) AS in_service_window,
          (k.opted_out_at IS NOT NULL AND o.question_key IS DISTINCT FROM $3) AS opted_out,
          EXTRACT(EPOCH FROM now() - o.created_at)::float8 AS waited_secs";

/// The send queue, on a pool: every call checks a connection out for itself.
#[derive(Clone)]
pub struct Sends {
    pool: DbPool,
}

impl Sends {
    /// The queue on `pool`.
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    /// Claims up to `limit` queued replies for `lease` (the lease must outlast the HTTP call).
    pub async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<ClaimedSend>, StoreError> {
        let query = diesel::sql_query(CLAIM_SQL)
            .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind::<Double, _>(lease.as_secs_f64())
            .bind::<Text, _>(QuestionKey::OptOut.as_str());
        Ok(Prepared(query).load(&mut *connection(&self.pool).await?).await?)
    }

    /// Records that Meta accepted the send as `wamid`. A status webhook may already have
    /// moved the row further; it is never moved back. `LeaseLost` when another sender holds
    /// the row now.
    /// ([`sent::SentRecorder`] records many in one commit.)
    pub async fn record_sent(&self, send: &ClaimedSend, wamid: &str) -> Result<Fenced<()>, StoreError> {
        let sent = sent::Sent { id: send.id, claim_token: send.lease.claim_token, wamid: wamid.to_owned() };
        let mut recorded = sent::record(&mut *connection(&self.pool).await?, &[&sent]).await?;
        Ok(recorded.pop().unwrap_or(Fenced::LeaseLost))
    }

    /// Queues the send again after `delay`. A throttled send does not use up an attempt;
    /// any other failure on the last attempt fails the row with an `outbound_failed`
    /// notification. `error.text` is shown to staff and must not carry customer data.
    pub async fn retry(
        &self,
        send: &ClaimedSend,
        delay: Duration,
        error: &SendFailure<'_>,
        throttled: bool,
    ) -> Result<Fenced<Retry>, StoreError> {
        let query = diesel::sql_query(RETRY_SQL)
            .bind::<BigInt, _>(send.id)
            .bind::<SqlUuid, _>(send.lease.claim_token)
            .bind::<Double, _>(delay.as_secs_f64())
            .bind::<Nullable<Int4>, _>(error.code)
            .bind::<Bool, _>(throttled)
            .bind::<Text, _>(error.text);
        let row: NewStatus = Prepared(query).get_result(&mut *connection(&self.pool).await?).await?;
        Ok(match row.status {
            Some(SendStatus::Failed) => Fenced::Applied(Retry::Failed),
            Some(_) => Fenced::Applied(Retry::Requeued),
            None => Fenced::LeaseLost,
        })
    }

    /// Fails the send for good, with an `outbound_failed` notification.
    pub async fn fail(&self, send: &ClaimedSend, error: &SendFailure<'_>) -> Result<Fenced<()>, StoreError> {
        let query = diesel::sql_query(FAIL_SQL)
            .bind::<BigInt, _>(send.id)
            .bind::<SqlUuid, _>(send.lease.claim_token)
            .bind::<Nullable<Int4>, _>(error.code)
            .bind::<Text, _>(error.text);
        let changed: Changed = Prepared(query).get_result(&mut *connection(&self.pool).await?).await?;
        Ok(Fenced::from_rows(usize::from(changed.n == 1)))
    }

    /// Ends a send that must not go out because the customer opted out: `failed` with the
    /// reason, without notifying staff (they were told of the opt-out itself).
    pub async fn refuse_opted_out(&self, send: &ClaimedSend) -> Result<Fenced<()>, StoreError> {
        let query = diesel::sql_query(REFUSE_SQL)
            .bind::<BigInt, _>(send.id)
            .bind::<SqlUuid, _>(send.lease.claim_token);
        Ok(Fenced::from_rows(Prepared(query).execute(&mut *connection(&self.pool).await?).await?))
    }

    /// Marks a send whose outcome is unknown: settled by a status webhook, or looked at
    /// again after `window`.
    pub async fn mark_uncertain(
        &self,
        send: &ClaimedSend,
        window: Duration,
        reason: &str,
    ) -> Result<Fenced<()>, StoreError> {
        let query = diesel::sql_query(UNCERTAIN_SQL)
            .bind::<BigInt, _>(send.id)
            .bind::<SqlUuid, _>(send.lease.claim_token)
            .bind::<Double, _>(window.as_secs_f64())
            .bind::<Text, _>(reason);
        Ok(Fenced::from_rows(Prepared(query).execute(&mut *connection(&self.pool).await?).await?))
    }

    /// Pauses every sender replica for `phone_number_id` for `duration`.
    pub async fn pause_number(
        &self,
        phone_number_id: &str,
        duration: Duration,
        error: &SendFailure<'_>,
    ) -> Result<(), StoreError> {
        let query = diesel::sql_query(PAUSE_SQL)
            .bind::<Text, _>(phone_number_id)
            .bind::<Double, _>(duration.as_secs_f64())
            .bind::<Text, _>(error.text)
            .bind::<Nullable<Int4>, _>(error.code);
        Prepared(query).execute(&mut *connection(&self.pool).await?).await?;
        Ok(())
    }

    /// Moves sends whose lease expired mid-send to `uncertain`, and handles uncertain sends
    /// whose `window` passed without a status webhook by `policy`.
    pub async fn upkeep(&self, window: Duration, policy: UncertainPolicy) -> Result<Upkeep, StoreError> {
        let query = diesel::sql_query(UPKEEP_SQL)
            .bind::<Double, _>(window.as_secs_f64())
            .bind::<Bool, _>(policy == UncertainPolicy::Hold);
        Ok(Prepared(query).get_result(&mut *connection(&self.pool).await?).await?)
    }
}

/// Why a send did not go through, as stored on its row and shown to staff (never customer
/// data).
#[derive(Debug, Clone, Copy)]
pub struct SendFailure<'a> {
    /// Meta's error code, if any.
    pub code: Option<i32>,
    /// What went wrong.
    pub text: &'a str,
}

#[derive(QueryableByName)]
struct Changed {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct NewStatus {
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<SendStatus>,
}

pub(crate) const RETRY_SQL: &str = "WITH updated AS (
    UPDATE outbound_message_log
    SET status = CASE WHEN attempts >= max_attempts AND NOT $5 THEN 'failed' ELSE 'queued' END,
        attempts = CASE WHEN $5 THEN attempts - 1 ELSE attempts END,
        run_at = now() + make_interval(secs => $3),
        failed_at = CASE WHEN attempts >= max_attempts AND NOT $5 THEN clock_timestamp() END,
        error_code = $4, error_text = $6, claim_token = NULL, lease_until = NULL, updated_at = now()
    WHERE id = $1 AND claim_token = $2 AND status = 'sending'
    RETURNING id, conversation_id, status, attempts
), failure_notice AS (
    INSERT INTO notification (kind, conversation_id, dedupe_key, title, body)
    SELECT 'outbound_failed', conversation_id, 'outbound_failed:' || id, 'A reply could not be delivered',
           'Outbound message ' || id || ' failed after ' || attempts || ' attempt(s): '
               || COALESCE('error ' || $4 || ', ', '') || $6
    FROM updated WHERE status = 'failed'
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT (SELECT status FROM updated) AS status";

pub(crate) const FAIL_SQL: &str = "WITH updated AS (
    UPDATE outbound_message_log
    SET status = 'failed', failed_at = clock_timestamp(), error_code = $3, error_text = $4,
        claim_token = NULL, lease_until = NULL, updated_at = now()
    WHERE id = $1 AND claim_token = $2 AND status = 'sending'
    RETURNING id, conversation_id
), failure_notice AS (
    INSERT INTO notification (kind, conversation_id, dedupe_key, title, body)
    SELECT 'outbound_failed', conversation_id, 'outbound_failed:' || id, 'A reply could not be delivered',
           'Outbound message ' || id || ' failed: ' || COALESCE('error ' || $3 || ', ', '') || $4
    FROM updated
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT count(*) AS n FROM updated";

pub(crate) const REFUSE_SQL: &str = "UPDATE outbound_message_log
    SET status = 'failed', failed_at = clock_timestamp(), error_text = 'not sent: the customer opted out',
        claim_token = NULL, lease_until = NULL, updated_at = now()
    WHERE id = $1 AND claim_token = $2 AND status = 'sending'";

pub(crate) const UNCERTAIN_SQL: &str = "UPDATE outbound_message_log
    SET status = 'uncertain', uncertain_at = clock_timestamp(), run_at = now() + make_interval(secs => $3),
        error_text = $4, claim_token = NULL, lease_until = NULL, updated_at = now()
    WHERE id = $1 AND claim_token = $2 AND status = 'sending'";

pub(crate) const PAUSE_SQL: &str =
    "INSERT INTO sender_throttle (phone_number_id, paused_until, reason, error_code)
    VALUES ($1, now() + make_interval(secs => $2), $3, $4)
    ON CONFLICT (phone_number_id) DO UPDATE
        SET paused_until = GREATEST(sender_throttle.paused_until, EXCLUDED.paused_until),
            reason = EXCLUDED.reason, error_code = EXCLUDED.error_code, updated_at = now()";

pub(crate) const UPKEEP_SQL: &str = "WITH stalled AS (
    UPDATE outbound_message_log
    SET status = 'uncertain', uncertain_at = clock_timestamp(), run_at = now() + make_interval(secs => $1),
        claim_token = NULL, lease_until = NULL, error_text = 'the sender stopped during the send',
        updated_at = now()
    WHERE status = 'sending' AND lease_until < now()
    RETURNING id
), unsettled AS (
    UPDATE outbound_message_log
    SET status = CASE WHEN $2 THEN 'uncertain' ELSE 'queued' END,
        run_at = CASE WHEN $2 THEN 'infinity'::timestamptz ELSE now() END,
        uncertain_resends = uncertain_resends + CASE WHEN $2 THEN 0 ELSE 1 END,
        error_text = CASE WHEN $2 THEN 'held: no delivery status within the uncertainty window'
                          ELSE 'sent again: no delivery status within the uncertainty window' END,
        updated_at = now()
    WHERE status = 'uncertain' AND run_at <= now()
    RETURNING id, conversation_id
), held_notice AS (
    INSERT INTO notification (kind, conversation_id, dedupe_key, title, body)
    SELECT 'outbound_uncertain', conversation_id, 'outbound_uncertain:' || id,
           'A reply may not have been delivered',
           'Outbound message ' || id || ' got no answer and no delivery status; it is held, not resent. '
               || 'Check the chat, then resend or close it.'
    FROM unsettled WHERE $2
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT (SELECT count(*) FROM stalled) AS stalled, (SELECT count(*) FROM unsettled) AS unsettled";

/// What to do with an uncertain send when its window passes without a status webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UncertainPolicy {
    /// Send it again (the customer may get it twice, never zero times).
    Resend,
    /// Keep it, and tell staff (the customer may get it zero times, never twice).
    Hold,
}

/// What [`Sends::upkeep`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, QueryableByName)]
pub struct Upkeep {
    /// Sends whose sender stopped mid-send, now `uncertain`.
    #[diesel(sql_type = BigInt)]
    pub stalled: i64,
    /// Uncertain sends whose window passed without a status: resent or held.
    #[diesel(sql_type = BigInt)]
    pub unsettled: i64,
}
