//! The migrations in `migrations/`, embedded into every binary.

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sql_types::{Array, Nullable, Text};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use domain::Secret;

use crate::StoreError;
use crate::prepared::Count;

/// Every migration of the workspace.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The versions of the embedded migrations.
fn embedded_versions() -> Result<Vec<String>, StoreError> {
    let migrations =
        MigrationSource::<Pg>::migrations(&MIGRATIONS).map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(migrations.iter().map(|m| m.name().version().to_string()).collect())
}

/// Applies every pending migration and returns the versions it applied.
///
/// Runs the synchronous diesel harness on a blocking thread, so it works from any runtime.
pub async fn run_pending(database_url: &str) -> Result<Vec<String>, StoreError> {
    let conn = crate::connect::connect(database_url).await?;
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        let applied =
            conn.run_pending_migrations(MIGRATIONS).map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
    .map_err(|e| StoreError::Migration(e.to_string()))?
}

#[derive(QueryableByName)]
struct Regclass {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

/// How many embedded migrations the database has not applied yet.
pub async fn pending_count(conn: &mut AsyncPgConnection) -> Result<usize, StoreError> {
    let versions = embedded_versions()?;
    let table = diesel::sql_query("SELECT to_regclass('__diesel_schema_migrations')::text AS name")
        .get_result::<Regclass>(conn)
        .await
        .optional()?;
    if table.and_then(|t| t.name).is_none() {
        return Ok(versions.len());
    }
    let applied =
        diesel::sql_query("SELECT count(*) AS n FROM __diesel_schema_migrations WHERE version = ANY($1)")
            .bind::<Array<Text>, _>(&versions)
            .get_result::<Count>(conn)
            .await?
            .n;
    Ok(versions.len().saturating_sub(usize::try_from(applied).unwrap_or(0)))
}

/// Fails with [`StoreError::PendingMigrations`] when the database is behind this binary.
pub async fn ensure_current(pool: &crate::DbPool) -> Result<(), StoreError> {
    match pending_count(&mut *crate::connection(pool).await?).await? {
        0 => Ok(()),
        n => Err(StoreError::PendingMigrations(n)),
    }
}

/// The start-up check every service runs: refuses a database behind this binary's
/// migrations; an unreachable database is only logged (the service answers "unavailable"
/// until it is back, and recovers by itself).
pub async fn refuse_if_behind(pool: &crate::DbPool) -> Result<(), StoreError> {
    match ensure_current(pool).await {
        Err(StoreError::Unavailable(reason)) => {
            tracing::warn!(%reason, "database unreachable at start; waiting for it");
            Ok(())
        }
        other => other,
    }
}

/// The `migrate` subcommand every service binary has.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    /// Postgres connection URL (a [`Secret`]: it holds the password).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Secret,
}

impl MigrateArgs {
    /// Applies the pending migrations and logs what was applied.
    pub async fn run(&self) -> Result<(), StoreError> {
        let applied = run_pending(self.database_url.expose()).await?;
        tracing::info!(applied = applied.len(), versions = ?applied, "migrations applied");
        Ok(())
    }
}
