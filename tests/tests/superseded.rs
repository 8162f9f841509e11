//! Invariant 10 through the real services: a reply still queued when a newer turn is
//! decided is superseded and never sent; the greeting always goes out.

use std::time::Duration;

use e2e::Pipeline;
use testkit::payloads::Customer;
use testkit::stack::StackOptions;

const WAIT: Duration = Duration::from_secs(30);
const GREETING: &str = "Hi 👋 I'm ABCai from Al Ain Business Center.";

#[tokio::test(flavor = "multi_thread")]
async fn replies_queued_while_the_sender_is_down_are_superseded_by_the_newest() {
    let mut p = Pipeline::start(StackOptions::default()).await;
    p.stack.sender.kill().await.expect("sender stopped");
    let customer = Customer::unique();
    let jobs_done = "SELECT count(*) AS n FROM outbound_job WHERE status = 'done'";
    for (text, decided) in [("Hi", 1), ("I need a family visa", 2), ("Ahmed Khan", 3)] {
        p.customer_says(&customer, text).await;
        assert_eq!(p.wait_for_count(jobs_done, decided, WAIT).await, decided, "{text:?} decided");
    }
    let statuses = testkit::sql::strings(
        p.db.url(),
        "SELECT question_key || ':' || status AS s FROM outbound_message_log ORDER BY id",
    )
    .await;
    assert_eq!(statuses, ["ASK_SERVICE:queued", "ASK_NAME:superseded", "ASK_NATIONALITY:queued"]);

    p.stack.restart_sender().await.expect("sender back");
    let sent = "SELECT count(*) AS n FROM outbound_message_log WHERE status IN ('sent', 'delivered', 'read')";
    assert_eq!(p.wait_for_count(sent, 2, WAIT).await, 2, "the greeting and the newest reply are sent");
    let phone: Vec<String> =
        p.stack.sends().await.iter().filter_map(|s| s["body"].as_str().map(str::to_owned)).collect();
    assert_eq!(phone.len(), 2, "the superseded reply never reaches the phone: {phone:?}");
    assert!(phone[0].starts_with(GREETING), "the greeting always goes out: {phone:?}");
    assert!(phone[1].contains("nationality"), "the newest reply answers everything: {phone:?}");
    let superseded =
        "SELECT count(*) AS n FROM outbound_message_log WHERE status = 'superseded' AND sent_at IS NULL";
    assert_eq!(p.count(superseded).await, 1);
}
