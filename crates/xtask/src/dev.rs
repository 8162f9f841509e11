//! `cargo xtask dev`: the pipeline and the staff console on this machine.

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, bail};
use rand::distr::{Alphanumeric, SampleString};
use testkit::service::ChildService;
use tokio::io::AsyncWriteExt;

use crate::{demo, workspace};

/// Options of `cargo xtask dev`.
#[derive(clap::Args)]
pub struct DevArgs {
    /// Port of webhook-ingest.
    #[arg(long, default_value_t = 8080)]
    ingest_port: u16,
    /// Port of the job-runner's operator API.
    #[arg(long, default_value_t = 8081)]
    runner_port: u16,
    /// Port of outbound-sender's health and metrics.
    #[arg(long, default_value_t = 8082)]
    sender_port: u16,
    /// Port of whatsapp-fake, the Graph API double the sender talks to.
    #[arg(long, default_value_t = 8090)]
    fake_port: u16,
    /// Port of the staff console. On the embedded throwaway database an admin login
    /// `dev@localhost` is created with a new random password each run, printed with the
    /// console's URL; with DATABASE_URL set no account is created (use `staff-console
    /// create-user`).
    #[arg(long, default_value_t = 8083)]
    console_port: u16,
    /// Once everything runs, send the scripted demo conversation through it (as `cargo
    /// xtask demo` does), then keep running.
    #[arg(long)]
    demo: bool,
}

/// The secrets the local stack uses.
const DEV_APP_SECRET: &str = "dev-app-secret";
const DEV_VERIFY_TOKEN: &str = "dev-verify-token";
const DEV_RUNNER_TOKEN: &str = "dev-runner-token";
const DEV_ACCESS_TOKEN: &str = "dev-access-token";
/// The staff console's development login (its password is new each run).
const DEV_STAFF_EMAIL: &str = "dev@localhost";

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let bin = workspace::build_all()?;
    let (database_url, cluster) = workspace::database("dev-pg", false)?;
    store::migrations::run_pending(&database_url).await.context("migrating")?;
    // An account only on the database this run created and throws away, never on one named by
    // DATABASE_URL.
    let staff_password = if cluster.is_some() {
        let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
        create_staff_user(&bin.join("staff-console"), &database_url, DEV_STAFF_EMAIL, &password).await?;
        Some(password)
    } else {
        None
    };

    let ingest_bind = format!("127.0.0.1:{}", args.ingest_port);
    let ingest_env = [
        ("DATABASE_URL", database_url.as_str()),
        ("BIND_ADDR", ingest_bind.as_str()),
        ("WHATSAPP_APP_SECRET", DEV_APP_SECRET),
        ("WHATSAPP_VERIFY_TOKEN", DEV_VERIFY_TOKEN),
        ("WEBHOOK_ALLOW_UNSIGNED", "true"),
    ];
    let mut ingest =
        ChildService::start_echoing(&bin.join("webhook-ingest"), &["serve"], &ingest_env, "ingest")
            .await
            .context("starting webhook-ingest")?;
    let runner_bind = format!("127.0.0.1:{}", args.runner_port);
    let profile = workspace::root().join("deploy/business-profile.example.toml");
    let profile = profile.to_string_lossy();
    let runner_env = [
        ("DATABASE_URL", database_url.as_str()),
        ("BIND_ADDR", runner_bind.as_str()),
        ("JOB_RUNNER_TOKEN", DEV_RUNNER_TOKEN),
        ("CRON_SECRET", DEV_RUNNER_TOKEN),
        ("BUSINESS_PROFILE", &profile),
    ];
    let mut runner = ChildService::start_echoing(&bin.join("job-runner"), &["serve"], &runner_env, "runner")
        .await
        .context("starting job-runner")?;

    let fake_bind = format!("127.0.0.1:{}", args.fake_port);
    let ingest_webhooks = ingest.url("/api/webhooks/whatsapp");
    let fake_env = [
        ("BIND_ADDR", fake_bind.as_str()),
        ("FAKE_INGEST_URL", ingest_webhooks.as_str()),
        ("FAKE_APP_SECRET", DEV_APP_SECRET),
        ("FAKE_ACCESS_TOKEN", DEV_ACCESS_TOKEN),
        ("FAKE_STATUS_DELAY_MS", "300"),
    ];
    let mut fake = ChildService::start_echoing(&bin.join("whatsapp-fake"), &[], &fake_env, "fake")
        .await
        .context("starting whatsapp-fake")?;
    let sender_bind = format!("127.0.0.1:{}", args.sender_port);
    let fake_url = fake.url("");
    let templates = workspace::root().join("deploy/whatsapp-templates.example.toml");
    let templates = templates.to_string_lossy();
    let sender_env = [
        ("DATABASE_URL", database_url.as_str()),
        ("BIND_ADDR", sender_bind.as_str()),
        ("WHATSAPP_API_BASE_URL", fake_url.as_str()),
        ("WHATSAPP_ACCESS_TOKEN", DEV_ACCESS_TOKEN),
        ("WHATSAPP_TEMPLATES", &templates),
    ];
    let mut sender =
        ChildService::start_echoing(&bin.join("outbound-sender"), &["serve"], &sender_env, "sender")
            .await
            .context("starting outbound-sender")?;
    let console_bind = format!("127.0.0.1:{}", args.console_port);
    let console_env = [
        ("DATABASE_URL", database_url.as_str()),
        ("BIND_ADDR", console_bind.as_str()),
        ("WHATSAPP_TEMPLATES", &templates),
    ];
    let mut console =
        ChildService::start_echoing(&bin.join("staff-console"), &["serve"], &console_env, "console")
            .await
            .context("starting staff-console")?;

    let embedded = if cluster.is_some() { " (embedded, throwaway)" } else { "" };
    println!();
    println!("  Postgres        {database_url}{embedded}");
    println!("  webhook-ingest  {}", ingest.url("/api/webhooks/whatsapp"));
    println!(
        "                  app secret `{DEV_APP_SECRET}`, verify token `{DEV_VERIFY_TOKEN}`, unsigned accepted"
    );
    println!("  job-runner      {}  (token `{DEV_RUNNER_TOKEN}`)", runner.url("/api/notifications"));
    println!("  outbound-sender {}  sends to whatsapp-fake at {}", sender.url("/metrics"), fake.url(""));
    println!("  staff-console   {}", console.url("/login"));
    match &staff_password {
        Some(password) => println!(
            "                  log in as `{DEV_STAFF_EMAIL}`, password `{password}` (admin; new each run)"
        ),
        None => println!(
            "                  no account created on DATABASE_URL: {} create-user --email you@example.com --role admin",
            bin.join("staff-console").display()
        ),
    }
    println!(
        "  health          {}  {}  {}  {}",
        ingest.url("/readyz"),
        runner.url("/readyz"),
        sender.url("/readyz"),
        console.url("/readyz")
    );
    println!();
    println!(
        "  Send a message:  curl -s {} -H 'content-type: application/json' \\",
        ingest.url("/api/webhooks/whatsapp")
    );
    println!("    -d '{}'", sample_webhook());
    println!(
        "  See the replies: psql {database_url} -c 'SELECT conversation_id, body FROM outbound_message_log'"
    );
    println!(
        "  Replay one:      {} replay --conversation-id 1 --database-url {database_url}",
        bin.join("orchestrator-core").display()
    );
    println!();
    println!("  Talk to it:      cargo xtask demo   (in another terminal)");
    println!("  Ctrl-C stops everything.");
    println!();

    let target = demo::Target {
        ingest_url: ingest.url(""),
        fake_url: fake.url(""),
        database_url: database_url.clone(),
        app_secret: DEV_APP_SECRET.to_owned(),
    };
    let state_file = demo::state_file();
    std::fs::write(&state_file, serde_json::to_vec_pretty(&target)?)
        .with_context(|| format!("writing {}", state_file.display()))?;
    if args.demo {
        demo::show(&target).await?;
    }

    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!("stopping…");
    let _ = std::fs::remove_file(&state_file);
    ingest.terminate().await.context("stopping webhook-ingest")?;
    runner.terminate().await.context("stopping job-runner")?;
    sender.terminate().await.context("stopping outbound-sender")?;
    console.terminate().await.context("stopping staff-console")?;
    fake.terminate().await.context("stopping whatsapp-fake")?;
    drop(cluster);
    Ok(())
}

/// `staff-console create-user` with the password on standard input, as an operator would
/// pipe it.
async fn create_staff_user(
    binary: &Path,
    database_url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    let mut child = tokio::process::Command::new(binary)
        .args(["create-user", "--email", email, "--role", "admin"])
        .env("DATABASE_URL", database_url)
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("running {} create-user", binary.display()))?;
    let mut stdin = child.stdin.take().context("create-user's standard input")?;
    stdin.write_all(format!("{password}\n").as_bytes()).await.context("writing the password")?;
    drop(stdin);
    let out = child.wait_with_output().await.context("waiting for create-user")?;
    if !out.status.success() {
        bail!(
            "staff-console create-user failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn sample_webhook() -> String {
    let customer = testkit::payloads::Customer::unique();
    let message =
        testkit::payloads::text(&customer, &testkit::payloads::unique_wamid(), "Hi, I need a family visa");
    testkit::payloads::single_message(&customer, message).to_string()
}
