//! Bearer tokens for operator endpoints: `Authorization: Bearer <token>`, or `?token=` for
//! callers that cannot set headers. Compared in constant time; never logged (request logs
//! carry the route pattern, not the query string).
//!
//! [`Authorized`] is an extractor: put it first among a handler's arguments and the token is
//! checked before the path, query or body are parsed, so a caller without the token learns
//! nothing from parser errors.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use domain::Secret;

use crate::ApiError;

/// The token a request carries, if any (an empty one counts as none).
fn presented(req: &HttpRequest) -> Option<String> {
    let from_header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    from_header
        .or_else(|| {
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .ok()
                .and_then(|q| q.0.into_iter().find(|(k, _)| k == "token").map(|(_, v)| v))
        })
        .filter(|token| !token.is_empty())
}

/// `Ok` when the request carries `expected`. An endpoint whose token is not configured (or
/// is empty) refuses every request.
pub fn require(req: &HttpRequest, expected: Option<&Secret>) -> Result<(), ApiError> {
    match (expected.filter(|s| !s.expose().is_empty()), presented(req)) {
        (Some(secret), Some(token)) if secret.matches(&token) => Ok(()),
        _ => {
            tracing::warn!(route = req.match_pattern().unwrap_or_default(), "request refused: bad token");
            Err(ApiError::Unauthorized)
        }
    }
}

/// Which token an endpoint needs, read from the service's application data.
pub trait RequiredToken: 'static {
    /// The configured token, if any.
    fn expected(req: &HttpRequest) -> Option<Secret>;
}

/// Proof that the request carried the token `T` names.
#[derive(Debug)]
pub struct Authorized<T>(PhantomData<T>);

impl<T: RequiredToken> FromRequest for Authorized<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(require(req, T::expected(req).as_ref()).map(|()| Self(PhantomData)))
    }
}
