//! The migration gate of every service: a database behind the binaries' migrations, even
//! by one, is refused at start with a clear message, and `/readyz` turns unready when a
//! migration becomes pending while the service runs.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::time::Duration;

use testkit::TestDb;
use testkit::payloads;
use testkit::service::{ChildService, workspace_binary};
use testkit::sql;

/// The newest migration's folder and its version (the digits of its date and number), which
/// the tests take back.
fn newest_migration() -> (std::path::PathBuf, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let newest = std::fs::read_dir(&root)
        .expect("the migrations folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("up.sql").is_file())
        .max()
        .expect("a migration");
    let name = newest.file_name().and_then(|n| n.to_str()).expect("a folder name").to_owned();
    let version: String =
        name.split('_').next().expect("a version").chars().filter(char::is_ascii_digit).collect();
    (newest, version)
}

/// What each service needs to start besides `DATABASE_URL`.
fn services() -> [(&'static str, Vec<(&'static str, &'static str)>); 3] {
    [
        ("webhook-ingest", vec![("WHATSAPP_APP_SECRET", payloads::APP_SECRET)]),
        ("job-runner", vec![]),
        ("outbound-sender", vec![("WHATSAPP_ACCESS_TOKEN", "token-for-tests")]),
    ]
}

/// A database with every migration but the newest applied.
async fn partly_migrated() -> TestDb {
    let db = TestDb::new().await;
    let (folder, version) = newest_migration();
    let down = std::fs::read_to_string(folder.join("down.sql")).expect("the newest migration's down.sql");
    sql::execute(db.url(), &down).await;
    sql::execute(db.url(), &format!("DELETE FROM __diesel_schema_migrations WHERE version = '{version}'"))
        .await;
    db
}

#[tokio::test(flavor = "multi_thread")]
async fn every_service_refuses_a_database_one_migration_behind() {
    let db = partly_migrated().await;
    for (service, extra) in services() {
        let output = tokio::process::Command::new(workspace_binary(service))
            .arg("serve")
            .env("DATABASE_URL", db.url())
            .env("BIND_ADDR", "127.0.0.1:0")
            .envs(extra)
            .output()
            .await
            .expect("runs");
        assert!(!output.status.success(), "{service} started on a database behind its migrations");
        let printed =
            String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        assert!(printed.contains("1 pending migration"), "{service}: a clear message, got:\n{printed}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_is_unready_while_a_migration_is_pending() {
    let db = TestDb::new().await;
    let (_, version) = newest_migration();
    let http = reqwest::Client::new();
    for (service, extra) in services() {
        let mut env = vec![("DATABASE_URL", db.url())];
        env.extend(extra);
        let running =
            ChildService::start(&workspace_binary(service), &["serve"], &env).await.expect("starts");
        let ready = |url: String| {
            let http = http.clone();
            async move { http.get(url).timeout(Duration::from_secs(10)).send().await.expect("answers") }
        };
        assert_eq!(ready(running.url("/readyz")).await.status(), 200, "{service} is ready when migrated");

        sql::execute(
            db.url(),
            &format!("DELETE FROM __diesel_schema_migrations WHERE version = '{version}'"),
        )
        .await;
        let unready = ready(running.url("/readyz")).await;
        assert_eq!(unready.status(), 503, "{service}");
        let body: serde_json::Value = unready.json().await.expect("JSON");
        assert_eq!(body["reason"], "database not migrated", "{service}: {body}");

        sql::execute(
            db.url(),
            &format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}')"),
        )
        .await;
        assert_eq!(ready(running.url("/readyz")).await.status(), 200, "{service} is ready again");
    }
}
