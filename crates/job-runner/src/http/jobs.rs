//! Running jobs on request, and the queue's figures.

use actix_web::{HttpResponse, web};
use http_kit::{ApiError, Authorized};
use serde::Deserialize;

use super::{CronSecret, Operator};
use crate::startup::ApiState;

/// `?max=N`.
#[derive(Deserialize)]
pub(crate) struct MaxQuery {
    max: Option<usize>,
}

/// `GET|POST /api/jobs/run-outbound?max=N` (`JOB_RUNNER_TOKEN`): runs up to N due jobs now
/// and answers what happened.
pub(crate) async fn run_outbound(
    _: Operator,
    state: web::Data<ApiState>,
    query: web::Query<MaxQuery>,
) -> Result<HttpResponse, ApiError> {
    run(&state, query.max).await
}

/// `GET /api/cron/run-outbound-jobs` (`CRON_SECRET`): the same, for an external scheduler.
pub(crate) async fn cron(
    _: Authorized<CronSecret>,
    state: web::Data<ApiState>,
    query: web::Query<MaxQuery>,
) -> Result<HttpResponse, ApiError> {
    run(&state, query.max).await
}

async fn run(state: &ApiState, max: Option<usize>) -> Result<HttpResponse, ApiError> {
    let max = max.unwrap_or(state.config.run_outbound_default_max).clamp(1, 10_000);
    Ok(HttpResponse::Ok().json(state.runner.run_due(max).await?))
}

/// `GET /api/jobs/metrics` (`JOB_RUNNER_TOKEN`): queued, running, done and failed in the
/// last 24 hours, mean processing time, success rate and the oldest queued job's age.
pub(crate) async fn metrics(_: Operator, state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.jobs.metrics().await?))
}
