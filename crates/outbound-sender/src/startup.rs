//! `serve`: the send loop, the presence loop, their LISTEN connections and the health and
//! metrics endpoints, stopped together.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use store::jobs::OUTBOUND_MESSAGE_CHANNEL;
use store::maintenance::WorkQueue;
use store::{DbPool, OUTBOUND_JOB_CHANNEL};
use whatsapp::graph::GraphClient;
use worker::{CancellationToken, LoopSettings, Wake};

use crate::config::SenderConfig;
use crate::presence::Presence;
use crate::sender::{SendSettings, Sender};

/// A bound, not yet running, `outbound-sender serve`.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    sender: Sender,
    /// The presence loop and its wake-up, unless presence is off.
    presence: Option<(Presence, Wake)>,
    pool: DbPool,
    loop_settings: LoopSettings,
    database_url: String,
    stop: CancellationToken,
}

impl Application {
    /// Checks the database is not behind this binary's migrations (when reachable) and
    /// binds the HTTP listener.
    pub async fn build(config: SenderConfig) -> anyhow::Result<Self> {
        config.access_token.check_usable("WHATSAPP_ACCESS_TOKEN")?;
        let retry = config.retry()?;
        let templates = config.templates()?;
        tracing::info!(templates = templates.len(), "template catalogue read");
        telemetry::metrics::register(crate::sender::COUNTERS);
        telemetry::metrics::register(crate::presence::COUNTERS);
        let pool =
            store::build_pool(config.db.database_url.expose(), &config.db.pool_settings("outbound-sender"))?;
        store::migrations::refuse_if_behind(&pool).await.context("database is not ready for this version")?;
        let client = GraphClient::new(
            &config.api_base_url,
            &config.api_version,
            config.access_token.clone(),
            config.timeout(),
        )
        .context("building the Graph API client")?;
        let settings = SendSettings {
            lease: config.lease(),
            uncertain_window: Duration::from_secs(config.uncertain_window_secs),
            uncertain_policy: config.uncertain_policy.into(),
            retry,
            throttle_pause: Duration::from_secs(config.throttle_pause_secs),
            auth_pause: Duration::from_secs(config.auth_pause_secs),
            rate_per_second: config.rate_per_second,
            templates,
            committers: config.committers,
        };
        let presence = config.presence().map(|mode| {
            let wake = Wake::default();
            (Presence::new(pool.clone(), client.clone(), mode, config.lease(), wake.clone()), wake)
        });
        tracing::info!(
            presence = ?config.presence(),
            read_receipts = config.read_receipts,
            typing_indicator = config.typing_indicator,
            "presence settings"
        );
        let sender = Sender::new(pool.clone(), client, settings);
        let listener = TcpListener::bind(config.bind_addr)
            .with_context(|| format!("cannot listen on {}", config.bind_addr))?;
        let addr = listener.local_addr()?;
        let grace = Duration::from_secs(config.shutdown_timeout_secs);
        let pool_data = web::Data::new(pool.clone());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(telemetry::request_id::middleware))
                .app_data(pool_data.clone())
                .configure(http_kit::ops::configure)
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(grace.as_secs())
        .listen(listener)?
        .run();
        tracing::info!(addr = %addr, "listening");
        let loop_settings = LoopSettings {
            concurrency: config.concurrency,
            batch_size: config.batch_size,
            poll_interval: Duration::from_millis(config.poll_interval_ms),
            grace,
            wake_delay: Duration::ZERO,
        };
        Ok(Self {
            addr,
            server,
            sender,
            presence,
            pool,
            loop_settings,
            database_url: config.db.database_url.expose().to_owned(),
            stop: CancellationToken::new(),
        })
    }

    /// The address of the health and metrics endpoints.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends until SIGTERM or SIGINT; then stops claiming, finishes in-flight sends (those
    /// still running at the end of the grace period become uncertain) and presence requests,
    /// and stops.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self { server, sender, presence, pool, loop_settings, database_url, stop, .. } = self;
        let handle = server.handle();
        let server = tokio::spawn(server);
        let wake = Wake::default();
        let listening = tokio::spawn(worker::listen(
            database_url.clone(),
            OUTBOUND_MESSAGE_CHANNEL,
            wake.clone(),
            stop.clone(),
        ));
        let signals = tokio::spawn(worker::stop_on_signal(stop.clone()));
        let gauges = tokio::spawn(worker::gauges::report_queue_depth(
            pool,
            WorkQueue::OutboundMessageLog,
            stop.clone(),
        ));
        // Its own loop, slots and LISTEN connection (new inbound messages): a presence request
        // never holds a reply's slot.
        let presence = async {
            let Some((presence, presence_wake)) = presence else { return };
            let listening =
                worker::listen(database_url, OUTBOUND_JOB_CHANNEL, presence_wake.clone(), stop.clone());
            tokio::join!(listening, worker::serve(presence, loop_settings, presence_wake, stop.clone()));
        };
        tokio::join!(worker::serve(sender, loop_settings, wake, stop.clone()), presence);
        stop.cancel();
        handle.stop(true).await;
        let _ = listening.await;
        let _ = gauges.await;
        signals.abort();
        server.await??;
        tracing::info!("stopped");
        Ok(())
    }
}
