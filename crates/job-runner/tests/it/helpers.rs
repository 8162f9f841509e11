//! A database with a runner, and ways to feed it inbound messages and look at the result.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::webhook::MessageType;
use job_runner::{Runner, RunnerSettings};
use store::DbPool;
use store::ingest::InboundRecord;
use testkit::payloads::unique_wamid;
use testkit::{TestDb, records};
use worker::RetryPolicy;

pub fn settings() -> RunnerSettings {
    RunnerSettings {
        concurrency: 4,
        batch_size: 8,
        committers: 1,
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(200),
        retry: RetryPolicy { base: Duration::from_secs(10), max: Duration::from_secs(600) },
        profile: std::sync::Arc::default(),
        turns: store::jobs::TurnTiming::EACH_MESSAGE,
    }
}

pub struct Harness {
    pub db: TestDb,
    pub pool: DbPool,
}

impl Harness {
    pub async fn new() -> Self {
        let db = TestDb::new().await;
        let pool = db.pool();
        Self { db, pool }
    }

    pub fn runner(&self) -> Runner {
        Runner::new(self.pool.clone(), settings())
    }

    /// Stores an inbound message of `kind` from `customer` as webhook-ingest would, and
    /// returns its wamid.
    pub async fn inbound(&self, customer: &str, kind: &str, text: Option<&str>) -> String {
        let wamid = unique_wamid();
        self.inbound_with_id(customer, kind, text, &wamid).await;
        wamid
    }

    pub async fn inbound_with_id(&self, customer: &str, kind: &str, text: Option<&str>, wamid: &str) {
        self.inbound_sent_at(customer, kind, text, wamid, None).await;
    }

    /// Stores a text that Meta says the customer sent at `sent_at`.
    pub async fn text_sent_at(&self, customer: &str, text: &str, sent_at: chrono::DateTime<chrono::Utc>) {
        self.inbound_sent_at(customer, "text", Some(text), &unique_wamid(), Some(sent_at)).await;
    }

    async fn inbound_sent_at(
        &self,
        customer: &str,
        kind: &str,
        text: Option<&str>,
        wamid: &str,
        sent_at: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        let message = InboundRecord {
            provider_timestamp: sent_at,
            ..records::inbound(customer, wamid, MessageType::from(kind.to_owned()), text)
        };
        let batch = records::delivery(vec![message]);
        store::ingest::ingest(&self.pool, &batch).await.expect("ingest");
    }

    pub async fn text(&self, customer: &str, text: &str) -> String {
        self.inbound(customer, "text", Some(text)).await
    }

    /// The replies written for `customer`, oldest first.
    pub async fn replies(&self, customer: &str) -> Vec<String> {
        self.strings(&format!(
            "SELECT o.body AS s FROM outbound_message_log o JOIN conversation v ON v.id = o.conversation_id \
             JOIN contact c ON c.id = v.contact_id WHERE c.wa_id = '{customer}' ORDER BY o.id"
        ))
        .await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        testkit::sql::count(self.db.url(), sql).await
    }

    /// Waits (up to 10 s) until `sql` counts `expected`; returns the last count.
    pub async fn wait_for_count(&self, sql: &str, expected: i64) -> i64 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let n = self.count(sql).await;
            if n == expected || tokio::time::Instant::now() >= deadline {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn strings(&self, sql: &str) -> Vec<String> {
        testkit::sql::strings(self.db.url(), sql).await
    }

    pub async fn execute(&self, sql: &str) {
        testkit::sql::execute(self.db.url(), sql).await;
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(self.db.url()).await.expect("connect")
    }
}
