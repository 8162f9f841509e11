//! The Prometheus registry behind `/metrics`, installed once per process.

use std::sync::OnceLock;
use std::time::Duration;

use actix_web::HttpResponse;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from 0.5 ms to 10 s.
const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process-wide Prometheus recorder (installed on first use). `None` only if another
/// recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    let handle = HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .ok()?
            .install_recorder()
            .ok()?;
        Some(handle)
    });
    static UPKEEP: OnceLock<()> = OnceLock::new();
    if let Some(handle) = handle {
        UPKEEP.get_or_init(|| spawn_upkeep(handle));
    }
    handle.as_ref()
}

/// The recorder keeps every histogram sample until it is folded into the buckets, which
/// happens on a scrape or an upkeep run; without a scraper, samples would pile up for ever.
fn spawn_upkeep(handle: &'static PrometheusHandle) {
    let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
        loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the metrics upkeep thread; histograms are folded on scrape only");
    }
}

/// A counter a service exports from its start.
#[derive(Debug, Clone, Copy)]
pub struct Counter {
    /// Its name (ends in `_total`).
    pub name: &'static str,
    /// Label pairs of one series; each known series is listed separately.
    pub labels: &'static [(&'static str, &'static str)],
    /// The `# HELP` text.
    pub help: &'static str,
}

/// Describes `counters` and exports each at zero until its first event, so rates and
/// alerts over them work from the start (a series that appears only with its first event
/// hides that event from `increase()`).
pub fn register(counters: &[Counter]) {
    let _ = handle();
    for counter in counters {
        metrics::describe_counter!(counter.name, counter.help);
        let labels: Vec<metrics::Label> =
            counter.labels.iter().map(|(k, v)| metrics::Label::new(*k, *v)).collect();
        metrics::counter!(counter.name, labels).increment(0);
    }
}

/// `GET /metrics`: every metric in the Prometheus text format.
pub async fn endpoint() -> HttpResponse {
    match handle() {
        Some(handle) => HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(handle.render()),
        None => HttpResponse::ServiceUnavailable().finish(),
    }
}
