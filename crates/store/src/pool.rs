//! The connection pool: diesel-async connections in deadpool, with explicit timeouts so a
//! Postgres outage turns into fast errors instead of piling up requests.

use std::time::Duration;

use clap::builder::RangedU64ValueParser;

use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use domain::Secret;

use crate::StoreError;
use crate::connect::Connector;

/// A pool of Postgres connections shared by a service.
pub type DbPool = Pool<AsyncPgConnection>;

/// A connection checked out of a [`DbPool`].
pub type PooledConnection = Object<AsyncPgConnection>;

/// Database options every service takes (flattened into each binary's command line).
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// Postgres connection URL. `?sslmode=verify-full` connects over TLS, checking the server
    /// certificate against the system's roots, or only against `&sslrootcert=<PEM file>`.
    ///
    /// It holds the password, so it never appears in logs, errors or this help.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Secret,
    /// Most connections this process opens.
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 16, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub database_pool_size: usize,
    /// How long a request waits for a free connection, or for a new one to open, before it
    /// fails as "database unavailable" (milliseconds).
    #[arg(long, env = "DATABASE_TIMEOUT_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub database_timeout_ms: u64,
    /// Statement timeout set on every connection (milliseconds).
    #[arg(long, env = "DATABASE_STATEMENT_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub database_statement_timeout_ms: u64,
}

/// How a pool is built.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The `application_name` Postgres shows in `pg_stat_activity`.
    pub application_name: &'static str,
    /// Most connections.
    pub max_size: usize,
    /// Wait, create and recycle timeout.
    pub timeout: Duration,
    /// `statement_timeout` of every connection.
    pub statement_timeout: Duration,
}

impl DbArgs {
    /// Pool settings from the command line, for the service called `application_name`.
    pub fn pool_settings(&self, application_name: &'static str) -> PoolSettings {
        PoolSettings {
            application_name,
            max_size: self.database_pool_size,
            timeout: Duration::from_millis(self.database_timeout_ms),
            statement_timeout: Duration::from_millis(self.database_statement_timeout_ms),
        }
    }
}

/// Builds a pool. No connection is opened until one is needed, so this succeeds while
/// Postgres is down and the service recovers by itself when it comes back; a malformed URL
/// or an unreadable `sslrootcert` fails here, at start-up (see [`Connector`]).
pub fn build_pool(database_url: &str, settings: &PoolSettings) -> Result<DbPool, StoreError> {
    let connector = Connector::new(database_url)?;
    let setup_sql = format!(
        "SET application_name = '{}'; SET statement_timeout = {}",
        settings.application_name.replace('\'', ""),
        settings.statement_timeout.as_millis()
    );
    let mut manager_config = ManagerConfig::default();
    // A checkout costs no round trip: a connection whose socket closed (Postgres restarted)
    // is dropped on return or checkout; one that breaks mid-query fails that query, which
    // every caller already handles as "database unavailable".
    manager_config.recycling_method = RecyclingMethod::Fast;
    manager_config.custom_setup = Box::new(move |_url| {
        let setup_sql = setup_sql.clone();
        let connector = connector.clone();
        Box::pin(async move {
            let mut conn = connector.connect().await?;
            conn.batch_execute(&setup_sql)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, manager_config);
    Pool::builder(manager)
        .max_size(settings.max_size)
        .wait_timeout(Some(settings.timeout))
        .create_timeout(Some(settings.timeout))
        .recycle_timeout(Some(settings.timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Checks a connection out of the pool.
pub async fn connection(pool: &DbPool) -> Result<PooledConnection, StoreError> {
    Ok(pool.get().await?)
}
