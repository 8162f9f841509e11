//! What failed, and queueing it again (`JOB_RUNNER_TOKEN`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use store::redrive::Selection;

use super::store_error;
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
    req: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<FailedQuery>,
) -> HttpResponse {
    if let Err(refused) = http_kit::auth::require(&req, state.config.runner_token.as_ref()) {
        return refused;
    }
    match operations::failed(&state.pool, query.limit.unwrap_or(50).clamp(1, 500)).await {
        Ok(items) => HttpResponse::Ok().json(items),
        Err(e) => store_error(&e),
    }
}

/// `POST /api/jobs/{id}/requeue`: runs a failed job again with fresh attempts.
pub(crate) async fn requeue_job(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<i64>,
) -> HttpResponse {
    if let Err(refused) = http_kit::auth::require(&req, state.config.runner_token.as_ref()) {
        return refused;
    }
    let ids = [*id];
    answer(operations::requeue(&state.pool, Some(Selection::Ids(&ids)), None).await.map(|r| r.jobs), *id)
}

/// `POST /api/outbound/{id}/requeue`: sends a failed or held reply again.
pub(crate) async fn requeue_outbound(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<i64>,
) -> HttpResponse {
    if let Err(refused) = http_kit::auth::require(&req, state.config.runner_token.as_ref()) {
        return refused;
    }
    let ids = [*id];
    answer(operations::requeue(&state.pool, None, Some(Selection::Ids(&ids))).await.map(|r| r.outbound), *id)
}

/// 200 when `id` was queued again, 409 when it is not failed (or does not exist).
fn answer(requeued: Result<Vec<i64>, store::StoreError>, id: i64) -> HttpResponse {
    match requeued {
        Ok(ids) if ids.contains(&id) => HttpResponse::Ok().json(json!({ "id": id, "requeued": true })),
        Ok(_) => {
            HttpResponse::Conflict().json(json!({ "error": "not failed, held or known; nothing requeued" }))
        }
        Err(e) => store_error(&e),
    }
}
