//! `cargo xtask bench console`: the staff console's pages on a database the size of a busy
//! year (100,000 conversations, 1,000,000 messages), on a release binary. Each page is
//! requested one at a time over loopback, so its latency is the server's time plus a
//! loopback round trip.

use std::time::Instant;

use anyhow::{Context, bail};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use hdrhistogram::Histogram;
use testkit::service::ChildService;

use crate::workspace;

/// Options of `cargo xtask bench console`.
#[derive(clap::Args)]
pub struct ConsoleArgs {
    /// Conversations to create (each with 6 customer and 4 bot messages).
    #[arg(long, default_value_t = 100_000)]
    conversations: u64,
    /// Requests per page (after 20 to warm up).
    #[arg(long, default_value_t = 300)]
    requests: u64,
}

const SESSION: &str = "bench-console-session";

pub async fn run(args: ConsoleArgs) -> anyhow::Result<()> {
    let bin = workspace::build(true, &["staff-console"])?;
    let (admin_url, cluster) = super::database().await?;
    let url = super::fresh_database(&admin_url, "bench_console").await?;
    store::migrations::run_pending(&url).await?;
    println!("database: {url}");
    let seeding = Instant::now();
    let messages = seed(&url, args.conversations).await?;
    println!(
        "seeded {} conversations and {messages} messages in {:.0?}",
        args.conversations,
        seeding.elapsed()
    );
    let console =
        ChildService::start_quiet(&bin.join("staff-console"), &["serve"], &[("DATABASE_URL", &url)])
            .await
            .context("starting the console")?;
    let cursor = deep_cursor(&url).await?;
    let pages = [
        ("inbox, all, first page", "/inbox?filter=all".to_owned()),
        ("inbox, needs a person", "/inbox?filter=needs_person".to_owned()),
        ("inbox, 40th page (keyset)", format!("/inbox?filter=all&after={cursor}")),
        ("inbox, search by name", "/inbox?filter=all&q=Customer%2042424".to_owned()),
        ("inbox, live refresh", "/inbox/rows?filter=all".to_owned()),
        ("conversation, 10 messages", format!("/conversations/{}", args.conversations / 2)),
        ("conversation, 2,010 messages (last 200 shown)", "/conversations/1".to_owned()),
        ("conversation, live refresh", "/conversations/1/transcript".to_owned()),
    ];
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let mut rows = Vec::new();
    for (name, path) in &pages {
        let histogram = measure(&http, &console.url(path), args.requests).await?;
        rows.push((*name, histogram));
    }
    drop(console);
    drop(cluster);
    println!();
    println!(
        "| page ({} conversations, {messages} messages, release, one request at a time) | p50 | p99 | max |",
        args.conversations
    );
    println!("|---|---|---|---|");
    let ms = |us: u64| us as f64 / 1000.0;
    for (name, h) in &rows {
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |",
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max())
        );
    }
    Ok(())
}

/// Requests `url` `requests` times after a warm-up; every answer must be 200.
async fn measure(http: &reqwest::Client, url: &str, requests: u64) -> anyhow::Result<Histogram<u64>> {
    let mut histogram = Histogram::<u64>::new(3)?;
    for i in 0..requests + 20 {
        let started = Instant::now();
        let response = http.get(url).header("cookie", format!("console_session={SESSION}")).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        let took = started.elapsed();
        if status != 200 || body.is_empty() {
            bail!("{url} answered {status}");
        }
        if i >= 20 {
            histogram.record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX))?;
        }
    }
    Ok(histogram)
}

/// Conversations with 6 customer and 4 bot messages each (conversation 1 with 2,000 more),
/// staff read markers on half of them, one account and its session. Returns the messages.
async fn seed(url: &str, conversations: u64) -> anyhow::Result<u64> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!(
        "SET synchronous_commit = off;
         INSERT INTO contact (wa_id, profile_name, opted_out_at)
         SELECT '9715' || lpad(g::text, 8, '0'), 'Customer ' || g, CASE WHEN g % 50 = 0 THEN now() END
         FROM generate_series(1, {conversations}) g;
         INSERT INTO conversation (contact_id, phone_number_id, known_fields, engine_state, last_inbound_at)
         SELECT id, '123456789012345', jsonb_build_object('name', 'Customer ' || id, 'service', 'Golden visa'),
                jsonb_build_object('stage', CASE WHEN id % 10 = 0 THEN 'handed_off' WHEN id % 7 = 0 THEN 'qualified'
                                                 WHEN id % 50 = 0 THEN 'opted_out' ELSE 'qualifying' END),
                now() - (id % 43200) * interval '1 minute' - id * interval '1 millisecond'
         FROM contact ORDER BY id;
         INSERT INTO inbound_message (conversation_id, provider_message_id, message_type, text_body, raw, received_at)
         SELECT c.id, 'wamid.bench.' || c.id || '.' || k, 'text', 'Customer message ' || k || ' of ' || c.id, '{{}}',
                c.last_inbound_at - (6 - k) * interval '2 minutes'
         FROM conversation c, generate_series(1, 6) k;
         INSERT INTO inbound_message (conversation_id, provider_message_id, message_type, text_body, raw, received_at)
         SELECT 1, 'wamid.bench.long.' || k, 'text', 'A long conversation, message ' || k, '{{}}',
                now() - interval '30 days' + k * interval '1 minute'
         FROM generate_series(1, 2000) k;
         INSERT INTO outbound_message_log (conversation_id, dedupe_key, question_key, body, status, created_at)
         SELECT c.id, c.id || ':bench:' || k, 'ASK_NAME', 'Bot message ' || k, 'read',
                c.last_inbound_at - (6 - k) * interval '2 minutes' + interval '5 seconds'
         FROM conversation c, generate_series(1, 4) k;
         INSERT INTO staff_user (email, password_hash, role) VALUES ('bench@example.com', 'no login', 'agent');
         INSERT INTO staff_session (token_hash, staff_user_id, csrf_token, expires_at)
         SELECT encode(sha256('{SESSION}'::bytea), 'hex'), id, 'bench', now() + interval '1 day' FROM staff_user;
         INSERT INTO staff_conversation_read (staff_user_id, conversation_id, read_at)
         SELECT u.id, c.id, now() - interval '1 day' FROM staff_user u, conversation c WHERE c.id % 2 = 0;"
    ))
    .await?;
    conn.batch_execute("VACUUM ANALYZE").await?;
    Ok(conversations * 10 + 2000)
}

/// The cursor of the 2,000th conversation of the inbox (the start of its 41st page).
async fn deep_cursor(url: &str) -> anyhow::Result<String> {
    let sql = "SELECT (EXTRACT(EPOCH FROM COALESCE(last_inbound_at, created_at)) * 1000000)::bigint::text || '.' || id AS s
               FROM conversation ORDER BY COALESCE(last_inbound_at, created_at) DESC, id DESC OFFSET 1999 LIMIT 1";
    testkit::sql::strings(url, sql).await.pop().context("no 2,000th conversation")
}
