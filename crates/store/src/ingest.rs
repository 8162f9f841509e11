//! The ingest transaction: inbound messages with their jobs, and delivery statuses.
//!
//! Each inbound message is one statement: upsert the contact, find or create the
//! conversation, insert the message `ON CONFLICT DO NOTHING`, insert its `outbound_job`
//! `ON CONFLICT DO NOTHING`, record it as the conversation's newest message for presence
//! (`crate::presence`) and `NOTIFY` the runner (and the sender's presence loop); many
//! messages are one statement too (`many_messages`), and so are a write's statuses
//! (`statuses`). A payload with several items runs all of them in one transaction, so a
//! webhook is stored whole or not at all; rows are written in one lock order, so concurrent
//! transactions never deadlock. [`crate::group_commit`] stores
//! concurrent deliveries together.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::webhook::{MessageType, StatusKind};
use tracing::Instrument;

pub(crate) mod many_messages;
pub(crate) mod statuses;

use crate::group_commit::{GroupCommitter, GroupWriter};
use crate::prepared::Prepared;
use crate::quarantine::{self, ItemKind, QuarantineRecord};
use crate::{DbPool, StoreError, connection};

/// One inbound message, ready to store.
#[derive(Debug, Clone)]
pub struct InboundRecord {
    /// The customer's WhatsApp id (phone number), when Meta sent one.
    pub wa_id: Option<String>,
    /// The customer's business-scoped user id, when Meta sent one.
    pub user_id: Option<String>,
    /// The customer's profile name.
    pub profile_name: Option<String>,
    /// The business phone number id the message was sent to.
    pub phone_number_id: String,
    /// The business phone number as displayed.
    pub display_phone_number: Option<String>,
    /// The wamid.
    pub provider_message_id: String,
    /// Meta's `type`, stored as Meta spells it.
    pub message_type: MessageType,
    /// The text the customer typed or chose, if any.
    pub text_body: Option<String>,
    /// The message object as received, with escapes `jsonb` refuses already replaced (as
    /// `domain::webhook::WebhookEnvelope::parse` does).
    pub raw_json: String,
    /// When the customer sent it.
    pub provider_timestamp: Option<DateTime<Utc>>,
}

/// One delivery status, ready to store.
#[derive(Debug, Clone)]
pub struct StatusRecord {
    /// The wamid of our outbound message.
    pub provider_message_id: String,
    /// The status, stored as Meta spells it; the `outbound_message_log.status` it moves a
    /// row to, if any, is [`crate::SendStatus::reached_by`] it.
    pub status: StatusKind,
    /// When it happened.
    pub provider_timestamp: Option<DateTime<Utc>>,
    /// The recipient.
    pub recipient_id: Option<String>,
    /// The echoed `biz_opaque_callback_data`.
    pub biz_opaque_callback_data: Option<String>,
    /// The `outbound_message_log.id` carried in the callback data, if it names one.
    pub callback_outbound_id: Option<i64>,
    /// The first error's code, for `failed`.
    pub error_code: Option<i32>,
    /// The first error's title and details, for `failed`.
    pub error_text: Option<String>,
    /// The status object as received, storable as `jsonb` (see [`InboundRecord::raw_json`]).
    pub raw_json: String,
}

/// Everything one webhook delivery carries.
#[derive(Debug, Clone, Default)]
pub struct IngestBatch {
    /// The request id of the delivery, stored on every row.
    pub request_id: String,
    /// The W3C traceparent of the request, stored on each job so the runner continues it.
    pub traceparent: Option<String>,
    /// Inbound messages.
    pub messages: Vec<InboundRecord>,
    /// Delivery statuses.
    pub statuses: Vec<StatusRecord>,
}

/// What happened to one inbound message.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct InboundOutcome {
    /// The conversation it belongs to.
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    /// The new `inbound_message.id`, or `None` when the message was already stored.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub inbound_message_id: Option<i64>,
    /// The new `outbound_job.id`, or `None` for a duplicate.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub job_id: Option<i64>,
}

/// What happened to one delivery status.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct StatusOutcome {
    /// The new `message_status_event.id`, or `None` when this status was already recorded.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub event_id: Option<i64>,
    /// The `outbound_message_log.id` whose status moved, if any.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub outbound_id: Option<i64>,
}

/// The result of storing a webhook delivery, item by item in input order.
#[derive(Debug, Clone, Default)]
pub struct IngestOutcome {
    /// One per stored inbound message (those quarantined are left out).
    pub messages: Vec<InboundOutcome>,
    /// One per stored status (those quarantined are left out).
    pub statuses: Vec<StatusOutcome>,
    /// Indexes (in [`IngestBatch::messages`]) of the messages Postgres refused, quarantined.
    pub quarantined_messages: Vec<usize>,
    /// Indexes (in [`IngestBatch::statuses`]) of the statuses Postgres refused, quarantined.
    pub quarantined_statuses: Vec<usize>,
    /// Every item quarantined for this delivery, refused by Postgres or set aside before.
    pub quarantined: Vec<QuarantineRecord>,
    /// The `quarantine` rows written (a redelivered item writes none).
    pub quarantine_ids: Vec<i64>,
}

/// A webhook delivery as the ingestor stores it: the items to store and those already set
/// aside (unparsable, over the limit, for a number not served) to keep in quarantine.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// Items to store.
    pub batch: IngestBatch,
    /// Items to quarantine.
    pub quarantine: Vec<QuarantineRecord>,
}

impl From<IngestBatch> for Delivery {
    fn from(batch: IngestBatch) -> Self {
        Self { batch, quarantine: Vec::new() }
    }
}

macro_rules! ingest_message_sql {
    ($contact_conflict:literal) => {
        concat!(
            "WITH sent AS (
    -- when the message was sent, as far as the 24-hour window and the profile name are
    -- concerned: a time more than a day ahead (a wrong clock) counts as now
    SELECT CASE WHEN $6::timestamptz IS NULL OR $6::timestamptz > now() + interval '1 day' THEN now()
                ELSE $6::timestamptz END AS at
), contact_row AS (
    INSERT INTO contact AS c (wa_id, user_id, profile_name, profile_name_at)
    SELECT $1, $2, $3, CASE WHEN $3::text IS NULL THEN NULL ELSE sent.at END FROM sent
    ON CONFLICT ",
            $contact_conflict,
            " DO UPDATE
        SET profile_name = CASE WHEN EXCLUDED.profile_name IS NOT NULL
                                 AND (c.profile_name_at IS NULL OR EXCLUDED.profile_name_at > c.profile_name_at)
                                THEN EXCLUDED.profile_name ELSE c.profile_name END,
            profile_name_at = CASE WHEN EXCLUDED.profile_name IS NOT NULL
                                    AND (c.profile_name_at IS NULL OR EXCLUDED.profile_name_at > c.profile_name_at)
                                   THEN EXCLUDED.profile_name_at ELSE c.profile_name_at END,
            user_id = COALESCE(EXCLUDED.user_id, c.user_id),
            updated_at = now()
    RETURNING c.id
), conversation_row AS (
    INSERT INTO conversation AS v (contact_id, phone_number_id, display_phone_number, last_inbound_at)
    SELECT contact_row.id, $4, $5, sent.at FROM contact_row, sent
    ON CONFLICT (contact_id, phone_number_id) DO UPDATE
        SET last_inbound_at = GREATEST(v.last_inbound_at, EXCLUDED.last_inbound_at),
            display_phone_number = COALESCE(EXCLUDED.display_phone_number, v.display_phone_number),
            updated_at = now()
    RETURNING v.id
), message_row AS (
    INSERT INTO inbound_message
        (conversation_id, provider_message_id, message_type, text_body, raw, provider_timestamp, request_id)
    SELECT id, $7, $8, $9, $10::jsonb, $6, $11 FROM conversation_row
    ON CONFLICT (provider_message_id) DO NOTHING
    RETURNING id, conversation_id
), job_row AS (
    INSERT INTO outbound_job
        (conversation_id, inbound_message_id, inbound_provider_message_id, request_id, traceparent)
    SELECT conversation_id, id, $7, $11, $12 FROM message_row
    ON CONFLICT (inbound_provider_message_id) DO NOTHING
    RETURNING id
), presence_row AS (
    -- the conversation's newest message, for its read receipt and typing indicator
    INSERT INTO conversation_presence AS p
        (conversation_id, inbound_message_id, provider_message_id, message_at, request_id, traceparent)
    SELECT message_row.conversation_id, message_row.id, $7, sent.at, $11, $12 FROM message_row, sent
    ON CONFLICT (conversation_id) DO UPDATE
        SET inbound_message_id = EXCLUDED.inbound_message_id, provider_message_id = EXCLUDED.provider_message_id,
            message_at = EXCLUDED.message_at, stored_at = now(), request_id = EXCLUDED.request_id,
            traceparent = EXCLUDED.traceparent
        WHERE (EXCLUDED.message_at, EXCLUDED.inbound_message_id) > (p.message_at, p.inbound_message_id)
), wake_runner AS (
    SELECT pg_notify('outbound_job_queued', '') FROM job_row
)
SELECT (SELECT id FROM conversation_row) AS conversation_id,
       (SELECT id FROM message_row) AS inbound_message_id,
       (SELECT id FROM job_row) AS job_id,
       (SELECT count(*) FROM wake_runner) AS notified"
        )
    };
}

/// The statement that stores one inbound message of a customer known by phone number, and
/// enqueues its job. Parameters: `$1` wa_id, `$2` user_id, `$3` profile_name,
/// `$4` phone_number_id, `$5` display_phone_number, `$6` provider timestamp, `$7` wamid,
/// `$8` type, `$9` text, `$10` raw JSON, `$11` request id, `$12` traceparent.
/// Public so the benchmark can give `pgbench` the very same transaction.
pub const INGEST_MESSAGE_BY_WA_ID_SQL: &str = ingest_message_sql!("(wa_id)");

/// [`INGEST_MESSAGE_BY_WA_ID_SQL`] for a customer Meta identifies only by business-scoped
/// user id (no phone number).
pub(crate) const INGEST_MESSAGE_BY_USER_ID_SQL: &str = ingest_message_sql!("(user_id) WHERE wa_id IS NULL");

/// Stores a webhook delivery. One item runs as one statement; several run in one
/// transaction. Duplicates are no-ops reported in the outcome; an item Postgres refuses is
/// quarantined and the others are stored.
pub async fn ingest(pool: &DbPool, batch: &IngestBatch) -> Result<IngestOutcome, StoreError> {
    let mut conn = connection(pool).await?;
    let span = tracing::Span::current();
    let delivery = Delivery::from(batch.clone());
    let written = DeliveryWriter.write(&mut conn, &[(&delivery, &span)]).await?;
    Ok(written.into_iter().next().unwrap_or_default())
}

/// Stores webhook deliveries with group commit.
pub type Ingestor = GroupCommitter<DeliveryWriter>;

/// Writes webhook deliveries for an [`Ingestor`]:
/// a single row as one statement, more in one transaction, rows in lock order. When
/// Postgres refuses an item, the group is written again with a savepoint per item, and the
/// refused ones are quarantined with their SQLSTATE; the others are stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryWriter;

impl GroupWriter for DeliveryWriter {
    type Item = Delivery;
    type Outcome = IngestOutcome;
    // Larger groups hold their row locks longer, and measured no faster.
    const MAX_GROUP: usize = 8;
    const NAME: &'static str = "deliveries";

    async fn write(
        &self,
        conn: &mut AsyncPgConnection,
        deliveries: &[(&Delivery, &tracing::Span)],
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        let rows: usize = deliveries
            .iter()
            .map(|(d, _)| d.batch.messages.len() + d.batch.statuses.len() + d.quarantine.len())
            .sum();
        let first = if rows <= 1 {
            write_deliveries(conn, deliveries, Mode::Strict).await
        } else {
            conn.transaction(async |conn| write_deliveries(conn, deliveries, Mode::Strict).await).await
        };
        match first {
            Err(StoreError::Query(e)) => {
                tracing::warn!(error = %e, "a delivery item was refused; storing item by item");
                conn.transaction(async |conn| write_deliveries(conn, deliveries, Mode::Savepoints).await)
                    .await
            }
            other => other,
        }
    }
}

/// Stores `batch` whole or fails (no quarantine), inside the caller's transaction.
pub(crate) async fn write_strictly(
    conn: &mut AsyncPgConnection,
    batch: &IngestBatch,
) -> Result<IngestOutcome, StoreError> {
    let delivery = Delivery::from(batch.clone());
    let span = tracing::Span::current();
    let mut written = write_deliveries(conn, &[(&delivery, &span)], Mode::Strict).await?;
    Ok(written.pop().unwrap_or_default())
}

/// From how many messages of customers known by number a write stores them in one statement
/// ([`many_messages`]) rather than one statement each.
const MANY_MESSAGES: usize = 2;

/// From how many rows a set-based statement ([`many_messages`], [`statuses`]) is planned for
/// the call, with the arrays' real lengths, instead of reusing the connection's cached plan:
/// a plan made for a few rows joins the statement's steps in nested loops (1,000 messages:
/// 0.43 s instead of 0.11 s to run), and planning costs about 3 ms, far more than a small
/// group's statement takes.
const PLANNED_EACH_TIME: usize = 64;

/// One column of a set-based statement's parallel arrays: `field` of each row, read with
/// the delivery it came in.
fn column<'a, R, T>(
    rows: &[(&'a IngestBatch, &'a R)],
    field: impl Fn(&'a IngestBatch, &'a R) -> T,
) -> Vec<T> {
    rows.iter().map(|(batch, row)| field(batch, row)).collect()
}

/// How refused items are handled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The first refusal fails the whole write.
    Strict,
    /// Each item in its own savepoint; a refused item is quarantined.
    Savepoints,
}

/// Writes the items of `deliveries` in lock order, then their quarantine rows.
async fn write_deliveries(
    conn: &mut AsyncPgConnection,
    deliveries: &[(&Delivery, &tracing::Span)],
    mode: Mode,
) -> Result<Vec<IngestOutcome>, StoreError> {
    let mut outcomes = write_in_lock_order(conn, deliveries, mode).await?;
    for ((delivery, _), outcome) in deliveries.iter().zip(&mut outcomes) {
        outcome.quarantined.extend(delivery.quarantine.iter().cloned());
        outcome.quarantine_ids =
            quarantine::keep(conn, &delivery.batch.request_id, &outcome.quarantined).await?;
    }
    Ok(outcomes)
}

/// One row to write: the `index`-th message or status of delivery `delivery`.
#[derive(Clone, Copy)]
struct Item {
    delivery: usize,
    index: usize,
    message: bool,
}

/// Writes the messages and statuses of `deliveries` (each with the span its rows belong to)
/// in lock order: messages before statuses, messages by customer (those known by number
/// first, stored in one statement when there are many), statuses by wamid, ties in
/// arrival order. Every transaction that writes several rows takes their locks in this order,
/// so two of them never deadlock, and a customer's messages keep their order. Returns each
/// delivery's outcome, items in input order.
async fn write_in_lock_order(
    conn: &mut AsyncPgConnection,
    deliveries: &[(&Delivery, &tracing::Span)],
    mode: Mode,
) -> Result<Vec<IngestOutcome>, StoreError> {
    let batches: Vec<(&IngestBatch, &tracing::Span)> =
        deliveries.iter().map(|(d, s)| (&d.batch, *s)).collect();
    let mut items: Vec<Item> = Vec::new();
    for (d, (batch, _)) in batches.iter().enumerate() {
        items.extend((0..batch.messages.len()).map(|index| Item { delivery: d, index, message: true }));
        items.extend((0..batch.statuses.len()).map(|index| Item { delivery: d, index, message: false }));
    }
    items.sort_by(|a, b| lock_order(&batches, *a, *b));
    let mut messages: Vec<Vec<Option<InboundOutcome>>> =
        batches.iter().map(|(b, _)| vec![None; b.messages.len()]).collect();
    let mut statuses: Vec<Vec<Option<StatusOutcome>>> =
        batches.iter().map(|(b, _)| vec![None; b.statuses.len()]).collect();
    let mut outcomes: Vec<IngestOutcome> = batches.iter().map(|_| IngestOutcome::default()).collect();
    // Strictly, the statuses (last in lock order) are applied together after the messages.
    let mut together_statuses = Vec::new();
    if mode == Mode::Strict {
        let together = items
            .iter()
            .take_while(|i| i.message && batches[i.delivery].0.messages[i.index].wa_id.is_some())
            .count();
        if together >= MANY_MESSAGES {
            let rows: Vec<(&IngestBatch, &InboundRecord)> = items[..together]
                .iter()
                .map(|i| (batches[i.delivery].0, &batches[i.delivery].0.messages[i.index]))
                .collect();
            let stored = many_messages::insert(conn, &rows).await?;
            for (item, stored) in items.drain(..together).zip(stored) {
                messages[item.delivery][item.index] = Some(stored);
            }
        }
        let first_status = items.iter().position(|i| !i.message).unwrap_or(items.len());
        together_statuses = items.split_off(first_status);
    }
    for item in items {
        let (batch, span) = batches[item.delivery];
        let written = if item.message {
            let record = &batch.messages[item.index];
            let stored = match mode {
                Mode::Strict => insert_message(conn, batch, record).instrument(span.clone()).await,
                Mode::Savepoints => {
                    conn.transaction(async |conn| {
                        insert_message(conn, batch, record).instrument(span.clone()).await
                    })
                    .await
                }
            };
            stored.map(|stored| messages[item.delivery][item.index] = Some(stored))
        } else {
            // Only item by item (with savepoints) are statuses left in the loop.
            let status = [(batch, &batch.statuses[item.index])];
            let span = status_span(span, batch, status[0].1);
            let stored =
                conn.transaction(async |conn| statuses::apply(conn, &status).instrument(span).await).await;
            stored.map(|stored| statuses[item.delivery][item.index] = stored.into_iter().next())
        };
        let Err(refused) = written else { continue };
        if mode == Mode::Strict || refused.is_unavailable() {
            return Err(refused);
        }
        let outcome = &mut outcomes[item.delivery];
        let record = refused_record(conn, batch, item, &refused).await?;
        tracing::warn!(
            request_id = batch.request_id.as_str(),
            kind = record.kind.as_str(),
            reason = record.reason.as_str(),
            "delivery item refused by Postgres: quarantined"
        );
        outcome.quarantined.push(record);
        if item.message {
            outcome.quarantined_messages.push(item.index);
        } else {
            outcome.quarantined_statuses.push(item.index);
        }
    }
    if !together_statuses.is_empty() {
        let rows: Vec<(&IngestBatch, &StatusRecord)> = together_statuses
            .iter()
            .map(|i| (batches[i.delivery].0, &batches[i.delivery].0.statuses[i.index]))
            .collect();
        // Each status has a span of its own in its delivery's trace, spanning the statement
        // that applies it with the others.
        let spans: Vec<tracing::Span> = together_statuses
            .iter()
            .zip(&rows)
            .map(|(item, (batch, status))| status_span(batches[item.delivery].1, batch, status))
            .collect();
        let stored = statuses::apply(conn, &rows).await?;
        drop(spans);
        for (item, stored) in together_statuses.into_iter().zip(stored) {
            statuses[item.delivery][item.index] = Some(stored);
        }
    }
    for ((outcome, m), s) in outcomes.iter_mut().zip(messages).zip(statuses) {
        outcome.messages = m.into_iter().flatten().collect();
        outcome.statuses = s.into_iter().flatten().collect();
        outcome.quarantined_messages.sort_unstable();
        outcome.quarantined_statuses.sort_unstable();
    }
    Ok(outcomes)
}

/// The span of applying `status`, in the trace of its delivery (`parent`).
fn status_span(parent: &tracing::Span, batch: &IngestBatch, status: &StatusRecord) -> tracing::Span {
    tracing::info_span!(parent: parent, "status.apply",
        request_id = batch.request_id.as_str(), status = status.status.as_str())
}

/// The quarantine row of an item Postgres refused.
async fn refused_record(
    conn: &mut AsyncPgConnection,
    batch: &IngestBatch,
    item: Item,
    refused: &StoreError,
) -> Result<QuarantineRecord, StoreError> {
    if item.message {
        let m = &batch.messages[item.index];
        let (reason, sqlstate) = quarantine::reason_for(conn, &m.raw_json, refused).await?;
        let contact = serde_json::json!([{
            "wa_id": m.wa_id, "user_id": m.user_id, "profile": { "name": m.profile_name }
        }]);
        Ok(QuarantineRecord {
            kind: ItemKind::Message,
            phone_number_id: Some(m.phone_number_id.clone()),
            display_phone_number: m.display_phone_number.clone(),
            contacts: Some(contact.to_string()),
            raw: m.raw_json.clone(),
            reason,
            sqlstate,
            notify: true,
        })
    } else {
        let s = &batch.statuses[item.index];
        let (reason, sqlstate) = quarantine::reason_for(conn, &s.raw_json, refused).await?;
        Ok(QuarantineRecord {
            kind: ItemKind::Status,
            phone_number_id: None,
            display_phone_number: None,
            contacts: None,
            raw: s.raw_json.clone(),
            reason,
            sqlstate,
            notify: true,
        })
    }
}

/// Messages (first) by customer, statuses by wamid.
fn lock_order(deliveries: &[(&IngestBatch, &tracing::Span)], a: Item, b: Item) -> std::cmp::Ordering {
    // Customers known by number first, then those known only by user id.
    let customer = |i: Item| {
        let m = &deliveries[i.delivery].0.messages[i.index];
        (m.wa_id.is_none(), m.wa_id.as_deref().or(m.user_id.as_deref()), m.phone_number_id.as_str())
    };
    let wamid = |i: Item| deliveries[i.delivery].0.statuses[i.index].provider_message_id.as_str();
    match (a.message, b.message) {
        (true, true) => customer(a).cmp(&customer(b)),
        (false, false) => wamid(a).cmp(wamid(b)),
        _ => b.message.cmp(&a.message),
    }
}

async fn insert_message(
    conn: &mut AsyncPgConnection,
    batch: &IngestBatch,
    m: &InboundRecord,
) -> Result<InboundOutcome, StoreError> {
    let sql = if m.wa_id.is_some() { INGEST_MESSAGE_BY_WA_ID_SQL } else { INGEST_MESSAGE_BY_USER_ID_SQL };
    let query = diesel::sql_query(sql)
        .bind::<Nullable<Text>, _>(m.wa_id.as_deref())
        .bind::<Nullable<Text>, _>(m.user_id.as_deref())
        .bind::<Nullable<Text>, _>(m.profile_name.as_deref())
        .bind::<Text, _>(&m.phone_number_id)
        .bind::<Nullable<Text>, _>(m.display_phone_number.as_deref())
        .bind::<Nullable<Timestamptz>, _>(m.provider_timestamp)
        .bind::<Text, _>(&m.provider_message_id)
        .bind::<Text, _>(m.message_type.as_str())
        .bind::<Nullable<Text>, _>(m.text_body.as_deref())
        .bind::<Text, _>(&m.raw_json)
        .bind::<Text, _>(&batch.request_id)
        .bind::<Nullable<Text>, _>(batch.traceparent.as_deref());
    Ok(Prepared(query).get_result::<InboundOutcome>(conn).await?)
}
