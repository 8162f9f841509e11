//! Postgres access for every service: the diesel schema, a diesel-async deadpool pool,
//! the embedded migrations and every SQL statement the services run.
//!
//! Callers get typed functions; no SQL lives outside this crate.

pub mod connect;
mod error;
pub mod group_commit;
pub mod ingest;
pub mod jobs;
pub mod lease;
pub mod listen;
pub mod maintenance;
pub mod migrations;
pub mod notifications;
pub mod outbound;
mod pool;
mod prepared;
pub mod redrive;
pub mod schema;
pub mod transcripts;
pub mod vocab;

pub use connect::Connector;
pub use diesel_async::AsyncPgConnection;
pub use error::StoreError;
pub use lease::{Fenced, Lease, Origin, Retry};
pub use pool::{DbArgs, DbPool, PoolSettings, PooledConnection, build_pool, connection};
pub use vocab::{JobStatus, LeadStatus, NoticeKind, SendStatus};

/// The channel `webhook-ingest` notifies when it enqueues an `outbound_job`.
pub const OUTBOUND_JOB_CHANNEL: &str = "outbound_job_queued";
