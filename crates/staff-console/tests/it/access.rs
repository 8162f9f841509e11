//! Who gets in, and what a form without its token or a session without rights can do.

use reqwest::StatusCode;
use store::StaffRole;

use crate::helpers::{Console, PASSWORD};

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_refused_and_the_right_one_logs_in() {
    let console = Console::start().await;
    console.user("sara@example.com", StaffRole::Agent).await;
    let mut client = console.anonymous();
    let refused = client.try_login("sara@example.com", "not the password").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("Wrong e-mail or password."), "{}", refused.body);
    assert!(!client.has_session());
    let unknown = client.try_login("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED, "an unknown account reads the same");
    assert!(unknown.body.contains("Wrong e-mail or password."));
    let ok = client.try_login("Sara@Example.com", PASSWORD).await;
    assert_eq!((ok.status, ok.location.as_deref()), (StatusCode::SEE_OTHER, Some("/inbox")));
    let cookie = ok.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let stored = console.strings("SELECT token_hash AS s FROM staff_session").await;
    assert_eq!(stored.len(), 1);
    assert!(!cookie.contains(&stored[0]), "the table holds the cookie's hash, not the cookie");
    assert_eq!(console.count("SELECT count(*) AS n FROM staff_audit WHERE action = 'log_in'").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_session_pages_send_to_login_and_forms_change_nothing() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000001", None, "hello").await;
    let mut stranger = console.anonymous();
    for path in [
        "/inbox",
        &format!("/conversations/{conversation}"),
        "/notifications",
        "/leads",
        "/leads.csv",
        "/events",
    ] {
        let page = stranger.get(path).await;
        assert_eq!(
            (page.status, page.location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/login")),
            "{path}"
        );
    }
    let page = stranger.post(&format!("/conversations/{conversation}/take-over"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(console.count("SELECT count(*) AS n FROM conversation WHERE held_by IS NOT NULL").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_without_its_csrf_token_is_refused() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000002", None, "hello").await;
    let mut agent = console.agent("omar@example.com").await;
    let path = format!("/conversations/{conversation}/take-over");
    let missing = agent.post_raw(&path, &[]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = agent.post_raw(&path, &[("csrf".to_owned(), "f".repeat(64))]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("reload the page"), "{}", wrong.body);
    assert_eq!(console.count("SELECT count(*) AS n FROM conversation WHERE held_by IS NOT NULL").await, 0);
    let taken = agent.post(&path, &[]).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "with the token it works");
    assert_eq!(console.count("SELECT count(*) AS n FROM conversation WHERE held_by IS NOT NULL").await, 1);
    let login = console.anonymous().try_login("omar@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let mut forged = console.anonymous();
    let fields = [("csrf", "forged"), ("email", "omar@example.com"), ("password", PASSWORD)];
    let fields: Vec<(String, String)> =
        fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    assert_eq!(
        forged.post_raw("/login", &fields).await.status,
        StatusCode::FORBIDDEN,
        "the login form has its own"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_logins_are_limited_per_account() {
    let console = Console::start().await;
    console.user("lina@example.com", StaffRole::Agent).await;
    let mut client = console.anonymous();
    for _ in 0..staff_console::pages::login::ACCOUNT_LIMIT {
        assert_eq!(
            client.try_login("lina@example.com", "guess guess guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = client.try_login("lina@example.com", PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(limited.body.contains("Too many failed logins"), "{}", limited.body);
    assert!(!client.has_session());
    console.user("other@example.com", StaffRole::Agent).await;
    let other = console.anonymous().try_login("other@example.com", PASSWORD).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "another account from elsewhere is not held back");
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_and_disabling_end_sessions_and_agents_cannot_run_operations() {
    let console = Console::start().await;
    let mut admin = console.admin("admin@example.com").await;
    let mut agent = console.agent("agent@example.com").await;
    assert_eq!(agent.get("/operations").await.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/operations").await.status, StatusCode::OK);
    let agent_id =
        console.strings("SELECT id::text AS s FROM staff_user WHERE email = 'agent@example.com'").await;
    let disabled = admin.post(&format!("/operations/users/{}/disable", agent_id[0]), &[]).await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    assert_eq!(agent.get("/inbox").await.status, StatusCode::SEE_OTHER, "a disabled account's session ends");
    assert_eq!(
        console.anonymous().try_login("agent@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let out = admin.post("/logout", &[]).await;
    assert_eq!((out.status, out.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    assert_eq!(console.count("SELECT count(*) AS n FROM staff_session").await, 0);
    let actions = console.strings("SELECT action AS s FROM staff_audit ORDER BY id").await;
    assert!(
        actions.contains(&"disable_user".to_owned()) && actions.contains(&"log_out".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_creates_an_account_that_can_log_in() {
    let console = Console::start().await;
    let mut admin = console.admin("root@example.com").await;
    let short = admin
        .post("/operations/users", &[("email", "new@example.com"), ("role", "agent"), ("password", "short")])
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.body.contains("at least 12 characters"), "{}", short.body);
    let saved = admin
        .post(
            "/operations/users",
            &[("email", "New@Example.com"), ("role", "agent"), ("password", "another long password")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let login = console.anonymous().try_login("new@example.com", "another long password").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_sees_the_queues_and_requeues_a_failed_job_and_a_failed_message() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000003", None, "hello").await;
    console
        .execute("UPDATE outbound_job SET status = 'failed', attempts = 3, error = 'engine panicked'")
        .await;
    console
        .execute(&format!(
            "INSERT INTO outbound_message_log (conversation_id, dedupe_key, question_key, body, status, attempts, error_code, error_text)
             VALUES ({conversation}, 'failed-reply', 'ASK_NAME', 'May I know your full name, please?', 'failed', 10, 131026, 'undeliverable')"
        ))
        .await;
    let mut admin = console.admin("admin@example.com").await;
    let page = admin.get("/operations").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("engine panicked"), "the failed job is listed");
    assert!(page.body.contains("the number may not use WhatsApp"), "the failed message, in plain words");
    assert!(page.body.contains("Replies to prepare") && page.body.contains("Oldest waiting"), "queue depth");
    let job = console.strings("SELECT id::text AS s FROM outbound_job").await.remove(0);
    let send = console.strings("SELECT id::text AS s FROM outbound_message_log").await.remove(0);
    assert_eq!(
        admin.post(&format!("/operations/jobs/{job}/requeue"), &[]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        admin.post(&format!("/operations/sends/{send}/requeue"), &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let statuses = console
        .strings("SELECT (SELECT status FROM outbound_job) || ',' || (SELECT status FROM outbound_message_log) AS s")
        .await;
    assert_eq!(statuses, ["queued,queued"], "both go round again");
    let audit = console
        .strings(
            "SELECT action || ':' || detail AS s FROM staff_audit WHERE action LIKE 'requeue%' ORDER BY id",
        )
        .await;
    assert_eq!(
        audit,
        [format!("requeue_job:job {job}: requeued"), format!("requeue_send:message {send}: requeued")]
    );
    let mut agent = console.agent("agent@example.com").await;
    let refused = agent.post(&format!("/operations/jobs/{job}/requeue"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "agents cannot requeue");
}
