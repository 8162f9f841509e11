//! Running jobs on request, and the queue's figures.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::store_error;
use crate::startup::ApiState;

/// `?max=N`.
#[derive(Deserialize)]
pub(crate) struct MaxQuery {
    max: Option<usize>,
}

/// `GET|POST /api/jobs/run-outbound?max=N` (`JOB_RUNNER_TOKEN`): runs up to N due jobs now
/// and answers what happened.
pub(crate) async fn run_outbound(
    req: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<MaxQuery>,
) -> HttpResponse {
    if let Err(refused) = http_kit::auth::require(&req, state.config.runner_token.as_ref()) {
        return refused;
    }
    run(&state, query.max).await
}

/// `GET /api/cron/run-outbound-jobs` (`CRON_SECRET`): the same, for an external scheduler.
pub(crate) async fn cron(
    req: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<MaxQuery>,
) -> HttpResponse {
    if let Err(refused) = http_kit::auth::require(&req, state.config.cron_secret.as_ref()) {
        return refused;
    }
    run(&state, query.max).await
}

async fn run(state: &ApiState, max: Option<usize>) -> HttpResponse {
    let max = max.unwrap_or(state.config.run_outbound_default_max).clamp(1, 10_000);
    match state.runner.run_due(max).await {
        Ok(summary) => HttpResponse::Ok().json(summary),
        Err(e) => store_error(&e),
    }
}

/// `GET /api/jobs/metrics` (`JOB_RUNNER_TOKEN`): queued, running, done and failed in the
/// last 24 hours, mean processing time, success rate and the oldest queued job's age.
pub(crate) async fn metrics(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(refused) = http_kit::auth::require(&req, state.config.runner_token.as_ref()) {
        return refused;
    }
    let figures = async {
        let mut conn = store::connection(&state.pool).await?;
        store::jobs::metrics(&mut conn).await
    }
    .await;
    match figures {
        Ok(figures) => HttpResponse::Ok().json(figures),
        Err(e) => store_error(&e),
    }
}
