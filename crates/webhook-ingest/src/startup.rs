//! Builds the HTTP server: binds the socket (port 0 works, for tests) and wires routes.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use store::ingest::{DeliveryWriter, Ingestor};
use telemetry::metrics::Counter;

use crate::budget::InflightBudget;
use crate::config::IngestConfig;
use crate::extract::Policy;
use crate::routes;

/// The counters webhook-ingest exports from its start.
const COUNTERS: &[Counter] = &[
    Counter {
        name: "webhook_messages_total",
        labels: &[("outcome", "stored")],
        help: "Inbound messages stored",
    },
    Counter {
        name: "webhook_messages_total",
        labels: &[("outcome", "duplicate")],
        help: "Inbound messages delivered again and acknowledged without a second row",
    },
    Counter {
        name: "webhook_messages_total",
        labels: &[("outcome", "skipped")],
        help: "Messages without a business number or sender (now quarantined; kept for dashboards)",
    },
    Counter {
        name: "webhook_statuses_total",
        labels: &[("outcome", "recorded")],
        help: "Delivery statuses recorded",
    },
    Counter {
        name: "webhook_statuses_total",
        labels: &[("outcome", "duplicate")],
        help: "Delivery statuses received again",
    },
    Counter {
        name: "webhook_rejected_total",
        labels: &[("reason", "signature")],
        help: "Webhooks refused for a missing or wrong signature",
    },
    Counter {
        name: "webhook_rejected_total",
        labels: &[("reason", "malformed")],
        help: "Webhooks that are not a WhatsApp envelope",
    },
    Counter {
        name: "webhook_rejected_total",
        labels: &[("reason", "too_large")],
        help: "Webhooks over the body limit",
    },
    Counter {
        name: "webhook_rejected_total",
        labels: &[("reason", "busy")],
        help: "Webhooks answered 503 because the in-flight body budget was spent",
    },
    Counter {
        name: "webhook_quarantined_total",
        labels: &[("cause", "unparsable")],
        help: "Delivery items quarantined, by cause",
    },
    Counter { name: "webhook_quarantined_total", labels: &[("cause", "refused")], help: QUARANTINED },
    Counter { name: "webhook_quarantined_total", labels: &[("cause", "not_served")], help: QUARANTINED },
    Counter {
        name: "webhook_quarantined_total",
        labels: &[("cause", "bad_business_number")],
        help: QUARANTINED,
    },
    Counter {
        name: "webhook_quarantined_total",
        labels: &[("cause", "no_business_number")],
        help: QUARANTINED,
    },
    Counter { name: "webhook_quarantined_total", labels: &[("cause", "no_sender")], help: QUARANTINED },
    Counter { name: "webhook_quarantined_total", labels: &[("cause", "over_limit")], help: QUARANTINED },
];

const QUARANTINED: &str = "Delivery items quarantined, by cause";

/// Shared state of the request handlers.
pub(crate) struct AppState {
    /// Stores deliveries (group commit over the pool).
    pub(crate) ingestor: Ingestor,
    pub(crate) config: IngestConfig,
    /// What of a delivery is stored.
    pub(crate) policy: Policy,
    /// Body bytes in flight.
    pub(crate) budget: InflightBudget,
}

/// A bound, not yet running, webhook-ingest server.
pub struct Application {
    addr: SocketAddr,
    server: Server,
}

impl Application {
    /// Validates `config`, checks the database is not behind this binary's migrations
    /// (when it is reachable; if it is not, the service starts anyway and answers 503 until
    /// it is), and binds the listening socket.
    pub async fn build(config: IngestConfig) -> anyhow::Result<Self> {
        config.validate()?;
        telemetry::metrics::register(COUNTERS);
        let pool =
            store::build_pool(config.db.database_url.expose(), &config.db.pool_settings("webhook-ingest"))?;
        store::migrations::refuse_if_behind(&pool).await.context("database is not ready for this version")?;

        let listener = TcpListener::bind(config.bind_addr)
            .with_context(|| format!("cannot listen on {}", config.bind_addr))?;
        let addr = listener.local_addr()?;
        let workers = config
            .http_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
        let shutdown_timeout = config.shutdown_timeout_secs;
        let pool_data = web::Data::new(pool.clone());
        let ingestor = Ingestor::start(
            pool,
            DeliveryWriter,
            config.committers.clamp(1, config.db.database_pool_size.max(1)),
        );
        let served = crate::config::served_numbers(&config.phone_number_ids);
        if served.is_empty() {
            tracing::warn!(
                "WHATSAPP_PHONE_NUMBER_IDS is not set: messages for any business number are stored and answered"
            );
        }
        let policy =
            Policy { phone_number_ids: config.phone_number_ids.clone(), max_items: config.max_items };
        let budget = InflightBudget::new(config.max_inflight_bytes);
        let max_connections = config.max_connections;
        let state = web::Data::new(AppState { ingestor, config, policy, budget });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(telemetry::request_id::middleware))
                .app_data(state.clone())
                .app_data(pool_data.clone())
                .configure(routes::configure)
        })
        .workers(workers)
        .max_connections(max_connections)
        .shutdown_timeout(shutdown_timeout)
        .client_request_timeout(Duration::from_secs(5))
        .listen(listener)?
        .run();
        tracing::info!(addr = %addr, "listening");
        Ok(Self { addr, server })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Serves until SIGTERM or SIGINT, then finishes in-flight requests and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await?;
        tracing::info!("stopped");
        Ok(())
    }
}
