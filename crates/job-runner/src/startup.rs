//! `serve`: the HTTP API, the LISTEN connection and the runner loop, stopped together.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use store::DbPool;
use store::OUTBOUND_JOB_CHANNEL;
use store::maintenance::{Retention, WorkQueue};
use worker::CancellationToken;

use crate::config::ServeConfig;
use crate::runner::Runner;
use crate::{http, operations};

/// Shared state of the HTTP handlers.
pub(crate) struct ApiState {
    pub(crate) pool: DbPool,
    pub(crate) jobs: store::jobs::Jobs,
    pub(crate) runner: Runner,
    pub(crate) config: ServeConfig,
}

/// A bound, not yet running, `job-runner serve`.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    runner: Runner,
    pool: DbPool,
    database_url: String,
    grace: Duration,
    prune_interval: Option<Duration>,
    retention: Retention,
    stop: CancellationToken,
}

impl Application {
    /// Checks the database is not behind this binary's migrations (when reachable) and
    /// binds the HTTP listener.
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        config.check_secrets()?;
        let settings = config.runner.settings()?;
        telemetry::metrics::register(crate::runner::COUNTERS);
        let pool = store::build_pool(
            config.runner.db.database_url.expose(),
            &config.runner.db.pool_settings("job-runner"),
        )?;
        store::migrations::refuse_if_behind(&pool).await.context("database is not ready for this version")?;
        let runner = Runner::new(pool.clone(), settings);
        let listener = TcpListener::bind(config.bind_addr)
            .with_context(|| format!("cannot listen on {}", config.bind_addr))?;
        let addr = listener.local_addr()?;
        let grace = Duration::from_secs(config.shutdown_timeout_secs);
        let database_url = config.runner.db.database_url.expose().to_owned();
        let prune_interval =
            (config.prune_interval_secs > 0).then(|| Duration::from_secs(config.prune_interval_secs));
        let retention = config.retention.retention();
        let pool_data = web::Data::new(pool.clone());
        let state = web::Data::new(ApiState {
            pool: pool.clone(),
            jobs: store::jobs::Jobs::new(pool.clone()),
            runner: runner.clone(),
            config,
        });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(telemetry::request_id::middleware))
                .app_data(state.clone())
                .app_data(pool_data.clone())
                .configure(http::configure)
        })
        .workers(2)
        .disable_signals()
        .shutdown_timeout(grace.as_secs())
        .listen(listener)?
        .run();
        tracing::info!(addr = %addr, "listening");
        Ok(Self {
            addr,
            server,
            runner,
            pool,
            database_url,
            grace,
            prune_interval,
            retention,
            stop: CancellationToken::new(),
        })
    }

    /// The address of the HTTP API.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that stops the application as SIGTERM would.
    pub fn stop_handle(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Runs jobs and serves HTTP until SIGTERM, SIGINT or the stop handle; then stops
    /// claiming, finishes (or releases) in-flight jobs and stops the server.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self { server, runner, pool, database_url, grace, prune_interval, retention, stop, .. } = self;
        let handle: ServerHandle = server.handle();
        let server = tokio::spawn(server);
        let listening = tokio::spawn(worker::listen(
            database_url,
            OUTBOUND_JOB_CHANNEL,
            runner.wake_signal(),
            stop.clone(),
        ));
        let signals = tokio::spawn(worker::stop_on_signal(stop.clone()));
        let gauges = tokio::spawn(worker::gauges::report_queue_depth(
            pool.clone(),
            WorkQueue::OutboundJob,
            stop.clone(),
        ));
        let pruning = prune_interval.map(|every| {
            tokio::spawn(operations::prune_periodically(pool.clone(), retention, every, stop.clone()))
        });
        runner.serve(stop.clone(), grace).await;
        stop.cancel();
        handle.stop(true).await;
        let _ = listening.await;
        let _ = gauges.await;
        if let Some(pruning) = pruning {
            let _ = pruning.await;
        }
        signals.abort();
        server.await??;
        tracing::info!("stopped");
        Ok(())
    }
}
