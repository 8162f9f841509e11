//! Command line and environment.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use domain::Secret;
use store::DbArgs;
use store::migrations::MigrateArgs;
use telemetry::TelemetryArgs;

/// Receives WhatsApp Cloud API webhooks, stores every message and status, and enqueues one
/// outbound job per inbound message.
#[derive(Debug, Parser)]
#[command(name = "webhook-ingest", version)]
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
    /// Serve the webhook endpoint, health checks and metrics.
    Serve(IngestConfig),
    /// Apply the embedded database migrations and exit.
    Migrate(MigrateArgs),
    /// List quarantined delivery items, or store one again after a fix.
    Quarantine(QuarantineArgs),
}

/// `quarantine list` and `quarantine redrive --id N`.
#[derive(Debug, Clone, clap::Args)]
pub struct QuarantineArgs {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// The business numbers served (as for `serve`): a redriven message for another is
    /// quarantined again.
    #[arg(long, env = "WHATSAPP_PHONE_NUMBER_IDS", value_delimiter = ',')]
    pub phone_number_ids: Vec<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: QuarantineAction,
}

/// What `quarantine` does.
#[derive(Debug, Clone, Subcommand)]
pub enum QuarantineAction {
    /// Print quarantined items (pending first): id, time, kind, reason; never their content.
    List {
        /// Most items printed.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Store item `--id` again, as if just delivered, and mark it redriven.
    Redrive {
        /// The `quarantine.id`.
        #[arg(long)]
        id: i64,
    },
}

/// Everything `serve` needs.
#[derive(Debug, Clone, clap::Args)]
pub struct IngestConfig {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "0.0.0.0:8080")]
    pub bind_addr: SocketAddr,
    /// The Meta app secret that signs webhooks (X-Hub-Signature-256).
    #[arg(long, env = "WHATSAPP_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<Secret>,
    /// The token Meta echoes in the GET verification handshake.
    #[arg(long, env = "WHATSAPP_VERIFY_TOKEN", hide_env_values = true)]
    pub verify_token: Option<Secret>,
    /// Accept POSTs without a signature header (local development only; a wrong signature
    /// is still rejected).
    #[arg(long, env = "WEBHOOK_ALLOW_UNSIGNED", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_unsigned: bool,
    /// Largest accepted body in bytes (Meta sends at most 3 MiB).
    #[arg(long, env = "WEBHOOK_MAX_BODY_BYTES", default_value_t = 3 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// How long a client may take to send the body, in seconds.
    #[arg(long, env = "WEBHOOK_BODY_TIMEOUT_SECS", default_value_t = 10)]
    pub body_timeout_secs: u64,
    /// Connections that store webhooks (at most the pool size). Deliveries that arrive while
    /// every one of them is busy are stored together in one transaction, so fewer make larger
    /// groups and fewer commits.
    #[arg(long, env = "INGEST_COMMITTERS", default_value_t = 4)]
    pub committers: usize,
    /// HTTP worker threads (default: one per CPU).
    #[arg(long, env = "HTTP_WORKERS")]
    pub http_workers: Option<usize>,
    /// The business numbers (Graph API phone number ids, comma-separated) this deployment
    /// serves. Messages for others are acknowledged, quarantined and never answered. Unset
    /// serves any number (with a warning at start).
    #[arg(long, env = "WHATSAPP_PHONE_NUMBER_IDS", value_delimiter = ',')]
    pub phone_number_ids: Vec<String>,
    /// Body bytes all requests of the process may hold at once, read but not yet stored.
    /// A request that would exceed it is answered 503 with Retry-After.
    #[arg(long, env = "WEBHOOK_MAX_INFLIGHT_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_inflight_bytes: usize,
    /// Most open connections per HTTP worker; more wait in the listen backlog.
    #[arg(long, env = "HTTP_MAX_CONNECTIONS", default_value_t = 256)]
    pub max_connections: usize,
    /// Most messages and statuses stored from one delivery (Meta batches at most 1,000);
    /// items past it are quarantined.
    #[arg(long, env = "WEBHOOK_MAX_ITEMS", default_value_t = 2000)]
    pub max_items: usize,
    /// Seconds to finish in-flight requests after SIGTERM before exiting.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 25)]
    pub shutdown_timeout_secs: u64,
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Signed webhooks cannot be verified without the app secret.
    #[error(
        "WHATSAPP_APP_SECRET is not set: webhooks cannot be verified. Set it, or set \
         WEBHOOK_ALLOW_UNSIGNED=true for local development"
    )]
    MissingAppSecret,
    /// A body limit of zero accepts nothing.
    #[error("WEBHOOK_MAX_BODY_BYTES must be at least 1")]
    ZeroBodyLimit,
    /// A listed business number is not a phone number id.
    #[error("WHATSAPP_PHONE_NUMBER_IDS: each entry must be a phone number id (digits only)")]
    BadPhoneNumberId,
    /// A limit of zero accepts nothing.
    #[error("{0} must be at least 1")]
    ZeroLimit(&'static str),
    /// A secret is set but empty or a placeholder.
    #[error(transparent)]
    Secret(#[from] domain::UnusableSecret),
}

/// The entries of `WHATSAPP_PHONE_NUMBER_IDS`, trimmed, empty ones (`VAR=` or `a,,b`) left out.
pub fn served_numbers(ids: &[String]) -> Vec<String> {
    ids.iter().map(|id| id.trim()).filter(|id| !id.is_empty()).map(str::to_owned).collect()
}

impl IngestConfig {
    /// Checks the configuration can work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(secret) = &self.app_secret {
            secret.check_usable("WHATSAPP_APP_SECRET")?;
        }
        if let Some(token) = &self.verify_token {
            token.check_usable("WHATSAPP_VERIFY_TOKEN")?;
        }
        if self.app_secret.is_none() && !self.allow_unsigned {
            return Err(ConfigError::MissingAppSecret);
        }
        if self.max_body_bytes == 0 {
            return Err(ConfigError::ZeroBodyLimit);
        }
        if !served_numbers(&self.phone_number_ids).iter().all(|id| crate::extract::is_business_number(id)) {
            return Err(ConfigError::BadPhoneNumberId);
        }
        for (name, value) in [
            ("WEBHOOK_MAX_INFLIGHT_BYTES", self.max_inflight_bytes),
            ("HTTP_MAX_CONNECTIONS", self.max_connections),
            ("WEBHOOK_MAX_ITEMS", self.max_items),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit(name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::served_numbers;

    #[test]
    fn served_numbers_are_trimmed_and_empty_entries_dropped() {
        let ids = ["106540352242922", " 42 ", "", " "].map(str::to_owned);
        assert_eq!(served_numbers(&ids), ["106540352242922", "42"]);
        assert!(served_numbers(&[String::new()]).is_empty(), "WHATSAPP_PHONE_NUMBER_IDS= serves any");
    }
}
