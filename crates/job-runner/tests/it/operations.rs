//! Operator actions: pruning, the queue gauges' figures, listing and re-queueing failures.

use std::time::Duration;

use job_runner::operations;
use serde_json::Value;
use store::maintenance::{self, Retention, WorkQueue};

use crate::api::{TOKEN, serve};
use crate::helpers::Harness;

const DAY: Duration = Duration::from_secs(86_400);

#[tokio::test(flavor = "multi_thread")]
async fn pruning_deletes_old_finished_jobs_and_status_events_and_keeps_the_audit_trail() {
    let h = Harness::new().await;
    for customer in ["971500000601", "971500000602", "971500000603"] {
        h.text(customer, "hello").await;
    }
    assert_eq!(h.runner().run_due(10).await.expect("runs").done, 3);
    let ids = h.strings("SELECT id::text AS s FROM outbound_job ORDER BY id").await;
    h.execute(&format!(
        "UPDATE outbound_job SET completed_at = now() - interval '8 days' WHERE id = {}",
        ids[0]
    ))
    .await;
    h.execute(&format!(
        "UPDATE outbound_job SET status = 'failed', completed_at = now() - interval '90 days' WHERE id = {}",
        ids[1]
    ))
    .await;
    h.execute(
        "INSERT INTO message_status_event (provider_message_id, status, raw, received_at) VALUES \
         ('wamid.old', 'sent', '{}', now() - interval '31 days'), ('wamid.new', 'sent', '{}', now())",
    )
    .await;

    let retention = Retention { done_jobs: 7 * DAY, status_events: 30 * DAY };
    let pruned = operations::prune(&h.pool, retention).await.expect("prunes");
    assert_eq!((pruned.jobs, pruned.status_events), (1, 1));
    assert_eq!(
        h.strings("SELECT id::text AS s FROM outbound_job ORDER BY id").await,
        ids[1..],
        "the old done job is gone; the failed one is kept for redrive, the recent one too"
    );
    assert_eq!(h.strings("SELECT provider_message_id AS s FROM message_status_event").await, ["wamid.new"]);
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_message_log").await, 3, "replies are kept");
    assert_eq!(h.count("SELECT count(*) AS n FROM inbound_message").await, 3, "messages are kept");
    assert_eq!(
        h.count("SELECT count(*) AS n FROM outbound_message_log WHERE outbound_job_id IS NULL").await,
        1
    );
    let again = operations::prune(&h.pool, retention).await.expect("prunes");
    assert_eq!((again.jobs, again.status_events), (0, 0), "nothing left to prune");
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_depth_counts_open_items_and_how_late_the_oldest_due_one_is() {
    let h = Harness::new().await;
    let empty = maintenance::depth(&h.pool, WorkQueue::OutboundJob).await.expect("reads");
    assert_eq!(empty.by_status, [("queued", 0), ("running", 0)]);
    assert!(empty.oldest_due_secs.abs() < f64::EPSILON);

    for customer in ["971500000611", "971500000612", "971500000613", "971500000614"] {
        h.text(customer, "hello").await;
    }
    let ids = h.strings("SELECT id::text AS s FROM outbound_job ORDER BY id").await;
    h.execute(&format!(
        "UPDATE outbound_job SET run_at = now() - interval '90 seconds' WHERE id = {}",
        ids[0]
    ))
    .await;
    h.execute(&format!("UPDATE outbound_job SET run_at = now() + interval '1 hour' WHERE id = {}", ids[1]))
        .await;
    h.execute(&format!(
        "UPDATE outbound_job SET status = 'running', run_at = now() - interval '1 hour' WHERE id = {}",
        ids[2]
    ))
    .await;
    let depth = maintenance::depth(&h.pool, WorkQueue::OutboundJob).await.expect("reads");
    assert_eq!(depth.by_status, [("queued", 3), ("running", 1)]);
    assert!(
        (90.0..120.0).contains(&depth.oldest_due_secs),
        "the oldest due queued job waits since 90 s; a retry waiting for later and a running job do not \
         count: {}",
        depth.oldest_due_secs
    );
    let outbound = maintenance::depth(&h.pool, WorkQueue::OutboundMessageLog).await.expect("reads");
    assert_eq!(outbound.by_status, [("queued", 0), ("sending", 0), ("uncertain", 0)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_jobs_and_replies_are_listed_and_requeued_over_http() {
    let h = Harness::new().await;
    h.text("971500000621", "I need a golden visa").await;
    h.execute(
        "UPDATE outbound_job SET status = 'failed', attempts = 3, error = 'boom', completed_at = now()",
    )
    .await;
    let (base, stop, running) = serve(&h).await;
    let client = reqwest::Client::new();
    let failed = || async {
        let response = client.get(format!("{base}/api/jobs/failed")).bearer_auth(TOKEN).send().await;
        response.expect("sent").json::<Value>().await.expect("json")
    };
    let listed = failed().await;
    let job_id = listed["jobs"][0]["id"].as_i64().expect("a failed job");
    assert_eq!(listed["jobs"][0]["error"], "boom");
    assert_eq!(listed["jobs"][0]["request_id"], "req-test");

    let requeue = |path: String| client.post(format!("{base}{path}")).bearer_auth(TOKEN).send();
    assert_eq!(requeue(format!("/api/jobs/{job_id}/requeue")).await.expect("sent").status(), 200);
    let done = h
        .wait_for_count("SELECT count(*) AS n FROM outbound_job WHERE status = 'done' AND attempts = 1", 1)
        .await;
    assert_eq!(done, 1, "the requeued job ran with a fresh set of attempts");
    assert_eq!(h.replies("971500000621").await.len(), 1);
    assert_eq!(
        requeue(format!("/api/jobs/{job_id}/requeue")).await.expect("sent").status(),
        409,
        "a done job is not requeued"
    );

    // No sender runs here: fail the reply, then hold another as uncertain.
    h.execute("UPDATE outbound_message_log SET status = 'failed', attempts = 5, error_code = 131026, error_text = 'x'")
        .await;
    let outbound_id = failed().await["outbound"][0]["id"].as_i64().expect("a failed reply");
    assert_eq!(requeue(format!("/api/outbound/{outbound_id}/requeue")).await.expect("sent").status(), 200);
    assert_eq!(
        h.count(
            "SELECT count(*) AS n FROM outbound_message_log WHERE status = 'queued' AND attempts = 0 \
             AND failed_at IS NULL AND error_text LIKE 'requeued by an operator%'"
        )
        .await,
        1
    );
    h.execute("UPDATE outbound_message_log SET status = 'uncertain', run_at = 'infinity'").await;
    assert_eq!(failed().await["outbound"][0]["status"], "uncertain", "held replies are listed");
    assert_eq!(requeue(format!("/api/outbound/{outbound_id}/requeue")).await.expect("sent").status(), 200);
    assert_eq!(
        h.count("SELECT uncertain_resends::bigint AS n FROM outbound_message_log WHERE status = 'queued'")
            .await,
        1,
        "a held reply sent again counts as an uncertain resend"
    );
    assert_eq!(requeue("/api/outbound/999999/requeue".to_owned()).await.expect("sent").status(), 409);
    stop.cancel();
    running.await.expect("join").expect("stopped cleanly");
}
