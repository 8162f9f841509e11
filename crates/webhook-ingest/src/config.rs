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
    /// A secret is set but empty or a placeholder.
    #[error(transparent)]
    Secret(#[from] domain::UnusableSecret),
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
        Ok(())
    }
}
