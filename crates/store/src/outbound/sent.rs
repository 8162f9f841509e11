//! "Meta accepted it": the result of most sends, recorded with group commit. Results that
//! arrive while the committer is busy share one statement and one commit, each still fenced
//! by its own claim.

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::StoreError;
use crate::group_commit::{GroupCommitter, GroupWriter};
use crate::lease::Fenced;
use crate::prepared::Prepared;

/// Records sends Meta accepted: `$1` ids, `$2` claim tokens, `$3` wamids. A status webhook
/// may already have moved a row further; it is never moved back. A row another sender holds
/// now is left alone, and so is one whose wamid another row already has. Rows are locked in
/// wamid order, the order ingest's status statements lock them in. Returns the ids recorded.
pub(crate) const SENT_SQL: &str = "WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[]) AS i(id, claim_token, wamid)
), locked AS (
    SELECT o.id, i.wamid FROM outbound_message_log o JOIN input i ON i.id = o.id
    WHERE (o.claim_token = i.claim_token OR o.status = 'uncertain')
      AND NOT EXISTS (SELECT 1 FROM outbound_message_log other WHERE other.provider_message_id = i.wamid
                        AND other.id <> i.id)
    ORDER BY i.wamid
    FOR UPDATE OF o
), updated AS (
    UPDATE outbound_message_log o
    SET status = CASE WHEN outbound_status_rank(o.status) < 1 THEN 'sent' ELSE o.status END,
        provider_message_id = COALESCE(o.provider_message_id, l.wamid),
        sent_at = COALESCE(o.sent_at, clock_timestamp()),
        claim_token = NULL, lease_until = NULL, error_code = NULL, error_text = NULL, updated_at = now()
    FROM locked l
    WHERE o.id = l.id
    RETURNING o.id
), wake_console AS (
    SELECT pg_notify('message_status_changed', '') WHERE EXISTS (SELECT 1 FROM updated)
)
SELECT u.id FROM updated u, (SELECT count(*) FROM wake_console) AS notified";

/// A send Meta accepted, to record.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    /// `outbound_message_log.id`.
    pub id: i64,
    /// The claim the sender held it under.
    pub claim_token: uuid::Uuid,
    /// The wamid Meta gave it.
    pub wamid: String,
}

#[derive(QueryableByName)]
struct Recorded {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Records `sent` in one statement; `LeaseLost` for each one another sender holds now.
pub(crate) async fn record(
    conn: &mut AsyncPgConnection,
    sent: &[&Sent],
) -> Result<Vec<Fenced<()>>, StoreError> {
    let query = diesel::sql_query(SENT_SQL)
        .bind::<Array<BigInt>, _>(sent.iter().map(|s| s.id).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(sent.iter().map(|s| s.claim_token).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(sent.iter().map(|s| s.wamid.as_str()).collect::<Vec<_>>());
    let recorded: Vec<Recorded> = Prepared(query).load(conn).await?;
    Ok(sent.iter().map(|s| Fenced::from_rows(usize::from(recorded.iter().any(|r| r.id == s.id)))).collect())
}

/// Writes [`Sent`] results for a [`SentRecorder`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SentWriter;

/// Records sends Meta accepted, with group commit.
pub type SentRecorder = GroupCommitter<SentWriter>;

impl GroupWriter for SentWriter {
    type Item = Sent;
    type Outcome = Fenced<()>;
    const MAX_GROUP: usize = 64;
    const NAME: &'static str = "sent";

    async fn write(
        &self,
        conn: &mut AsyncPgConnection,
        items: &[(&Sent, &tracing::Span)],
    ) -> Result<Vec<Fenced<()>>, StoreError> {
        let sent: Vec<&Sent> = items.iter().map(|(s, _)| *s).collect();
        record(conn, &sent).await
    }
}
