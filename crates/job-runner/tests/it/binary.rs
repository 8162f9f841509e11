//! The real binary: help, run-once, serve woken by NOTIFY, SIGTERM.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testkit::service::ChildService;

use crate::helpers::Harness;

const BINARY: &str = env!("CARGO_BIN_EXE_job-runner");

#[test]
fn help_lists_every_option_with_its_environment_variable() {
    for (subcommand, variables) in [
        (
            "serve",
            &[
                "DATABASE_URL",
                "BIND_ADDR",
                "JOB_RUNNER_TOKEN",
                "CRON_SECRET",
                "JOB_CONCURRENCY",
                "JOB_LEASE_SECS",
                "JOB_POLL_INTERVAL_MS",
                "LOG_FORMAT",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "RUST_LOG",
                "PRUNE_INTERVAL_SECS",
            ][..],
        ),
        ("run-once", &["DATABASE_URL", "--max", "--drain-for", "JOB_CONCURRENCY"][..]),
        ("prune", &["DATABASE_URL", "PRUNE_JOBS_AFTER_DAYS", "PRUNE_STATUS_EVENTS_AFTER_DAYS"][..]),
        ("failed", &["DATABASE_URL", "--limit"][..]),
        (
            "requeue",
            &["DATABASE_URL", "--job", "--outbound", "--all-failed-jobs", "--all-failed-outbound"][..],
        ),
    ] {
        let output = Command::new(BINARY).args([subcommand, "--help"]).output().expect("runs");
        let help = String::from_utf8_lossy(&output.stdout);
        for variable in variables {
            assert!(help.contains(variable), "{subcommand}: {variable} missing from:\n{help}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn run_once_runs_due_jobs_and_prints_a_summary() {
    let h = Harness::new().await;
    h.text("971500000501", "hello").await;
    h.text("971500000502", "hello").await;
    let output = tokio::process::Command::new(BINARY)
        .args(["run-once", "--max", "10"])
        .env("DATABASE_URL", h.db.url())
        .env("TURN_QUIET_MS", "0")
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("a line")).expect("json");
    assert_eq!(summary["done"], 2, "{stdout}");
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_message_log").await, 2);
}

/// Runs `job-runner args…` on the harness database; returns its stdout as JSON.
async fn run_json(h: &Harness, args: &[&str]) -> serde_json::Value {
    let output = tokio::process::Command::new(BINARY)
        .args(args)
        .env("DATABASE_URL", h.db.url())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_subcommands_list_requeue_and_prune() {
    let h = Harness::new().await;
    h.text("971500000511", "hello").await;
    h.text("971500000512", "hello").await;
    h.execute(
        "UPDATE outbound_job SET status = 'failed', attempts = 3, error = 'boom', completed_at = now()",
    )
    .await;
    let failed = run_json(&h, &["failed"]).await;
    assert_eq!(failed["jobs"].as_array().expect("jobs").len(), 2, "{failed}");
    assert_eq!(failed["outbound"].as_array().expect("outbound").len(), 0);

    let requeue = run_json(&h, &["requeue", "--all-failed-jobs"]).await;
    assert_eq!(requeue["jobs"].as_array().expect("ids").len(), 2, "{requeue}");
    assert_eq!(
        h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'queued' AND attempts = 0").await,
        2
    );
    let refused = Command::new(BINARY).arg("requeue").env("DATABASE_URL", h.db.url()).output().expect("runs");
    assert!(!refused.status.success(), "requeue needs to be told what");

    assert_eq!(h.runner().run_due(10).await.expect("runs").done, 2);
    let kept = run_json(&h, &["prune"]).await;
    assert_eq!(kept["jobs"], 0, "recent jobs are kept by default: {kept}");
    let pruned = run_json(&h, &["prune", "--jobs-older-than-days", "0"]).await;
    assert_eq!(pruned["jobs"], 2, "{pruned}");
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_job").await, 0);
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_message_log").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_is_woken_by_notify_and_stops_cleanly_on_sigterm() {
    let h = Harness::new().await;
    // Polling every 10 minutes: only a notification can get the job run in time.
    let env = [("DATABASE_URL", h.db.url()), ("JOB_POLL_INTERVAL_MS", "600000"), ("TURN_QUIET_MS", "0")];
    let mut service = ChildService::start(Path::new(BINARY), &["serve"], &env).await.expect("starts");
    assert!(service.wait_for_log("listening", Duration::from_secs(5)).await);
    // The listener connects right after start; wait until it is subscribed.
    let mut listening = false;
    for _ in 0..100 {
        if h.count("SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN %'").await > 0 {
            listening = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(listening, "the runner listens for new jobs");

    h.text("971500000503", "hello").await;
    assert!(
        service.wait_for_log("outbound message queued", Duration::from_secs(10)).await,
        "{:?}",
        service.logs()
    );
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'done'").await, 1);

    let status = service.terminate().await.expect("exits");
    assert!(status.success(), "{status:?}");
    assert!(service.wait_for_log("\"stopped\"", Duration::from_secs(10)).await, "{:?}", service.logs());
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'running'").await, 0);
}

/// Two jobs in flight when SIGTERM arrives and the grace period is too short: one whose
/// completion waits for a conversation another transaction holds, one waiting behind it for
/// the committer. The process still exits within the grace period; the waiting job is given
/// back without using an attempt, the one whose statement is under way is left to it.
#[tokio::test(flavor = "multi_thread")]
async fn jobs_still_running_when_the_grace_period_ends_are_released() {
    use diesel_async::SimpleAsyncConnection;
    let h = Harness::new().await;
    h.text("971500000521", "hello").await;
    let held_conversation = h.count("SELECT max(id) AS n FROM conversation").await;
    let mut blocker = h.connect().await;
    blocker
        .batch_execute(&format!(
            "BEGIN; SELECT id FROM conversation WHERE id = {held_conversation} FOR UPDATE"
        ))
        .await
        .expect("lock");

    let env = [
        ("DATABASE_URL", h.db.url()),
        ("SHUTDOWN_TIMEOUT_SECS", "1"),
        ("JOB_COMMITTERS", "1"),
        ("JOB_POLL_INTERVAL_MS", "100"),
        ("TURN_QUIET_MS", "0"),
    ];
    let mut service = ChildService::start(Path::new(BINARY), &["serve"], &env).await.expect("starts");
    let waiting_for_the_lock = "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE wait_event_type = 'Lock' AND application_name = 'job-runner'";
    assert_eq!(
        h.wait_for_count(waiting_for_the_lock, 1).await,
        1,
        "the first job's completion waits: {:?}",
        service.logs()
    );
    h.text("971500000522", "hello").await;
    let second_running = "SELECT count(*) AS n FROM outbound_job WHERE status = 'running'";
    assert_eq!(h.wait_for_count(second_running, 2).await, 2, "the second job is claimed too");

    let started = tokio::time::Instant::now();
    let status = service.terminate().await.expect("exits");
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(6), "the grace period bounds the exit: {took:?}");
    assert!(service.logs().iter().any(|l| l.contains("in-flight work released")), "{:?}", service.logs());
    let released = "SELECT count(*) AS n FROM outbound_job j JOIN conversation c ON c.id = j.conversation_id \
         JOIN contact k ON k.id = c.contact_id \
         WHERE k.wa_id = '971500000522' AND j.status = 'queued' AND j.attempts = 0 AND j.claim_token IS NULL";
    assert_eq!(h.count(released).await, 1, "given back, its attempt not counted");
    blocker.batch_execute("ROLLBACK").await.expect("unlock");
}

#[test]
fn settings_that_cannot_work_are_refused_naming_the_option() {
    for (variable, value, expected) in [
        ("JOB_CONCURRENCY", "0", "invalid value '0' for '--concurrency"),
        ("JOB_COMMITTERS", "0", "invalid value '0' for '--committers"),
        ("JOB_LEASE_SECS", "0", "invalid value '0' for '--lease-secs"),
        ("JOB_RETRY_MAX_MS", "10", "JOB_RETRY_MAX_MS (10) must not be below JOB_RETRY_BASE_MS (2000)"),
    ] {
        let output = Command::new(BINARY)
            .args(["run-once", "--max", "1"])
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .env(variable, value)
            .output()
            .expect("runs");
        let printed = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{variable}={value} was accepted");
        assert!(printed.contains(expected), "{variable}={value}: {printed}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_a_turn_when_its_quiet_period_ends_without_waiting_for_a_poll() {
    let h = Harness::new().await;
    // Polling every 10 minutes: only the turn's own due time can wake the runner.
    let env = [("DATABASE_URL", h.db.url()), ("JOB_POLL_INTERVAL_MS", "600000"), ("TURN_QUIET_MS", "300")];
    let service = ChildService::start(Path::new(BINARY), &["serve"], &env).await.expect("starts");
    let listening = "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN %'";
    assert_eq!(h.wait_for_count(listening, 1).await, 1, "the runner listens for new jobs");
    for fragment in ["hello", "i need", "a family visa"] {
        h.text("971500000531", fragment).await;
    }
    let done = "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'";
    assert_eq!(h.wait_for_count(done, 3).await, 3, "the turn was answered: {:?}", service.logs());
    assert_eq!(h.replies("971500000531").await.len(), 1, "once");
}
