//! Bearer tokens for operator endpoints: `Authorization: Bearer <token>`, or `?token=` for
//! callers that cannot set headers. Compared in constant time; never logged (request logs
//! carry the route pattern, not the query string).

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use domain::Secret;
use serde_json::json;

/// The token a request carries, if any.
fn presented(req: &HttpRequest) -> Option<String> {
    let from_header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    from_header.or_else(|| {
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.0.into_iter().find(|(k, _)| k == "token").map(|(_, v)| v))
    })
}

/// `Ok` when the request carries `expected`; otherwise the 401 to answer. An endpoint
/// whose token is not configured refuses every request.
#[allow(clippy::result_large_err, reason = "the error is the response itself")]
pub fn require(req: &HttpRequest, expected: Option<&Secret>) -> Result<(), HttpResponse> {
    match (expected, presented(req)) {
        (Some(secret), Some(token)) if secret.matches(&token) => Ok(()),
        _ => {
            tracing::warn!(route = req.match_pattern().unwrap_or_default(), "request refused: bad token");
            Err(HttpResponse::Unauthorized().json(json!({ "error": "unauthorized" })))
        }
    }
}
