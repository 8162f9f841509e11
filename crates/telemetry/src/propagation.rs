//! W3C trace context on rows: a service stores the current `traceparent` on the row it
//! writes, and the service that picks the row up continues that trace, so one inbound
//! message is one trace across services.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const TRACEPARENT: &str = "traceparent";

/// The `traceparent` of `span`, if it belongs to a valid trace.
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// The `traceparent` of the current span.
pub fn current_traceparent() -> Option<String> {
    traceparent_of(&tracing::Span::current())
}

/// Makes `span` a child of the trace in `traceparent` (a no-op for `None` or garbage).
/// Call it before the span is first entered.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(context) = traceparent.and_then(extract) else { return };
    let _ = span.set_parent(context);
}

/// Links `span` to the traces in `traceparents` (skipping garbage): a turn's span continues
/// its first message's trace and links every other message's.
pub fn link_traces<'a>(span: &tracing::Span, traceparents: impl IntoIterator<Item = &'a str>) {
    for context in traceparents.into_iter().filter_map(extract) {
        span.add_link(context.span().span_context().clone());
    }
}

/// The context of a valid `traceparent`.
fn extract(traceparent: &str) -> Option<opentelemetry::Context> {
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    context.span().span_context().is_valid().then_some(context)
}
