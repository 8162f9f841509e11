//! Staff notifications: list, snooze, mark read (`JOB_RUNNER_TOKEN`).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;
use store::notifications::{self, Filter};

use super::store_error;
use crate::startup::ApiState;

/// `GET /api/notifications` query.
#[derive(Deserialize)]
pub(crate) struct ListQuery {
    /// Include read ones.
    #[serde(default)]
    all: bool,
    /// How many, newest first (default 50, at most 500).
    limit: Option<i64>,
}

/// `GET /api/notifications?all=true&limit=N`: unread and not snoozed, newest first (all of
/// them with `all=true`).
pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    if let Err(refused) = http_kit::auth::require(&req, state.config.runner_token.as_ref()) {
        return refused;
    }
    let filter = Filter { include_read: query.all, include_snoozed: query.all };
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let listed = async {
        let mut conn = store::connection(&state.pool).await?;
        notifications::list(&mut conn, filter, limit).await
    }
    .await;
    match listed {
        Ok(items) => HttpResponse::Ok().json(json!({ "notifications": items })),
        Err(e) => store_error(&e),
    }
}

/// `POST /api/notifications/{id}/snooze` query.
#[derive(Deserialize)]
pub(crate) struct SnoozeQuery {
    /// Minutes to hide it (default 60, at most a week).
    minutes: Option<i64>,
}

/// `POST /api/notifications/{id}/snooze?minutes=N`.
pub(crate) async fn snooze(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<i64>,
    query: web::Query<SnoozeQuery>,
) -> HttpResponse {
    if let Err(refused) = http_kit::auth::require(&req, state.config.runner_token.as_ref()) {
        return refused;
    }
    let until = Utc::now() + Duration::minutes(query.minutes.unwrap_or(60).clamp(1, 7 * 24 * 60));
    let snoozed = async {
        let mut conn = store::connection(&state.pool).await?;
        notifications::snooze(&mut conn, *id, until).await
    }
    .await;
    match snoozed {
        Ok(true) => HttpResponse::Ok().json(json!({ "id": *id, "snoozed_until": until })),
        Ok(false) => HttpResponse::NotFound().json(json!({ "error": "no such notification" })),
        Err(e) => store_error(&e),
    }
}

/// `POST /api/notifications/{id}/read`.
pub(crate) async fn read(req: HttpRequest, state: web::Data<ApiState>, id: web::Path<i64>) -> HttpResponse {
    if let Err(refused) = http_kit::auth::require(&req, state.config.runner_token.as_ref()) {
        return refused;
    }
    let marked = async {
        let mut conn = store::connection(&state.pool).await?;
        notifications::mark_read(&mut conn, *id).await
    }
    .await;
    match marked {
        Ok(true) => HttpResponse::Ok().json(json!({ "id": *id, "read": true })),
        Ok(false) => HttpResponse::NotFound().json(json!({ "error": "no such notification" })),
        Err(e) => store_error(&e),
    }
}
