//! Request ids and the root span of every HTTP request.
//!
//! The middleware reuses a well-formed `X-Request-Id` header, or makes a UUID v7; stores it
//! in the request's extensions ([`RequestId`]); runs the request inside an `http.request`
//! span carrying it (continuing an incoming `traceparent`, if any); echoes it in the
//! response; and records the request latency histogram.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest};
use tracing::Instrument;

/// The request id header.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromRequest for RequestId {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let id = req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(uuid::Uuid::now_v7().to_string()));
        std::future::ready(Ok(id))
    }
}

/// Whether a caller's request id is safe to reuse in logs and rows.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The method as a metric label and span field: the standard methods by name, any other
/// token (clients may send arbitrary ones) as `other`, so labels stay a closed set.
pub fn method_label(method: &Method) -> &'static str {
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::CONNECT, "CONNECT"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::TRACE, "TRACE"),
        (Method::PATCH, "PATCH"),
    ];
    STANDARD.iter().find(|(m, _)| m == method).map_or("other", |(_, name)| name)
}

/// The middleware; use with `actix_web::middleware::from_fn(telemetry::request_id::middleware)`.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));

    let method = method_label(req.method());
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
        request_id = %id,
    );
    let traceparent = req.headers().get("traceparent").and_then(|v| v.to_str().ok());
    crate::propagation::continue_trace(&span, traceparent);

    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    span.record("http.response.status_code", status);
    metrics::histogram!(
        "http_server_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => status.to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;

    use super::{acceptable, method_label};

    #[test]
    fn only_standard_methods_name_their_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        let made_up = Method::from_bytes(b"XYZZY").expect("a token");
        assert_eq!(method_label(&made_up), "other");
    }

    #[test]
    fn only_short_plain_ids_are_reused() {
        assert!(acceptable("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
        assert!(acceptable("req_42.a:b"));
        assert!(!acceptable(""));
        assert!(!acceptable("evil\nlog line"));
        assert!(!acceptable(&"x".repeat(129)));
    }
}
