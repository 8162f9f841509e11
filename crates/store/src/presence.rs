//! The presence queue (`conversation_presence`): the read receipt and typing indicator each
//! conversation's newest inbound message is due.
//!
//! The ingest statement records a conversation's newest inbound message on its row (by when
//! the customer sent it, then arrival). A claim takes rows whose newest message has had no
//! request yet, at most one a conversation: none while a request of the conversation is in
//! flight (its lease), none within `min_interval` of its last request, none for a paused
//! business number. Messages that arrive meanwhile coalesce: the next request is for the
//! newest. The claim records the message as requested whether or not a request follows, so
//! no message gets two (a request is never retried, not even after a lease expired), and
//! decides in the same statement when none may follow ([`PresenceSkip`]). Replies never
//! wait for any of it: presence has its own table, lock and lease.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Double, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::webhook::MessageType;
use uuid::Uuid;

use crate::group_commit::{GroupCommitter, GroupWriter};
use crate::lease::{Fenced, Origin};
use crate::prepared::Prepared;
use crate::vocab::PresenceSkip;
use crate::{DbPool, StoreError, connection};

/// A conversation's newest inbound message, claimed for its presence request.
#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedPresence {
    /// The conversation.
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    /// Its newest inbound message (`inbound_message.id`).
    #[diesel(sql_type = BigInt)]
    pub inbound_message_id: i64,
    /// That message's wamid: the request marks it (and every earlier one) read.
    #[diesel(sql_type = Text)]
    pub provider_message_id: String,
    /// The business number it was sent to.
    #[diesel(sql_type = Text)]
    pub phone_number_id: String,
    /// Its type.
    #[diesel(sql_type = Text, deserialize_as = String)]
    pub message_type: MessageType,
    /// A member of staff holds the conversation: the bot will not answer it.
    #[diesel(sql_type = Bool)]
    pub staff_holds: bool,
    /// The reply to it is decided and queued: it goes out any moment.
    #[diesel(sql_type = Bool)]
    pub reply_queued: bool,
    /// Why no request may be made, if so (nothing is in flight then).
    #[diesel(sql_type = Nullable<Text>)]
    pub skipped: Option<PresenceSkip>,
    /// The claim: [`Presences::finish`] ends the request's lease with it.
    #[diesel(sql_type = SqlUuid)]
    pub claim_token: Uuid,
    /// The webhook delivery that carried the message.
    #[diesel(embed)]
    pub origin: Origin,
    /// Seconds from storing the message to this claim.
    #[diesel(sql_type = Double)]
    pub waited_secs: f64,
}

/// Claims up to `$1` conversations due a presence request: `$2` the seconds between two
/// requests of a conversation, `$3` the lease of a request.
pub(crate) const CLAIM_SQL: &str = "WITH due AS (
    SELECT p.conversation_id, p.inbound_message_id, p.provider_message_id, p.message_at,
           c.contact_id, c.phone_number_id, c.held_by
    FROM conversation_presence p
    JOIN conversation c ON c.id = p.conversation_id
    WHERE p.requested_message_id IS DISTINCT FROM p.inbound_message_id
      AND (p.lease_until IS NULL OR p.lease_until < now())
      AND (p.requested_at IS NULL OR p.requested_at <= now() - make_interval(secs => $2))
      AND NOT EXISTS (SELECT 1 FROM sender_throttle t
                      WHERE t.phone_number_id = c.phone_number_id AND t.paused_until > now())
    ORDER BY p.stored_at
    LIMIT $1
    FOR UPDATE OF p SKIP LOCKED
), decided AS (
    SELECT d.*,
           CASE WHEN k.opted_out_at IS NOT NULL THEN 'opted_out'
                WHEN d.message_at <= now() - interval '24 hours' THEN 'outside_window'
                WHEN reply.under_way THEN 'replied' END AS skipped,
           COALESCE(reply.queued, false) AS reply_queued
    FROM due d
    JOIN contact k ON k.id = d.contact_id
    CROSS JOIN LATERAL (
        SELECT bool_or(o.status IN ('sending', 'sent', 'delivered', 'read', 'uncertain')) AS under_way,
               bool_or(o.status = 'queued') AS queued
        FROM outbound_message_log o
        WHERE o.conversation_id = d.conversation_id AND o.reply_to_provider_message_id = d.provider_message_id
    ) reply
)
UPDATE conversation_presence p
SET requested_message_id = d.inbound_message_id,
    requested_at = CASE WHEN d.skipped IS NULL THEN now() ELSE p.requested_at END,
    claim_token = gen_random_uuid(),
    lease_until = CASE WHEN d.skipped IS NULL THEN now() + make_interval(secs => $3) END
FROM decided d, inbound_message m
WHERE p.conversation_id = d.conversation_id AND m.id = d.inbound_message_id
RETURNING d.conversation_id, d.inbound_message_id, d.provider_message_id, d.phone_number_id, m.message_type,
          d.held_by IS NOT NULL AS staff_holds, d.reply_queued, d.skipped, p.claim_token, p.request_id,
          p.traceparent, EXTRACT(EPOCH FROM now() - p.stored_at)::float8 AS waited_secs";

/// Ends requests' leases (`$1` conversations, `$2` claim tokens); says for each whether a
/// newer message is due presence already. Rows are locked in conversation order.
pub(crate) const FINISH_SQL: &str = "WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::uuid[]) AS i(conversation_id, claim_token)
), locked AS (
    SELECT p.conversation_id FROM conversation_presence p JOIN input i USING (conversation_id)
    WHERE p.claim_token = i.claim_token
    ORDER BY p.conversation_id
    FOR UPDATE OF p
)
UPDATE conversation_presence p
    SET claim_token = NULL, lease_until = NULL
    FROM locked l
    WHERE p.conversation_id = l.conversation_id
    RETURNING p.conversation_id, p.requested_message_id IS DISTINCT FROM p.inbound_message_id AS pending";

/// Seconds until the next conversation waiting for its interval (`$1` seconds) or for a
/// paused number becomes due (NULL when none waits: `GREATEST` alone would make that 0);
/// rows whose request is in flight are left to its end.
pub(crate) const NEXT_DUE_SQL: &str = "SELECT CASE WHEN min(due) IS NOT NULL
           THEN GREATEST(0, EXTRACT(EPOCH FROM min(due) - now()))::float8 END AS secs
    FROM (SELECT GREATEST(p.requested_at + make_interval(secs => $1), t.paused_until) AS due
          FROM conversation_presence p
          JOIN conversation c ON c.id = p.conversation_id
          LEFT JOIN sender_throttle t ON t.phone_number_id = c.phone_number_id
          WHERE p.requested_message_id IS DISTINCT FROM p.inbound_message_id
            AND (p.lease_until IS NULL OR p.lease_until < now())) waiting";

#[derive(QueryableByName)]
struct Finished {
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = Bool)]
    pending: bool,
}

#[derive(QueryableByName)]
struct NextDue {
    #[diesel(sql_type = Nullable<Double>)]
    secs: Option<f64>,
}

/// The presence queue, on a pool: every call checks a connection out for itself.
#[derive(Clone)]
pub struct Presences {
    pool: DbPool,
}

impl Presences {
    /// The queue on `pool`.
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    /// Claims up to `limit` conversations due presence, each for its newest message: a
    /// request to make under `lease`, or a skip with its reason. A conversation is due once
    /// its previous request ended and was made at least `min_interval` ago.
    pub async fn claim(
        &self,
        limit: usize,
        min_interval: Duration,
        lease: Duration,
    ) -> Result<Vec<ClaimedPresence>, StoreError> {
        let query = diesel::sql_query(CLAIM_SQL)
            .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind::<Double, _>(min_interval.as_secs_f64())
            .bind::<Double, _>(lease.as_secs_f64());
        Ok(Prepared(query).load(&mut *connection(&self.pool).await?).await?)
    }

    /// Ends the lease of a claimed request, made or failed (it is never repeated). Applied
    /// with whether a newer message of the conversation is due presence now; `LeaseLost`
    /// when the lease expired and the conversation was claimed again.
    /// ([`Finisher`] ends many in one commit.)
    pub async fn finish(&self, claimed: &ClaimedPresence) -> Result<Fenced<bool>, StoreError> {
        let mut finished = finish(&mut *connection(&self.pool).await?, &[&Ended::from(claimed)]).await?;
        Ok(finished.pop().unwrap_or(Fenced::LeaseLost))
    }

    /// How long until a conversation that waits for `min_interval` since its last request,
    /// or for its business number's pause, becomes due, if one waits.
    pub async fn next_due(&self, min_interval: Duration) -> Result<Option<Duration>, StoreError> {
        let query = diesel::sql_query(NEXT_DUE_SQL).bind::<Double, _>(min_interval.as_secs_f64());
        let row: NextDue = Prepared(query).get_result(&mut *connection(&self.pool).await?).await?;
        Ok(row.secs.map(Duration::from_secs_f64))
    }
}

/// A request whose lease to end: its conversation and claim.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ended {
    /// The conversation.
    pub conversation_id: i64,
    /// The claim the request was made under.
    pub claim_token: Uuid,
}

impl From<&ClaimedPresence> for Ended {
    fn from(claimed: &ClaimedPresence) -> Self {
        Self { conversation_id: claimed.conversation_id, claim_token: claimed.claim_token }
    }
}

async fn finish(conn: &mut AsyncPgConnection, ended: &[&Ended]) -> Result<Vec<Fenced<bool>>, StoreError> {
    let query = diesel::sql_query(FINISH_SQL)
        .bind::<Array<BigInt>, _>(ended.iter().map(|e| e.conversation_id).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(ended.iter().map(|e| e.claim_token).collect::<Vec<_>>());
    let finished: Vec<Finished> = Prepared(query).load(conn).await?;
    Ok(ended
        .iter()
        .map(|e| {
            finished
                .iter()
                .find(|f| f.conversation_id == e.conversation_id)
                .map_or(Fenced::LeaseLost, |f| Fenced::Applied(f.pending))
        })
        .collect())
}

/// Ends presence requests' leases for a [`Finisher`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FinishWriter;

/// Ends presence requests' leases with group commit: requests that end while the committer
/// is busy share one statement.
pub type Finisher = GroupCommitter<FinishWriter>;

impl GroupWriter for FinishWriter {
    type Item = Ended;
    type Outcome = Fenced<bool>;
    const MAX_GROUP: usize = 64;
    const NAME: &'static str = "presence_ended";

    async fn write(
        &self,
        conn: &mut AsyncPgConnection,
        items: &[(&Ended, &tracing::Span)],
    ) -> Result<Vec<Fenced<bool>>, StoreError> {
        let ended: Vec<&Ended> = items.iter().map(|(e, _)| *e).collect();
        finish(conn, &ended).await
    }
}
