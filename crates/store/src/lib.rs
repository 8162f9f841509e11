//! Postgres access for every service: the diesel schema, a diesel-async deadpool pool,
//! the embedded migrations and every SQL statement the services run.
//!
//! Callers get typed functions; no SQL lives outside this crate.
//!
//! # Queue statements and their plans
//!
//! The services' statements are prepared once per connection, and Postgres plans a
//! prepared statement for the tables as they were when it first ran. The queues' partial
//! indexes (due jobs and replies, open ones by conversation) are nearly empty when analyzed
//! and hold thousands of rows in a burst or after an outage, so a plan that reads one of
//! them whole, or once per row, costs nothing when made and the queue squared later. The
//! queue statements are written so that only the intended path is possible:
//!
//! - a row found by another key checks its status as `(status = 'x') IS TRUE`, which no
//!   index answers, so the lookup goes by that key;
//! - a claim walks its due index in claim order (`status IN (…)` proves the partial index)
//!   and stops at its limit;
//! - "the oldest open row of its conversation" and the like are probes of the conversation
//!   index (`ORDER BY conversation_id, id LIMIT 1`, or a `LATERAL` subquery), not anti-joins.

pub mod connect;
pub mod desk;
mod error;
pub mod group_commit;
pub mod inbox;
pub mod ingest;
pub mod jobs;
pub mod keyset;
pub mod leads;
pub mod lease;
pub mod listen;
pub mod maintenance;
pub mod migrations;
pub mod notifications;
pub mod outbound;
mod pool;
mod prepared;
pub mod presence;
pub mod quarantine;
pub mod redrive;
pub mod schema;
pub mod staff;
pub mod transcripts;
pub mod vocab;

pub use connect::Connector;
pub use diesel_async::AsyncPgConnection;
pub use error::StoreError;
pub use keyset::Keyset;
pub use lease::{Fenced, Lease, Origin, Retry};
pub use pool::{DbArgs, DbPool, PoolSettings, PooledConnection, build_pool, connection};
pub use vocab::{JobStatus, LeadStatus, NoticeKind, PresenceSkip, SendStatus, StaffAction, StaffRole};

/// The channel `webhook-ingest` notifies when it enqueues an `outbound_job`, that is when it
/// stores a new inbound message: it wakes job-runner and the sender's presence loop.
pub const OUTBOUND_JOB_CHANNEL: &str = "outbound_job_queued";

/// The channel notified when one of our messages is sent, delivered, read or fails.
pub const MESSAGE_STATUS_CHANNEL: &str = "message_status_changed";

/// Every SQL statement of the crate, prepared against a migrated database: a statement
/// that names a column, table or function the migrations do not have fails here, not in
/// production on its first call.
#[cfg(test)]
mod every_statement_prepares {
    use crate::maintenance::WorkQueue;
    use crate::{
        desk, inbox, ingest, jobs, leads, maintenance, outbound, presence, quarantine, redrive, staff,
    };

    const STATEMENTS: &[(&str, &str)] = &[
        ("ingest message by wa_id", ingest::INGEST_MESSAGE_BY_WA_ID_SQL),
        ("ingest message by user_id", ingest::INGEST_MESSAGE_BY_USER_ID_SQL),
        ("ingest many messages by wa_id", ingest::many_messages::INGEST_MESSAGES_BY_WA_ID_SQL),
        ("ingest statuses", ingest::statuses::INGEST_STATUSES_SQL),
        ("claim jobs", jobs::CLAIM_SQL),
        ("complete jobs", jobs::COMPLETE_SQL),
        ("complete a group of jobs", jobs::COMPLETE_GROUP_SQL),
        ("retry a job", jobs::RETRY_SQL),
        ("release a job", jobs::RELEASE_SQL),
        ("when the next turn is due", jobs::NEXT_TURN_DUE_SQL),
        ("rescue exhausted jobs", jobs::RESCUE_SQL),
        ("queue metrics", jobs::METRICS_SQL),
        ("prune jobs", maintenance::PRUNE_JOBS_SQL),
        ("prune status events", maintenance::PRUNE_STATUS_EVENTS_SQL),
        ("claim sends", outbound::CLAIM_SQL),
        ("record sends", outbound::sent::SENT_SQL),
        ("retry a send", outbound::RETRY_SQL),
        ("fail a send", outbound::FAIL_SQL),
        ("mark a send uncertain", outbound::UNCERTAIN_SQL),
        ("refuse a send to an opted-out customer", outbound::REFUSE_SQL),
        ("pause a number", outbound::PAUSE_SQL),
        ("sender upkeep", outbound::UPKEEP_SQL),
        ("claim presence", presence::CLAIM_SQL),
        ("finish presence", presence::FINISH_SQL),
        ("when presence is due next", presence::NEXT_DUE_SQL),
        ("failed jobs", redrive::FAILED_JOBS_SQL),
        ("failed sends", redrive::FAILED_SENDS_SQL),
        ("requeue jobs", redrive::REQUEUE_JOBS_SQL),
        ("requeue sends", redrive::REQUEUE_SENDS_SQL),
        ("quarantine items", quarantine::QUARANTINE_SQL),
        ("quarantine notice", quarantine::QUARANTINE_NOTICE_SQL),
        ("jsonb refusal", quarantine::JSONB_REFUSAL_SQL),
        ("list quarantine", quarantine::LIST_SQL),
        ("get quarantined item", quarantine::GET_SQL),
        ("mark redriven", quarantine::REDRIVEN_SQL),
        ("record a failed redrive", quarantine::REDRIVE_FAILED_SQL),
        ("save a staff account", staff::SAVE_USER_SQL),
        ("staff credentials", staff::CREDENTIALS_SQL),
        ("staff accounts", staff::USERS_SQL),
        ("disable a staff account", staff::SET_DISABLED_SQL),
        ("login failures", staff::LOGIN_FAILURES_SQL),
        ("record a login", staff::LOGIN_ATTEMPT_SQL),
        ("start a session", staff::START_SESSION_SQL),
        ("read a session", staff::SESSION_SQL),
        ("end a session", staff::END_SESSION_SQL),
        ("prune sessions", staff::PRUNE_SQL),
        ("audit", staff::AUDIT_SQL),
        ("audit trail", staff::AUDIT_TRAIL_SQL),
        ("inbox counts", inbox::COUNTS_SQL),
        ("conversation desk", desk::DESK_SQL),
        ("transcript", desk::TRANSCRIPT_SQL),
        ("notes", desk::NOTES_SQL),
        ("add a note", desk::ADD_NOTE_SQL),
        ("mark a conversation read", desk::MARK_READ_SQL),
        ("take over", desk::TAKE_OVER_SQL),
        ("lock for hand back", desk::LOCK_FOR_HAND_BACK_SQL),
        ("hand back", desk::HAND_BACK_SQL),
        ("staff reply", desk::STAFF_REPLY_SQL),
        ("qualified leads", leads::QUALIFIED_SQL),
    ];

    #[tokio::test(flavor = "multi_thread")]
    async fn against_the_migrated_schema() {
        use diesel_async::RunQueryDsl;
        let db = testkit::TestDb::new().await;
        let mut conn = db.connect().await;
        let queues = [WorkQueue::OutboundJob, WorkQueue::OutboundMessageLog];
        let depth = queues.map(|q| (q.table(), q.depth_sql()));
        let inbox =
            inbox::INBOX_SQL.map(|[plain, searching]| [("inbox page", plain), ("inbox search", searching)]);
        let mut failures = Vec::new();
        for (n, (what, sql)) in STATEMENTS.iter().chain(&depth).chain(inbox.iter().flatten()).enumerate() {
            let prepared = format!("PREPARE statement_{n} AS {sql}");
            if let Err(e) = diesel::sql_query(prepared).execute(&mut conn).await {
                failures.push(format!("{what}: {e}"));
            }
        }
        assert!(failures.is_empty(), "statements that do not prepare:\n{}", failures.join("\n"));
    }
}
