//! The queue's guarantees: per-conversation order without overlap across runners, leases
//! that expire into retries, retries that back off and end in `failed`, and at most one
//! reply per question.

use std::time::Duration;

use domain::conversation::QuestionKey;
use store::Fenced;
use store::jobs::{self, JobResult, Jobs, NewReply, TurnTiming};

use crate::helpers::Harness;

#[tokio::test(flavor = "multi_thread")]
async fn four_runners_keep_each_conversations_jobs_in_order_and_never_overlapping() {
    let h = Harness::new().await;
    let customers: Vec<String> = (0..5).map(|i| format!("97150000020{i}")).collect();
    for round in 0..6 {
        for customer in &customers {
            h.text(customer, &format!("message {round}")).await;
        }
    }
    let runners: Vec<_> = (0..4).map(|_| h.runner()).collect();
    let runs = runners.iter().map(|r| async move {
        let mut claimed = 0;
        loop {
            let summary = r.run_due(3).await.expect("run");
            if summary.claimed == 0 {
                return claimed;
            }
            claimed += summary.claimed;
        }
    });
    let claimed: Vec<usize> = futures_util::future::join_all(runs).await;
    assert_eq!(claimed.iter().sum::<usize>(), 30);
    assert_eq!(
        h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'done' AND attempts = 1").await,
        30
    );

    // In each conversation, job k+1 was claimed only after job k committed.
    let overlaps = h
        .count(
            "SELECT count(*) AS n FROM outbound_job a JOIN outbound_job b \
             ON a.conversation_id = b.conversation_id AND b.id > a.id \
             WHERE b.started_at < a.completed_at",
        )
        .await;
    assert_eq!(overlaps, 0, "no two jobs of one conversation ran at once, nor out of order");
    // And their replies were written in inbound order.
    let out_of_order = h
        .count(
            "SELECT count(*) AS n FROM outbound_message_log a JOIN outbound_message_log b \
             ON a.conversation_id = b.conversation_id AND b.id > a.id WHERE b.outbound_job_id < a.outbound_job_id",
        )
        .await;
    assert_eq!(out_of_order, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_worker_died_is_run_again_and_replies_once() {
    let h = Harness::new().await;
    h.text("971500000301", "hello").await;
    // A worker claims the job with a lease that is already over, then "dies".
    let mut conn = h.connect().await;
    let dead = Jobs::new(h.pool.clone())
        .claim(10, Duration::ZERO, TurnTiming::EACH_MESSAGE)
        .await
        .expect("claim")
        .pop()
        .expect("a job");
    assert_eq!(dead.lease.attempts, 1);

    let summary = h.runner().run_due(10).await.expect("run");
    assert_eq!((summary.claimed, summary.done), (1, 1), "the expired lease made the job due again");
    assert_eq!(
        h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'done' AND attempts = 2").await,
        1
    );

    // The dead worker wakes up and tries to commit its own result: refused, nothing written.
    let late = JobResult {
        reply: Some(NewReply {
            dedupe_key: "late".to_owned(),
            question_key: QuestionKey::AskService,
            body: "late".to_owned(),
        }),
        ..JobResult::unchanged(dead)
    };
    assert_eq!(jobs::complete(&mut conn, &[&late]).await.expect("complete"), [Fenced::LeaseLost]);
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_message_log").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_job_backs_off_longer_each_time_then_fails_with_a_notification() {
    let h = Harness::new().await;
    // A fault in the database itself: every reply insert fails.
    h.execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'disk full (test fault)'; END $$",
    )
    .await;
    h.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON outbound_message_log FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    .await;
    h.text("971500000302", "hello").await;
    let runner = h.runner();

    let mut delays = Vec::new();
    for attempt in 1..=3 {
        let summary = runner.run_due(10).await.expect("run");
        assert_eq!(summary.claimed, 1, "attempt {attempt}");
        let left_ms = h
            .count("SELECT (EXTRACT(EPOCH FROM run_at - now()) * 1000)::bigint AS n FROM outbound_job")
            .await;
        delays.push(left_ms);
        // Make the retry due now instead of waiting for it.
        h.execute("UPDATE outbound_job SET run_at = now() WHERE status = 'queued'").await;
    }
    assert_eq!(
        h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'failed' AND attempts = 3").await,
        1
    );
    assert!(delays[0] >= 7_000 && delays[0] <= 12_500, "first retry after about 10 s: {delays:?}");
    assert!(delays[1] > delays[0] + 2_000, "second retry waits longer: {delays:?}");
    let notified = h
        .count(
            "SELECT count(*) AS n FROM notification WHERE kind = 'job_failed' \
             AND body LIKE '%after 3 attempt(s)%' AND body NOT LIKE '%hello%'",
        )
        .await;
    assert_eq!(notified, 1);
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_job WHERE error IS NOT NULL").await, 1);
    assert_eq!(runner.run_due(10).await.expect("run").claimed, 0, "a failed job is not run again");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_inbound_delivered_twice_yields_one_reply() {
    let h = Harness::new().await;
    let wamid = "wamid.delivered-twice";
    h.inbound_with_id("971500000303", "text", Some("hello"), wamid).await;
    h.inbound_with_id("971500000303", "text", Some("hello"), wamid).await;
    let runner = h.runner();
    assert_eq!(runner.run_due(10).await.expect("run").done, 1);
    assert_eq!(runner.run_due(10).await.expect("run").claimed, 0);
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_message_log").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_whose_dedupe_key_is_taken_is_blocked_not_sent_twice() {
    let h = Harness::new().await;
    let wamid = h.text("971500000304", "hello").await;
    h.execute(&format!(
        "INSERT INTO outbound_message_log (conversation_id, dedupe_key, question_key, body) \
         SELECT id, id || ':{wamid}:ASK_SERVICE', 'ASK_SERVICE', 'written earlier' FROM conversation"
    ))
    .await;
    let summary = h.runner().run_due(10).await.expect("run");
    assert_eq!(summary.done, 1);
    assert_eq!(h.replies("971500000304").await, vec!["written earlier".to_owned()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_dying_on_the_last_attempt_fails_the_job_with_a_notification() {
    let h = Harness::new().await;
    h.text("971500000305", "hello").await;
    h.execute("UPDATE outbound_job SET attempts = max_attempts - 1").await;
    Jobs::new(h.pool.clone()).claim(10, Duration::ZERO, TurnTiming::EACH_MESSAGE).await.expect("claim");

    let summary = h.runner().run_due(10).await.expect("run");
    assert_eq!(summary.claimed, 0, "no attempt left to run");
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'failed'").await, 1);
    assert_eq!(h.count("SELECT count(*) AS n FROM notification WHERE kind = 'job_failed'").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draining_run_picks_up_jobs_that_arrive_during_the_drain() {
    let h = Harness::new().await;
    let runner = h.runner();
    let stop = worker::CancellationToken::new();
    let draining = {
        let runner = runner.clone();
        let stop = stop.clone();
        tokio::spawn(async move { runner.drain(1, Duration::from_secs(30), &stop).await })
    };
    h.text("971500000306", "hello").await;
    let summary =
        tokio::time::timeout(Duration::from_secs(20), draining).await.expect("in time").expect("join");
    assert_eq!(summary.expect("drain").done, 1, "found by polling, and stopped at --max");
}

/// A runner that forms turns of messages arriving within `quiet`.
fn turn_runner(h: &Harness, quiet: Duration, max_wait: Duration) -> job_runner::Runner {
    let settings =
        job_runner::RunnerSettings { turns: TurnTiming { quiet, max_wait }, ..crate::helpers::settings() };
    job_runner::Runner::new(h.pool.clone(), settings)
}

/// Runs due turns until one was claimed (the quiet period passes meanwhile), up to 10 s.
async fn run_when_due(runner: &job_runner::Runner) -> job_runner::Summary {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let summary = runner.run_due(10).await.expect("run");
        if summary.claimed > 0 || tokio::time::Instant::now() >= deadline {
            return summary;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fragments_within_the_quiet_period_are_one_turn_with_one_reply() {
    let h = Harness::new().await;
    let runner = turn_runner(&h, Duration::from_millis(500), Duration::from_secs(6));
    for fragment in ["hi", "i need", "a family visa"] {
        h.text("971500000321", fragment).await;
    }
    assert_eq!(runner.run_due(10).await.expect("run").claimed, 0, "the customer may still be typing");
    let summary = run_when_due(&runner).await;
    assert_eq!((summary.claimed, summary.done), (1, 1), "one turn: {summary:?}");
    assert_eq!(
        h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'done'").await,
        3,
        "every job ends with it"
    );
    let replies = h.replies("971500000321").await;
    assert_eq!(replies.len(), 1, "one reply for three fragments: {replies:?}");
    assert!(replies[0].ends_with("May I know your full name, please?"), "the service is known: {replies:?}");
    let answered = h
        .strings(
            "SELECT o.reply_to_provider_message_id AS s FROM outbound_message_log o \
             WHERE o.reply_to_provider_message_id = (SELECT provider_message_id FROM inbound_message ORDER BY id DESC LIMIT 1)",
        )
        .await;
    assert_eq!(answered.len(), 1, "the reply answers the turn's newest message");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backlog_is_one_turn_and_every_message_is_read() {
    let h = Harness::new().await;
    for text in ["Hello", "I need a golden visa", "I'm Ahmed Khan", "from Pakistan", "ahmed.khan@gmail.com"] {
        h.text("971500000322", text).await;
    }
    // The runner was down: by the time it starts, the quiet period has long passed.
    h.execute("UPDATE outbound_job SET created_at = now() - interval '5 minutes'").await;
    let runner = turn_runner(&h, Duration::from_secs(2), Duration::from_secs(6));
    let summary = runner.run_due(10).await.expect("run");
    assert_eq!((summary.claimed, summary.done), (1, 1), "{summary:?}");
    let replies = h.replies("971500000322").await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].ends_with("What is the best time to call you?"), "all five were read: {replies:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_who_keeps_typing_is_answered_by_the_longest_wait() {
    let h = Harness::new().await;
    let runner = turn_runner(&h, Duration::from_secs(2), Duration::from_secs(3));
    h.text("971500000323", "hi").await;
    // The first message has waited longer than the longest wait; a newer one is still fresh.
    h.execute("UPDATE outbound_job SET created_at = now() - interval '4 seconds'").await;
    h.text("971500000323", "i need a visit visa").await;
    let summary = runner.run_due(10).await.expect("run");
    assert_eq!((summary.claimed, summary.done), (1, 1), "answered although the customer is still typing");
    assert_eq!(h.replies("971500000323").await.len(), 1);
}
