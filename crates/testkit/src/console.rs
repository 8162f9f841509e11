//! A browser-like client for the staff console: keeps its cookies and the session's CSRF
//! token, follows no redirect, and logs in through the login form.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
}

/// A browser-like client of one console.
pub struct ConsoleClient {
    http: reqwest::Client,
    /// The console's base URL.
    pub base: String,
    cookies: Vec<(String, String)>,
    /// The session's CSRF token, once logged in.
    pub csrf: String,
}

/// A response, read.
pub struct Page {
    /// Its status.
    pub status: StatusCode,
    /// Where a redirect points.
    pub location: Option<String>,
    /// The body.
    pub body: String,
    /// Its headers.
    pub headers: reqwest::header::HeaderMap,
}

impl ConsoleClient {
    /// A client of the console at `base` (`http://host:port`), with no session.
    pub fn new(base: &str) -> Self {
        Self { http: http(), base: base.to_owned(), cookies: Vec::new(), csrf: String::new() }
    }

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
        Page { status, location, body: response.text().await.unwrap_or_default(), headers }
    }

    /// GETs `path`.
    ///
    /// # Panics
    /// When the console does not answer.
    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        self.page(response).await
    }

    /// POSTs `fields`, adding the session's CSRF token.
    ///
    /// # Panics
    /// When the console does not answer.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        form.extend_from_slice(fields);
        let form: Vec<(String, String)> =
            form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.post_raw(path, &form).await
    }

    /// POSTs exactly `fields` (from the documentation address 203.0.113.7).
    ///
    /// # Panics
    /// When the console does not answer.
    pub async fn post_raw(&mut self, path: &str, fields: &[(String, String)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("x-forwarded-for", "203.0.113.7")
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.page(response).await
    }

    /// Logs in through the form.
    ///
    /// # Panics
    /// Unless the login works.
    pub async fn logged_in(mut self, email: &str, password: &str) -> Self {
        let page = self.try_login(email, password).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "login works: {}", page.body);
        let inbox = self.get("/inbox").await;
        assert_eq!(inbox.status, StatusCode::OK);
        self.csrf =
            attribute(&inbox.body, "data-csrf").unwrap_or_else(|| panic!("no CSRF token: {}", inbox.body));
        self
    }

    /// Submits the login form with `email` and `password`.
    ///
    /// # Panics
    /// When the console does not answer.
    pub async fn try_login(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let csrf = attribute(&form.body, "name=\"csrf\" value")
            .unwrap_or_else(|| panic!("no login form: {}", form.body));
        let fields = [("csrf", csrf.as_str()), ("email", email), ("password", password)];
        let fields: Vec<(String, String)> =
            fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.post_raw("/login", &fields).await
    }

    /// The `Cookie` header of this client's session.
    pub fn session_cookie(&self) -> String {
        self.cookie_header()
    }

    /// Whether the client holds a session cookie.
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
