//! `serve`: the HTTP server, the LISTEN connection for live updates and session upkeep,
//! stopped together.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use store::DbPool;
use worker::CancellationToken;

use crate::pages::{conversation, inbox, leads, login, notifications, operations};
use crate::{Console, ServeConfig, assets, events};

/// How often expired sessions and old login attempts are deleted.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// A bound, not yet running, `staff-console serve`.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    console: web::Data<Console>,
    database_url: String,
}

impl Application {
    /// Checks the database is not behind this binary's migrations and binds the listener.
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let templates = whatsapp::templates::read_catalogue(config.templates.as_deref())?;
        telemetry::metrics::register(crate::COUNTERS);
        let pool =
            store::build_pool(config.db.database_url.expose(), &config.db.pool_settings("staff-console"))?;
        store::migrations::refuse_if_behind(&pool).await.context("database is not ready for this version")?;
        let listener = TcpListener::bind(config.bind_addr)
            .with_context(|| format!("cannot listen on {}", config.bind_addr))?;
        let addr = listener.local_addr()?;
        let console = web::Data::new(Console {
            pool: pool.clone(),
            session_lifetime: config.session_lifetime(),
            trust_forwarded_for: config.trust_forwarded_for,
            templates,
            password_checks: tokio::sync::Semaphore::new(crate::PASSWORD_CHECKS),
            activity: events::Activity::default(),
            stop: CancellationToken::new(),
        });
        let pool_data = web::Data::new(pool);
        let shared = console.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(security_headers())
                .wrap(from_fn(telemetry::request_id::middleware))
                .app_data(shared.clone())
                .app_data(pool_data.clone())
                .configure(http_kit::ops::configure)
                .configure(assets::configure)
                .configure(routes)
        })
        .workers(2)
        .disable_signals()
        .shutdown_timeout(config.shutdown_timeout_secs)
        .listen(listener)?
        .run();
        tracing::info!(addr = %addr, "listening");
        Ok(Self { addr, server, console, database_url: config.db.database_url.expose().to_owned() })
    }

    /// The address the console listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that stops the console as SIGTERM would.
    pub fn stop_handle(&self) -> CancellationToken {
        self.console.stop.clone()
    }

    /// Serves until SIGTERM, SIGINT or the stop handle.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self { server, console, database_url, .. } = self;
        let stop = console.stop.clone();
        let handle = server.handle();
        let server = tokio::spawn(server);
        let activity = console.activity.clone();
        let listening = tokio::spawn({
            let stop = stop.clone();
            async move { activity.listen(database_url, stop).await }
        });
        let upkeep = tokio::spawn(upkeep(console.pool.clone(), stop.clone()));
        let signals = tokio::spawn(worker::stop_on_signal(stop.clone()));
        stop.cancelled().await;
        tracing::info!("stopping");
        handle.stop(true).await;
        signals.abort();
        let _ = tokio::join!(listening, upkeep);
        server.await.context("server task")?.context("server")?;
        Ok(())
    }
}

/// Every route of the console.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| async { login::redirect("/inbox") }))
        .route("/login", web::get().to(login::form))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route("/inbox", web::get().to(inbox::page))
        .route("/inbox/rows", web::get().to(inbox::rows))
        .route("/events", web::get().to(events::stream))
        .route("/conversations/{id}", web::get().to(conversation::page))
        .route("/conversations/{id}/transcript", web::get().to(conversation::transcript))
        .route("/conversations/{id}/take-over", web::post().to(conversation::take_over))
        .route("/conversations/{id}/hand-back", web::post().to(conversation::hand_back))
        .route("/conversations/{id}/reply", web::post().to(conversation::reply))
        .route("/conversations/{id}/template", web::post().to(conversation::send_template))
        .route("/conversations/{id}/notes", web::post().to(conversation::add_note))
        .route("/notifications", web::get().to(notifications::page))
        .route("/notifications/{id}/read", web::post().to(notifications::mark_read))
        .route("/notifications/{id}/snooze", web::post().to(notifications::snooze))
        .route("/leads", web::get().to(leads::page))
        .route("/leads.csv", web::get().to(leads::export))
        .route("/operations", web::get().to(operations::page))
        .route("/operations/jobs/{id}/requeue", web::post().to(operations::requeue_job))
        .route("/operations/sends/{id}/requeue", web::post().to(operations::requeue_send))
        .route("/operations/users", web::post().to(operations::save_user))
        .route("/operations/users/{id}/disable", web::post().to(operations::disable_user))
        .route("/operations/users/{id}/enable", web::post().to(operations::enable_user))
        .default_service(web::to(|| async {
            crate::pages::layout::html_response(
                actix_web::http::StatusCode::NOT_FOUND,
                crate::pages::layout::error_page(
                    actix_web::http::StatusCode::NOT_FOUND,
                    "There is no such page.",
                ),
            )
        }));
}

/// Headers every response carries: no framing, no sniffing, no referrer, and a content
/// security policy that allows only the console's own script and styles.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("content-security-policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"))
        .add(("x-frame-options", "DENY"))
        .add(("x-content-type-options", "nosniff"))
        .add(("referrer-policy", "no-referrer"))
}

/// Deletes expired sessions and old login attempts, hourly, until `stop`.
async fn upkeep(pool: DbPool, stop: CancellationToken) {
    loop {
        match store::staff::prune(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "expired sessions and old login attempts deleted"),
            Err(e) => tracing::warn!(error = %e, "cannot prune sessions"),
        }
        tokio::select! {
            () = tokio::time::sleep(UPKEEP_INTERVAL) => {}
            () = stop.cancelled() => return,
        }
    }
}
