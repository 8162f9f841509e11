//! HTTP routes.

mod health;
mod webhook;

use actix_web::web;

/// Mounts every route.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(telemetry::metrics::endpoint))
        .service(
            web::resource("/api/webhooks/whatsapp")
                .route(web::get().to(webhook::verify))
                .route(web::post().to(webhook::receive)),
        );
}
