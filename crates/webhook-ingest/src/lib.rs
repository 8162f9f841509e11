//! `webhook-ingest`: the service Meta POSTs WhatsApp webhooks to.
//!
//! It verifies the signature over the raw body, stores every inbound message with its
//! `outbound_job` (and every delivery status) in one transaction, and answers 200 only
//! after that transaction committed; 503 when Postgres is unavailable, so Meta retries.

mod budget;
pub mod config;
mod error;
pub mod extract;
pub mod quarantine;
mod routes;
mod startup;

pub use config::{Cli, Command, IngestConfig};
pub use startup::Application;
