//! A fresh, migrated database per test.
//!
//! With `DATABASE_URL` set, test databases are created on that server (its user needs
//! `CREATEDB`); otherwise on this process's throwaway cluster ([`crate::postgres::shared`]).
//! Each database is dropped when its [`TestDb`] is dropped, so parallel tests never share
//! rows and nothing is left behind.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use store::{DbPool, PoolSettings};

/// A migrated database of its own for one test.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDb {
    /// Creates and migrates a new database.
    ///
    /// # Panics
    /// When no Postgres can be reached or started: a test cannot run without one.
    pub async fn new() -> Self {
        let admin_url = admin_url();
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let url = with_database(&admin_url, &name);
        let mut admin = AsyncPgConnection::establish(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test Postgres: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
        store::migrations::run_pending(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot migrate test database: {e}"));
        Self { name, url, admin_url }
    }

    /// The database's connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A pool on this database.
    ///
    /// # Panics
    /// When the pool cannot be built (it opens no connection, so only on a bad URL).
    pub fn pool(&self) -> DbPool {
        let settings = PoolSettings {
            application_name: "testkit",
            max_size: 8,
            timeout: std::time::Duration::from_secs(5),
            statement_timeout: std::time::Duration::from_secs(30),
        };
        store::build_pool(&self.url, &settings).unwrap_or_else(|e| panic!("test pool: {e}"))
    }

    /// A single connection for assertions.
    ///
    /// # Panics
    /// When the database cannot be reached.
    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to test database: {e}"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop runs outside async code, possibly inside a runtime: use a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut admin = AsyncPgConnection::establish(&admin_url).await.ok()?;
                admin.batch_execute(&sql).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("testkit: could not drop test database {}", self.name);
        }
    }
}

/// The URL of the maintenance database new test databases are created from.
fn admin_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => crate::postgres::shared()
            .unwrap_or_else(|e| panic!("no DATABASE_URL and no throwaway Postgres: {e}"))
            .url("postgres"),
    }
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced_and_query_kept() {
        assert_eq!(with_database("postgres://u@h:5/a", "b"), "postgres://u@h:5/b");
        assert_eq!(with_database("postgres://u@h:5", "b"), "postgres://u@h:5/b");
        assert_eq!(
            with_database("postgres://u:p@h/a?sslmode=disable", "b"),
            "postgres://u:p@h/b?sslmode=disable"
        );
    }
}
