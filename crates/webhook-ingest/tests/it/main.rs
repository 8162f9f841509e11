//! webhook-ingest over HTTP on a real port, against a real Postgres.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

mod binary;
mod hardening;
mod helpers;
mod inflight;
mod measure;
mod messages;
mod outage;
mod quarantine;
mod redaction;
mod rejects;
mod replays;
mod slow_clients;
mod statuses;
