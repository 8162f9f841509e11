//! The inbox, notifications, leads, live events and escaping, as staff see them.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;

use crate::helpers::Console;

#[tokio::test(flavor = "multi_thread")]
async fn markup_from_customers_is_shown_as_text_in_every_field_of_every_page() {
    let console = Console::start().await;
    let name = "<script>alert('name')</script>";
    let text = "<img src=x onerror=alert(1)> & \"quotes\"";
    let conversation = console.customer_says("971500000020", Some(name), text).await;
    console
        .execute(&format!(
            "INSERT INTO notification (kind, conversation_id, title, body) VALUES ('human_requested', {conversation}, 'A customer asked for a person', '<b>{}</b>')",
            "bold"
        ))
        .await;
    let field = |f: &str| format!("<i onmouseover=alert('{f}')>{f}</i>");
    let known = serde_json::json!({
        "service": field("service"), "name": field("name"), "nationality": field("nationality"),
        "email": field("email"), "bestTimeToCall": field("time"),
    });
    console
        .execute(&format!(
            "UPDATE conversation SET known_fields = '{}', engine_state = '{{\"stage\":\"qualified\"}}' WHERE id = {conversation}",
            known.to_string().replace('\'', "''")
        ))
        .await;
    console
        .execute(&format!(
            "INSERT INTO lead (conversation_id, status, service, name, nationality, email, best_time_to_call)
             SELECT {conversation}, 'qualified', known_fields->>'service', known_fields->>'name', known_fields->>'nationality',
                    known_fields->>'email', known_fields->>'bestTimeToCall' FROM conversation WHERE id = {conversation}"
        ))
        .await;
    let mut agent = console.agent("sara@example.com").await;
    let fields: Vec<String> =
        ["service", "name", "nationality", "email", "time"].iter().map(|f| field(f)).collect();
    let paths = [
        "/inbox?filter=all".to_owned(),
        format!("/conversations/{conversation}"),
        "/notifications".to_owned(),
        "/leads".to_owned(),
    ];
    for path in paths {
        let page = agent.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        if path != "/notifications" {
            assert!(
                page.body.contains("&lt;i onmouseover=alert('name')&gt;"),
                "{path} shows the name as text"
            );
        }
        for raw in [name, text, "<b>bold</b>"].into_iter().chain(fields.iter().map(String::as_str)) {
            assert!(!page.body.contains(raw), "{path} shows {raw} unescaped");
        }
    }
    let page = agent.get(&format!("/conversations/{conversation}")).await;
    assert!(page.body.contains("&lt;script&gt;alert('name')&lt;/script&gt;"), "the profile name, as text");
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;"));
    let csp = page.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("default-src 'self'"), "{csp}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inbox_filters_searches_counts_unread_and_pages() {
    let console = Console::start().await;
    for i in 0..55 {
        console.customer_says(&format!("9715000010{i:02}"), Some(&format!("Customer {i}")), "hello").await;
    }
    let aisha = console.customer_says("971509999999", Some("Aisha Al Mansoori"), "مرحبا").await;
    let mut agent = console.agent("sara@example.com").await;
    let first = agent.get("/inbox?filter=all").await;
    assert_eq!(first.body.matches("href=\"/conversations/").count(), 50);
    assert!(first.body.find(&format!("/conversations/{aisha}\"")).is_some(), "the newest comes first");
    let more = testkit::console::attribute(&first.body, "class=\"more\" href").expect("a next page");
    let second = agent.get(&more.replace("&amp;", "&")).await;
    assert_eq!(second.body.matches("href=\"/conversations/").count(), 6, "{}", second.body);
    assert!(!second.body.contains(&format!("/conversations/{aisha}\"")), "no row twice");
    let found = agent.get("/inbox?filter=all&q=mansoori").await;
    assert_eq!(found.body.matches("href=\"/conversations/").count(), 1);
    assert!(found.body.contains("dir=\"auto\""), "Arabic renders right to left");
    let by_number = agent.get("/inbox?filter=all&q=50999").await;
    assert_eq!(by_number.body.matches("href=\"/conversations/").count(), 1);
    let literal = agent.get("/inbox?filter=all&q=%25").await;
    assert_eq!(
        literal.body.matches("href=\"/conversations/").count(),
        0,
        "% is searched for, not a wildcard"
    );
    assert!(found.body.contains("aria-label=\"1 unread\""), "{}", found.body);
    agent.get(&format!("/conversations/{aisha}")).await;
    let seen = agent.get("/inbox?filter=all&q=mansoori").await;
    assert!(!seen.body.contains("unread\""), "viewing reads it");
    console.customer_says("971509999999", None, "are you there?").await;
    let again = agent.get("/inbox?filter=all&q=mansoori").await;
    assert!(again.body.contains("aria-label=\"1 unread\""), "a new message is unread again");
    assert_eq!(
        agent.get("/inbox?filter=needs_person").await.body.matches("href=\"/conversations/").count(),
        0
    );
    assert_eq!(agent.get("/inbox?after=garbage").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snoozed_notification_hides_and_comes_back_when_its_time_passes() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000030", None, "hi").await;
    console
        .execute(&format!(
            "INSERT INTO notification (kind, conversation_id, title, body) VALUES
             ('lead_qualified', {conversation}, 'Lead qualified: Ravi', 'Golden visa, Indian')"
        ))
        .await;
    let id = console.strings("SELECT id::text AS s FROM notification").await.remove(0);
    let mut agent = console.agent("sara@example.com").await;
    assert!(agent.get("/notifications").await.body.contains("Lead qualified: Ravi"));
    let snoozed = agent
        .post(&format!("/notifications/{id}/snooze"), &[("for", "hour"), ("tz_offset_minutes", "240")])
        .await;
    assert_eq!(snoozed.status, StatusCode::SEE_OTHER);
    assert!(!agent.get("/notifications").await.body.contains("Lead qualified: Ravi"), "hidden while snoozed");
    let until = format!(
        "SELECT round(EXTRACT(EPOCH FROM snoozed_until - now()) / 60)::bigint AS n FROM notification WHERE id = {id}"
    );
    assert_eq!(console.count(&until).await, 60);
    console
        .execute(&format!(
            "UPDATE notification SET snoozed_until = now() - interval '1 second' WHERE id = {id}"
        ))
        .await;
    assert!(
        agent.get("/notifications").await.body.contains("Lead qualified: Ravi"),
        "back once its time passed"
    );
    let past = agent
        .post(
            &format!("/notifications/{id}/snooze"),
            &[("for", "chosen"), ("until", "2020-01-01T08:00"), ("tz_offset_minutes", "0")],
        )
        .await;
    assert_eq!(past.status, StatusCode::BAD_REQUEST);
    agent.post(&format!("/notifications/{id}/read"), &[]).await;
    assert!(
        !agent.get("/notifications").await.body.contains("Lead qualified: Ravi"),
        "read ones leave the list"
    );
    assert!(agent.get("/notifications?all=true").await.body.contains("Lead qualified: Ravi"));
    let actions = console
        .strings("SELECT action AS s FROM staff_audit WHERE action LIKE '%notification' ORDER BY id")
        .await;
    assert_eq!(actions, ["snooze_notification", "read_notification"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn qualified_leads_are_listed_and_exported_as_csv() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000040", None, "hi").await;
    console
        .execute(&format!(
            "INSERT INTO lead (conversation_id, status, service, name, nationality, email, best_time_to_call)
             VALUES ({conversation}, 'qualified', 'Golden visa', '=HYPERLINK(\"http://x\")', 'Indian', 'ravi@example.com', 'after 5, please')"
        ))
        .await;
    let mut agent = console.agent("sara@example.com").await;
    let page = agent.get("/leads").await;
    assert!(page.body.contains("Golden visa") && page.body.contains("ravi@example.com"));
    let csv = agent.get("/leads.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 2, "{}", csv.body);
    assert!(lines[1].starts_with("\"'=HYPERLINK(\"\"http://x\"\")\",971500000040,Golden visa,Indian,ravi@example.com,\"after 5, please\","), "{}", lines[1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn open_pages_hear_of_new_messages_over_server_sent_events() {
    let console = Console::start().await;
    let mut agent = console.agent("sara@example.com").await;
    let client = reqwest::Client::new();
    let cookie = agent.get("/inbox").await;
    assert_eq!(cookie.status, StatusCode::OK);
    let session = agent.session_cookie();
    let response = client
        .get(format!("{}/events", console.base))
        .header("cookie", session)
        .send()
        .await
        .expect("events");
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut sent = false;
    while !seen.contains("event: activity") {
        if seen.contains("retry:") && !sent {
            // The stream is subscribed; once the console listens, a new message must reach it.
            console.wait_until_listening().await;
            console.customer_says("971500000050", None, "hello?").await;
            sent = true;
        }
        let chunk =
            tokio::time::timeout_at(deadline, body.next()).await.expect("an event in time").expect("open");
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
    }
    assert!(!seen.contains("hello?"), "events carry no customer text");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_readiness_and_metrics_answer() {
    let console = Console::start().await;
    let mut anyone = console.anonymous();
    assert_eq!(anyone.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(anyone.get("/readyz").await.status, StatusCode::OK);
    let metrics = anyone.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.body.contains("console_logins_total{outcome=\"limited\"} 0"), "{}", metrics.body);
    let missing = anyone.get("/no-such-page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
