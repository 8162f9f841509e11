//! `outbound-sender`: sends each queued reply to the Graph API exactly once.
//!
//! Replies are claimed under a lease, only the oldest unsettled one of each conversation,
//! never for a paused business number. Before the call the text passes the sanitizer (no
//! service list ever leaves) and free-form texts outside the 24-hour window fail without a
//! call. A reply carrying an approved template (`WHATSAPP_TEMPLATES`) is sent as that
//! template, inside the window or not; one the catalogue does not list fails. Errors are
//! sorted by Meta's code: transient ones retry with backoff (honouring Retry-After),
//! throughput limits pause the number for every replica, permanent ones fail with a
//! notification, token errors also pause sending. A send with no answer becomes
//! `uncertain`: settled by a status webhook echoing its id, else resent (or held) after a
//! window.
//!
//! Beside the replies, [`presence`] marks each customer's newest message read, with a typing
//! indicator while the reply is prepared (`SEND_READ_RECEIPTS`, `SEND_TYPING_INDICATOR`), on a
//! loop of its own that never holds up a reply.

pub mod config;
pub mod presence;
mod sender;
mod startup;

pub use config::{Cli, Command, SenderConfig};
pub use startup::Application;
