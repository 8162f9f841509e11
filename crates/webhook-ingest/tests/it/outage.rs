//! Postgres going away: 503 (so Meta retries), and the same delivery succeeds once it is
//! back, without restarting the service.

use std::time::Duration;

use testkit::payloads::{self, Customer, unique_wamid};
use testkit::{ClusterOptions, PgCluster};
use webhook_ingest::Application;

use crate::helpers::{self, count_at};

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_down_is_503_and_the_same_delivery_succeeds_when_it_is_back() {
    // A cluster of its own: stopping the shared one would break the other tests.
    let cluster = blocking(|| PgCluster::start(&ClusterOptions::default()).expect("cluster")).await;
    let url = cluster.url("postgres");
    store::migrations::run_pending(&url).await.expect("migrate");
    let app = Application::build(helpers::config(&url)).await.expect("builds");
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{base}{path}")).send();

    let customer = Customer::unique();
    let envelope = payloads::single_message(&customer, payloads::text(&customer, &unique_wamid(), "hi"));
    let signed = payloads::signed(&envelope);
    let deliver = || {
        client
            .post(format!("{base}/api/webhooks/whatsapp"))
            .header("x-hub-signature-256", &signed.signature)
            .body(signed.body.clone())
            .send()
    };
    // Open pooled connections first, so the outage also breaks live connections.
    assert_eq!(get("/readyz").await.expect("sent").status(), 200);

    let cluster = blocking(move || {
        cluster.stop().expect("stop");
        cluster
    })
    .await;
    let response = deliver().await.expect("sent");
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(get("/readyz").await.expect("sent").status(), 503);
    assert_eq!(get("/healthz").await.expect("sent").status(), 200, "the process stays up");

    let cluster = blocking(move || {
        cluster.restart().expect("restart");
        cluster
    })
    .await;
    // Like Meta, retry the delivery until it is accepted (bounded).
    let mut status = 0;
    for _ in 0..50 {
        status = deliver().await.expect("sent").status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the service recovered by itself");
    assert_eq!(count_at(&url, "SELECT count(*) AS n FROM inbound_message").await, 1);
    assert_eq!(count_at(&url, "SELECT count(*) AS n FROM outbound_job").await, 1);
    drop(cluster);
}
