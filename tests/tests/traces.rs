//! One inbound message is one trace: ingest, runner and sender spans (the reply's and the
//! read receipt's) share its trace id, each continuing the `traceparent` stored on the row it
//! picked up, and every span carries the request id.

use std::collections::HashSet;
use std::time::Duration;

use e2e::collector::{Collector, ReceivedSpan};
use e2e::{Pipeline, env};
use testkit::payloads::Customer;
use testkit::stack::StackOptions;

const WAIT: Duration = Duration::from_secs(30);
const SERVER: i32 = 2;

fn the_one<'a>(spans: &'a [ReceivedSpan], service: &str, name: &str) -> &'a ReceivedSpan {
    let found: Vec<&ReceivedSpan> = spans.iter().filter(|s| s.service == service && s.name == name).collect();
    assert_eq!(found.len(), 1, "one {name} span from {service}: {found:#?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread")]
async fn one_inbound_message_is_one_trace_across_the_three_services() {
    let collector = Collector::start();
    let options = StackOptions {
        all: env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ]),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    p.customer_says(&Customer::unique(), "I need a family visa").await;
    assert_eq!(p.stack.wait_for_sends(1, WAIT).await.len(), 1);
    let request_id = testkit::sql::strings(p.db.url(), "SELECT request_id AS s FROM inbound_message").await;
    let request_id = request_id.first().expect("the message is stored").clone();

    // Each service exports its spans on its own schedule, and a parent ends after its
    // children: wait until the last span of each service's part has arrived.
    let spans = collector
        .wait_for(WAIT, |spans| {
            [
                ("webhook-ingest", "POST "),
                ("job-runner", "job.run"),
                ("outbound-sender", "outbound.send"),
                ("outbound-sender", "presence.request"),
            ]
            .iter()
            .all(|(service, name)| spans.iter().any(|s| s.service == *service && s.name.starts_with(name)))
        })
        .await;
    let root = spans
        .iter()
        .find(|s| {
            s.service == "webhook-ingest"
                && s.name.starts_with("POST ")
                && s.attributes.get("request_id") == Some(&request_id)
        })
        .expect("ingest's request span");
    assert!(root.parent_span_id.is_empty(), "Meta sends no trace context: the request starts the trace");
    assert_eq!(root.kind, SERVER);
    let trace: Vec<ReceivedSpan> = spans.iter().filter(|s| s.trace_id == root.trace_id).cloned().collect();

    let services: HashSet<&str> = trace.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(services, HashSet::from(["webhook-ingest", "job-runner", "outbound-sender"]));
    for span in &trace {
        assert_eq!(
            span.attributes.get("request_id"),
            Some(&request_id),
            "{} carries the request id",
            span.name
        );
    }

    let receive = the_one(&trace, "webhook-ingest", "webhook.receive");
    let persist = the_one(&trace, "webhook-ingest", "ingest.persist");
    let run = the_one(&trace, "job-runner", "job.run");
    let decide = the_one(&trace, "job-runner", "orchestrator.decide");
    let enqueue = the_one(&trace, "job-runner", "outbound.enqueue");
    let send = the_one(&trace, "outbound-sender", "outbound.send");
    let provider = the_one(&trace, "outbound-sender", "provider.request");
    let presence = the_one(&trace, "outbound-sender", "presence.request");
    let child_of = |child: &ReceivedSpan, parent: &ReceivedSpan| {
        assert_eq!(child.parent_span_id, parent.span_id, "{} is a child of {}", child.name, parent.name);
    };
    child_of(receive, root);
    child_of(persist, receive);
    child_of(run, receive);
    child_of(decide, run);
    child_of(enqueue, run);
    child_of(send, run);
    child_of(provider, send);
    child_of(presence, receive);
    assert!(run.attributes.contains_key("job_id") && run.attributes.contains_key("inbound_message_id"));
    assert!(send.attributes.contains_key("outbound_key"));

    // The fake's delivery statuses come back through ingest, each applied under its own span.
    let spans = collector
        .wait_for(WAIT, |spans| spans.iter().filter(|s| s.name == "status.apply").count() >= 3)
        .await;
    let applied: HashSet<&str> = spans
        .iter()
        .filter(|s| s.service == "webhook-ingest" && s.name == "status.apply")
        .filter_map(|s| s.attributes.get("status").map(String::as_str))
        .collect();
    assert_eq!(applied, HashSet::from(["sent", "delivered", "read"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_turn_of_three_fragments_continues_the_first_trace_and_links_the_others() {
    let collector = Collector::start();
    let options = StackOptions {
        all: env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ]),
        runner: env(&[("TURN_QUIET_MS", "1500"), ("TURN_MAX_WAIT_MS", "6000")]),
        ..StackOptions::default()
    };
    let p = Pipeline::start(options).await;
    let customer = Customer::unique();
    for fragment in ["hi", "i need", "a family visa"] {
        p.customer_says(&customer, fragment).await;
    }
    assert_eq!(p.stack.wait_for_sends(1, WAIT).await.len(), 1, "one reply for the turn");
    let spans = collector
        .wait_for(WAIT, |spans| spans.iter().any(|s| s.service == "job-runner" && s.name == "job.run"))
        .await;
    // The fake's status webhooks are deliveries too: keep those that brought a message.
    let messages: HashSet<String> =
        testkit::sql::strings(p.db.url(), "SELECT request_id AS s FROM inbound_message")
            .await
            .into_iter()
            .collect();
    let deliveries: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.service == "webhook-ingest" && s.name.starts_with("POST "))
        .filter(|s| s.attributes.get("request_id").is_some_and(|id| messages.contains(id)))
        .collect();
    assert_eq!(deliveries.len(), 3, "three webhook deliveries, three traces");
    let run = the_one(&spans, "job-runner", "job.run");
    let mut traces: Vec<&str> = deliveries.iter().map(|d| d.trace_id.as_str()).collect();
    traces.sort_unstable();
    let mut seen: Vec<&str> =
        run.linked_traces.iter().map(String::as_str).chain([run.trace_id.as_str()]).collect();
    seen.sort_unstable();
    assert_eq!(seen, traces, "the turn's span belongs to one message's trace and links the other two");
}
