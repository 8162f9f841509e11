//! The throwaway cluster starts, serves migrated databases, survives a stop and restart,
//! and removes its files when dropped.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use testkit::{ClusterOptions, PgCluster, TestDb};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread")]
async fn test_databases_are_migrated_and_separate() {
    let (a, b) = tokio::join!(TestDb::new(), TestDb::new());
    assert_ne!(a.url(), b.url());
    let mut conn = a.connect().await;
    let tables = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name IN ('contact', 'conversation', 'lead', 'inbound_message', 'outbound_job', \
         'outbound_message_log', 'message_status_event', 'notification')",
    )
    .get_result::<Count>(&mut conn)
    .await
    .expect("count tables");
    assert_eq!(tables.n, 8);
    // The one index built CONCURRENTLY, outside a transaction, is there and valid.
    let valid_indexes = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_index WHERE indisvalid \
         AND indexrelid = 'outbound_message_log_outbound_job'::regclass",
    )
    .get_result::<Count>(&mut conn)
    .await
    .expect("count indexes");
    assert_eq!(valid_indexes.n, 1);
    assert_eq!(store::migrations::pending_count(&mut conn).await.expect("pending"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_cluster_stops_restarts_and_cleans_up() {
    let cluster = tokio::task::spawn_blocking(|| PgCluster::start(&ClusterOptions::default()))
        .await
        .expect("join")
        .expect("cluster starts");
    let url = cluster.url("postgres");
    AsyncPgConnection::establish(&url).await.expect("connects");

    cluster.stop().expect("stops");
    assert!(AsyncPgConnection::establish(&url).await.is_err(), "down after stop");
    cluster.restart().expect("restarts");
    AsyncPgConnection::establish(&url).await.expect("connects after restart");

    let dir = cluster.dir().to_path_buf();
    assert!(dir.exists());
    drop(cluster);
    assert!(!dir.exists(), "cluster directory removed on drop");
    assert!(AsyncPgConnection::establish(&url).await.is_err(), "stopped on drop");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_asked_to_live_where_its_user_cannot_go_starts_in_the_temporary_directory() {
    use std::os::unix::fs::PermissionsExt;
    // A checkout inside a directory only its owner may enter (`mktemp -d` makes one): when
    // the tests run as root, the cluster runs as an unprivileged user who cannot reach it.
    let private = std::env::temp_dir().join(format!("private-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&private).expect("create");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let options = ClusterOptions { parent_dir: Some(private.join("target")), ..ClusterOptions::default() };

    let cluster = tokio::task::spawn_blocking(move || PgCluster::start(&options))
        .await
        .expect("join")
        .expect("cluster starts");
    AsyncPgConnection::establish(&cluster.url("postgres")).await.expect("connects");
    drop(cluster);
    std::fs::remove_dir_all(&private).expect("clean up");
}
