//! Statuses stored together (one delivery, set-based statements in one transaction) leave
//! exactly the rows the same statuses stored one delivery at a time leave.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use chrono::{DateTime, Duration, Utc};
use domain::webhook::StatusKind;
use store::ingest::{IngestBatch, IngestOutcome, StatusRecord};
use testkit::{TestDb, records, sql};

const CUSTOMERS: usize = 40;
/// Customers from here on have a reply whose send was uncertain: no wamid recorded, settled
/// by the callback data of its statuses.
const UNCERTAIN_FROM: usize = 32;

fn customer(k: usize) -> String {
    format!("97156{k:07}")
}

fn wamid(k: usize) -> String {
    if k < UNCERTAIN_FROM { format!("wamid.out.{k}") } else { format!("wamid.settled.{k}") }
}

/// One conversation and one reply per customer: sent or still sending with its wamid, or
/// uncertain without one. Returns the replies' ids, by customer.
async fn replies(db: &TestDb) -> Vec<i64> {
    let mut ids = Vec::new();
    for k in 0..CUSTOMERS {
        let c = customer(k);
        store::ingest::ingest(&db.pool(), &records::text_delivery(&c, &format!("wamid.in.{k}"), "hi"))
            .await
            .expect("stored");
        let (status, wamid) = match k {
            k if k >= UNCERTAIN_FROM => ("uncertain", "NULL".to_owned()),
            k if k % 3 == 0 => ("sending", format!("'{}'", wamid(k))),
            _ => ("sent", format!("'{}'", wamid(k))),
        };
        sql::execute(
            db.url(),
            &format!(
                "INSERT INTO outbound_message_log (conversation_id, dedupe_key, body, status, provider_message_id)
                 SELECT v.id, 'reply:{k}', 'Thank you', '{status}', {wamid}
                 FROM conversation v JOIN contact c ON c.id = v.contact_id WHERE c.wa_id = '{c}'"
            ),
        )
        .await;
        ids.push(
            sql::count(
                db.url(),
                &format!("SELECT id AS n FROM outbound_message_log WHERE dedupe_key = 'reply:{k}'"),
            )
            .await,
        );
    }
    ids
}

/// Four statuses per reply in arrival order, customers interleaved: in order, out of order,
/// repeated, a `failed` that moves a sent reply and one that cannot move a read one, those of
/// uncertain replies carrying their row in the callback data; and one of a message we never
/// sent.
fn statuses(base: DateTime<Utc>, replies: &[i64]) -> Vec<StatusRecord> {
    use StatusKind::{Delivered, Failed, Read, Sent};
    let mut statuses = Vec::new();
    for step in 0..4 {
        for (k, &reply) in replies.iter().enumerate() {
            let kind = match k % 4 {
                0 => [Sent, Delivered, Read, Read],
                1 => [Delivered, Sent, Read, Delivered],
                2 => [Sent, Failed, Delivered, Read],
                _ => [Read, Delivered, Sent, Failed],
            }[step]
                .clone();
            let failed = kind == Failed;
            statuses.push(StatusRecord {
                provider_timestamp: Some(base + Duration::seconds(i64::try_from(step).expect("small"))),
                callback_outbound_id: (k >= UNCERTAIN_FROM).then_some(reply),
                error_code: failed.then_some(131_026),
                error_text: failed.then(|| "Message undeliverable".to_owned()),
                ..records::status(&wamid(k), kind)
            });
        }
    }
    statuses.push(records::status("wamid.never.ours", Delivered));
    statuses
}

/// What the tables hold, row by row, ids left out.
async fn tables(db: &TestDb) -> Vec<Vec<String>> {
    let queries = [
        "SELECT concat_ws('|', dedupe_key, status, provider_message_id, sent_at, delivered_at, read_at, failed_at,
                          error_code, error_text) AS s
         FROM outbound_message_log ORDER BY 1",
        "SELECT concat_ws('|', provider_message_id, status, provider_timestamp, error_code, raw) AS s
         FROM message_status_event ORDER BY 1",
        "SELECT concat_ws('|', o.dedupe_key, n.title, replace(n.body, o.id::text, '#')) AS s
         FROM notification n JOIN outbound_message_log o ON n.dedupe_key = 'outbound_failed:' || o.id
         WHERE n.kind = 'outbound_failed' ORDER BY 1",
    ];
    let mut tables = Vec::new();
    for query in queries {
        tables.push(sql::strings(db.url(), query).await);
    }
    tables
}

/// Per status: whether it was recorded for the first time, and which reply it moved.
fn outcomes(outcomes: &[IngestOutcome]) -> Vec<(bool, Option<i64>)> {
    outcomes.iter().flat_map(|o| &o.statuses).map(|s| (s.event_id.is_some(), s.outbound_id)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn statuses_stored_together_leave_the_rows_of_statuses_stored_one_at_a_time() {
    let base = Utc::now() - Duration::minutes(5);
    let (together, one_by_one) = (TestDb::new().await, TestDb::new().await);
    let replies_together = replies(&together).await;
    assert_eq!(replies_together, replies(&one_by_one).await, "both databases number the replies alike");
    let statuses = statuses(base, &replies_together);

    let delivery =
        IngestBatch { request_id: "req-statuses".to_owned(), ..records::status_delivery(statuses.clone()) };
    let outcome = store::ingest::ingest(&together.pool(), &delivery).await.expect("stored");
    let mut singles = Vec::new();
    for s in &statuses {
        let single = IngestBatch {
            request_id: "req-statuses".to_owned(),
            ..records::status_delivery(vec![s.clone()])
        };
        singles.push(store::ingest::ingest(&one_by_one.pool(), &single).await.expect("stored"));
    }

    assert_eq!(outcome.statuses.len(), statuses.len(), "one outcome per status, in input order");
    assert_eq!(
        outcomes(std::slice::from_ref(&outcome)),
        outcomes(&singles),
        "the same statuses moved the same rows"
    );
    let tables_together = tables(&together).await;
    assert_eq!(tables_together, tables(&one_by_one).await, "every row as one at a time leaves it");
    let final_statuses: Vec<&str> =
        tables_together[0].iter().map(|row| row.split('|').nth(1).expect("a status")).collect();
    for status in ["read", "failed"] {
        assert!(final_statuses.contains(&status), "some reply ends {status}: {final_statuses:?}");
    }
    assert!(!tables_together[2].is_empty(), "a failed reply notifies staff");

    let transactions = sql::count(
        together.url(),
        "SELECT count(DISTINCT xmin::text) AS n FROM message_status_event WHERE request_id = 'req-statuses'",
    )
    .await;
    assert_eq!(transactions, 1, "the delivery is one transaction");
}
