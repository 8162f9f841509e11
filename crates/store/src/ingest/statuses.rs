//! Delivery statuses, many in one statement: each recorded once per (wamid, status), the
//! matching outbound row moved forward, never backwards, and a `failed` status raising an
//! `outbound_failed` notification.
//!
//! A statement may move a row only once, so the statuses of one write are applied in rounds:
//! a status goes in the round after the last earlier status of its wamid (or of the outbound
//! row its callback data names), and the rounds run in order. Meta sends `sent`, `delivered`
//! and `read` apart, so a write is nearly always one round; a `delivered` and a `read` of one
//! message in the same delivery take two, and end `read`, as one at a time would.

use std::collections::HashMap;

use diesel::sql_types::{Array, BigInt, Int4, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{IngestBatch, PLANNED_EACH_TIME, StatusOutcome, StatusRecord, column};
use crate::prepared::Prepared;
use crate::{SendStatus, StoreError};

/// Records statuses and moves their outbound rows. Parameters are parallel arrays, one
/// element per status, no two of one wamid or of one callback row: `$1` wamid, `$2` status,
/// `$3` provider timestamp, `$4` recipient, `$5` callback data, `$6` error code, `$7` error
/// text, `$8` raw JSON, `$9` request id, `$10` the `outbound_message_log.status` it moves a
/// row to (NULL: none), `$11` the callback's outbound id. Rows are locked in input order
/// once every event is written: the order every writer of statuses takes its locks. Returns
/// one row per element, in input order.
pub(crate) const INGEST_STATUSES_SQL: &str = "WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::int4[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])
        WITH ORDINALITY AS i(wamid, status, provider_timestamp, recipient_id, biz_opaque_callback_data,
                             error_code, error_text, raw, request_id, moves_to, callback_outbound_id, position)
), event_row AS (
    INSERT INTO message_status_event (provider_message_id, status, provider_timestamp, recipient_id,
        biz_opaque_callback_data, error_code, error_text, raw, request_id)
    SELECT wamid, status, provider_timestamp, recipient_id, biz_opaque_callback_data, error_code, error_text,
           raw::jsonb, request_id
    FROM input ORDER BY position
    ON CONFLICT (provider_message_id, status) DO NOTHING
    RETURNING id, provider_message_id, status
), target AS (
    SELECT o.id, i.position
    FROM input i
    CROSS JOIN (SELECT count(*) FROM event_row) AS events_written
    JOIN outbound_message_log o
      ON o.provider_message_id = i.wamid OR (o.provider_message_id IS NULL AND o.id = i.callback_outbound_id)
    WHERE i.moves_to IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM outbound_message_log x WHERE x.provider_message_id = i.wamid AND x.id <> o.id)
    ORDER BY i.position
    FOR UPDATE OF o
), applied AS (
    UPDATE outbound_message_log AS o
    SET status = i.moves_to,
        provider_message_id = COALESCE(o.provider_message_id, i.wamid),
        sent_at = CASE WHEN i.moves_to <> 'failed' THEN COALESCE(o.sent_at, i.provider_timestamp, now())
                       ELSE o.sent_at END,
        delivered_at = CASE WHEN i.moves_to IN ('delivered', 'read')
                            THEN COALESCE(o.delivered_at, i.provider_timestamp, now()) ELSE o.delivered_at END,
        read_at = CASE WHEN i.moves_to = 'read' THEN COALESCE(i.provider_timestamp, now()) ELSE o.read_at END,
        failed_at = CASE WHEN i.moves_to = 'failed' THEN COALESCE(i.provider_timestamp, now()) ELSE o.failed_at END,
        error_code = CASE WHEN i.moves_to = 'failed' THEN i.error_code ELSE o.error_code END,
        error_text = CASE WHEN i.moves_to = 'failed' THEN i.error_text ELSE o.error_text END,
        updated_at = now()
    FROM target t JOIN input i ON i.position = t.position
    WHERE o.id = t.id AND outbound_status_may_move(o.status, i.moves_to)
    RETURNING o.id, o.conversation_id, i.position, i.moves_to, i.error_code
), failure_notice AS (
    INSERT INTO notification (kind, conversation_id, dedupe_key, title, body)
    SELECT 'outbound_failed', conversation_id, 'outbound_failed:' || id,
           'A reply could not be delivered',
           'WhatsApp reported error ' || COALESCE(error_code::text, 'without a code')
               || ' for outbound message ' || id
    FROM applied WHERE moves_to = 'failed'
    ORDER BY id
    ON CONFLICT (dedupe_key) DO NOTHING
), wake_console AS (
    SELECT pg_notify('message_status_changed', '') WHERE EXISTS (SELECT 1 FROM applied)
)
SELECT e.id AS event_id, a.id AS outbound_id, (SELECT count(*) FROM wake_console) AS notified
FROM input i
LEFT JOIN event_row e ON e.provider_message_id = i.wamid AND e.status = i.status
LEFT JOIN applied a ON a.position = i.position
ORDER BY i.position";

/// Records `statuses` (each with its delivery, in lock order: by wamid, ties in arrival
/// order) in as few statements as a statement moving each row once allows; returns their
/// outcomes in the same order.
pub(super) async fn apply(
    conn: &mut AsyncPgConnection,
    statuses: &[(&IngestBatch, &StatusRecord)],
) -> Result<Vec<StatusOutcome>, StoreError> {
    let rounds = rounds(statuses.iter().map(|(_, s)| *s));
    let mut outcomes = vec![None; statuses.len()];
    for round in 0..rounds.iter().max().map_or(0, |last| last + 1) {
        let members: Vec<usize> = (0..statuses.len()).filter(|&i| rounds[i] == round).collect();
        let rows: Vec<(&IngestBatch, &StatusRecord)> = members.iter().map(|&i| statuses[i]).collect();
        for (i, outcome) in members.into_iter().zip(insert(conn, &rows).await?) {
            outcomes[i] = Some(outcome);
        }
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// The round of each status: one after the last earlier status of its wamid or of its
/// callback's outbound row.
fn rounds<'a>(statuses: impl Iterator<Item = &'a StatusRecord>) -> Vec<usize> {
    let mut next_by_wamid: HashMap<&str, usize> = HashMap::new();
    let mut next_by_row: HashMap<i64, usize> = HashMap::new();
    statuses
        .map(|s| {
            let after_wamid = next_by_wamid.get(s.provider_message_id.as_str()).copied().unwrap_or(0);
            let after_row = s.callback_outbound_id.and_then(|id| next_by_row.get(&id).copied()).unwrap_or(0);
            let round = after_wamid.max(after_row);
            next_by_wamid.insert(&s.provider_message_id, round + 1);
            if let Some(id) = s.callback_outbound_id {
                next_by_row.insert(id, round + 1);
            }
            round
        })
        .collect()
}

/// Runs [`INGEST_STATUSES_SQL`] for one round.
async fn insert(
    conn: &mut AsyncPgConnection,
    statuses: &[(&IngestBatch, &StatusRecord)],
) -> Result<Vec<StatusOutcome>, StoreError> {
    let query = diesel::sql_query(INGEST_STATUSES_SQL)
        .bind::<Array<Text>, _>(column(statuses, |_, s| s.provider_message_id.as_str()))
        .bind::<Array<Text>, _>(column(statuses, |_, s| s.status.as_str()))
        .bind::<Array<Nullable<Timestamptz>>, _>(column(statuses, |_, s| s.provider_timestamp))
        .bind::<Array<Nullable<Text>>, _>(column(statuses, |_, s| s.recipient_id.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(column(statuses, |_, s| s.biz_opaque_callback_data.as_deref()))
        .bind::<Array<Nullable<Int4>>, _>(column(statuses, |_, s| s.error_code))
        .bind::<Array<Nullable<Text>>, _>(column(statuses, |_, s| s.error_text.as_deref()))
        .bind::<Array<Text>, _>(column(statuses, |_, s| s.raw_json.as_str()))
        .bind::<Array<Text>, _>(column(statuses, |b, _| b.request_id.as_str()))
        .bind::<Array<Nullable<Text>>, _>(column(statuses, |_, s| SendStatus::reached_by(&s.status)))
        .bind::<Array<Nullable<BigInt>>, _>(column(statuses, |_, s| s.callback_outbound_id));
    if statuses.len() < PLANNED_EACH_TIME {
        Ok(Prepared(query).load(conn).await?)
    } else {
        Ok(query.load(conn).await?)
    }
}

#[cfg(test)]
mod tests {
    use domain::webhook::StatusKind;

    use super::*;

    fn status(wamid: &str, callback: Option<i64>) -> StatusRecord {
        StatusRecord {
            provider_message_id: wamid.to_owned(),
            status: StatusKind::Delivered,
            provider_timestamp: None,
            recipient_id: None,
            biz_opaque_callback_data: None,
            callback_outbound_id: callback,
            error_code: None,
            error_text: None,
            raw_json: "{}".to_owned(),
        }
    }

    #[test]
    fn a_status_waits_for_the_earlier_ones_of_its_wamid_or_its_callback_row() {
        let statuses = [
            status("a", None),
            status("a", None),
            status("b", Some(7)),
            status("c", Some(7)),
            status("c", None),
            status("d", None),
            status("a", Some(9)),
        ];
        assert_eq!(rounds(statuses.iter()), vec![0, 1, 0, 1, 2, 0, 2]);
    }
}
