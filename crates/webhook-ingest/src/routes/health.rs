//! Liveness and readiness.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::startup::AppState;

/// `GET /healthz`: the process is up.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: Postgres answers and has every migration this binary expects.
pub(crate) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let checked = async {
        let mut conn = store::connection(&state.pool).await?;
        store::migrations::ensure_current(&mut conn).await
    }
    .await;
    match checked {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let reason = if e.is_unavailable() { "database unavailable" } else { "database not migrated" };
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable", "reason": reason }))
        }
    }
}
