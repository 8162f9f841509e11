//! What failed, and queueing it again (`JOB_RUNNER_TOKEN`).

use actix_web::{HttpResponse, web};
use http_kit::ApiError;
use serde::Deserialize;
use serde_json::json;
use store::redrive::Selection;

use super::Operator;
use crate::operations;
use crate::startup::ApiState;

/// `GET /api/jobs/failed` query.
#[derive(Deserialize)]
pub(crate) struct FailedQuery {
    /// Most items of each kind (default 50, at most 500).
    limit: Option<i64>,
}

/// `GET /api/jobs/failed?limit=N`: failed jobs and failed or held replies, newest first.
pub(crate) async fn list(
    _: Operator,
    state: web::Data<ApiState>,
    query: web::Query<FailedQuery>,
) -> Result<HttpResponse, ApiError> {
    let items = operations::failed(&state.pool, query.limit.unwrap_or(50).clamp(1, 500)).await?;
    Ok(HttpResponse::Ok().json(items))
}

/// `POST /api/jobs/{id}/requeue`: runs a failed job again with fresh attempts.
pub(crate) async fn requeue_job(
    _: Operator,
    state: web::Data<ApiState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let ids = [*id];
    let requeued = operations::requeue(&state.pool, Some(Selection::Ids(&ids)), None).await?;
    answer(&requeued.jobs, *id)
}

/// `POST /api/outbound/{id}/requeue`: sends a failed or held reply again.
pub(crate) async fn requeue_outbound(
    _: Operator,
    state: web::Data<ApiState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let ids = [*id];
    let requeued = operations::requeue(&state.pool, None, Some(Selection::Ids(&ids))).await?;
    answer(&requeued.outbound, *id)
}

/// 200 when `id` was queued again, 409 when it is not failed (or does not exist).
fn answer(requeued: &[i64], id: i64) -> Result<HttpResponse, ApiError> {
    if !requeued.contains(&id) {
        return Err(ApiError::Conflict("not failed, held or known; nothing requeued"));
    }
    Ok(HttpResponse::Ok().json(json!({ "id": id, "requeued": true })))
}
