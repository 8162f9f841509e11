//! Many inbound messages in one statement: what [`super::INGEST_MESSAGE_BY_WA_ID_SQL`] does
//! for one message, done for a large delivery (Meta batches up to 1,000) or group of them in
//! a single round trip.
//!
//! A statement may touch a row once, so each customer's contact, each conversation and each
//! conversation's presence row is written once from all its messages: the newest profile name
//! (by sent time; of two sent the same second, the first to arrive), the latest user id and display number, the newest message for
//! presence. Rows are locked in the order the one-message statements take them (customer,
//! then business number), messages are numbered in arrival order within a conversation, and
//! a wamid seen twice is stored once, the later copy reported as a duplicate.

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{InboundOutcome, InboundRecord, IngestBatch, PLANNED_EACH_TIME, column};
use crate::StoreError;
use crate::prepared::Prepared;

/// Stores messages of customers known by phone number (`wa_id`), given with the delivery
/// each came in. Parameters are parallel arrays, one element per message: `$1` wa_id,
/// `$2` user_id, `$3` profile_name, `$4` phone_number_id, `$5` display_phone_number,
/// `$6` provider timestamp, `$7` wamid, `$8` type, `$9` text, `$10` raw JSON, `$11` request
/// id, `$12` traceparent. Returns one row per element, in input order.
pub(crate) const INGEST_MESSAGES_BY_WA_ID_SQL: &str = "WITH input AS (
    SELECT i.*,
           CASE WHEN i.provider_timestamp IS NULL OR i.provider_timestamp > now() + interval '1 day' THEN now()
                ELSE i.provider_timestamp END AS sent_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
        WITH ORDINALITY AS i(wa_id, user_id, profile_name, phone_number_id, display_phone_number,
                             provider_timestamp, wamid, message_type, text_body, raw, request_id, traceparent,
                             position)
), first_copy AS (
    SELECT DISTINCT ON (wamid) position FROM input ORDER BY wamid, position
), contact_input AS (
    SELECT wa_id,
           (array_agg(user_id ORDER BY position DESC) FILTER (WHERE user_id IS NOT NULL))[1] AS user_id,
           (array_agg(profile_name ORDER BY sent_at DESC, position)
                FILTER (WHERE profile_name IS NOT NULL))[1] AS profile_name,
           max(sent_at) FILTER (WHERE profile_name IS NOT NULL) AS profile_name_at
    FROM input GROUP BY wa_id
), contact_row AS (
    INSERT INTO contact AS c (wa_id, user_id, profile_name, profile_name_at)
    SELECT wa_id, user_id, profile_name, profile_name_at FROM contact_input ORDER BY wa_id
    ON CONFLICT (wa_id) DO UPDATE
        SET profile_name = CASE WHEN EXCLUDED.profile_name IS NOT NULL
                                 AND (c.profile_name_at IS NULL OR EXCLUDED.profile_name_at > c.profile_name_at)
                                THEN EXCLUDED.profile_name ELSE c.profile_name END,
            profile_name_at = CASE WHEN EXCLUDED.profile_name IS NOT NULL
                                    AND (c.profile_name_at IS NULL OR EXCLUDED.profile_name_at > c.profile_name_at)
                                   THEN EXCLUDED.profile_name_at ELSE c.profile_name_at END,
            user_id = COALESCE(EXCLUDED.user_id, c.user_id),
            updated_at = now()
    RETURNING c.id, c.wa_id
), conversation_input AS (
    SELECT c.id AS contact_id, i.wa_id, i.phone_number_id,
           (array_agg(i.display_phone_number ORDER BY i.position DESC)
                FILTER (WHERE i.display_phone_number IS NOT NULL))[1] AS display_phone_number,
           max(i.sent_at) AS last_inbound_at
    FROM input i JOIN contact_row c ON c.wa_id = i.wa_id
    GROUP BY c.id, i.wa_id, i.phone_number_id
), conversation_row AS (
    INSERT INTO conversation AS v (contact_id, phone_number_id, display_phone_number, last_inbound_at)
    SELECT contact_id, phone_number_id, display_phone_number, last_inbound_at
    FROM conversation_input ORDER BY wa_id, phone_number_id
    ON CONFLICT (contact_id, phone_number_id) DO UPDATE
        SET last_inbound_at = GREATEST(v.last_inbound_at, EXCLUDED.last_inbound_at),
            display_phone_number = COALESCE(EXCLUDED.display_phone_number, v.display_phone_number),
            updated_at = now()
    RETURNING v.id, v.contact_id, v.phone_number_id
), placed AS (
    SELECT i.*, v.id AS conversation_id
    FROM input i
    JOIN contact_row c ON c.wa_id = i.wa_id
    JOIN conversation_row v ON v.contact_id = c.id AND v.phone_number_id = i.phone_number_id
), message_row AS (
    INSERT INTO inbound_message
        (conversation_id, provider_message_id, message_type, text_body, raw, provider_timestamp, request_id)
    SELECT conversation_id, wamid, message_type, text_body, raw::jsonb, provider_timestamp, request_id
    FROM placed WHERE position IN (SELECT position FROM first_copy)
    ORDER BY wa_id, phone_number_id, position
    ON CONFLICT (provider_message_id) DO NOTHING
    RETURNING id, conversation_id, provider_message_id
), stored AS (
    SELECT p.*, m.id AS inbound_message_id
    FROM placed p JOIN message_row m ON m.provider_message_id = p.wamid
    WHERE p.position IN (SELECT position FROM first_copy)
), job_row AS (
    INSERT INTO outbound_job
        (conversation_id, inbound_message_id, inbound_provider_message_id, request_id, traceparent)
    SELECT conversation_id, inbound_message_id, wamid, request_id, traceparent FROM stored
    ORDER BY wa_id, phone_number_id, position
    ON CONFLICT (inbound_provider_message_id) DO NOTHING
    RETURNING id, inbound_provider_message_id
), presence_row AS (
    -- each conversation's newest message, for its read receipt and typing indicator
    INSERT INTO conversation_presence AS p
        (conversation_id, inbound_message_id, provider_message_id, message_at, request_id, traceparent)
    SELECT conversation_id, inbound_message_id, wamid, sent_at, request_id, traceparent
    FROM (SELECT DISTINCT ON (conversation_id) * FROM stored
          ORDER BY conversation_id, sent_at DESC, inbound_message_id DESC) newest
    ORDER BY wa_id, phone_number_id
    ON CONFLICT (conversation_id) DO UPDATE
        SET inbound_message_id = EXCLUDED.inbound_message_id, provider_message_id = EXCLUDED.provider_message_id,
            message_at = EXCLUDED.message_at, stored_at = now(), request_id = EXCLUDED.request_id,
            traceparent = EXCLUDED.traceparent
        WHERE (EXCLUDED.message_at, EXCLUDED.inbound_message_id) > (p.message_at, p.inbound_message_id)
), wake_runner AS (
    SELECT pg_notify('outbound_job_queued', '') WHERE EXISTS (SELECT 1 FROM job_row)
)
SELECT p.conversation_id, s.inbound_message_id, j.id AS job_id,
       (SELECT count(*) FROM wake_runner) AS notified
FROM placed p
LEFT JOIN stored s ON s.position = p.position
LEFT JOIN job_row j ON j.inbound_provider_message_id = s.wamid
ORDER BY p.position";

/// One row of [`INGEST_MESSAGES_BY_WA_ID_SQL`]'s result.
#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    inbound_message_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    job_id: Option<i64>,
}

/// Stores `messages` (each with its delivery, every one with a `wa_id`) in one statement;
/// returns their outcomes in the same order.
pub(super) async fn insert(
    conn: &mut AsyncPgConnection,
    messages: &[(&IngestBatch, &InboundRecord)],
) -> Result<Vec<InboundOutcome>, StoreError> {
    let query = diesel::sql_query(INGEST_MESSAGES_BY_WA_ID_SQL)
        .bind::<Array<Nullable<Text>>, _>(column(messages, |_, m| m.wa_id.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(column(messages, |_, m| m.user_id.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(column(messages, |_, m| m.profile_name.as_deref()))
        .bind::<Array<Text>, _>(column(messages, |_, m| m.phone_number_id.as_str()))
        .bind::<Array<Nullable<Text>>, _>(column(messages, |_, m| m.display_phone_number.as_deref()))
        .bind::<Array<Nullable<Timestamptz>>, _>(column(messages, |_, m| m.provider_timestamp))
        .bind::<Array<Text>, _>(column(messages, |_, m| m.provider_message_id.as_str()))
        .bind::<Array<Text>, _>(column(messages, |_, m| m.message_type.as_str()))
        .bind::<Array<Nullable<Text>>, _>(column(messages, |_, m| m.text_body.as_deref()))
        .bind::<Array<Text>, _>(column(messages, |_, m| m.raw_json.as_str()))
        .bind::<Array<Text>, _>(column(messages, |b, _| b.request_id.as_str()))
        .bind::<Array<Nullable<Text>>, _>(column(messages, |b, _| b.traceparent.as_deref()));
    // Every element has its contact and conversation (upserted by the statement itself), so
    // there is a row for each, in input order.
    let rows: Vec<Row> = if messages.len() < PLANNED_EACH_TIME {
        Prepared(query).load(conn).await?
    } else {
        query.load(conn).await?
    };
    Ok(rows
        .into_iter()
        .map(|r| InboundOutcome {
            conversation_id: r.conversation_id,
            inbound_message_id: r.inbound_message_id,
            job_id: r.job_id,
        })
        .collect())
}
