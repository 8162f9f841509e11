//! The staff console with the real services: an account made on the command line, a
//! conversation taken over (the bot falls silent), a staff reply sent exactly once even
//! when its form is submitted twice, and the bot answering again after the hand-back.

#![expect(clippy::expect_used, reason = "tests fail loudly")]

use std::process::Stdio;
use std::time::Duration;

use e2e::Pipeline;
use testkit::console::{ConsoleClient, attribute};
use testkit::payloads::Customer;
use testkit::service::{ChildService, workspace_binary};
use testkit::stack::StackOptions;
use tokio::io::AsyncWriteExt;

const WAIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "a long staff password";

async fn create_user(database_url: &str, email: &str) -> String {
    let mut child = tokio::process::Command::new(workspace_binary("staff-console"))
        .args(["create-user", "--email", email, "--role", "agent"])
        .env("DATABASE_URL", database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("create-user runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(format!("{PASSWORD}\n").as_bytes()).await.expect("password written");
    drop(stdin);
    let out = child.wait_with_output().await.expect("create-user ends");
    assert!(out.status.success(), "create-user: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The texts the customer's phone got, oldest first.
async fn phone(p: &Pipeline, customer: &Customer) -> Vec<String> {
    p.stack
        .sends()
        .await
        .iter()
        .filter(|s| s["to"].as_str().map(|to| to.trim_start_matches('+')) == Some(customer.wa_id.as_str()))
        .filter_map(|s| s["body"].as_str().map(str::to_owned))
        .collect()
}

async fn jobs_done(p: &Pipeline, n: i64) {
    let sql = "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'";
    assert_eq!(p.wait_for_count(sql, n, WAIT).await, n, "{n} jobs done");
    let open = "SELECT count(*) AS n FROM outbound_message_log WHERE status IN ('queued', 'sending')";
    assert_eq!(p.wait_for_count(open, 0, WAIT).await, 0, "every queued message was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_take_over_reply_once_and_hand_back_to_the_bot() {
    let p = Pipeline::start(StackOptions::default()).await;
    let printed = create_user(p.db.url(), "Sara@Example.com").await;
    assert!(printed.contains("created agent account"), "{printed}");
    assert!(!printed.contains(PASSWORD), "the password is never printed");
    let console =
        ChildService::start(&workspace_binary("staff-console"), &["serve"], &[("DATABASE_URL", p.db.url())])
            .await
            .expect("console starts");
    let mut sara = ConsoleClient::new(&console.url("")).logged_in("sara@example.com", PASSWORD).await;

    let customer = Customer::unique();
    p.customer_says(&customer, "Hi").await;
    jobs_done(&p, 1).await;
    assert_eq!(phone(&p, &customer).await.len(), 1, "the bot greets and asks");
    let conversation = p.count("SELECT id AS n FROM conversation").await;

    let taken = sara.post(&format!("/conversations/{conversation}/take-over"), &[]).await;
    assert_eq!(taken.status, 303);
    p.customer_says(&customer, "I need a golden visa for my family").await;
    jobs_done(&p, 2).await;
    assert_eq!(phone(&p, &customer).await.len(), 1, "the bot is silent while staff hold the conversation");

    let page = sara.get(&format!("/conversations/{conversation}")).await;
    assert!(page.body.contains("I need a golden visa for my family"), "staff read what the customer wrote");
    let token = attribute(&page.body, "name=\"form_token\" value").expect("reply form");
    let reply = "Hello, this is Sara from Al Ain Business Center. I can help with the family visa.";
    for _ in 0..2 {
        let sent = sara
            .post(&format!("/conversations/{conversation}/reply"), &[("form_token", &token), ("body", reply)])
            .await;
        assert_eq!(sent.status, 303);
    }
    let delivered = "SELECT count(*) AS n FROM outbound_message_log WHERE author_staff_id IS NOT NULL AND status IN ('delivered', 'read')";
    assert_eq!(p.wait_for_count(delivered, 1, WAIT).await, 1, "the staff reply is sent and delivered");
    let staff_sends = phone(&p, &customer).await.into_iter().filter(|b| b == reply).count();
    assert_eq!(staff_sends, 1, "one request at the Graph API for a form submitted twice");
    let ticks = sara.get(&format!("/conversations/{conversation}/transcript")).await;
    assert!(ticks.body.contains("ticks delivered") || ticks.body.contains("ticks read"), "{}", ticks.body);

    let back = sara.post(&format!("/conversations/{conversation}/hand-back"), &[]).await;
    assert_eq!(back.status, 303);
    p.customer_says(&customer, "My name is Ravi Shankar").await;
    jobs_done(&p, 3).await;
    let texts = phone(&p, &customer).await;
    assert_eq!(texts.len(), 3, "the bot answers again: {texts:?}");
    let last = texts.last().expect("a reply");
    assert!(
        last.contains("nationality"),
        "it kept the service told to staff and asks what is missing: {last}"
    );
    assert!(!last.contains("ABCai"), "no second greeting: {last}");
}
