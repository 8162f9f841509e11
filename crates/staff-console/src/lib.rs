//! `staff-console`: the web console where staff read conversations, take them over from
//! the bot, reply on WhatsApp, hand them back, and work through notifications and leads.
//!
//! Server-rendered HTML ([`maud`], escaped by construction) with one small embedded
//! script. Like every service it coordinates only through Postgres: staff replies are rows
//! of `outbound_message_log` that outbound-sender sends in order with the bot's, exactly
//! once per form; taking a conversation over sets `conversation.held_by`, which silences
//! the bot; live updates come from LISTEN/NOTIFY.

pub mod assets;
pub mod auth;
pub mod config;
pub mod error;
pub mod events;
pub mod pages;
pub mod password;
mod startup;
pub mod users;

use std::time::Duration;

pub use config::{Cli, Command, CreateUserArgs, ServeConfig};
use domain::template::TemplateCatalogue;
pub use startup::Application;
use store::DbPool;
use telemetry::metrics::Counter;
use worker::CancellationToken;

/// The counters the console exports from its start.
pub const COUNTERS: &[Counter] = &[
    Counter { name: "console_logins_total", labels: &[("outcome", "ok")], help: "Staff logins, by outcome" },
    Counter {
        name: "console_logins_total",
        labels: &[("outcome", "refused")],
        help: "Staff logins, by outcome",
    },
    Counter {
        name: "console_logins_total",
        labels: &[("outcome", "limited")],
        help: "Staff logins, by outcome",
    },
    Counter {
        name: "console_replies_total",
        labels: &[("outcome", "queued")],
        help: "Staff replies, by outcome",
    },
    Counter {
        name: "console_replies_total",
        labels: &[("outcome", "duplicate")],
        help: "Staff replies, by outcome",
    },
];

/// Password checks at once, per process.
pub const PASSWORD_CHECKS: usize = 2;

/// What every handler shares.
pub struct Console {
    /// The database.
    pub pool: DbPool,
    /// How long a login lasts.
    pub session_lifetime: Duration,
    /// Whether `X-Forwarded-For` names the client.
    pub trust_forwarded_for: bool,
    /// The approved templates, for replies outside the 24-hour window.
    pub templates: TemplateCatalogue,
    /// Password hashes computed at once (each argon2id check takes 19 MiB and a core for
    /// tens of milliseconds): a burst of logins queues instead of exhausting memory.
    pub password_checks: tokio::sync::Semaphore,
    /// Live updates for open pages.
    pub activity: events::Activity,
    /// Cancelled when the console stops (ends the event streams).
    pub stop: CancellationToken,
}
