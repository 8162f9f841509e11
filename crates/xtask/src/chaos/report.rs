//! The audit after a chaos run: from the database and the Graph API double's records,
//! whether every promise held, as a table.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use store::SendStatus;
use testkit::sql;

use super::driver::Driven;
use super::faults::Kills;
use crate::sends;

/// Rows still moving: jobs to run, replies to send or to settle (held ones excepted).
const OPEN_WORK_SQL: &str = "SELECT
      (SELECT count(*) FROM outbound_job WHERE status IN ('queued', 'running'))
    + (SELECT count(*) FROM outbound_message_log
       WHERE status IN ('queued', 'sending') OR (status = 'uncertain' AND run_at <> 'infinity')) AS n";

/// Waits until no job or reply is open and the double has received nothing new for two
/// seconds, or `timeout`; false on timeout.
pub async fn wait_until_quiet(database_url: &str, fake_url: &str, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    let (mut last_sends, mut quiet_polls) = (usize::MAX, 0);
    while tokio::time::Instant::now() < deadline {
        let open = sql::count(database_url, OPEN_WORK_SQL).await;
        let sends = fake_sends(fake_url).await.map_or(usize::MAX, |s| s.len());
        quiet_polls = if open == 0 && sends == last_sends { quiet_polls + 1 } else { 0 };
        if quiet_polls >= 4 {
            return true;
        }
        last_sends = sends;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// Every send the double recorded, in arrival order.
pub async fn fake_sends(fake_url: &str) -> anyhow::Result<Vec<Value>> {
    let response = reqwest::get(format!("{fake_url}/_fake/sends")).await.context("asking the fake")?;
    response.json().await.context("reading the fake's sends")
}

/// One line of the table.
pub struct Line {
    what: &'static str,
    value: String,
    /// `Some(false)` breaks a promise; `None` is a figure, not a check.
    ok: Option<bool>,
}

/// Every figure and check of the run.
pub struct Audit {
    lines: Vec<Line>,
}

impl Audit {
    /// Whether every check held.
    pub fn passed(&self) -> bool {
        self.lines.iter().all(|l| l.ok != Some(false))
    }

    /// Checks that the faults the run promised took place: a run whose replicas were never
    /// killed, or whose Postgres never went away, proves nothing about surviving them.
    pub fn check_faults(&mut self, figures: &Figures, kills_expected: bool, restart_expected: bool) {
        if kills_expected {
            let kills = figures.kills;
            self.check(
                "faults took place: replicas killed",
                format!("{} runners, {} senders", kills.runners, kills.senders),
                kills.runners > 0 && kills.senders > 0,
            );
        }
        if restart_expected {
            let away = figures
                .postgres_outage
                .map_or_else(|| "never".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
            self.check(
                "faults took place: Postgres crashed and restarted",
                away,
                figures.postgres_outage.is_some(),
            );
        }
    }

    fn figure(&mut self, what: &'static str, value: impl ToString) {
        self.lines.push(Line { what, value: value.to_string(), ok: None });
    }

    fn check(&mut self, what: &'static str, value: impl ToString, ok: bool) {
        self.lines.push(Line { what, value: value.to_string(), ok: Some(ok) });
    }
}

/// One `outbound_message_log` row, as the audit needs it.
struct Reply {
    status: SendStatus,
    uncertain_resends: i64,
}

/// Checks the promises against the database and the double's records.
pub async fn audit(database_url: &str, driven: &Driven, sends: &[Value]) -> Audit {
    let count = |q: &'static str| sql::count(database_url, q);
    let mut audit = Audit { lines: Vec::new() };

    // Nothing acknowledged is lost; one inbound message, one job.
    let stored: HashSet<String> =
        sql::strings(database_url, "SELECT provider_message_id AS s FROM inbound_message")
            .await
            .into_iter()
            .collect();
    let missing = driven.accepted.keys().filter(|w| !stored.contains(*w)).count();
    audit.figure("inbound messages sent (distinct, fragments included)", driven.messages);
    audit.check(
        "inbound messages acknowledged / stored",
        format!("{} / {}", driven.accepted.len(), stored.len()),
        driven.accepted.len() == stored.len(),
    );
    audit.check("acknowledged but not stored", missing, missing == 0);
    audit.check("deliveries never acknowledged (gave up)", driven.gave_up, driven.gave_up == 0);
    let jobs = count("SELECT count(*) AS n FROM outbound_job").await;
    let without_job = count(
        "SELECT count(*) AS n FROM inbound_message m WHERE NOT EXISTS \
         (SELECT 1 FROM outbound_job j WHERE j.inbound_message_id = m.id)",
    )
    .await;
    audit.check("jobs (one per stored message)", jobs, jobs == stored.len() as i64 && without_job == 0);
    audit.figure("jobs done", count("SELECT count(*) AS n FROM outbound_job WHERE status = 'done'").await);
    let failed = count("SELECT count(*) AS n FROM outbound_job WHERE status = 'failed'").await;
    let failed_silently = count(
        "SELECT count(*) AS n FROM outbound_job j WHERE j.status = 'failed' AND NOT EXISTS \
         (SELECT 1 FROM notification n WHERE n.dedupe_key = 'job_failed:' || j.id)",
    )
    .await;
    audit.check(
        "jobs failed / of them without a notification",
        format!("{failed} / {failed_silently}"),
        failed_silently == 0,
    );
    let stuck = count("SELECT count(*) AS n FROM outbound_job WHERE status IN ('queued', 'running')").await;
    audit.check("jobs stuck (queued or running)", stuck, stuck == 0);
    audit.figure(
        "jobs run more than once (lease expired, retried)",
        count("SELECT count(*) AS n FROM outbound_job WHERE attempts > 1").await,
    );

    // At most one reply per question, each reaching the phone once, in order.
    let replies = replies(database_url).await;
    let mut received: HashMap<i64, usize> = HashMap::new();
    for id in sends.iter().filter_map(sends::outbound_id) {
        *received.entry(id).or_default() += 1;
    }
    let once = replies.keys().filter(|id| received.get(id) == Some(&1)).count();
    let lost = replies
        .iter()
        .filter(|(id, r)| {
            !received.contains_key(id) && !matches!(r.status, SendStatus::Failed | SendStatus::Superseded)
        })
        .count();
    let superseded_received = replies
        .iter()
        .filter(|(id, r)| r.status == SendStatus::Superseded && received.contains_key(id))
        .count();
    let (mut resent, mut duplicated) = (0, 0);
    for (id, reply) in &replies {
        let extra = received.get(id).copied().unwrap_or(0).saturating_sub(1) as i64;
        if extra > 0 && extra <= reply.uncertain_resends {
            resent += 1;
        } else if extra > 0 {
            duplicated += 1;
        }
    }
    let orphans = received.keys().filter(|id| !replies.contains_key(id)).count();
    let failed_replies = replies.values().filter(|r| r.status == SendStatus::Failed).count();
    let failed_replies_silently = count(
        "SELECT count(*) AS n FROM outbound_message_log o WHERE o.status = 'failed' AND NOT EXISTS \
         (SELECT 1 FROM notification n WHERE n.dedupe_key = 'outbound_failed:' || o.id)",
    )
    .await;
    let open = replies
        .values()
        .filter(|r| matches!(r.status, SendStatus::Queued | SendStatus::Sending | SendStatus::Uncertain))
        .count();
    audit.figure("replies written (one per question, unique dedupe key)", replies.len());
    audit.figure("replies received by the phone exactly once", once);
    audit.check("replies received twice or more, unexplained", duplicated, duplicated == 0);
    audit.figure(
        "uncertain sends resent after the window without a status",
        replies.values().filter(|r| r.uncertain_resends > 0).count(),
    );
    audit.figure("replies received twice after an uncertain send was resent (explained)", resent);
    audit.check("replies marked sent but never received", lost, lost == 0);
    audit.check(
        "replies failed / of them without a notification",
        format!("{failed_replies} / {failed_replies_silently}"),
        failed_replies_silently == 0,
    );
    audit.check("replies still open (queued, sending, uncertain)", open, open == 0);
    audit.figure(
        "replies superseded by a newer turn (never sent)",
        replies.values().filter(|r| r.status == SendStatus::Superseded).count(),
    );
    audit.check("superseded replies that reached the phone", superseded_received, superseded_received == 0);
    let turns =
        count("SELECT count(DISTINCT claim_token) AS n FROM outbound_job WHERE status = 'done'").await;
    audit.figure(
        "turns decided (messages per turn)",
        format!("{turns} ({:.2})", stored.len() as f64 / turns.max(1) as f64),
    );
    let answered_twice = count(
        "SELECT count(*) AS n FROM (SELECT reply_to_provider_message_id FROM outbound_message_log          WHERE author_staff_id IS NULL AND reply_to_provider_message_id IS NOT NULL          GROUP BY reply_to_provider_message_id HAVING count(*) > 1) twice",
    )
    .await;
    audit.check("turns answered twice", answered_twice, answered_twice == 0);
    let answered = count(
        "SELECT count(DISTINCT j.claim_token) AS n FROM outbound_job j JOIN inbound_message m ON m.id = j.inbound_message_id \
         WHERE j.status = 'done' AND EXISTS (SELECT 1 FROM outbound_message_log o \
                                            WHERE o.reply_to_provider_message_id = m.provider_message_id)",
    )
    .await;
    audit.figure("turns with their one reply", answered);
    audit.check("sends for no reply row", orphans, orphans == 0);
    let late = out_of_order(sends);
    audit.check("replies out of order per conversation", late, late == 0);
    audit
}

/// Every reply row by id.
async fn replies(database_url: &str) -> HashMap<i64, Reply> {
    let rows = sql::strings(
        database_url,
        "SELECT id || ' ' || status || ' ' || uncertain_resends AS s FROM outbound_message_log",
    )
    .await;
    rows.iter()
        .filter_map(|row| {
            let mut parts = row.split(' ');
            let id = parts.next()?.parse().ok()?;
            let status = parts.next()?.parse().ok()?;
            let uncertain_resends = parts.next()?.parse().ok()?;
            Some((id, Reply { status, uncertain_resends }))
        })
        .collect()
}

/// Replies that reached a customer before an earlier reply of the same conversation (reply
/// ids grow in creation order; a resent reply counts at its first arrival).
fn out_of_order(sends: &[Value]) -> usize {
    let mut newest: HashMap<&str, i64> = HashMap::new();
    let mut seen = HashSet::new();
    let mut late = 0;
    for send in sends {
        let (Some(to), Some(id)) = (send["to"].as_str(), sends::outbound_id(send)) else { continue };
        if !seen.insert(id) {
            continue;
        }
        let newest = newest.entry(to).or_insert(id);
        if id < *newest {
            late += 1;
        }
        *newest = (*newest).max(id);
    }
    late
}

/// How the run went, for the table's header and footer.
pub struct Figures {
    /// Time to deliver every webhook.
    pub driving: Duration,
    /// Time until the pipeline was quiet again.
    pub settled: Duration,
    /// Whether it became quiet before the timeout.
    pub quiet: bool,
    /// Replicas killed.
    pub kills: Kills,
    /// How long Postgres was away, if it was restarted.
    pub postgres_outage: Option<Duration>,
    /// The seed, to repeat the run.
    pub seed: u64,
    /// The run's shape.
    pub args: String,
}

/// Prints the audit as a Markdown table.
pub fn print(audit: &Audit, driven: &Driven, sends: &[Value], figures: &Figures) {
    let latency = sends::latency_us(&driven.accepted, sends);
    println!();
    println!("| chaos run: {} (seed {}) | |", figures.args, figures.seed);
    println!("|---|---|");
    let outage = figures
        .postgres_outage
        .map_or_else(|| "no".to_owned(), |d| format!("once, away {:.1} s", d.as_secs_f64()));
    println!(
        "| faults | {} runner and {} sender kills (SIGKILL); Postgres crash and restart: {outage}; Graph API: 5% transient errors, 1% lost answers, 1% resets, 2–60 ms latency, 120 sends/s limit |",
        figures.kills.runners, figures.kills.senders
    );
    println!(
        "| deliveries | {} POSTs: {} duplicates, {} batched envelopes, {} out of order; {} refused and retried (Postgres away) |",
        driven.deliveries, driven.duplicates, driven.batches, driven.reordered, driven.refused
    );
    for line in &audit.lines {
        let mark = match line.ok {
            Some(true) => " ✓",
            Some(false) => " ✗ BROKEN",
            None => "",
        };
        println!("| {} | {}{mark} |", line.what, line.value);
    }
    println!(
        "| throughput | {:.0} messages/s acknowledged over {:.1} s; {} sends in {:.1} s until quiet{} |",
        driven.accepted.len() as f64 / figures.driving.as_secs_f64().max(0.001),
        figures.driving.as_secs_f64(),
        sends.len(),
        figures.settled.as_secs_f64(),
        if figures.quiet { "" } else { " (NOT quiet at the timeout)" }
    );
    println!(
        "| webhook 200 → reply at the Graph API: p50 / p99 / max | {} |",
        crate::bench::load::percentiles(&latency)
    );
    println!();
    println!("{}", if audit.passed() { "every promise held" } else { "BROKEN PROMISES: see ✗ above" });
}
