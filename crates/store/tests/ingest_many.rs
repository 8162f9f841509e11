//! A delivery of many messages (Meta batches up to 1,000) is stored in one statement, one
//! transaction, with exactly the rows the same messages stored one at a time would leave.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use chrono::{DateTime, Duration, Utc};
use domain::webhook::MessageType;
use store::ingest::{InboundRecord, IngestBatch, IngestOutcome};
use testkit::{TestDb, records, sql};

const CUSTOMERS: usize = 250;

/// The customer of message `i`: interleaved, so each customer's messages are spread out.
fn customer(i: usize) -> String {
    format!("97155{:07}", i % CUSTOMERS)
}

/// 1,000 messages of 250 customers with names and clocks that disagree: a profile name on
/// every other message, sent times out of arrival order (several in the same second), a
/// user id and a display number on some; one wamid twice, five already stored, and one
/// customer known only by user id.
fn messages(base: DateTime<Utc>) -> Vec<InboundRecord> {
    let mut messages: Vec<InboundRecord> = (0..1000)
        .map(|i| {
            let c = customer(i);
            let j = i / CUSTOMERS;
            InboundRecord {
                profile_name: j.is_multiple_of(2).then(|| format!("Name {c}.{j}")),
                user_id: (j == 1).then(|| format!("AE.{c}")),
                display_phone_number: (j == 2).then(|| "15550783881".to_owned()),
                provider_timestamp: Some(base + Duration::minutes(((j * 7 + i) % 3) as i64)),
                ..records::inbound(&c, &format!("wamid.many.{i}"), MessageType::Text, Some("hello"))
            }
        })
        .collect();
    messages[600].provider_message_id = "wamid.many.17".to_owned();
    messages.push(InboundRecord {
        wa_id: None,
        user_id: Some("AE.onlyuser".to_owned()),
        provider_timestamp: Some(base),
        ..records::inbound("", "wamid.many.user", MessageType::Text, Some("hi"))
    });
    messages
}

/// Stores the five messages both databases already had.
async fn already_stored(db: &TestDb, messages: &[InboundRecord]) {
    for m in messages.iter().skip(40).step_by(100).take(5) {
        store::ingest::ingest(&db.pool(), &records::delivery(vec![m.clone()])).await.expect("stored");
    }
}

/// What the tables hold, row by row, ids left out.
async fn tables(db: &TestDb) -> Vec<Vec<String>> {
    let queries = [
        "SELECT concat_ws('|', wa_id, user_id, profile_name, profile_name_at) AS s FROM contact ORDER BY 1",
        "SELECT concat_ws('|', k.wa_id, k.user_id, v.phone_number_id, v.display_phone_number, v.last_inbound_at) AS s
         FROM conversation v JOIN contact k ON k.id = v.contact_id ORDER BY 1",
        "SELECT concat_ws('|', k.wa_id, k.user_id, string_agg(m.provider_message_id || ':' || m.message_type || ':'
                                                     || m.provider_timestamp, ',' ORDER BY m.id)) AS s
         FROM inbound_message m JOIN conversation v ON v.id = m.conversation_id JOIN contact k ON k.id = v.contact_id
         GROUP BY k.wa_id, k.user_id ORDER BY 1",
        "SELECT concat_ws('|', k.wa_id, k.user_id, string_agg(j.inbound_provider_message_id || ':' || j.status
                                                     || ':' || (j.inbound_message_id = m.id), ',' ORDER BY j.id)) AS s
         FROM outbound_job j JOIN inbound_message m ON m.provider_message_id = j.inbound_provider_message_id
         JOIN conversation v ON v.id = j.conversation_id JOIN contact k ON k.id = v.contact_id
         GROUP BY k.wa_id, k.user_id ORDER BY 1",
        "SELECT concat_ws('|', k.wa_id, k.user_id, p.provider_message_id, p.message_at,
                          p.inbound_message_id = m.id) AS s
         FROM conversation_presence p JOIN inbound_message m ON m.provider_message_id = p.provider_message_id
         JOIN conversation v ON v.id = p.conversation_id JOIN contact k ON k.id = v.contact_id ORDER BY 1",
    ];
    let mut tables = Vec::new();
    for query in queries {
        tables.push(sql::strings(db.url(), query).await);
    }
    tables
}

/// Per message: whether it was stored and got a job.
fn stored(outcomes: &[IngestOutcome]) -> Vec<(bool, bool)> {
    outcomes
        .iter()
        .flat_map(|o| &o.messages)
        .map(|m| (m.inbound_message_id.is_some(), m.job_id.is_some()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_of_a_thousand_messages_leaves_the_rows_of_a_thousand_deliveries() {
    let base = Utc::now() - Duration::hours(1);
    let messages = messages(base);
    let (together, one_by_one) = (TestDb::new().await, TestDb::new().await);
    already_stored(&together, &messages).await;
    already_stored(&one_by_one, &messages).await;

    let delivery = IngestBatch { request_id: "req-many".to_owned(), ..records::delivery(messages.clone()) };
    let outcome = store::ingest::ingest(&together.pool(), &delivery).await.expect("stored");
    let mut singles = Vec::new();
    for m in &messages {
        let single = IngestBatch { request_id: "req-many".to_owned(), ..records::delivery(vec![m.clone()]) };
        singles.push(store::ingest::ingest(&one_by_one.pool(), &single).await.expect("stored"));
    }

    assert_eq!(outcome.messages.len(), messages.len(), "one outcome per message, in input order");
    assert_eq!(
        stored(std::slice::from_ref(&outcome)),
        stored(&singles),
        "the same messages stored, the same jobs"
    );
    let conversations: Vec<i64> = singles.iter().map(|o| o.messages[0].conversation_id).collect();
    let same_conversation = |a: usize, b: usize| conversations[a] == conversations[b];
    for (a, b) in [(0, CUSTOMERS), (3, 3 + 2 * CUSTOMERS), (0, 1)] {
        assert_eq!(
            outcome.messages[a].conversation_id == outcome.messages[b].conversation_id,
            same_conversation(a, b),
            "messages {a} and {b}"
        );
    }
    let stored_now = outcome.messages.iter().filter(|m| m.inbound_message_id.is_some()).count();
    assert_eq!((stored_now, messages.len() - stored_now), (995, 6), "five stored before, one twice");
    assert_eq!(tables(&together).await, tables(&one_by_one).await, "every row as one at a time leaves it");

    let transactions = sql::count(
        together.url(),
        "SELECT count(DISTINCT xmin::text) AS n FROM inbound_message WHERE request_id = 'req-many'",
    )
    .await;
    assert_eq!(transactions, 1, "the delivery is one transaction");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_postgres_refuses_in_a_large_delivery_is_quarantined_and_the_rest_stored() {
    let db = TestDb::new().await;
    let mut messages: Vec<InboundRecord> = (0..100)
        .map(|i| records::inbound(&customer(i), &format!("wamid.big.{i}"), MessageType::Text, Some("hello")))
        .collect();
    // Postgres text cannot hold NUL.
    messages[42].text_body = Some("nul \0 inside".to_owned());
    let outcome =
        store::ingest::ingest(&db.pool(), &records::delivery(messages)).await.expect("acknowledged");

    assert_eq!(outcome.quarantined_messages, [42]);
    assert_eq!(outcome.messages.len(), 99);
    assert_eq!(sql::count(db.url(), "SELECT count(*) AS n FROM inbound_message").await, 99);
    assert_eq!(sql::count(db.url(), "SELECT count(*) AS n FROM outbound_job").await, 99);
    assert_eq!(sql::count(db.url(), "SELECT count(*) AS n FROM quarantine").await, 1);
}
