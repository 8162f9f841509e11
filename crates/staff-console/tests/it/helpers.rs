//! A console on its own database, staff accounts, and a browser-like client.

use std::sync::LazyLock;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use staff_console::{Application, ServeConfig};
use store::ingest::{InboundRecord, IngestBatch};
use store::{DbPool, StaffRole};
use testkit::TestDb;
use testkit::payloads::{PHONE_NUMBER_ID, unique_wamid};

pub const PASSWORD: &str = "a long staff password";

/// One argon2id hash of [`PASSWORD`] for every test (hashing is slow on purpose).
static HASH: LazyLock<String> = LazyLock::new(|| staff_console::password::hash(PASSWORD).expect("hash"));

pub struct Console {
    pub db: TestDb,
    pub pool: DbPool,
    pub base: String,
    stop: worker::CancellationToken,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Console {
    pub async fn start() -> Self {
        let db = TestDb::new().await;
        let pool = db.pool();
        let config = ServeConfig {
            db: store::DbArgs {
                database_url: domain::Secret::new(db.url().to_owned()),
                database_pool_size: 4,
                database_timeout_ms: 5000,
                database_statement_timeout_ms: 10_000,
            },
            bind_addr: "127.0.0.1:0".parse().expect("addr"),
            session_hours: 12,
            trust_forwarded_for: true,
            shutdown_timeout_secs: 1,
        };
        let app = Application::build(config).await.expect("console starts");
        let base = format!("http://{}", app.addr());
        let stop = app.stop_handle();
        tokio::spawn(app.run_until_stopped());
        Self { db, pool, base, stop }
    }

    /// Creates an account with [`PASSWORD`].
    pub async fn user(&self, email: &str, role: StaffRole) -> i64 {
        store::staff::save_user(&self.pool, None, email, &HASH, role).await.expect("save user").0
    }

    /// A client with no session.
    pub fn anonymous(&self) -> Client {
        Client { http: http(), base: self.base.clone(), cookies: Vec::new(), csrf: String::new() }
    }

    /// A logged-in agent (created on first use).
    pub async fn agent(&self, email: &str) -> Client {
        self.user(email, StaffRole::Agent).await;
        self.anonymous().logged_in(email, PASSWORD).await
    }

    /// A logged-in admin.
    pub async fn admin(&self, email: &str) -> Client {
        self.user(email, StaffRole::Admin).await;
        self.anonymous().logged_in(email, PASSWORD).await
    }

    /// Stores a text message from `customer` as webhook-ingest would; returns its
    /// conversation.
    pub async fn customer_says(&self, customer: &str, profile_name: Option<&str>, text: &str) -> i64 {
        let wamid = unique_wamid();
        let batch = IngestBatch {
            request_id: "req-test".to_owned(),
            traceparent: None,
            messages: vec![InboundRecord {
                wa_id: Some(customer.to_owned()),
                user_id: None,
                profile_name: profile_name.map(str::to_owned),
                phone_number_id: PHONE_NUMBER_ID.to_owned(),
                display_phone_number: None,
                provider_message_id: wamid.clone(),
                message_type: "text".to_owned(),
                text_body: Some(text.to_owned()),
                raw_json: serde_json::json!({"from": customer, "id": wamid, "type": "text"}).to_string(),
                provider_timestamp: None,
            }],
            statuses: Vec::new(),
        };
        store::ingest::ingest(&self.pool, &batch).await.expect("ingest");
        self.conversation_of(customer).await
    }

    pub async fn conversation_of(&self, customer: &str) -> i64 {
        let ids = self
            .strings(&format!(
                "SELECT v.id::text AS s FROM conversation v JOIN contact c ON c.id = v.contact_id WHERE c.wa_id = '{customer}'"
            ))
            .await;
        ids[0].parse().expect("id")
    }

    /// Waits until the console's LISTEN connection is up (it connects after start).
    pub async fn wait_until_listening(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let sql = "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'";
        while self.count(sql).await == 0 {
            assert!(tokio::time::Instant::now() < deadline, "the console never listened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        testkit::sql::count(self.db.url(), sql).await
    }

    pub async fn strings(&self, sql: &str) -> Vec<String> {
        testkit::sql::strings(self.db.url(), sql).await
    }

    pub async fn execute(&self, sql: &str) {
        testkit::sql::execute(self.db.url(), sql).await;
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// A browser-like client: keeps cookies and the session's CSRF token, follows nothing.
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    cookies: Vec<(String, String)>,
    pub csrf: String,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Client {
    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let text = header.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(k, _)| k != name);
                let expired = text.contains("Max-Age=0") || value.is_empty();
                if !expired {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }

    async fn page(&mut self, response: reqwest::Response) -> Page {
        self.keep_cookies(&response);
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers.get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Page { status, location, body: response.text().await.expect("body"), headers }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.page(response).await
    }

    /// POSTs `fields`, adding the session's CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        form.extend_from_slice(fields);
        let form: Vec<(String, String)> =
            form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.post_raw(path, &form).await
    }

    /// POSTs exactly `fields`.
    pub async fn post_raw(&mut self, path: &str, fields: &[(String, String)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("x-forwarded-for", "203.0.113.7")
            .form(fields)
            .send()
            .await
            .expect("POST");
        self.page(response).await
    }

    /// Logs in through the form; panics unless it works.
    pub async fn logged_in(mut self, email: &str, password: &str) -> Self {
        let page = self.try_login(email, password).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "login works: {}", page.body);
        let inbox = self.get("/inbox").await;
        assert_eq!(inbox.status, StatusCode::OK);
        self.csrf = attribute(&inbox.body, "data-csrf").expect("the page carries the CSRF token");
        self
    }

    pub async fn try_login(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let csrf = attribute(&form.body, "name=\"csrf\" value").expect("login form token");
        let fields = [("csrf", csrf.as_str()), ("email", email), ("password", password)];
        let fields: Vec<(String, String)> =
            fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.post_raw("/login", &fields).await
    }

    /// The `Cookie` header of this client's session.
    pub fn session_cookie(&self) -> String {
        self.cookie_header()
    }

    pub fn has_session(&self) -> bool {
        self.cookies.iter().any(|(k, _)| k == "console_session")
    }
}

/// The value of the first `{name}="…"` in `html`.
pub fn attribute(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("{name}=\""))? + name.len() + 2;
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}
