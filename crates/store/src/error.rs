//! What can go wrong talking to Postgres, split by what the caller should do about it.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Postgres cannot be reached or went away; the caller should answer "try later".
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A statement failed for another reason.
    #[error("database query failed")]
    Query(#[source] DieselError),
    /// The database schema is behind the migrations this binary embeds.
    #[error("database has {0} pending migration(s); run the `migrate` subcommand first")]
    PendingMigrations(usize),
    /// The connection settings are unusable (bad URL, `sslmode` or root certificate file).
    #[error("database configuration: {0}")]
    Config(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
}

impl StoreError {
    /// Whether the failure is Postgres being unreachable (as opposed to a bad statement).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Messages Postgres sends when it is shutting down, starting up or out of connections.
const UNAVAILABLE_MESSAGES: [&str; 5] = [
    "terminating connection",
    "the database system is",
    "too many clients",
    "connection closed",
    "server closed the connection",
];

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::DatabaseError(
                DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            DieselError::DatabaseError(_, info)
                if UNAVAILABLE_MESSAGES.iter().any(|m| info.message().contains(m)) =>
            {
                Self::Unavailable(info.message().to_owned())
            }
            _ => Self::Query(e),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for StoreError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::Unavailable(e.to_string())
    }
}
