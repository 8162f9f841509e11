//! The operator HTTP API of `job-runner serve`. Every endpoint takes its token first (see
//! [`http_kit::Authorized`]) and answers failures as [`http_kit::ApiError`].

mod jobs;
mod notifications;
mod redrive;

use actix_web::{HttpRequest, web};
use domain::Secret;
use http_kit::{Authorized, RequiredToken};

use crate::startup::ApiState;

/// `JOB_RUNNER_TOKEN`: every operator endpoint but the cron one.
pub(crate) struct RunnerToken;

impl RequiredToken for RunnerToken {
    fn expected(req: &HttpRequest) -> Option<Secret> {
        req.app_data::<web::Data<ApiState>>()?.config.runner_token.clone()
    }
}

/// `CRON_SECRET`: the endpoint an external scheduler calls.
pub(crate) struct CronSecret;

impl RequiredToken for CronSecret {
    fn expected(req: &HttpRequest) -> Option<Secret> {
        req.app_data::<web::Data<ApiState>>()?.config.cron_secret.clone()
    }
}

/// A request that carried `JOB_RUNNER_TOKEN`.
pub(crate) type Operator = Authorized<RunnerToken>;

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
