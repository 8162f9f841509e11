//! [`ApiError`]: how every operator endpoint answers a failure.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use store::StoreError;

/// A failed operator request. Its JSON body never carries internal details: a database
/// failure is logged with its cause and answered as "temporarily unavailable" (503, retry
/// later) or "internal error" (500).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, or not the right one.
    #[error("unauthorized")]
    Unauthorized,
    /// The item does not exist.
    #[error("{0}")]
    NotFound(&'static str),
    /// The item exists but is not in a state the action applies to.
    #[error("{0}")]
    Conflict(&'static str),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Seconds a client is told to wait while Postgres is unreachable.
const RETRY_AFTER_SECS: &str = "5";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Store(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            Self::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                "temporarily unavailable".to_owned()
            }
            Self::Store(e) => {
                tracing::error!(error = %e, cause = ?std::error::Error::source(e), "request failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = HttpResponse::build(self.status_code());
        if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(("Retry-After", RETRY_AFTER_SECS));
        }
        response.json(json!({ "error": message }))
    }
}
