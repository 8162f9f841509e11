//! Every service exports the series dashboards and alerts are built on.

use std::time::Duration;

use e2e::{Pipeline, scrape, value};
use testkit::payloads::Customer;
use testkit::stack::StackOptions;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn each_service_exports_its_latency_throughput_queue_and_error_series() {
    let p = Pipeline::start(StackOptions::default()).await;
    let runner = scrape(&p.stack.runner).await;
    assert_eq!(value(&runner, "jobs_failed_total "), Some(0.0), "counters exist from the start:\n{runner}");
    assert!(runner.contains("# HELP jobs_failed_total"), "{runner}");

    p.customer_says(&Customer::unique(), "hello").await;
    assert_eq!(p.stack.wait_for_sends(1, WAIT).await.len(), 1);
    let read =
        p.wait_for_count("SELECT count(*) AS n FROM outbound_message_log WHERE status = 'read'", 1, WAIT);
    assert_eq!(read.await, 1);

    // The read status is committed before ingest counts it: wait for the count.
    let deadline = tokio::time::Instant::now() + WAIT;
    let ingest = loop {
        let ingest = scrape(&p.stack.ingest).await;
        let recorded = value(&ingest, "webhook_statuses_total{outcome=\"recorded\"}");
        if recorded == Some(3.0) || tokio::time::Instant::now() >= deadline {
            break ingest;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(value(&ingest, "webhook_messages_total{outcome=\"stored\"}"), Some(1.0), "{ingest}");
    assert_eq!(value(&ingest, "webhook_statuses_total{outcome=\"recorded\"}"), Some(3.0), "{ingest}");
    assert!(ingest.contains("http_server_request_duration_seconds_bucket{"), "{ingest}");

    let runner = scrape(&p.stack.runner).await;
    assert_eq!(value(&runner, "jobs_done_total "), Some(1.0), "{runner}");
    assert!(runner.contains("job_pickup_latency_seconds_bucket{"), "{runner}");
    for series in [
        "queue_depth{queue=\"outbound_job\",status=\"queued\"}",
        "queue_depth{queue=\"outbound_job\",status=\"running\"}",
        "queue_oldest_age_seconds{queue=\"outbound_job\"}",
    ] {
        assert!(value(&runner, series).is_some(), "{series} in\n{runner}");
    }

    let sender = scrape(&p.stack.sender).await;
    assert_eq!(value(&sender, "outbound_sent_total "), Some(1.0), "{sender}");
    assert_eq!(value(&sender, "outbound_uncertain_total "), Some(0.0), "{sender}");
    assert_eq!(value(&sender, "presence_requests_total{outcome=\"failed\"}"), Some(0.0), "{sender}");
    assert!(sender.contains("outbound_send_duration_seconds_bucket{"), "{sender}");
    for series in [
        "queue_depth{queue=\"outbound_message_log\",status=\"queued\"}",
        "queue_depth{queue=\"outbound_message_log\",status=\"uncertain\"}",
        "queue_oldest_age_seconds{queue=\"outbound_message_log\"}",
    ] {
        assert!(value(&sender, series).is_some(), "{series} in\n{sender}");
    }
}
