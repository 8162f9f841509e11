//! The tracing subscriber and the OTLP exporter.

use std::io::BufWriter;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Telemetry options every service takes (flattened into each binary's command line).
/// `RUST_LOG` (default `info`) filters log lines; `OTEL_TRACES_FILTER` (default `info`)
/// filters exported spans.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryArgs {
    /// Log line format. What is logged is chosen by RUST_LOG (default `info`); which spans
    /// are exported by OTEL_TRACES_FILTER (default `info`).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
    /// OTLP/HTTP collector base URL (e.g. http://localhost:4318); span export is off when
    /// unset. `/v1/traces` is appended.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
    /// The service name traces are reported under.
    #[arg(long, env = "OTEL_SERVICE_NAME", global = true)]
    pub service_name: Option<String>,
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The OTLP exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    /// A filter directive is invalid.
    #[error("invalid log filter: {0}")]
    Filter(String),
}

/// Keeps span export alive; call [`TelemetryGuard::shutdown`] before exiting so buffered
/// spans are flushed (short runs such as `run-once` export nothing otherwise).
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
    log_writer: Option<WorkerGuard>,
}

impl TelemetryGuard {
    /// Flushes and stops span export. Blocking, so it runs on a blocking thread.
    pub async fn shutdown(self) {
        let provider = self.provider;
        let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        // Dropping the writer's guard writes out every buffered log line.
        drop(self.log_writer);
    }
}

/// Installs the global subscriber for `default_service_name` (overridden by
/// `OTEL_SERVICE_NAME`). Safe to call more than once: later calls keep the first
/// subscriber.
pub fn init(default_service_name: &str, args: &TelemetryArgs) -> Result<TelemetryGuard, TelemetryError> {
    let service_name = args.service_name.clone().unwrap_or_else(|| default_service_name.to_owned());
    let mut builder = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(service_name.clone()).build());
    if let Some(endpoint) = &args.otlp_endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let log_filter = env_filter("RUST_LOG")?;
    let trace_filter = env_filter("OTEL_TRACES_FILTER")?;
    // Lines are formatted on the calling thread and written by a background thread in
    // batches (one write per batch, not per line); it blocks rather than drop lines.
    let (writer, log_writer) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(BufWriter::with_capacity(64 * 1024, std::io::stdout()));
    let logs = match args.log_format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_target(false).with_writer(writer).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
    };
    // Spans are only turned into OpenTelemetry spans when they are exported; without an
    // endpoint that work would be thrown away on every request.
    let traces = args.otlp_endpoint.is_some().then(|| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name)).with_filter(trace_filter)
    });
    // The recorder must exist before the first event, or early events are dropped.
    let _ = crate::metrics::handle();
    let installed = tracing_subscriber::registry().with(logs.with_filter(log_filter)).with(traces).try_init();
    Ok(TelemetryGuard { provider, log_writer: installed.is_ok().then_some(log_writer) })
}

fn env_filter(variable: &str) -> Result<EnvFilter, TelemetryError> {
    match std::env::var(variable) {
        Ok(directives) if !directives.trim().is_empty() => {
            EnvFilter::try_new(directives).map_err(|e| TelemetryError::Filter(format!("{variable}: {e}")))
        }
        _ => Ok(EnvFilter::new("info")),
    }
}

/// Runs a service binary's `body` with telemetry installed for `service_name`: logs a
/// failure with its causes and flushes span export before returning.
pub async fn run_service<E>(
    service_name: &str,
    args: &TelemetryArgs,
    body: impl Future<Output = Result<(), E>>,
) -> Result<(), E>
where
    E: From<TelemetryError> + std::fmt::Display,
{
    let guard = init(service_name, args)?;
    let result = body.await;
    if let Err(e) = &result {
        tracing::error!(error = format!("{e:#}"), "{service_name} failed");
    }
    guard.shutdown().await;
    result
}
