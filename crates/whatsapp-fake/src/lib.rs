//! `whatsapp-fake`: a Graph API double.
//!
//! It answers `POST /{version}/{phone_number_id}/messages` the way the Cloud API does (bearer
//! token, `messaging_product`, `to`, text of 1 to 4,096 characters or a template with a name,
//! a language code and text body parameters Meta would accept; a wamid on success, Meta's
//! error envelope otherwise), records every accepted send (`GET /_fake/sends`), injects faults
//! set by flags or at run time (`PUT /_fake/faults`): error rates by code, latency, accepted
//! sends whose answer never comes, connection resets, throughput limits; and posts signed
//! status webhooks (sent, delivered, read, echoing `biz_opaque_callback_data`) to a
//! configured ingest URL. Read receipts on the same endpoint (`"status": "read"`, with or
//! without `typing_indicator`) are answered `{"success": true}` and recorded apart
//! (`GET /_fake/presence`), with faults of their own (`FAKE_PRESENCE_*`).

pub mod config;
mod presence;
mod server;
mod state;
mod statuses;

pub use config::{Cli, Faults};
pub use server::Fake;
pub use state::{RecordedPresence, RecordedSend};
