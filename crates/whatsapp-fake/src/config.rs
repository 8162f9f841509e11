//! Command line, environment and run-time fault settings.

use std::net::SocketAddr;

use clap::{Args, Parser};
use domain::Secret;
use serde::{Deserialize, Serialize};
use telemetry::TelemetryArgs;

/// A Graph API double for local runs and tests.
#[derive(Debug, Parser)]
#[command(name = "whatsapp-fake", version)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8090")]
    pub bind_addr: SocketAddr,
    /// The access token senders must present.
    #[arg(long, env = "FAKE_ACCESS_TOKEN", default_value = "fake-access-token", hide_env_values = true)]
    pub access_token: Secret,
    /// Where to POST status webhooks (webhook-ingest's `/api/webhooks/whatsapp`); none
    /// are sent when unset.
    #[arg(long, env = "FAKE_INGEST_URL")]
    pub ingest_url: Option<String>,
    /// The app secret status webhooks are signed with.
    #[arg(long, env = "FAKE_APP_SECRET", default_value = "fake-app-secret", hide_env_values = true)]
    pub app_secret: Secret,
    /// Faults, changeable at run time with `PUT /_fake/faults`.
    #[command(flatten)]
    pub faults: Faults,
    /// Logging.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// What the fake does wrong, on purpose.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Share of sends answered with an error (0 to 1).
    #[arg(long, env = "FAKE_ERROR_RATE", default_value_t = 0.0)]
    pub error_rate: f64,
    /// Error codes to answer with, picked at random (131000 unknown, 130429 throughput,
    /// 131026 undeliverable, 190 expired token, ...).
    #[arg(long, env = "FAKE_ERROR_CODES", value_delimiter = ',', default_value = "131000")]
    pub error_codes: Vec<i64>,
    /// Least added latency per send, in milliseconds.
    #[arg(long, env = "FAKE_LATENCY_MIN_MS", default_value_t = 0)]
    pub latency_min_ms: u64,
    /// Most added latency per send, in milliseconds (uniform between min and max).
    #[arg(long, env = "FAKE_LATENCY_MAX_MS", default_value_t = 0)]
    pub latency_max_ms: u64,
    /// Share of sends accepted and recorded whose answer never comes (the connection is
    /// held open until the client gives up).
    #[arg(long, env = "FAKE_LOST_RESPONSE_RATE", default_value_t = 0.0)]
    pub lost_response_rate: f64,
    /// Whether sends with a lost answer still get their status webhooks.
    #[arg(long, env = "FAKE_LOST_RESPONSE_STATUSES", default_value_t = true, action = clap::ArgAction::Set)]
    pub lost_response_statuses: bool,
    /// Share of sends accepted and recorded whose connection is then dropped without an
    /// answer.
    #[arg(long, env = "FAKE_RESET_RATE", default_value_t = 0.0)]
    pub reset_rate: f64,
    /// Most sends per second per business number before answering 130429 (0: no limit).
    #[arg(long, env = "FAKE_MAX_PER_SECOND", default_value_t = 0)]
    pub max_per_second: u32,
    /// `Retry-After` (seconds) on every error answer (0: none).
    #[arg(long, env = "FAKE_RETRY_AFTER_SECS", default_value_t = 0)]
    pub retry_after_secs: u64,
    /// Share of read receipts (with or without a typing indicator) answered with an error
    /// of `FAKE_ERROR_CODES` (0 to 1); sends are not affected.
    #[arg(long, env = "FAKE_PRESENCE_ERROR_RATE", default_value_t = 0.0)]
    pub presence_error_rate: f64,
    /// Added latency per read receipt, in milliseconds; sends are not affected.
    #[arg(long, env = "FAKE_PRESENCE_LATENCY_MS", default_value_t = 0)]
    pub presence_latency_ms: u64,
    /// Statuses posted for each accepted send, in order.
    #[arg(long, env = "FAKE_STATUSES", value_delimiter = ',', default_value = "sent,delivered,read")]
    pub statuses: Vec<String>,
    /// Pause before each status webhook, in milliseconds.
    #[arg(long, env = "FAKE_STATUS_DELAY_MS", default_value_t = 20)]
    pub status_delay_ms: u64,
}
