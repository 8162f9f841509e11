//! The operator HTTP API: tokens, running jobs on request, metrics, notifications.

use domain::Secret;
use job_runner::config::RetentionArgs;
use job_runner::{Application, RunnerArgs, ServeConfig};
use serde_json::Value;
use store::DbArgs;

use crate::helpers::Harness;

pub(crate) const TOKEN: &str = "runner-token";
const CRON: &str = "cron-secret";

fn config(database_url: &str) -> ServeConfig {
    ServeConfig {
        runner: RunnerArgs {
            db: DbArgs {
                database_url: Secret::new(database_url),
                database_pool_size: 4,
                database_timeout_ms: 2000,
                database_statement_timeout_ms: 5000,
            },
            concurrency: 2,
            batch_size: 8,
            committers: 1,
            lease_secs: 30,
            poll_interval_ms: 200,
            retry_base_ms: 1000,
            retry_max_ms: 60_000,
            business_profile: None,
            turn_quiet_ms: 0,
            turn_max_wait_ms: 0,
        },
        bind_addr: "127.0.0.1:0".parse().expect("addr"),
        runner_token: Some(Secret::new(TOKEN)),
        cron_secret: Some(Secret::new(CRON)),
        run_outbound_default_max: 100,
        shutdown_timeout_secs: 5,
        prune_interval_secs: 0,
        retention: RetentionArgs { jobs_after_days: 7.0, status_events_after_days: 30.0 },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn token_endpoints_refuse_wrong_tokens_and_work_with_the_right_ones() {
    let h = Harness::new().await;
    let app = Application::build(config(h.db.url())).await.expect("builds");
    let base = format!("http://{}", app.addr());
    let stop = app.stop_handle();
    let running = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    for (method, path) in [
        ("POST", "/api/jobs/run-outbound"),
        ("GET", "/api/jobs/run-outbound"),
        ("GET", "/api/cron/run-outbound-jobs"),
        ("GET", "/api/jobs/metrics"),
        ("GET", "/api/notifications"),
        ("POST", "/api/notifications/1/read"),
        ("POST", "/api/notifications/1/snooze"),
        ("GET", "/api/jobs/failed"),
        ("POST", "/api/jobs/1/requeue"),
        ("POST", "/api/outbound/1/requeue"),
    ] {
        let url = format!("{base}{path}");
        let request = |token: Option<&str>| {
            let mut r = client.request(method.parse().expect("method"), &url);
            if let Some(token) = token {
                r = r.bearer_auth(token);
            }
            r.send()
        };
        assert_eq!(request(None).await.expect("sent").status(), 401, "{path} without a token");
        assert_eq!(request(Some("wrong")).await.expect("sent").status(), 401, "{path} with a wrong token");
        let other = if path.contains("cron") { TOKEN } else { CRON };
        assert_eq!(request(Some(other)).await.expect("sent").status(), 401, "{path} with the other token");
    }

    let metrics: Value = client
        .get(format!("{base}/api/jobs/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    for field in [
        "queued",
        "running",
        "failed_last_24h",
        "avg_processing_ms",
        "success_rate",
        "oldest_queued_age_secs",
    ] {
        assert!(metrics.get(field).is_some(), "{field} in {metrics}");
    }
    stop.cancel();
    running.await.expect("join").expect("stopped cleanly");
}

/// Starts `serve` on the harness database; returns its base URL and stop handle.
pub(crate) async fn serve(
    h: &Harness,
) -> (String, worker::CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let app = Application::build(config(h.db.url())).await.expect("builds");
    let base = format!("http://{}", app.addr());
    let stop = app.stop_handle();
    (base, stop, tokio::spawn(app.run_until_stopped()))
}

#[tokio::test(flavor = "multi_thread")]
async fn run_outbound_and_the_loop_together_run_a_job_once() {
    let h = Harness::new().await;
    let (base, stop, running) = serve(&h).await;
    h.text("971500000401", "I need a work permit").await;
    let summary: Value = reqwest::Client::new()
        .post(format!("{base}/api/jobs/run-outbound?max=5&token={TOKEN}"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(summary["claimed"], summary["done"], "whatever the endpoint claimed it finished: {summary}");
    // The endpoint or the background loop ran it; either way exactly once.
    let mut done = 0;
    for _ in 0..100 {
        done = h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'done' AND attempts = 1").await;
        if done == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(done, 1);
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_message_log").await, 1);
    stop.cancel();
    running.await.expect("join").expect("stopped cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_are_listed_snoozed_and_read() {
    let h = Harness::new().await;
    h.execute(
        "INSERT INTO notification (kind, title, body) VALUES \
         ('human_requested', 'A customer needs a person', 'first'), ('lead_qualified', 'New lead', 'second')",
    )
    .await;
    let (base, stop, running) = serve(&h).await;
    let client = reqwest::Client::new();
    let list = |query: &'static str| {
        let request = client.get(format!("{base}/api/notifications{query}")).bearer_auth(TOKEN).send();
        async move {
            let body: Value = request.await.expect("sent").json().await.expect("json");
            body["notifications"]
                .as_array()
                .expect("list")
                .iter()
                .map(|n| n["body"].as_str().expect("body").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("").await, ["second", "first"], "newest first");
    let ids = h.count("SELECT min(id) AS n FROM notification").await;

    let snoozed = client
        .post(format!("{base}/api/notifications/{ids}/snooze?minutes=30"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent");
    assert_eq!(snoozed.status(), 200);
    assert_eq!(list("").await, ["second"], "snoozed ones are hidden");

    let read = client
        .post(format!("{base}/api/notifications/{}/read", ids + 1))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent");
    assert_eq!(read.status(), 200);
    assert!(list("").await.is_empty(), "read ones are hidden");
    assert_eq!(list("?all=true").await, ["second", "first"]);
    let missing = client
        .post(format!("{base}/api/notifications/999999/read"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
    stop.cancel();
    running.await.expect("join").expect("stopped cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_or_placeholder_operator_token_refuses_to_start_naming_it() {
    let h = Harness::new().await;
    for (variable, value) in [
        ("JOB_RUNNER_TOKEN", ""),
        ("JOB_RUNNER_TOKEN", "PLACEHOLDER_JOB_RUNNER_TOKEN"),
        ("CRON_SECRET", ""),
        ("CRON_SECRET", "<cron secret>"),
    ] {
        let mut config = config(h.db.url());
        if variable == "CRON_SECRET" {
            config.cron_secret = Some(Secret::new(value));
        } else {
            config.runner_token = Some(Secret::new(value));
        }
        let refused = Application::build(config).await.err().expect("refused");
        assert!(format!("{refused:#}").contains(variable), "{variable}={value:?}: {refused:#}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn customer_markup_in_every_notification_field_is_returned_as_a_json_string() {
    let h = Harness::new().await;
    let markup = r#"<script>alert("x")</script><img src=x onerror='y'>&amp;"#;
    let quoted = markup.replace('\'', "''");
    h.execute(&format!(
        "INSERT INTO notification (kind, title, body, dedupe_key) VALUES ('human_requested', '{quoted}', '{quoted}', '{quoted}')"
    ))
    .await;
    let (base, stop, running) = serve(&h).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/api/notifications"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent");
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("application/json"));
    let body: Value = response.json().await.expect("json");
    let notice = &body["notifications"][0];
    for field in ["title", "body"] {
        assert_eq!(
            notice[field],
            Value::String(markup.to_owned()),
            "{field} is the customer's text, as a string"
        );
    }
    stop.cancel();
    running.await.expect("join").expect("stopped cleanly");
}
