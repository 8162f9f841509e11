//! Logs, traces and metrics shared by every service.
//!
//! - [`init`] installs the tracing subscriber (pretty or JSON logs, filtered by `RUST_LOG`)
//!   and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, OTLP/HTTP span export;
//! - [`request_id`] is the actix middleware that gives every request an id and a root span;
//! - [`propagation`] stores the current trace on a row as a W3C `traceparent` and continues
//!   it in another service;
//! - [`metrics`] is the Prometheus registry behind every `/metrics`.

mod init;
pub mod metrics;
pub mod propagation;
pub mod request_id;

pub use init::{LogFormat, TelemetryArgs, TelemetryError, TelemetryGuard, init, run_service};
