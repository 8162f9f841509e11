//! job-runner against a real Postgres: conversations, ordering, leases, retries, the HTTP
//! API and the binary.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

mod api;
mod binary;
mod conversations;
mod helpers;
mod operations;
mod queue;
mod redaction;
