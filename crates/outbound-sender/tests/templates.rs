//! Approved templates through the real binary, on a real Postgres, against whatsapp-fake:
//! a template goes out as that template whatever the 24-hour window, a free-form text
//! outside it still does not, and a template the catalogue does not list fails for good.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use testkit::service::ChildService;
use testkit::sql;
use testkit::{TestDb, records};
use whatsapp_fake::{Fake, RecordedSend};

const WAIT: Duration = Duration::from_secs(30);

const CATALOGUE: &str = r#"
[[template]]
name = "follow_up_en"
language = "en"
body = "Hello {{1}}, following up on your {{2}} enquiry."
parameters = ["customer name", "service"]

[[template]]
name = "follow_up_ar"
language = "ar"
body = "مرحباً {{1}}، بخصوص استفساركم عن {{2}}."
parameters = ["customer name", "service"]
"#;

const TEMPLATE: &str =
    r#"{"name": "follow_up_en", "language": "en", "parameters": ["Fatima", "family visa"]}"#;
const PREVIEW: &str = "Hello Fatima, following up on your family visa enquiry.";

/// A catalogue file of this test's own, removed when dropped.
struct TemplatesFile(PathBuf);

impl TemplatesFile {
    fn new(test: &str, text: &str) -> Self {
        let path = std::env::temp_dir().join(format!("outbound-sender-{}-{test}.toml", std::process::id()));
        std::fs::write(&path, text).expect("write the catalogue");
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary path")
    }
}

impl Drop for TemplatesFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A fake Graph API in this process; returns its base URL.
async fn start_fake() -> String {
    let cli = whatsapp_fake::Cli::parse_from(["whatsapp-fake", "--bind-addr", "127.0.0.1:0"]);
    let fake = Fake::bind(&cli).await.expect("the fake binds");
    let base = format!("http://{}", fake.addr());
    tokio::spawn(fake.run(std::future::pending()));
    base
}

async fn sends(fake: &str) -> Vec<RecordedSend> {
    reqwest::get(format!("{fake}/_fake/sends")).await.expect("the fake answers").json().await.expect("json")
}

/// outbound-sender serve on `db`, sending to `fake`, with `templates` as its catalogue.
async fn start_sender(db: &TestDb, fake: &str, templates: &TemplatesFile) -> ChildService {
    let env = [
        ("DATABASE_URL", db.url()),
        ("WHATSAPP_API_BASE_URL", fake),
        ("WHATSAPP_ACCESS_TOKEN", "fake-access-token"),
        ("WHATSAPP_TEMPLATES", templates.path()),
        ("SEND_POLL_INTERVAL_MS", "100"),
    ];
    ChildService::start(Path::new(env!("CARGO_BIN_EXE_outbound-sender")), &["serve"], &env)
        .await
        .expect("the sender starts")
}

/// A conversation of `customer` whose last message is 25 hours old: outside the window.
async fn conversation_outside_the_window(db: &TestDb, customer: &str) -> i64 {
    let batch = records::text_delivery(customer, &format!("wamid.in.{customer}"), "hello");
    store::ingest::ingest(&db.pool(), &batch).await.expect("ingest");
    sql::execute(db.url(), "UPDATE conversation SET last_inbound_at = now() - interval '25 hours'").await;
    sql::count(db.url(), "SELECT max(id) AS n FROM conversation").await
}

/// Queues a reply `key` with `body` and, unless NULL, the `template` JSON.
async fn queue(db: &TestDb, conversation: i64, key: &str, body: &str, template: Option<&str>) {
    let template = template.map_or_else(|| "NULL".to_owned(), |t| format!("'{t}'"));
    sql::execute(
        db.url(),
        &format!(
            "INSERT INTO outbound_message_log (conversation_id, dedupe_key, body, template, request_id) \
             VALUES ({conversation}, '{key}', '{body}', {template}, 'req-templates')"
        ),
    )
    .await;
}

/// Waits until the row `key` leaves `queued` and `sending`; returns its status.
async fn settled_status(db: &TestDb, key: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status = sql::strings(
            db.url(),
            &format!("SELECT status AS s FROM outbound_message_log WHERE dedupe_key = '{key}'"),
        )
        .await
        .pop()
        .expect("the row exists");
        if !matches!(status.as_str(), "queued" | "sending") || tokio::time::Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn error_of(db: &TestDb, key: &str) -> (i64, String) {
    let code = sql::count(
        db.url(),
        &format!(
            "SELECT COALESCE(error_code, 0)::bigint AS n FROM outbound_message_log WHERE dedupe_key = '{key}'"
        ),
    )
    .await;
    let text = sql::strings(
        db.url(),
        &format!("SELECT COALESCE(error_text, '') AS s FROM outbound_message_log WHERE dedupe_key = '{key}'"),
    )
    .await;
    (code, text.concat())
}

async fn failure_notices(db: &TestDb) -> i64 {
    sql::count(db.url(), "SELECT count(*) AS n FROM notification WHERE kind = 'outbound_failed'").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_outside_the_window_is_sent_once_as_that_template() {
    let db = TestDb::new().await;
    let conversation = conversation_outside_the_window(&db, "971500000801").await;
    queue(&db, conversation, "tpl:1", PREVIEW, Some(TEMPLATE)).await;
    let (fake, templates) = (start_fake().await, TemplatesFile::new("sent", CATALOGUE));
    let _sender = start_sender(&db, &fake, &templates).await;

    assert_eq!(settled_status(&db, "tpl:1").await, "sent");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = sends(&fake).await;
    assert_eq!(sent.len(), 1, "sent once: {sent:?}");
    let template = sent[0].template.as_ref().expect("sent as a template");
    assert_eq!((template.name.as_str(), template.language.as_str()), ("follow_up_en", "en"));
    assert_eq!(template.parameters, ["Fatima", "family visa"]);
    assert_eq!(sent[0].to, "+971500000801");
    let id =
        sql::count(db.url(), "SELECT id AS n FROM outbound_message_log WHERE dedupe_key = 'tpl:1'").await;
    assert_eq!(sent[0].callback_data, Some(format!("outbound:{id}")), "statuses can settle it");
    let wamid = sql::strings(db.url(), "SELECT provider_message_id AS s FROM outbound_message_log").await;
    assert_eq!(wamid, [sent[0].wamid.clone()]);
    let body = sql::strings(db.url(), "SELECT body AS s FROM outbound_message_log").await;
    assert_eq!(body, [PREVIEW], "the transcript keeps what the customer read");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_free_text_outside_the_window_is_still_held_back() {
    let db = TestDb::new().await;
    let conversation = conversation_outside_the_window(&db, "971500000802").await;
    queue(&db, conversation, "text:1", "What is your nationality?", None).await;
    let (fake, templates) = (start_fake().await, TemplatesFile::new("text", CATALOGUE));
    let _sender = start_sender(&db, &fake, &templates).await;

    assert_eq!(settled_status(&db, "text:1").await, "failed");
    let (code, text) = error_of(&db, "text:1").await;
    assert_eq!(code, 131047, "{text}");
    assert!(text.contains("24-hour"), "{text}");
    assert_eq!(failure_notices(&db).await, 1);
    assert!(sends(&fake).await.is_empty(), "no API call was spent on it");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_the_catalogue_does_not_list_fails_for_good_with_a_notification() {
    let db = TestDb::new().await;
    let conversation = conversation_outside_the_window(&db, "971500000803").await;
    let unknown_name = r#"{"name": "spring_offer", "language": "en", "parameters": []}"#;
    let unknown_language =
        r#"{"name": "follow_up_en", "language": "en_US", "parameters": ["Fatima", "visa"]}"#;
    let bad_parameter =
        r#"{"name": "follow_up_en", "language": "en", "parameters": ["Fatima", "two\nlines"]}"#;
    let unreadable = r#"{"name": "follow_up_en", "parameters": ["Fatima", "visa"]}"#;
    for (key, template) in [
        ("tpl:name", unknown_name),
        ("tpl:lang", unknown_language),
        ("tpl:param", bad_parameter),
        ("tpl:json", unreadable),
    ] {
        queue(&db, conversation, key, PREVIEW, Some(template)).await;
    }
    let (fake, templates) = (start_fake().await, TemplatesFile::new("unknown", CATALOGUE));
    let _sender = start_sender(&db, &fake, &templates).await;

    for (key, expected) in [
        (
            "tpl:name",
            "template spring_offer (en) is not in the approved template catalogue (WHATSAPP_TEMPLATES): not sent",
        ),
        (
            "tpl:lang",
            "template follow_up_en (en_US) is not in the approved template catalogue (WHATSAPP_TEMPLATES): not sent",
        ),
        ("tpl:param", "template follow_up_en (en): parameter {{2}} has a line break or a tab: not sent"),
        ("tpl:json", "the row's template is unreadable"),
    ] {
        assert_eq!(settled_status(&db, key).await, "failed", "{key}");
        let (code, text) = error_of(&db, key).await;
        assert!(text.starts_with(expected), "{key}: {text}");
        assert_eq!(code, 0, "{key}: not an error of Meta's");
    }
    assert_eq!(failure_notices(&db).await, 4, "staff hear of each");
    let notice = sql::strings(
        db.url(),
        "SELECT body AS s FROM notification WHERE kind = 'outbound_failed' AND body LIKE '%spring_offer%'",
    )
    .await;
    assert_eq!(notice.len(), 1, "the notification names the template");
    assert!(sends(&fake).await.is_empty(), "nothing reached the Graph API");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_to_a_customer_who_opted_out_is_refused() {
    let db = TestDb::new().await;
    let conversation = conversation_outside_the_window(&db, "971500000804").await;
    sql::execute(db.url(), "UPDATE contact SET opted_out_at = now()").await;
    queue(&db, conversation, "tpl:opted-out", PREVIEW, Some(TEMPLATE)).await;
    let (fake, templates) = (start_fake().await, TemplatesFile::new("opted-out", CATALOGUE));
    let _sender = start_sender(&db, &fake, &templates).await;

    assert_eq!(settled_status(&db, "tpl:opted-out").await, "failed");
    assert_eq!(error_of(&db, "tpl:opted-out").await.1, "not sent: the customer opted out");
    assert!(sends(&fake).await.is_empty(), "nothing is sent to a customer who opted out");
}

#[tokio::test]
async fn a_missing_or_invalid_template_file_refuses_to_start_before_the_database_is_tried() {
    // Nothing listens there: a sender that got as far as the pool would log it and start.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let database_url = format!("postgres://sender@127.0.0.1:{closed}/abc");
    let twice =
        format!("{CATALOGUE}\n[[template]]\nname = \"follow_up_ar\"\nlanguage = \"ar\"\nbody = \"x\"\n");
    let invalid = TemplatesFile::new("invalid", &twice);
    let missing = std::env::temp_dir().join(format!("outbound-sender-{}-missing.toml", std::process::id()));
    let missing = missing.to_str().expect("a UTF-8 temporary path");
    for (file, problem) in
        [(missing, "cannot be read"), (invalid.path(), "template follow_up_ar (ar) is listed twice")]
    {
        let env = [
            ("DATABASE_URL", database_url.as_str()),
            ("WHATSAPP_ACCESS_TOKEN", "fake-access-token"),
            ("WHATSAPP_TEMPLATES", file),
        ];
        let binary = Path::new(env!("CARGO_BIN_EXE_outbound-sender"));
        let Err(refused) = ChildService::start(binary, &["serve"], &env).await else {
            panic!("started with WHATSAPP_TEMPLATES={file}")
        };
        let printed = refused.to_string();
        assert!(printed.contains(&format!("WHATSAPP_TEMPLATES {file}")), "{printed}");
        assert!(printed.contains(problem), "{problem}: {printed}");
        assert!(!printed.contains("database unreachable"), "checked before the pool: {printed}");
    }
}
