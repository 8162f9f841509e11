//! One-line queries for assertions and tools, on a database URL.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    s: String,
}

async fn connect(database_url: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(database_url).await.unwrap_or_else(|e| panic!("cannot connect: {e}"))
}

/// Runs `sql`, which returns one `BIGINT` column named `n`, and returns it.
///
/// # Panics
/// On a database error.
pub async fn count(database_url: &str, sql: &str) -> i64 {
    let mut conn = connect(database_url).await;
    diesel::sql_query(sql).get_result::<Count>(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}")).n
}

/// Runs `sql`, which returns one `TEXT` column named `s`, and returns its rows.
///
/// # Panics
/// On a database error.
pub async fn strings(database_url: &str, sql: &str) -> Vec<String> {
    let mut conn = connect(database_url).await;
    let rows = diesel::sql_query(sql).load::<Row>(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().map(|r| r.s).collect()
}

/// Runs a statement.
///
/// # Panics
/// On a database error.
pub async fn execute(database_url: &str, sql: &str) {
    let mut conn = connect(database_url).await;
    diesel::sql_query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}
