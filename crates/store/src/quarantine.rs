//! Items of a webhook delivery that could not be parsed or stored (invariant 12): kept raw
//! with the reason in `quarantine`, announced to staff with a `quarantined` notification,
//! listed and redriven by the operator.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::ingest::{IngestBatch, IngestOutcome};
use crate::prepared::Prepared;
use crate::{DbPool, StoreError, connection};

/// Why an item is quarantined when the business number is not one this deployment serves.
pub const NOT_SERVED: &str = "business number not served";

/// Which list of a change an item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// `messages[]`.
    Message,
    /// `statuses[]`.
    Status,
    /// A whole `messages` change value that does not parse.
    Change,
}

impl ItemKind {
    /// The stored spelling (`quarantine.item_kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Status => "status",
            Self::Change => "change",
        }
    }
}

/// One item to keep in quarantine.
#[derive(Debug, Clone)]
pub struct QuarantineRecord {
    /// Its list.
    pub kind: ItemKind,
    /// The change's business number, as received.
    pub phone_number_id: Option<String>,
    /// The change's display number.
    pub display_phone_number: Option<String>,
    /// The change's `contacts[]` JSON, as received, for a redrive.
    pub contacts: Option<String>,
    /// The item's JSON, byte for byte as received.
    pub raw: String,
    /// Why (never customer data).
    pub reason: String,
    /// The SQLSTATE when Postgres refused it.
    pub sqlstate: Option<String>,
    /// Whether staff are told (not for numbers this deployment does not serve).
    pub notify: bool,
}

/// A quarantined item as listed for the operator.
#[derive(Debug, Clone, QueryableByName)]
pub struct QuarantinedItem {
    /// `quarantine.id`.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The request id of the delivery.
    #[diesel(sql_type = Text)]
    pub request_id: String,
    /// `message`, `status` or `change`.
    #[diesel(sql_type = Text)]
    pub item_kind: String,
    /// The business number.
    #[diesel(sql_type = Nullable<Text>)]
    pub phone_number_id: Option<String>,
    /// The display number.
    #[diesel(sql_type = Nullable<Text>)]
    pub display_phone_number: Option<String>,
    /// `contacts[]` as received.
    #[diesel(sql_type = Nullable<Text>)]
    pub contacts: Option<String>,
    /// The item as received.
    #[diesel(sql_type = Text)]
    pub raw: String,
    /// Why it was quarantined.
    #[diesel(sql_type = Text)]
    pub reason: String,
    /// The SQLSTATE, when Postgres refused it.
    #[diesel(sql_type = Nullable<Text>)]
    pub sqlstate: Option<String>,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// When it was redriven successfully.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub redriven_at: Option<DateTime<Utc>>,
    /// Redrives tried.
    #[diesel(sql_type = Integer)]
    pub redrive_attempts: i32,
    /// Why the last redrive failed.
    #[diesel(sql_type = Nullable<Text>)]
    pub last_redrive_error: Option<String>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Refusal {
    #[diesel(sql_type = Nullable<Text>)]
    refusal: Option<String>,
}

/// Keeps items once each (a redelivered item keeps its first row). Parameters are arrays,
/// one element per item: `$1` kind, `$2` business number, `$3` display number, `$4`
/// contacts, `$5` raw, `$6` reason, `$7` SQLSTATE; `$8` the request id.
pub(crate) const QUARANTINE_SQL: &str = "INSERT INTO quarantine
    (fingerprint, request_id, item_kind, phone_number_id, display_phone_number, contacts, raw, reason, sqlstate)
SELECT encode(sha256(convert_to(i.kind || ':' || i.raw, 'UTF8')), 'hex'), $8, i.kind, i.phone_number_id,
       i.display_phone_number, i.contacts, i.raw, i.reason, i.sqlstate
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    AS i(kind, phone_number_id, display_phone_number, contacts, raw, reason, sqlstate)
ON CONFLICT (fingerprint) DO NOTHING
RETURNING id";

/// One `quarantined` notification per delivery: `$1` request id, `$2` items.
pub(crate) const QUARANTINE_NOTICE_SQL: &str = "INSERT INTO notification (kind, dedupe_key, title, body)
VALUES ('quarantined', 'quarantined:' || $1, 'Webhook items quarantined',
        $2::bigint || ' item(s) of a WhatsApp delivery could not be stored and are kept in quarantine; '
        || 'list them with `webhook-ingest quarantine list`')
ON CONFLICT (dedupe_key) DO NOTHING";

/// Why Postgres refuses `$1` as jsonb, if it does.
pub(crate) const JSONB_REFUSAL_SQL: &str = "SELECT jsonb_refusal($1) AS refusal";

/// Every quarantined item, pending first, newest first; at most `$1`.
pub(crate) const LIST_SQL: &str = "SELECT id, request_id, item_kind, phone_number_id, display_phone_number,
       contacts, raw, reason, sqlstate, created_at, redriven_at, redrive_attempts, last_redrive_error
FROM quarantine ORDER BY redriven_at IS NOT NULL, created_at DESC, id DESC LIMIT $1";

/// One quarantined item.
pub(crate) const GET_SQL: &str = "SELECT id, request_id, item_kind, phone_number_id, display_phone_number,
       contacts, raw, reason, sqlstate, created_at, redriven_at, redrive_attempts, last_redrive_error
FROM quarantine WHERE id = $1";

/// Marks `$1` redriven.
pub(crate) const REDRIVEN_SQL: &str =
    "UPDATE quarantine SET redriven_at = now(), redrive_attempts = redrive_attempts + 1, last_redrive_error = NULL
WHERE id = $1 AND redriven_at IS NULL RETURNING id";

/// Records a failed redrive of `$1` with the reason `$2`.
pub(crate) const REDRIVE_FAILED_SQL: &str =
    "UPDATE quarantine SET redrive_attempts = redrive_attempts + 1, last_redrive_error = $2 WHERE id = $1";

/// Keeps `records` of the delivery `request_id` and raises one notification if any of them
/// asks for it. Returns the ids of the rows written (a redelivered item writes none).
pub(crate) async fn keep(
    conn: &mut AsyncPgConnection,
    request_id: &str,
    records: &[QuarantineRecord],
) -> Result<Vec<i64>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let column = |f: fn(&QuarantineRecord) -> Option<String>| records.iter().map(f).collect::<Vec<_>>();
    let query = diesel::sql_query(QUARANTINE_SQL)
        .bind::<Array<Text>, _>(records.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(column(|r| r.phone_number_id.clone()))
        .bind::<Array<Nullable<Text>>, _>(column(|r| r.display_phone_number.clone()))
        .bind::<Array<Nullable<Text>>, _>(column(|r| r.contacts.clone()))
        .bind::<Array<Text>, _>(records.iter().map(|r| r.raw.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(records.iter().map(|r| r.reason.as_str()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(column(|r| r.sqlstate.clone()))
        .bind::<Text, _>(request_id);
    let ids: Vec<i64> = Prepared(query).load::<Id>(conn).await?.into_iter().map(|r| r.id).collect();
    let notify = records.iter().filter(|r| r.notify).count();
    if notify > 0 && !ids.is_empty() {
        let notice = diesel::sql_query(QUARANTINE_NOTICE_SQL)
            .bind::<Text, _>(request_id)
            .bind::<BigInt, _>(i64::try_from(notify).unwrap_or(i64::MAX));
        Prepared(notice).execute(conn).await?;
    }
    Ok(ids)
}

/// The SQLSTATE and message of `failure` for the quarantine row: Postgres' own when `raw`
/// is not storable as jsonb (asked with `jsonb_refusal`), else diesel's kind and message.
pub(crate) async fn reason_for(
    conn: &mut AsyncPgConnection,
    raw: &str,
    failure: &StoreError,
) -> Result<(String, Option<String>), StoreError> {
    let probe = diesel::sql_query(JSONB_REFUSAL_SQL).bind::<Text, _>(raw);
    let refusal = Prepared(probe).get_result::<Refusal>(conn).await?.refusal;
    if let Some((state, message)) = refusal.as_deref().and_then(|r| r.split_once(' ')) {
        return Ok((format!("{state}: {message}"), Some(state.to_owned())));
    }
    Ok(describe(failure))
}

/// The reason and SQLSTATE (where diesel's error kind names one) of a failed write, from
/// Postgres' message (which carries no values; its detail, which may, is left out).
pub fn describe(failure: &StoreError) -> (String, Option<String>) {
    let (state, message) = match failure {
        StoreError::Query(diesel::result::Error::DatabaseError(kind, info)) => {
            (sqlstate_of(kind), info.message().to_owned())
        }
        other => (None, other.to_string()),
    };
    let reason = match &state {
        Some(state) => format!("{state}: {message}"),
        None => message,
    };
    (reason, state.map(str::to_owned))
}

/// The SQLSTATE diesel's error kind stands for, where it names one.
fn sqlstate_of(kind: &diesel::result::DatabaseErrorKind) -> Option<&'static str> {
    use diesel::result::DatabaseErrorKind as K;
    match kind {
        K::UniqueViolation => Some("23505"),
        K::ForeignKeyViolation => Some("23503"),
        K::NotNullViolation => Some("23502"),
        K::CheckViolation => Some("23514"),
        K::SerializationFailure => Some("40001"),
        K::ReadOnlyTransaction => Some("25006"),
        _ => None,
    }
}

/// Quarantined items, pending first, at most `limit`.
pub async fn list(pool: &DbPool, limit: i64) -> Result<Vec<QuarantinedItem>, StoreError> {
    let mut conn = connection(pool).await?;
    Ok(Prepared(diesel::sql_query(LIST_SQL).bind::<BigInt, _>(limit)).load(&mut conn).await?)
}

/// One quarantined item.
pub async fn get(pool: &DbPool, id: i64) -> Result<Option<QuarantinedItem>, StoreError> {
    let mut conn = connection(pool).await?;
    let rows: Vec<QuarantinedItem> =
        Prepared(diesel::sql_query(GET_SQL).bind::<BigInt, _>(id)).load(&mut conn).await?;
    Ok(rows.into_iter().next())
}

/// What a redrive did.
#[derive(Debug)]
pub enum Redriven {
    /// Stored (or found already stored) and marked redriven.
    Stored(IngestOutcome),
    /// Already redriven before; nothing written.
    AlreadyRedriven,
}

/// Stores `batch` (the item of quarantine row `id`, rebuilt) and marks the row redriven, in
/// one transaction: all or nothing, and no new quarantine row when it still fails. A
/// failure is recorded on the row and returned.
pub async fn redrive(pool: &DbPool, id: i64, batch: &IngestBatch) -> Result<Redriven, StoreError> {
    let mut conn = connection(pool).await?;
    let written = conn
        .transaction(async |conn| {
            let marked: Vec<Id> =
                Prepared(diesel::sql_query(REDRIVEN_SQL).bind::<BigInt, _>(id)).load(conn).await?;
            if marked.is_empty() {
                return Ok(Redriven::AlreadyRedriven);
            }
            let outcome = crate::ingest::write_strictly(conn, batch).await?;
            Ok::<_, StoreError>(Redriven::Stored(outcome))
        })
        .await;
    if let Err(e) = &written
        && !e.is_unavailable()
    {
        record_failed_redrive(&mut conn, id, &describe(e).0).await?;
    }
    written
}

/// Records on row `id` that a redrive failed, and why.
pub async fn record_failed_redrive(
    conn: &mut AsyncPgConnection,
    id: i64,
    reason: &str,
) -> Result<(), StoreError> {
    let query = diesel::sql_query(REDRIVE_FAILED_SQL).bind::<BigInt, _>(id).bind::<Text, _>(reason);
    Prepared(query).execute(conn).await?;
    Ok(())
}
