//! How pages answer failures: a plain page in the console's style, never a stack trace,
//! SQL or customer data.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use store::StoreError;

use crate::pages::layout;

/// A request the console cannot answer with the page asked for.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No live session: the browser goes to the login page.
    #[error("login required")]
    LoginRequired,
    /// The form's CSRF token is missing or wrong.
    #[error("this form has expired; reload the page and try again")]
    BadCsrf,
    /// The page is for admins.
    #[error("this page is for admins")]
    Forbidden,
    /// No such thing.
    #[error("not found")]
    NotFound,
    /// The request is malformed; the text says what to fix.
    #[error("{0}")]
    BadRequest(String),
    /// The console cannot serve this now (shutting down, or a worker thread failed).
    #[error("the console is busy; try again in a moment")]
    Unavailable,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::LoginRequired => StatusCode::SEE_OTHER,
            Self::BadCsrf | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Store(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::LoginRequired = self {
            return HttpResponse::SeeOther().insert_header((header::LOCATION, "/login")).finish();
        }
        let message = match self {
            Self::Store(e) => {
                tracing::error!(error = %e, "page failed");
                if e.is_unavailable() {
                    "The database is unavailable. Try again in a moment.".to_owned()
                } else {
                    "Something went wrong. Try again; if it keeps happening, tell an admin.".to_owned()
                }
            }
            other => sentence(&other.to_string()),
        };
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(layout::error_page(self.status_code(), &message).into_string())
    }
}

/// `text` with a capital letter and a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}
