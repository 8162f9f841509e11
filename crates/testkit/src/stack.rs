//! The whole pipeline as real processes, wired to each other on one database:
//! webhook-ingest, job-runner `serve`, outbound-sender and whatsapp-fake (which posts its
//! status webhooks back to ingest).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::payloads::{self, APP_SECRET, VERIFY_TOKEN};
use crate::service::ChildService;

/// The access token the sender presents to the fake.
pub const FAKE_ACCESS_TOKEN: &str = "fake-access-token";

/// Extra environment for each process, on top of the wiring.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// For every service.
    pub all: Vec<(String, String)>,
    /// For webhook-ingest.
    pub ingest: Vec<(String, String)>,
    /// For whatsapp-fake (`FAKE_*` faults).
    pub fake: Vec<(String, String)>,
    /// For job-runner.
    pub runner: Vec<(String, String)>,
    /// For outbound-sender.
    pub sender: Vec<(String, String)>,
}

impl StackOptions {
    /// The environment common to every service, then `own` (which wins).
    fn with_common(&self, own: &[(String, String)]) -> Vec<(String, String)> {
        self.all.iter().chain(own).cloned().collect()
    }
}

/// The four services, running.
pub struct Stack {
    /// webhook-ingest.
    pub ingest: ChildService,
    /// job-runner serve.
    pub runner: ChildService,
    /// outbound-sender serve.
    pub sender: ChildService,
    /// whatsapp-fake.
    pub fake: ChildService,
    bin_dir: PathBuf,
    database_url: String,
    options: StackOptions,
    http: reqwest::Client,
}

impl Stack {
    /// Starts the stack on `database_url` (migrated) with the binaries in `bin_dir`.
    pub async fn start(bin_dir: &Path, database_url: &str, options: StackOptions) -> std::io::Result<Self> {
        let ingest = start(
            bin_dir,
            "webhook-ingest",
            database_url,
            &[
                ("WHATSAPP_APP_SECRET", APP_SECRET.to_owned()),
                ("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN.to_owned()),
            ],
            &options.with_common(&options.ingest),
        )
        .await?;
        let fake_env = [
            ("FAKE_INGEST_URL", ingest.url("/api/webhooks/whatsapp")),
            ("FAKE_APP_SECRET", APP_SECRET.to_owned()),
            ("FAKE_ACCESS_TOKEN", FAKE_ACCESS_TOKEN.to_owned()),
        ];
        let fake =
            start(bin_dir, "whatsapp-fake", database_url, &fake_env, &options.with_common(&options.fake))
                .await?;
        let runner = start_runner(bin_dir, database_url, &options).await?;
        let sender = start_sender(bin_dir, database_url, &fake, &options).await?;
        Ok(Self {
            ingest,
            runner,
            sender,
            fake,
            bin_dir: bin_dir.to_owned(),
            database_url: database_url.to_owned(),
            options,
            http: reqwest::Client::new(),
        })
    }

    /// Starts outbound-sender again (after a kill, say).
    pub async fn restart_sender(&mut self) -> std::io::Result<()> {
        self.sender = self.spawn_sender().await?;
        Ok(())
    }

    /// Starts one more job-runner `serve`, wired like [`Stack::runner`]; the caller owns it.
    pub async fn spawn_runner(&self) -> std::io::Result<ChildService> {
        start_runner(&self.bin_dir, &self.database_url, &self.options).await
    }

    /// Starts one more outbound-sender, wired like [`Stack::sender`]; the caller owns it.
    pub async fn spawn_sender(&self) -> std::io::Result<ChildService> {
        start_sender(&self.bin_dir, &self.database_url, &self.fake, &self.options).await
    }

    /// POSTs a webhook signed as Meta would; returns the HTTP status.
    pub async fn deliver(&self, envelope: &Value) -> u16 {
        let signed = payloads::signed(envelope);
        self.http
            .post(self.ingest.url("/api/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signed.signature)
            .body(signed.body)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }

    /// Every send the fake accepted, in arrival order. Panics when the fake cannot be asked:
    /// a fake that is down must fail the test, not read as "nothing was sent".
    #[expect(clippy::expect_used, reason = "a test helper fails the test loudly")]
    pub async fn sends(&self) -> Vec<Value> {
        let response = self.http.get(self.fake.url("/_fake/sends")).send().await.expect("the fake answers");
        assert!(response.status().is_success(), "the fake refused to list its sends: {}", response.status());
        response.json::<Vec<Value>>().await.expect("the fake lists its sends as JSON")
    }

    /// Every read receipt (with or without a typing indicator) the fake accepted, in arrival
    /// order. Panics when the fake cannot be asked, like [`Stack::sends`].
    #[expect(clippy::expect_used, reason = "a test helper fails the test loudly")]
    pub async fn presence(&self) -> Vec<Value> {
        let response =
            self.http.get(self.fake.url("/_fake/presence")).send().await.expect("the fake answers");
        assert!(
            response.status().is_success(),
            "the fake refused to list read receipts: {}",
            response.status()
        );
        response.json::<Vec<Value>>().await.expect("the fake lists read receipts as JSON")
    }

    /// Forgets the sends and read receipts the fake recorded so far.
    pub async fn clear_sends(&self) {
        let _ = self.http.delete(self.fake.url("/_fake/sends")).send().await;
        let _ = self.http.delete(self.fake.url("/_fake/presence")).send().await;
    }

    /// Waits (up to `timeout`) until the fake accepted at least `n` sends; returns them.
    pub async fn wait_for_sends(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let sends = self.sends().await;
            if sends.len() >= n || tokio::time::Instant::now() >= deadline {
                return sends;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Changes the fake's faults (fields of `whatsapp_fake::Faults`).
    pub async fn set_faults(&self, faults: &Value) -> bool {
        let sent = self.http.put(self.fake.url("/_fake/faults")).json(faults).send().await;
        sent.is_ok_and(|r| r.status().is_success())
    }
}

async fn start_runner(
    bin_dir: &Path,
    database_url: &str,
    options: &StackOptions,
) -> std::io::Result<ChildService> {
    // Every message answered on its own unless a test asks for turns (TURN_QUIET_MS).
    let env = [("JOB_POLL_INTERVAL_MS", "200".to_owned()), ("TURN_QUIET_MS", "0".to_owned())];
    start(bin_dir, "job-runner", database_url, &env, &options.with_common(&options.runner)).await
}

async fn start_sender(
    bin_dir: &Path,
    database_url: &str,
    fake: &ChildService,
    options: &StackOptions,
) -> std::io::Result<ChildService> {
    let env = [
        ("WHATSAPP_API_BASE_URL", fake.url("")),
        ("WHATSAPP_ACCESS_TOKEN", FAKE_ACCESS_TOKEN.to_owned()),
        ("SEND_POLL_INTERVAL_MS", "200".to_owned()),
    ];
    start(bin_dir, "outbound-sender", database_url, &env, &options.with_common(&options.sender)).await
}

async fn start(
    bin_dir: &Path,
    name: &str,
    database_url: &str,
    wiring: &[(&str, String)],
    extra: &[(String, String)],
) -> std::io::Result<ChildService> {
    let mut env: Vec<(&str, &str)> = vec![("DATABASE_URL", database_url), ("RUST_LOG", "info")];
    env.extend(wiring.iter().map(|(k, v)| (*k, v.as_str())));
    env.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let args: &[&str] = if name == "whatsapp-fake" { &[] } else { &["serve"] };
    ChildService::start(&bin_dir.join(name), args, &env).await
}
