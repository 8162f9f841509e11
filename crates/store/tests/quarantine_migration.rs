//! The quarantine and profile-name migrations revert and apply again cleanly.

use diesel_async::SimpleAsyncConnection;
use testkit::TestDb;

const QUARANTINE_UP: &str = include_str!("../../../migrations/2026-12-02-000007_quarantine/up.sql");
const QUARANTINE_DOWN: &str = include_str!("../../../migrations/2026-12-02-000007_quarantine/down.sql");
const PROFILE_UP: &str = include_str!("../../../migrations/2026-12-02-000008_contact_profile_name_at/up.sql");
const PROFILE_DOWN: &str =
    include_str!("../../../migrations/2026-12-02-000008_contact_profile_name_at/down.sql");

#[tokio::test(flavor = "multi_thread")]
async fn down_then_up_leaves_the_same_tables() {
    let db = TestDb::new().await;
    let tables = "SELECT count(*) AS n FROM information_schema.columns \
                  WHERE (table_name = 'quarantine') OR (table_name = 'contact' AND column_name = 'profile_name_at')";
    let migrated = testkit::sql::count(db.url(), tables).await;
    assert!(migrated > 10);
    let mut conn = db.connect().await;
    for sql in [PROFILE_DOWN, QUARANTINE_DOWN] {
        conn.batch_execute(sql).await.expect("down");
    }
    assert_eq!(testkit::sql::count(db.url(), tables).await, 0);
    for sql in [QUARANTINE_UP, PROFILE_UP] {
        conn.batch_execute(sql).await.expect("up");
    }
    assert_eq!(testkit::sql::count(db.url(), tables).await, migrated);
    let refusal =
        "SELECT count(*) AS n FROM (SELECT jsonb_refusal('1e200000') AS r) x WHERE r LIKE '22003 %'";
    assert_eq!(testkit::sql::count(db.url(), refusal).await, 1);
}
