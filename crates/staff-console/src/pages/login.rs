//! Logging in and out.
//!
//! The login form has its own CSRF pair (a cookie and a field that must match), since
//! there is no session yet. Failed logins are limited per account and per address.

use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use crate::Console;
use crate::auth::{self, CsrfForm};
use crate::error::PageError;
use crate::pages::layout::{head, html_response};
use crate::password;

/// Failed logins an account may have within [`LIMIT_WINDOW`].
pub const ACCOUNT_LIMIT: i64 = 5;
/// Failed logins an address may have within [`LIMIT_WINDOW`].
pub const ADDRESS_LIMIT: i64 = 20;
/// How long failures count.
pub const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);

const LOGIN_CSRF_COOKIE: &str = "console_login";

/// `GET /login`.
pub async fn form(req: HttpRequest, console: web::Data<Console>) -> Result<HttpResponse, PageError> {
    if let Some(token) = req.cookie(auth::SESSION_COOKIE)
        && store::staff::session(&console.pool, &auth::token_hash(token.value())).await?.is_some()
    {
        return Ok(redirect("/inbox"));
    }
    Ok(login_page(&req, StatusCode::OK, None, ""))
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /login`.
pub async fn submit(
    req: HttpRequest,
    console: web::Data<Console>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let LoginForm { csrf, email, password } = form.into_inner();
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if !auth::tokens_match(&csrf, &expected) {
        return Err(PageError::BadCsrf);
    }
    let email = email.trim().to_lowercase();
    let address = auth::client_address(&req, console.trust_forwarded_for);
    let failures = store::staff::login_failures(&console.pool, &email, &address, LIMIT_WINDOW).await?;
    if failures.account >= ACCOUNT_LIMIT || failures.address >= ADDRESS_LIMIT {
        tracing::warn!(
            account = failures.account,
            address = failures.address,
            "login refused: too many failures"
        );
        let minutes = failures.retry_after_secs.map_or(15, |s| (s / 60.0).ceil().max(1.0) as u64);
        let message = format!("Too many failed logins. Try again in {minutes} minute(s).");
        return Ok(login_page(&req, StatusCode::TOO_MANY_REQUESTS, Some(&message), &email));
    }
    let credentials = store::staff::credentials(&console.pool, &email).await?;
    let _permit = console.password_checks.acquire().await.map_err(|_| PageError::Unavailable)?;
    let user = web::block(move || match credentials {
        Some(c) if c.user.disabled_at.is_none() && password::verify(&password, &c.password_hash) => {
            Some(c.user)
        }
        Some(_) => None,
        None => {
            password::verify_against_nothing(&password);
            None
        }
    })
    .await
    .map_err(|_| PageError::Unavailable)?;
    let Some(user) = user else {
        store::staff::record_login(&console.pool, &email, &address, None).await?;
        tracing::info!("login failed");
        metrics::counter!("console_logins_total", "outcome" => "refused").increment(1);
        let message = "Wrong e-mail or password.";
        return Ok(login_page(&req, StatusCode::UNAUTHORIZED, Some(message), &email));
    };
    store::staff::record_login(&console.pool, &email, &address, Some(user.id)).await?;
    let token = auth::random_token();
    let lifetime = console.session_lifetime;
    store::staff::start_session(
        &console.pool,
        &auth::token_hash(&token),
        user.id,
        &auth::random_token(),
        lifetime,
    )
    .await?;
    tracing::info!(staff_user_id = user.id, "logged in");
    metrics::counter!("console_logins_total", "outcome" => "ok").increment(1);
    let mut response = redirect("/inbox");
    response.add_cookie(&auth::session_cookie(&req, &token, Some(lifetime))).ok();
    response.add_removal_cookie(&login_cookie(&req, String::new())).ok();
    Ok(response)
}

/// A form with no fields but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// `POST /logout`.
/// The form is read only for its CSRF check: a cross-site page cannot log staff out.
pub async fn logout(
    req: HttpRequest,
    console: web::Data<Console>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    if let Some(token) = req.cookie(auth::SESSION_COOKIE) {
        store::staff::end_session(&console.pool, &auth::token_hash(token.value())).await?;
    }
    let mut response = redirect("/login");
    response.add_cookie(&auth::session_cookie(&req, "", None)).ok();
    Ok(response)
}

fn login_page(req: &HttpRequest, status: StatusCode, message: Option<&str>, email: &str) -> HttpResponse {
    let token = auth::random_token();
    let markup: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head("Log in"))
            body {
                main.narrow.login {
                    h1 { "ABCai console" }
                    @if let Some(message) = message {
                        p.alert role="alert" { (message) }
                    }
                    form method="post" action="/login" {
                        input type="hidden" name="csrf" value=(token);
                        label { "E-mail" input type="email" name="email" value=(email) autocomplete="username" required autofocus; }
                        label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                        button.primary type="submit" { "Log in" }
                    }
                }
            }
        }
    };
    let mut response = html_response(status, markup);
    response.add_cookie(&login_cookie(req, token)).ok();
    response
}

fn login_cookie(req: &HttpRequest, token: String) -> Cookie<'static> {
    Cookie::build(LOGIN_CSRF_COOKIE, token)
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .finish()
}

/// A 303 to `to`.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_owned())).finish()
}
