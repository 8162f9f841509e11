//! A running webhook-ingest on its own database, and ways to look at what it stored.

use domain::Secret;
use serde_json::Value;
use store::DbArgs;
use testkit::TestDb;
use testkit::payloads::{self, APP_SECRET, VERIFY_TOKEN};
use webhook_ingest::{Application, IngestConfig};

pub struct TestApp {
    pub address: String,
    pub db: TestDb,
    pub client: reqwest::Client,
}

pub fn config(database_url: &str) -> IngestConfig {
    IngestConfig {
        db: DbArgs {
            database_url: Secret::new(database_url),
            database_pool_size: 4,
            database_timeout_ms: 1000,
            database_statement_timeout_ms: 5000,
        },
        bind_addr: "127.0.0.1:0".parse().expect("addr"),
        app_secret: Some(Secret::new(APP_SECRET)),
        verify_token: Some(Secret::new(VERIFY_TOKEN)),
        allow_unsigned: false,
        max_body_bytes: 3 * 1024 * 1024,
        body_timeout_secs: 5,
        committers: 2,
        http_workers: Some(1),
        phone_number_ids: Vec::new(),
        max_inflight_bytes: 32 * 1024 * 1024,
        max_connections: 256,
        max_items: 2000,
        shutdown_timeout_secs: 1,
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut IngestConfig)) -> Self {
        let db = TestDb::new().await;
        let mut config = config(db.url());
        adjust(&mut config);
        let app = Application::build(config).await.expect("application builds");
        let address = format!("http://{}", app.addr());
        tokio::spawn(app.run_until_stopped());
        Self { address, db, client: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs `envelope` serialised and signed as Meta would.
    pub async fn post_signed(&self, envelope: &Value) -> reqwest::Response {
        let signed = payloads::signed(envelope);
        self.post_raw(signed.body, Some(&signed.signature)).await
    }

    pub async fn post_raw(&self, body: Vec<u8>, signature: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/api/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        request.send().await.expect("request sent")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        count(&self.db, sql).await
    }

    /// Row counts of the ingest tables, for "nothing stored" checks.
    pub async fn stored(&self) -> [i64; 5] {
        [
            self.count("SELECT count(*) AS n FROM contact").await,
            self.count("SELECT count(*) AS n FROM conversation").await,
            self.count("SELECT count(*) AS n FROM inbound_message").await,
            self.count("SELECT count(*) AS n FROM outbound_job").await,
            self.count("SELECT count(*) AS n FROM message_status_event").await,
        ]
    }
}

pub async fn count(db: &TestDb, sql: &str) -> i64 {
    testkit::sql::count(db.url(), sql).await
}

pub use testkit::sql::count as count_at;

/// Runs a statement (test setup).
pub async fn execute(db: &TestDb, sql: &str) {
    testkit::sql::execute(db.url(), sql).await;
}
