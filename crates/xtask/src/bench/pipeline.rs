//! The whole pipeline for a benchmark: release binaries (this workspace's, or another
//! build's services for paired runs), a fresh database on the benchmarks' durable Postgres
//! holding a history of past conversations, and the four services started on it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bytes::Bytes;
use serde_json::Value;
use testkit::payloads::{self, Customer};
use testkit::stack::{Stack, StackOptions};

use super::load::Prepared;
use crate::workspace;

/// The services under test; whatsapp-fake is always this workspace's.
const SERVICES: [&str; 3] = ["webhook-ingest", "job-runner", "outbound-sender"];

/// A running pipeline; everything stops when it is dropped.
pub struct Pipeline {
    /// The four services.
    pub stack: Stack,
    /// The database's URL.
    pub url: String,
    // Declared last: dropped after the services that use it.
    _cluster: Option<testkit::PgCluster>,
}

impl Pipeline {
    /// Starts the services of `baseline` (a directory of release binaries) or of this
    /// workspace on a fresh database `name`, migrated by the code under test.
    pub async fn start(baseline: Option<&Path>, name: &str, options: StackOptions) -> anyhow::Result<Self> {
        let bin = binaries(baseline)?;
        if let Some(dir) = baseline {
            println!("baseline: the services of {}", dir.display());
        }
        let (admin_url, cluster) = super::database().await?;
        let url = super::fresh_database(&admin_url, name).await?;
        migrate(&bin, &url, baseline.is_some()).await?;
        println!("database: {url}");
        seed_history(&url).await?;
        let stack = Stack::start(&bin, &url, options).await.context("starting the stack")?;
        Ok(Self { stack, url, _cluster: cluster })
    }

    /// Refreshes the planner's statistics of every table, as autovacuum does on a database
    /// that has been running for a while: the statements the services planned before the
    /// latest rows came are planned again for the tables as they are.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        execute(&self.url, "ANALYZE").await
    }

    /// The read receipts the double received; none when it does not record them.
    pub async fn presence(&self) -> Vec<Value> {
        let listed = reqwest::get(self.stack.fake.url("/_fake/presence")).await;
        match listed {
            Ok(response) if response.status().is_success() => response.json().await.unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// Conversations a benchmark's database holds before it starts.
const HISTORY: u32 = 50_000;

/// Fills the database with [`HISTORY`] past conversations of other customers (a message,
/// its finished job, a reply read, its three statuses) and analyzes it: the services plan
/// their statements for tables of a running business, as in production, rather than for
/// empty tables that a burst then fills (a plan made for a few rows scans whole tables once
/// they hold thousands, until autovacuum analyzes them again). Only the tables' first
/// columns are written, so any version of the schema takes them.
async fn seed_history(url: &str) -> anyhow::Result<()> {
    execute(
        url,
        &format!(
            "INSERT INTO contact (wa_id) SELECT '96' || lpad(g::text, 10, '0') FROM generate_series(1, {HISTORY}) g;
             INSERT INTO conversation (contact_id, phone_number_id) SELECT id, '{phone}' FROM contact;
             INSERT INTO inbound_message (conversation_id, provider_message_id, message_type, text_body, raw)
                 SELECT id, 'wamid.history.in.' || id, 'text', 'hello', '{{}}'::jsonb FROM conversation;
             INSERT INTO outbound_job (conversation_id, inbound_message_id, inbound_provider_message_id, status)
                 SELECT conversation_id, id, provider_message_id, 'done' FROM inbound_message;
             INSERT INTO outbound_message_log (conversation_id, dedupe_key, body, status, provider_message_id)
                 SELECT id, 'history:' || id, 'Thank you', 'read', 'wamid.history.out.' || id FROM conversation;
             INSERT INTO message_status_event (provider_message_id, status, raw)
                 SELECT provider_message_id, s, '{{}}'::jsonb
                 FROM outbound_message_log, unnest(ARRAY['sent', 'delivered', 'read']) s;
             ANALYZE;",
            phone = payloads::PHONE_NUMBER_ID
        ),
    )
    .await
}

/// Runs `sql` on the database at `url`.
async fn execute(url: &str, sql: &str) -> anyhow::Result<()> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(sql).await?;
    Ok(())
}

/// The code a run measured, for its tables and plots: `this workspace` or `baseline` (the
/// directory is printed when the run starts, not in what may be published).
pub fn code_name(baseline: Option<&Path>) -> String {
    if baseline.is_some() { "baseline" } else { "this workspace" }.to_owned()
}

/// First messages of `n` new customers, each with a unique wamid `wamid.<tag>.<i>`: every
/// one gets a reply (a customer who kept repeating "hello" would be handed to staff, and the
/// bot would go quiet). Returns each request with its wamid.
pub fn first_messages(tag: &str, n: u64) -> Vec<(String, Prepared)> {
    (0..n)
        .map(|i| {
            let customer = Customer::unique();
            let wamid = format!("wamid.{tag}.{i}");
            let envelope = payloads::single_message(&customer, payloads::text(&customer, &wamid, "hello"));
            let signed = payloads::signed(&envelope);
            (wamid, Prepared { body: Bytes::from(signed.body), signature: signed.signature })
        })
        .collect()
}

/// The directory of the binaries to run: this workspace's release build, or `baseline`'s
/// services beside this workspace's whatsapp-fake.
fn binaries(baseline: Option<&Path>) -> anyhow::Result<PathBuf> {
    let Some(baseline) = baseline else {
        let mut packages = SERVICES.to_vec();
        packages.push("whatsapp-fake");
        return workspace::build(true, &packages);
    };
    let fake = workspace::build(true, &["whatsapp-fake"])?.join("whatsapp-fake");
    let dir = workspace::target_dir().join("bench-baseline");
    std::fs::create_dir_all(&dir)?;
    let links = SERVICES.iter().map(|s| (baseline.join(s), dir.join(s)));
    for (from, to) in links.chain([(fake, dir.join("whatsapp-fake"))]) {
        if !from.is_file() {
            bail!("{} is not a built binary", from.display());
        }
        let _ = std::fs::remove_file(&to);
        std::os::unix::fs::symlink(from.canonicalize()?, &to)?;
    }
    Ok(dir)
}

/// Migrates with the migrations of the code under test (a baseline's own, through its
/// `webhook-ingest migrate`).
pub(super) async fn migrate(bin: &Path, url: &str, baseline: bool) -> anyhow::Result<()> {
    if !baseline {
        store::migrations::run_pending(url).await?;
        return Ok(());
    }
    let status = tokio::process::Command::new(bin.join("webhook-ingest"))
        .arg("migrate")
        .env("DATABASE_URL", url)
        .status()
        .await
        .context("running the baseline's migrate")?;
    if !status.success() {
        bail!("the baseline's webhook-ingest migrate failed");
    }
    Ok(())
}
