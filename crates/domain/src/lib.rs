//! Types and rules of the WhatsApp pipeline that need no I/O: the Cloud API webhook
//! envelope, the callback data that ties statuses to our sends, configuration secrets, JSON
//! text made storable in `jsonb`,
//! conversation state, the outbound text policy and the approved message templates.
//!
//! This crate must never depend on diesel, actix or reqwest.

pub mod callback;
pub mod conversation;
pub mod redact;
pub mod secret;
pub mod storable_json;
pub mod template;
pub mod text_policy;
pub mod webhook;

pub use secret::{Secret, UnusableSecret};
pub use storable_json::storable_json;
