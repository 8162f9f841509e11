//! Command line and environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use domain::Secret;
use domain::template::TemplateCatalogue;
use store::DbArgs;
use store::migrations::MigrateArgs;
use store::outbound::UncertainPolicy;
use telemetry::TelemetryArgs;
use whatsapp::templates::TemplatesError;
use worker::{RetryCapBelowBase, RetryPolicy};

use crate::presence::PresenceMode;

/// Sends queued replies to the WhatsApp Cloud API, exactly once and in order.
#[derive(Debug, Parser)]
#[command(name = "outbound-sender", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Logging and tracing.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send replies as they are queued (LISTEN/NOTIFY, with polling as a fallback) until
    /// SIGTERM, serving health checks and metrics.
    Serve(Box<SenderConfig>),
    /// Apply the embedded database migrations and exit.
    Migrate(MigrateArgs),
}

/// What to do with a send whose outcome stayed unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// Send it again once the window passed without a delivery status.
    Resend,
    /// Keep it and notify staff.
    Hold,
}

impl From<PolicyArg> for UncertainPolicy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::Resend => Self::Resend,
            PolicyArg::Hold => Self::Hold,
        }
    }
}

/// Everything `serve` needs.
#[derive(Debug, Clone, Args)]
pub struct SenderConfig {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// Address of the health and metrics endpoints.
    #[arg(long, env = "BIND_ADDR", default_value = "0.0.0.0:8082")]
    pub bind_addr: SocketAddr,
    /// Graph API base URL (the real API, or whatsapp-fake).
    #[arg(long, env = "WHATSAPP_API_BASE_URL", default_value = "https://graph.facebook.com")]
    pub api_base_url: String,
    /// Graph API version.
    #[arg(long, env = "WHATSAPP_API_VERSION", default_value = "v25.0")]
    pub api_version: String,
    /// System-user access token for the Graph API.
    #[arg(long, env = "WHATSAPP_ACCESS_TOKEN", hide_env_values = true)]
    pub access_token: Secret,
    /// Sends in flight at once.
    #[arg(long, env = "SEND_CONCURRENCY", default_value_t = 8, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub concurrency: usize,
    /// Connections recording sends Meta accepted. Results that arrive while every one of
    /// them is busy are recorded together, in one statement, so fewer make larger groups.
    #[arg(long, env = "SEND_COMMITTERS", default_value_t = 1, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub committers: usize,
    /// Most replies claimed per query.
    #[arg(long, env = "SEND_BATCH_SIZE", default_value_t = 32, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub batch_size: usize,
    /// How long the Graph API may take to answer, in seconds; no answer makes the send
    /// uncertain.
    #[arg(long, env = "SEND_TIMEOUT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_secs: u64,
    /// How often to look for due replies without a notification, in milliseconds.
    #[arg(long, env = "SEND_POLL_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval_ms: u64,
    /// Delay before the first retry of a transient error, in milliseconds; doubles each
    /// attempt (Meta's Retry-After wins when longer).
    #[arg(long, env = "SEND_RETRY_BASE_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub retry_base_ms: u64,
    /// Longest delay between retries, in milliseconds.
    #[arg(long, env = "SEND_RETRY_MAX_MS", default_value_t = 300_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub retry_max_ms: u64,
    /// How long an uncertain send waits for a status webhook before the policy applies.
    #[arg(long, env = "SEND_UNCERTAIN_WINDOW_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub uncertain_window_secs: u64,
    /// What to do when that window passes.
    #[arg(long, env = "SEND_UNCERTAIN_POLICY", value_enum, default_value_t = PolicyArg::Resend)]
    pub uncertain_policy: PolicyArg,
    /// Sends per second per business number from this process (Meta's default: 80).
    #[arg(long, env = "SEND_RATE_PER_SECOND", default_value_t = 80, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_per_second: u32,
    /// How long every replica pauses a business number after a throughput-limit error when
    /// Meta gives no Retry-After, in seconds.
    #[arg(long, env = "SEND_THROTTLE_PAUSE_SECS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub throttle_pause_secs: u64,
    /// How long every replica pauses a business number after an access-token error, in
    /// seconds.
    #[arg(long, env = "SEND_AUTH_PAUSE_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub auth_pause_secs: u64,
    /// Seconds to finish in-flight sends after SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 25)]
    pub shutdown_timeout_secs: u64,
    /// The approved message templates: a TOML file of `[[template]]` tables (name and
    /// language as approved at Meta, body, parameter labels;
    /// deploy/whatsapp-templates.example.toml). A queued template is sent only when listed
    /// here. Without it, no template is.
    #[arg(long, env = "WHATSAPP_TEMPLATES", value_name = "FILE")]
    pub templates: Option<PathBuf>,
    /// Mark each customer's newest message read (blue ticks) as soon as it is stored, at
    /// most once a second per conversation; never after its reply went out, never to a
    /// customer who opted out.
    #[arg(long, env = "SEND_READ_RECEIPTS", default_value_t = true, action = ArgAction::Set)]
    pub read_receipts: bool,
    /// With the read receipt, show "typing…" while the bot prepares the reply (until the
    /// reply, or for 25 s). WhatsApp shows it only with a read receipt: off when
    /// SEND_READ_RECEIPTS is.
    #[arg(long, env = "SEND_TYPING_INDICATOR", default_value_t = true, action = ArgAction::Set)]
    pub typing_indicator: bool,
}

impl SenderConfig {
    /// The retry delays; clap's ranges check each option, this how they relate.
    pub fn retry(&self) -> Result<RetryPolicy, RetryCapBelowBase> {
        RetryPolicy::from_millis("SEND", self.retry_base_ms, self.retry_max_ms)
    }

    /// The HTTP timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// The template catalogue, read from `WHATSAPP_TEMPLATES` (empty when unset).
    pub fn templates(&self) -> Result<TemplateCatalogue, TemplatesError> {
        whatsapp::templates::read_catalogue(self.templates.as_deref())
    }

    /// What presence customers see: none without read receipts.
    pub fn presence(&self) -> Option<PresenceMode> {
        match (self.read_receipts, self.typing_indicator) {
            (false, _) => None,
            (true, false) => Some(PresenceMode::Read),
            (true, true) => Some(PresenceMode::ReadAndTyping),
        }
    }

    /// The lease of a claimed send: the HTTP call must end well inside it.
    pub fn lease(&self) -> Duration {
        self.timeout() * 2 + Duration::from_secs(5)
    }
}
