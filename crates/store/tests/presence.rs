//! The presence queue on its own: the ingest statement records each conversation's newest
//! message, and a claim takes it once, coalescing what arrives while a request is in flight
//! or within the interval, never twice for one message, and skipping the messages no request
//! may follow.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::webhook::MessageType;
use store::ingest::{InboundRecord, IngestBatch};
use store::presence::{ClaimedPresence, Ended, FinishWriter, Finisher, Presences};
use store::{Fenced, PresenceSkip};
use testkit::payloads::PHONE_NUMBER_ID as NUMBER;
use testkit::{TestDb, records, sql};

const LEASE: Duration = Duration::from_secs(30);
/// No wait between two requests of a conversation.
const NO_INTERVAL: Duration = Duration::ZERO;
/// A wait between two requests no test outlasts.
const LONG_INTERVAL: Duration = Duration::from_secs(3600);

/// Stores `wamid` from `customer`, sent at `sent_at` (now when `None`).
async fn store_message(db: &TestDb, customer: &str, wamid: &str, sent_at: Option<DateTime<Utc>>) {
    let message = InboundRecord {
        provider_timestamp: sent_at,
        ..records::inbound(customer, wamid, MessageType::Text, Some("hello"))
    };
    let batch = IngestBatch { request_id: format!("req-{wamid}"), ..records::delivery(vec![message]) };
    store::ingest::ingest(&db.pool(), &batch).await.expect("ingest");
}

async fn claim(presences: &Presences, min_interval: Duration) -> Vec<ClaimedPresence> {
    presences.claim(10, min_interval, LEASE).await.expect("claim")
}

/// The one conversation claimed.
async fn claim_one(presences: &Presences, min_interval: Duration) -> ClaimedPresence {
    let mut claimed = claim(presences, min_interval).await;
    assert_eq!(claimed.len(), 1, "exactly one conversation is due: {claimed:?}");
    claimed.pop().expect("one")
}

/// The conversation of `customer`.
async fn conversation_of(db: &TestDb, customer: &str) -> i64 {
    sql::count(
        db.url(),
        &format!("SELECT c.id AS n FROM conversation c JOIN contact k ON k.id = c.contact_id WHERE k.wa_id = '{customer}'"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_message_is_claimed_once_by_one_of_two_replicas() {
    let db = TestDb::new().await;
    store_message(&db, "971500000801", "wamid.p1", None).await;
    let (one, other) = (Presences::new(db.pool()), Presences::new(db.pool()));
    let (a, b) = tokio::join!(claim(&one, NO_INTERVAL), claim(&other, NO_INTERVAL));
    let claimed: Vec<ClaimedPresence> = a.into_iter().chain(b).collect();
    assert_eq!(claimed.len(), 1, "one replica claims it: {claimed:?}");
    let claimed = &claimed[0];
    assert_eq!(claimed.provider_message_id, "wamid.p1");
    assert_eq!(claimed.phone_number_id, NUMBER);
    assert_eq!(claimed.message_type, MessageType::Text);
    assert_eq!(claimed.skipped, None);
    assert!(!claimed.staff_holds && !claimed.reply_queued);
    assert_eq!(claimed.origin.request_id.as_deref(), Some("req-wamid.p1"), "logs and traces carry it");
    assert!(claim(&other, NO_INTERVAL).await.is_empty(), "never claimed twice");

    assert_eq!(one.finish(claimed).await.expect("finish"), Fenced::Applied(false), "nothing newer waits");
    store_message(&db, "971500000801", "wamid.p1", None).await;
    assert!(claim(&one, NO_INTERVAL).await.is_empty(), "a redelivery is no new message");
    assert_eq!(one.next_due(NO_INTERVAL).await.expect("next due"), None, "nothing waits");
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_arriving_during_a_request_or_its_interval_coalesce_into_one_for_the_newest() {
    let db = TestDb::new().await;
    let customer = "971500000802";
    let presences = Presences::new(db.pool());
    store_message(&db, customer, "wamid.c1", None).await;
    let first = claim_one(&presences, NO_INTERVAL).await;
    assert_eq!(first.provider_message_id, "wamid.c1");

    store_message(&db, customer, "wamid.c2", None).await;
    store_message(&db, customer, "wamid.c3", None).await;
    assert!(claim(&presences, NO_INTERVAL).await.is_empty(), "one request in flight per conversation");
    assert_eq!(presences.finish(&first).await.expect("finish"), Fenced::Applied(true), "a newer one waits");

    assert!(claim(&presences, LONG_INTERVAL).await.is_empty(), "not within the interval");
    let due = presences.next_due(LONG_INTERVAL).await.expect("next due").expect("one waits");
    assert!(
        due > LONG_INTERVAL - Duration::from_secs(60) && due <= LONG_INTERVAL,
        "due after the interval: {due:?}"
    );

    let second = claim_one(&presences, NO_INTERVAL).await;
    assert_eq!(second.provider_message_id, "wamid.c3", "for the newest; it marks the others read too");
    assert!(claim(&presences, NO_INTERVAL).await.is_empty(), "two requests for three messages");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_whose_sender_died_is_never_made_again_and_does_not_block_the_next() {
    let db = TestDb::new().await;
    let customer = "971500000803";
    let presences = Presences::new(db.pool());
    store_message(&db, customer, "wamid.d1", None).await;
    // The sender claims with a lease already over, then dies mid-request.
    let lost = presences.claim(10, NO_INTERVAL, Duration::ZERO).await.expect("claim").pop().expect("one");
    assert!(claim(&presences, NO_INTERVAL).await.is_empty(), "presence is never retried");
    assert_eq!(presences.next_due(NO_INTERVAL).await.expect("next due"), None, "nothing waits");

    store_message(&db, customer, "wamid.d2", None).await;
    let next = claim_one(&presences, NO_INTERVAL).await;
    assert_eq!(next.provider_message_id, "wamid.d2", "the expired lease holds nothing up");
    assert_eq!(
        presences.finish(&lost).await.expect("finish"),
        Fenced::LeaseLost,
        "the dead claim is fenced off"
    );
    assert_eq!(presences.finish(&next).await.expect("finish"), Fenced::Applied(false));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_newest_message_is_the_one_sent_last_whatever_order_it_arrives_in() {
    let db = TestDb::new().await;
    let customer = "971500000804";
    let now = Utc::now();
    store_message(&db, customer, "wamid.later", Some(now)).await;
    store_message(&db, customer, "wamid.earlier", Some(now - chrono::Duration::seconds(30))).await;
    let claimed = claim_one(&Presences::new(db.pool()), NO_INTERVAL).await;
    assert_eq!(claimed.provider_message_id, "wamid.later", "marking it read marks the earlier one too");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_request_follows_for_an_opted_out_customer_an_old_message_or_a_reply_under_way() {
    let db = TestDb::new().await;
    let day_old = Utc::now() - chrono::Duration::hours(25);
    for (customer, sent_at) in [
        ("971500000811", None),
        ("971500000812", Some(day_old)),
        ("971500000813", None),
        ("971500000814", None),
        ("971500000815", None),
    ] {
        store_message(&db, customer, &format!("wamid.{customer}"), sent_at).await;
    }
    sql::execute(db.url(), "UPDATE contact SET opted_out_at = now() WHERE wa_id = '971500000811'").await;
    for (customer, status) in [("971500000813", "sending"), ("971500000814", "queued")] {
        let conversation = conversation_of(&db, customer).await;
        sql::execute(
            db.url(),
            &format!(
                "INSERT INTO outbound_message_log (conversation_id, dedupe_key, body, reply_to_provider_message_id, status) \
                 VALUES ({conversation}, 'reply:{customer}', 'Hi', 'wamid.{customer}', '{status}')"
            ),
        )
        .await;
    }
    sql::execute(
        db.url(),
        "WITH staff AS (INSERT INTO staff_user (email, password_hash, role) VALUES ('a@example.com', 'x', 'agent') RETURNING id) \
         UPDATE conversation c SET held_by = staff.id, held_since = now() FROM staff, contact k \
         WHERE k.id = c.contact_id AND k.wa_id = '971500000815'",
    )
    .await;

    let presences = Presences::new(db.pool());
    let claimed: HashMap<String, ClaimedPresence> = claim(&presences, LONG_INTERVAL)
        .await
        .into_iter()
        .map(|c| (c.provider_message_id.clone(), c))
        .collect();
    assert_eq!(claimed.len(), 5, "{claimed:#?}");
    let of = |customer: &str| &claimed[&format!("wamid.{customer}")];
    assert_eq!(of("971500000811").skipped, Some(PresenceSkip::OptedOut));
    assert_eq!(of("971500000812").skipped, Some(PresenceSkip::OutsideWindow));
    assert_eq!(of("971500000813").skipped, Some(PresenceSkip::Replied), "its reply is being sent");
    let queued = of("971500000814");
    assert_eq!((queued.skipped, queued.reply_queued), (None, true), "read, its reply is on its way");
    let held = of("971500000815");
    assert_eq!((held.skipped, held.staff_holds), (None, true));
    assert!(claim(&presences, NO_INTERVAL).await.is_empty(), "a skip is final for its message");

    // A skip holds no lease and starts no interval: the customer's next message is due at once.
    sql::execute(db.url(), "UPDATE contact SET opted_out_at = NULL WHERE wa_id = '971500000811'").await;
    store_message(&db, "971500000811", "wamid.opted-in", None).await;
    let next = claim_one(&presences, LONG_INTERVAL).await;
    assert_eq!((next.provider_message_id.as_str(), next.skipped), ("wamid.opted-in", None));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_business_number_gets_no_presence_until_its_pause_ends() {
    let db = TestDb::new().await;
    sql::execute(
        db.url(),
        &format!(
            "INSERT INTO sender_throttle (phone_number_id, paused_until, reason) \
             VALUES ('{NUMBER}', now() + interval '1 hour', 'access token rejected')"
        ),
    )
    .await;
    store_message(&db, "971500000821", "wamid.paused", None).await;
    let presences = Presences::new(db.pool());
    assert!(claim(&presences, NO_INTERVAL).await.is_empty(), "nothing for a paused number");
    let due = presences.next_due(NO_INTERVAL).await.expect("next due").expect("it waits");
    assert!(due > Duration::from_secs(3500), "due when the pause ends: {due:?}");

    sql::execute(db.url(), "UPDATE sender_throttle SET paused_until = now() - interval '1 second'").await;
    assert_eq!(claim_one(&presences, NO_INTERVAL).await.provider_message_id, "wamid.paused");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_that_end_together_share_a_commit_and_each_is_fenced_on_its_own() {
    let db = TestDb::new().await;
    let presences = Presences::new(db.pool());
    for c in 0..12 {
        store_message(&db, &format!("9715000009{c:02}"), &format!("wamid.f{c}"), None).await;
    }
    let claimed = presences.claim(50, NO_INTERVAL, LONG_INTERVAL).await.expect("claim");
    assert_eq!(claimed.len(), 12);
    // A newer message waits in one conversation; another's claim was lost to a second sender.
    store_message(&db, "971500000903", "wamid.f3.newer", None).await;
    let lost = claimed[5].conversation_id;
    sql::execute(
        db.url(),
        &format!(
            "UPDATE conversation_presence SET claim_token = gen_random_uuid() WHERE conversation_id = {lost}"
        ),
    )
    .await;

    let finisher = Finisher::start(db.pool(), FinishWriter, 1);
    let ended = futures_util::future::join_all(claimed.iter().map(|c| finisher.commit(Ended::from(c)))).await;

    for (claim, (_, outcome)) in claimed.iter().zip(&ended) {
        let expected = match claim.provider_message_id.as_str() {
            "wamid.f3" => Fenced::Applied(true),
            _ if claim.conversation_id == lost => Fenced::LeaseLost,
            _ => Fenced::Applied(false),
        };
        assert_eq!(outcome.as_ref().expect("ended"), &expected, "{}", claim.provider_message_id);
    }
    let open =
        sql::count(db.url(), "SELECT count(*) AS n FROM conversation_presence WHERE lease_until IS NOT NULL")
            .await;
    assert_eq!(open, 1, "only the lost claim's lease is left to the other sender");
    let transactions = sql::count(
        db.url(),
        "SELECT count(DISTINCT xmin::text) AS n FROM conversation_presence WHERE lease_until IS NULL \
         AND requested_message_id = inbound_message_id",
    )
    .await;
    assert!(transactions < 10, "leases end in shared commits: 10 in {transactions}");
}
