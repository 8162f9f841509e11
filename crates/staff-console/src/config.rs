//! Command line and environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use store::migrations::MigrateArgs;
use store::{DbArgs, StaffRole};
use telemetry::TelemetryArgs;

/// The staff console: staff read conversations, take them over from the bot, reply on
/// WhatsApp, hand them back, and work through notifications and leads.
#[derive(Debug, Parser)]
#[command(name = "staff-console", version)]
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
    /// Serve the console until SIGTERM. Needs only DATABASE_URL and BIND_ADDR: sessions
    /// live in Postgres, so there is no signing key to manage.
    Serve(ServeConfig),
    /// Apply the embedded database migrations and exit.
    Migrate(MigrateArgs),
    /// Create a staff account, or give an existing one a new password and role. The
    /// password is read from the terminal (asked twice), or from the first line of
    /// standard input when it is not a terminal; never from an argument.
    CreateUser(CreateUserArgs),
}

/// Everything `serve` needs.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8083")]
    pub bind_addr: SocketAddr,
    /// How long a login lasts (hours).
    #[arg(long, env = "SESSION_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=720))]
    pub session_hours: u64,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it,
    /// such as the Kubernetes ingress); otherwise the peer address counts for login limits.
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// The approved message templates staff may send outside the 24-hour window: the same
    /// TOML file outbound-sender reads (deploy/whatsapp-templates.example.toml). Without
    /// it, nothing can be sent once a window has closed.
    #[arg(long, env = "WHATSAPP_TEMPLATES", value_name = "FILE")]
    pub templates: Option<PathBuf>,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,
}

impl ServeConfig {
    /// How long a session lasts.
    pub fn session_lifetime(&self) -> Duration {
        Duration::from_secs(self.session_hours * 3600)
    }
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Reads and answers conversations, notifications and leads.
    Agent,
    /// An agent who also runs operations and manages staff accounts.
    Admin,
}

impl From<RoleArg> for StaffRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Agent => StaffRole::Agent,
            RoleArg::Admin => StaffRole::Admin,
        }
    }
}

/// Everything `create-user` needs.
#[derive(Debug, Clone, Args)]
pub struct CreateUserArgs {
    /// Database connection and pool.
    #[command(flatten)]
    pub db: DbArgs,
    /// The login (stored lower-cased).
    #[arg(long)]
    pub email: String,
    /// What the account may do.
    #[arg(long, value_enum)]
    pub role: RoleArg,
}
