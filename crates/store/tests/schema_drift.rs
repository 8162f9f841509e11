//! `src/schema.rs` is written by hand; this holds it to the migrations: every table and
//! column it declares exists with that type and nullability, and every column of those
//! tables is declared (so a migration that adds a column fails here until the schema says so).

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::collections::BTreeMap;

use testkit::TestDb;

/// `table -> column -> (Postgres type, nullable)`.
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// The tables and columns `schema.rs` declares, with Postgres' names for their types.
fn declared() -> Columns {
    let source = include_str!("../src/schema.rs");
    let mut tables = Columns::new();
    let mut current: Option<String> = None;
    for line in source.lines().map(str::trim) {
        if let Some(head) = line.strip_suffix('{').filter(|h| h.contains('(')) {
            let name = head.split('(').next().expect("a table name").trim().to_owned();
            tables.insert(name.clone(), BTreeMap::new());
            current = Some(name);
        } else if let (Some(table), Some((column, kind))) = (&current, line.split_once(" -> ")) {
            let kind = kind.trim_end_matches(',');
            let (kind, nullable) = match kind.strip_prefix("Nullable<").and_then(|k| k.strip_suffix('>')) {
                Some(inner) => (inner, true),
                None => (kind, false),
            };
            let pg = match kind {
                "Int8" => "bigint",
                "Int4" => "integer",
                "Text" => "text",
                "Timestamptz" => "timestamp with time zone",
                "Jsonb" => "jsonb",
                "Uuid" => "uuid",
                "Bool" => "boolean",
                "Float8" => "double precision",
                other => panic!("schema_drift does not know the diesel type {other}; add it"),
            };
            tables.get_mut(table).expect("declared").insert(column.to_owned(), (pg.to_owned(), nullable));
        } else if line == "}" {
            current = None;
        }
    }
    tables
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_rs_matches_the_migrated_database() {
    let declared = declared();
    assert!(declared.len() >= 8, "the parser found the tables: {:?}", declared.keys());
    let db = TestDb::new().await;
    let rows = testkit::sql::strings(
        db.url(),
        "SELECT table_name || '|' || column_name || '|' || data_type || '|' || is_nullable AS s
         FROM information_schema.columns WHERE table_schema = 'public'
           AND table_name <> '__diesel_schema_migrations'",
    )
    .await;
    let mut migrated = Columns::new();
    for row in rows {
        let [table, column, kind, nullable] = row.split('|').collect::<Vec<_>>()[..] else {
            panic!("unexpected row {row}");
        };
        migrated
            .entry(table.to_owned())
            .or_default()
            .insert(column.to_owned(), (kind.to_owned(), nullable == "YES"));
    }
    for (table, columns) in &declared {
        let actual = migrated
            .get(table)
            .unwrap_or_else(|| panic!("schema.rs declares {table}, no migration creates it"));
        assert_eq!(columns, actual, "table {table}: schema.rs (left) against the migrations (right)");
    }
    let undeclared: Vec<&String> = migrated.keys().filter(|t| !declared.contains_key(*t)).collect();
    assert!(
        undeclared.is_empty(),
        "tables the migrations create and schema.rs does not declare: {undeclared:?}"
    );
}
