//! Sessions and CSRF: who is asking, and whether a form is really theirs.
//!
//! A session cookie holds 32 random bytes; Postgres holds only their SHA-256, with the
//! session's CSRF token. Cookies are HttpOnly and SameSite=Strict, and Secure when the
//! request came over TLS. Every POST form is read through [`CsrfForm`], which refuses a
//! missing or wrong token before the handler runs.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use rand::RngCore;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use store::StaffRole;
use store::staff::Session;
use subtle::ConstantTimeEq;

use crate::Console;
use crate::error::PageError;

/// The cookie that carries the session.
pub const SESSION_COOKIE: &str = "console_session";

/// A fresh random token: 32 bytes, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What Postgres stores for a session cookie.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session cookie for `token` (empty and expired to log out).
pub fn session_cookie(
    req: &HttpRequest,
    token: &str,
    max_age: Option<std::time::Duration>,
) -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .finish();
    match max_age {
        Some(age) => cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
            i64::try_from(age.as_secs()).unwrap_or(i64::MAX),
        )),
        None => cookie.make_removal(),
    }
    cookie
}

/// A logged-in member of staff.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Their session.
    pub session: Session,
}

impl Staff {
    /// `staff_user.id`.
    pub fn id(&self) -> i64 {
        self.session.user.id
    }

    /// Their e-mail.
    pub fn email(&self) -> &str {
        &self.session.user.email
    }

    /// Whether they may run operations and manage accounts.
    pub fn is_admin(&self) -> bool {
        self.session.user.role == StaffRole::Admin
    }

    /// Refuses a non-admin.
    pub fn require_admin(&self) -> Result<(), PageError> {
        if self.is_admin() { Ok(()) } else { Err(PageError::Forbidden) }
    }

    /// The token every form of this session carries.
    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }
}

impl FromRequest for Staff {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let console = req.app_data::<web::Data<Console>>().cloned();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        Box::pin(async move {
            let (Some(console), Some(token)) = (console, token) else {
                return Err(PageError::LoginRequired);
            };
            match store::staff::session(&console.pool, &token_hash(&token)).await? {
                Some(session) => Ok(Staff { session }),
                None => Err(PageError::LoginRequired),
            }
        })
    }
}

/// A POST form of a logged-in member of staff whose `csrf` field matched their session.
pub struct CsrfForm<T> {
    /// Who sent it.
    pub staff: Staff,
    /// The form's other fields.
    pub form: T,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let staff = Staff::from_request(req, payload);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let staff = staff.await?;
            let body = body.await.map_err(|_| PageError::BadRequest("the form could not be read".into()))?;
            let field: CsrfField = serde_urlencoded::from_bytes(&body).map_err(|_| PageError::BadCsrf)?;
            if !tokens_match(&field.csrf, staff.csrf()) {
                tracing::warn!(staff_user_id = staff.id(), "form refused: CSRF token missing or wrong");
                return Err(PageError::BadCsrf);
            }
            let form = serde_urlencoded::from_bytes(&body)
                .map_err(|e| PageError::BadRequest(format!("the form is incomplete: {e}")))?;
            Ok(CsrfForm { staff, form })
        })
    }
}

/// Compares two tokens in constant time.
pub fn tokens_match(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// The client's address, for login limits: the peer, or the first `X-Forwarded-For` hop
/// when the console is told to trust its proxy.
pub fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(forwarded) = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(first) = forwarded.split(',').next().map(str::trim).filter(|a| !a.is_empty())
    {
        return first.to_owned();
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

    #[test]
    fn an_empty_token_never_matches() {
        assert!(!tokens_match("", ""));
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abd", "abc"));
        assert!(!tokens_match("ab", "abc"));
    }
}
