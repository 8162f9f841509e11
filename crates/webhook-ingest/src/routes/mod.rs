//! HTTP routes.

mod webhook;

pub(crate) use webhook::change_values;

use actix_web::web;

/// Mounts every route.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(http_kit::ops::configure).service(
        web::resource("/api/webhooks/whatsapp")
            .route(web::get().to(webhook::verify))
            .route(web::post().to(webhook::receive)),
    );
}
