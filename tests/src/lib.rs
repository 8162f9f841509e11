//! The pipeline under test: a fresh database and the four services running on it, and an
//! OTLP receiver for their traces.

pub mod collector;

use std::time::Duration;

use serde_json::Value;
use testkit::TestDb;
use testkit::payloads::{self, Customer, unique_wamid};
use testkit::service::{ChildService, workspace_bin_dir, workspace_binary};
use testkit::stack::{Stack, StackOptions};

/// A database with the whole stack on it.
pub struct Pipeline {
    /// The services.
    pub stack: Stack,
    /// Their database.
    pub db: TestDb,
}

impl Pipeline {
    /// Starts the stack on a fresh database; the options set faults and timings.
    ///
    /// # Panics
    /// When a service does not start.
    pub async fn start(options: StackOptions) -> Self {
        let db = TestDb::new().await;
        for service in ["webhook-ingest", "job-runner", "outbound-sender", "whatsapp-fake"] {
            workspace_binary(service);
        }
        let bin_dir = workspace_bin_dir();
        let stack = Stack::start(&bin_dir, db.url(), options).await.unwrap_or_else(|e| panic!("stack: {e}"));
        Self { stack, db }
    }

    /// `customer` writes `text`; returns the inbound wamid.
    ///
    /// # Panics
    /// When ingest does not answer 200.
    pub async fn customer_says(&self, customer: &Customer, text: &str) -> String {
        let wamid = unique_wamid();
        let envelope = payloads::single_message(customer, payloads::text(customer, &wamid, text));
        assert_eq!(self.stack.deliver(&envelope).await, 200, "ingest accepted {text:?}");
        wamid
    }

    /// A query returning one `BIGINT` column `n`.
    ///
    /// # Panics
    /// On a database error.
    pub async fn count(&self, sql: &str) -> i64 {
        testkit::sql::count(self.db.url(), sql).await
    }

    /// Waits (up to `timeout`) until `sql` counts `expected`; returns the last count.
    pub async fn wait_for_count(&self, sql: &str, expected: i64, timeout: Duration) -> i64 {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let n = self.count(sql).await;
            if n == expected || tokio::time::Instant::now() >= deadline {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The `callback_data` of each send, for counting sends per reply.
pub fn callbacks(sends: &[Value]) -> Vec<String> {
    sends.iter().filter_map(|s| s["callback_data"].as_str().map(str::to_owned)).collect()
}

/// `(key, value)` pairs as owned strings, for [`StackOptions`].
pub fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// `GET /metrics` of `service`, in the Prometheus text format.
///
/// # Panics
/// When the service does not answer 200.
pub async fn scrape(service: &ChildService) -> String {
    let response = reqwest::get(service.url("/metrics")).await.unwrap_or_else(|e| panic!("scrape: {e}"));
    assert_eq!(response.status(), 200, "/metrics answers");
    response.text().await.unwrap_or_else(|e| panic!("scrape: {e}"))
}

/// The value of the series whose line starts with `series` (name and labels).
pub fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find(|l| l.starts_with(series)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// Waits (up to `timeout`) until `series` of `service` reads `expected`; returns the last
/// value read.
pub async fn wait_for_metric(
    service: &ChildService,
    series: &str,
    expected: f64,
    timeout: Duration,
) -> Option<f64> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let read = value(&scrape(service).await, series);
        if read == Some(expected) || tokio::time::Instant::now() >= deadline {
            return read;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
