//! The stylesheet and script, embedded in the binary (nothing is fetched from anywhere
//! else) and served under the crate's version, so a new release is never read from a
//! stale cache.

use actix_web::{HttpResponse, web};

/// The stylesheet's path.
pub const STYLESHEET: &str = concat!("/assets/console-", env!("CARGO_PKG_VERSION"), ".css");
/// The script's path.
pub const SCRIPT: &str = concat!("/assets/console-", env!("CARGO_PKG_VERSION"), ".js");

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// Mounts the assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(STYLESHEET, web::get().to(|| async { asset("text/css; charset=utf-8", CSS) }))
        .route(SCRIPT, web::get().to(|| async { asset("text/javascript; charset=utf-8", JS) }));
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("cache-control", "public, max-age=86400"))
        .body(body)
}
