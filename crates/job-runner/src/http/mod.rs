//! The operator HTTP API of `job-runner serve`.

mod jobs;
mod notifications;
mod redrive;

use actix_web::web;

/// Mounts every route.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(http_kit::ops::configure)
        .service(
            web::resource("/api/jobs/run-outbound")
                .route(web::get().to(jobs::run_outbound))
                .route(web::post().to(jobs::run_outbound)),
        )
        .route("/api/cron/run-outbound-jobs", web::get().to(jobs::cron))
        .route("/api/jobs/metrics", web::get().to(jobs::metrics))
        .route("/api/jobs/failed", web::get().to(redrive::list))
        .route("/api/jobs/{id}/requeue", web::post().to(redrive::requeue_job))
        .route("/api/outbound/{id}/requeue", web::post().to(redrive::requeue_outbound))
        .route("/api/notifications", web::get().to(notifications::list))
        .route("/api/notifications/{id}/snooze", web::post().to(notifications::snooze))
        .route("/api/notifications/{id}/read", web::post().to(notifications::read));
}

/// 503 for an unreachable database, an opaque 500 otherwise.
fn store_error(e: &store::StoreError) -> actix_web::HttpResponse {
    let body = serde_json::json!({ "error": if e.is_unavailable() { "temporarily unavailable" } else { "internal error" } });
    if e.is_unavailable() {
        tracing::warn!(error = %e, "database unavailable");
        actix_web::HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "5")).json(body)
    } else {
        tracing::error!(error = %e, "request failed");
        actix_web::HttpResponse::InternalServerError().json(body)
    }
}
