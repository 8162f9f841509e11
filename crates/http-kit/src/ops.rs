//! Liveness, readiness and metrics.

use actix_web::{HttpResponse, web};
use serde_json::json;
use store::DbPool;

/// Mounts `/healthz`, `/readyz` and `/metrics`. `/readyz` needs the service's pool as
/// `web::Data<DbPool>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(telemetry::metrics::endpoint));
}

/// `GET /healthz`: the process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: Postgres answers and has every migration this binary expects.
async fn readyz(pool: web::Data<DbPool>) -> HttpResponse {
    match store::migrations::ensure_current(&pool).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let reason = if e.is_unavailable() { "database unavailable" } else { "database not migrated" };
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable", "reason": reason }))
        }
    }
}
