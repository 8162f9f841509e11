//! `cargo xtask demo`'s conversation, through the real binaries: every message of the
//! customer turns read with "typing…" before its reply, and every reply reaches the phone, in
//! order, and is read.

use e2e::{Pipeline, env};
use store::SendStatus;
use testkit::demo::{self, SCRIPT, Target};
use testkit::payloads::APP_SECRET;
use testkit::stack::StackOptions;

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_conversation_reaches_the_handoff_with_every_reply_read() {
    // A quiet period, as in production: the reply waits for it, presence does not.
    let p = Pipeline::start(StackOptions {
        runner: env(&[("TURN_QUIET_MS", "1000")]),
        ..StackOptions::default()
    })
    .await;
    let target = Target {
        ingest_url: p.stack.ingest.url(""),
        fake_url: p.stack.fake.url(""),
        database_url: p.db.url().to_owned(),
        app_secret: APP_SECRET.to_owned(),
    };
    let mut printed = String::new();
    let transcript =
        demo::run(&target, &SCRIPT, |turn| printed.push_str(&turn.to_string())).await.expect("runs");

    let replies: Vec<&str> =
        transcript.iter().flat_map(|t| t.replies.iter().map(|r| r.body.as_str())).collect();
    assert_eq!(
        replies,
        [
            "Hi 👋 I'm ABCai from Al Ain Business Center.\n\nHow can I help you today?",
            "May I know your full name, please?",
            "What is your nationality?",
            "What is your email address? We will send your quotation there.",
            "What is the best time to call you?",
            "Thank you, Ahmed! Here is what I have: Ahmed Khan, Family visa, Pakistani, ahmed.khan@outlook.com, Tomorrow after 5pm. Our team will prepare your quotation and call you at the time you chose. If anything needs changing, just tell me here.",
        ]
    );
    assert!(
        transcript.iter().flat_map(|t| &t.replies).all(|r| r.status == Some(SendStatus::Read)),
        "{transcript:#?}"
    );
    assert!(transcript.iter().all(|t| t.read && t.typing), "each message read, with typing: {transcript:#?}");
    assert_eq!(printed.matches("✓✓ read").count(), 12, "six messages and six replies read: {printed}");
    assert_eq!(printed.matches("ABCai is typing…").count(), 6, "{printed}");
    assert!(printed.contains("Ahmed Khan  ◀ customer"), "{printed}");
    assert_eq!(p.count("SELECT count(*) AS n FROM notification WHERE kind = 'lead_qualified'").await, 1);
}
