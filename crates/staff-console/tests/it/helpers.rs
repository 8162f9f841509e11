//! A console on its own database, staff accounts, and a browser-like client.

use std::sync::LazyLock;
use std::time::Duration;

use domain::webhook::MessageType;
use staff_console::{Application, ServeConfig};
use store::ingest::InboundRecord;
use store::{DbPool, StaffRole};
pub use testkit::console::ConsoleClient;
use testkit::payloads::unique_wamid;
use testkit::{TestDb, records};

pub const PASSWORD: &str = "a long staff password";

/// One argon2id hash of [`PASSWORD`] for every test (hashing is slow on purpose).
static HASH: LazyLock<String> = LazyLock::new(|| staff_console::password::hash(PASSWORD).expect("hash"));

pub struct Console {
    pub db: TestDb,
    pub pool: DbPool,
    pub base: String,
    stop: worker::CancellationToken,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Console {
    pub async fn start() -> Self {
        let db = TestDb::new().await;
        let pool = db.pool();
        let config = ServeConfig {
            db: store::DbArgs {
                database_url: domain::Secret::new(db.url().to_owned()),
                database_pool_size: 4,
                database_timeout_ms: 5000,
                database_statement_timeout_ms: 10_000,
            },
            bind_addr: "127.0.0.1:0".parse().expect("addr"),
            session_hours: 12,
            trust_forwarded_for: true,
            templates: Some(
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/whatsapp-templates.example.toml").into(),
            ),
            shutdown_timeout_secs: 1,
        };
        let app = Application::build(config).await.expect("console starts");
        let base = format!("http://{}", app.addr());
        let stop = app.stop_handle();
        tokio::spawn(app.run_until_stopped());
        Self { db, pool, base, stop }
    }

    /// Creates an account with [`PASSWORD`].
    pub async fn user(&self, email: &str, role: StaffRole) -> i64 {
        store::staff::save_user(&self.pool, None, email, &HASH, role).await.expect("save user").0
    }

    /// A client with no session.
    pub fn anonymous(&self) -> ConsoleClient {
        ConsoleClient::new(&self.base)
    }

    /// A logged-in agent (created on first use).
    pub async fn agent(&self, email: &str) -> ConsoleClient {
        self.user(email, StaffRole::Agent).await;
        self.anonymous().logged_in(email, PASSWORD).await
    }

    /// A logged-in admin.
    pub async fn admin(&self, email: &str) -> ConsoleClient {
        self.user(email, StaffRole::Admin).await;
        self.anonymous().logged_in(email, PASSWORD).await
    }

    /// Stores a text message from `customer` as webhook-ingest would; returns its
    /// conversation.
    pub async fn customer_says(&self, customer: &str, profile_name: Option<&str>, text: &str) -> i64 {
        let wamid = unique_wamid();
        let message = InboundRecord {
            profile_name: profile_name.map(str::to_owned),
            ..records::inbound(customer, &wamid, MessageType::Text, Some(text))
        };
        let batch = records::delivery(vec![message]);
        store::ingest::ingest(&self.pool, &batch).await.expect("ingest");
        self.conversation_of(customer).await
    }

    pub async fn conversation_of(&self, customer: &str) -> i64 {
        let ids = self
            .strings(&format!(
                "SELECT v.id::text AS s FROM conversation v JOIN contact c ON c.id = v.contact_id WHERE c.wa_id = '{customer}'"
            ))
            .await;
        ids[0].parse().expect("id")
    }

    /// Waits until the console's LISTEN connection is up (it connects after start).
    pub async fn wait_until_listening(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let sql = "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'";
        while self.count(sql).await == 0 {
            assert!(tokio::time::Instant::now() < deadline, "the console never listened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        testkit::sql::count(self.db.url(), sql).await
    }

    pub async fn strings(&self, sql: &str) -> Vec<String> {
        testkit::sql::strings(self.db.url(), sql).await
    }

    pub async fn execute(&self, sql: &str) {
        testkit::sql::execute(self.db.url(), sql).await;
    }
}
