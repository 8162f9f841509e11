//! Every way a webhook request can fail, and the status code Meta gets for it.

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, ResponseError};
use store::StoreError;

/// A rejected or failed webhook request. Client-facing messages never carry customer data
/// or internal details.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IngestError {
    /// Missing, malformed or wrong `X-Hub-Signature-256`.
    #[error("invalid signature")]
    Unauthorized(#[source] whatsapp::signature::SignatureError),
    /// The body exceeds the configured limit.
    #[error("body too large")]
    PayloadTooLarge,
    /// The client did not finish sending the body in time.
    #[error("body not received in time")]
    BodyTimeout,
    /// Not JSON, or not a WhatsApp webhook envelope.
    #[error("not a WhatsApp webhook")]
    BadRequest(#[source] domain::webhook::WebhookError),
    /// The connection broke while the body was being read.
    #[error("body could not be read")]
    BodyRead(#[source] actix_web::error::PayloadError),
    /// The in-flight body budget is spent: Meta should retry.
    #[error("busy")]
    Busy,
    /// Postgres is unreachable: Meta should retry.
    #[error("temporarily unavailable")]
    Unavailable(#[source] StoreError),
    /// Anything else.
    #[error("internal error")]
    Internal(#[source] StoreError),
}

impl From<StoreError> for IngestError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() { Self::Unavailable(e) } else { Self::Internal(e) }
    }
}

impl ResponseError for IngestError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::BadRequest(_) | Self::BodyRead(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable(_) | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Unavailable(_) => {
                response.insert_header((RETRY_AFTER, "5"));
            }
            Self::Busy => {
                response.insert_header((RETRY_AFTER, "1"));
            }
            _ => {}
        }
        response.json(serde_json::json!({ "error": self.to_string() }))
    }
}
