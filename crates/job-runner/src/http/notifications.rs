//! Staff notifications: list, snooze, mark read (`JOB_RUNNER_TOKEN`).

use actix_web::{HttpResponse, web};
use chrono::{Duration, Utc};
use http_kit::ApiError;
use serde::Deserialize;
use serde_json::json;
use store::notifications::{self, Filter};

use super::Operator;
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
    _: Operator,
    state: web::Data<ApiState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = Filter { include_read: query.all, include_snoozed: query.all };
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let items = notifications::list(&state.pool, filter, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "notifications": items })))
}

/// `POST /api/notifications/{id}/snooze` query.
#[derive(Deserialize)]
pub(crate) struct SnoozeQuery {
    /// Minutes to hide it (default 60, at most a week).
    minutes: Option<i64>,
}

/// `POST /api/notifications/{id}/snooze?minutes=N`.
pub(crate) async fn snooze(
    _: Operator,
    state: web::Data<ApiState>,
    id: web::Path<i64>,
    query: web::Query<SnoozeQuery>,
) -> Result<HttpResponse, ApiError> {
    let until = Utc::now() + Duration::minutes(query.minutes.unwrap_or(60).clamp(1, 7 * 24 * 60));
    if !notifications::snooze(&state.pool, *id, until).await? {
        return Err(ApiError::NotFound("no such notification"));
    }
    Ok(HttpResponse::Ok().json(json!({ "id": *id, "snoozed_until": until })))
}

/// `POST /api/notifications/{id}/read`.
pub(crate) async fn read(
    _: Operator,
    state: web::Data<ApiState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    if !notifications::mark_read(&state.pool, *id).await? {
        return Err(ApiError::NotFound("no such notification"));
    }
    Ok(HttpResponse::Ok().json(json!({ "id": *id, "read": true })))
}
