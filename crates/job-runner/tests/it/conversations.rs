//! Whole conversations through the real queue, with the exact texts.

use domain::text_policy::GREETING;
use orchestrator_core::texts;

use crate::helpers::Harness;

fn greeted(text: &str) -> String {
    format!("{GREETING}\n\n{text}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scripted_conversation_runs_to_the_closing_and_a_qualified_lead() {
    let h = Harness::new().await;
    let runner = h.runner();
    let customer = "971500000101";
    for message in
        ["Hello", "I need a family visa", "Ahmed Khan", "Pakistani", "ahmed.khan@gmail.com", "after 5pm"]
    {
        h.text(customer, message).await;
        let summary = runner.run_due(10).await.expect("run");
        assert_eq!((summary.claimed, summary.done), (1, 1), "{message}");
    }
    assert_eq!(
        h.replies(customer).await,
        vec![
            greeted(texts::ASK_SERVICE),
            texts::ASK_NAME.to_owned(),
            texts::ASK_NATIONALITY.to_owned(),
            texts::ASK_EMAIL.to_owned(),
            texts::ASK_BEST_TIME.to_owned(),
            "Thank you, Ahmed! Here is what I have: Ahmed Khan, Family visa, Pakistani, ahmed.khan@gmail.com, after 5pm. Our team will prepare your quotation and call you at the time you chose. If anything needs changing, just tell me here."
                .to_owned(),
        ]
    );
    let lead = h
        .count(
            "SELECT count(*) AS n FROM lead WHERE status = 'qualified' AND service = 'Family visa' \
             AND name = 'Ahmed Khan' AND nationality = 'Pakistani' AND email = 'ahmed.khan@gmail.com' \
             AND best_time_to_call = 'after 5pm'",
        )
        .await;
    assert_eq!(lead, 1);
    assert_eq!(h.count("SELECT count(*) AS n FROM notification WHERE kind = 'lead_qualified'").await, 1);
    let state = h
        .count(
            "SELECT count(*) AS n FROM conversation WHERE known_fields->>'service' = 'Family visa' \
             AND known_fields->>'bestTimeToCall' = 'after 5pm' AND known_fields ? 'firstGreetingSentAt' \
             AND engine_state->>'stage' = 'qualified' AND version = 6",
        )
        .await;
    assert_eq!(state, 1);
    let keys = h.strings("SELECT question_key AS s FROM outbound_message_log ORDER BY id").await;
    assert_eq!(keys, ["ASK_SERVICE", "ASK_NAME", "ASK_NATIONALITY", "ASK_EMAIL", "ASK_BEST_TIME", "CLOSING"]);
    let dedupe_keys_well_formed = h
        .count(
            "SELECT count(*) AS n FROM outbound_message_log o JOIN outbound_job j ON j.id = o.outbound_job_id \
             WHERE o.dedupe_key = o.conversation_id || ':' || j.inbound_provider_message_id || ':' || o.question_key \
             AND o.reply_to_provider_message_id = j.inbound_provider_message_id",
        )
        .await;
    assert_eq!(dedupe_keys_well_formed, 6);
    let statuses = h.strings("SELECT status AS s FROM outbound_message_log ORDER BY id").await;
    assert_eq!(
        statuses,
        ["queued", "superseded", "superseded", "superseded", "superseded", "queued"],
        "no sender ran: each newer reply superseded the one still queued, but for the greeting"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn asking_for_a_person_hands_off_with_a_notification_and_the_bot_goes_quiet() {
    let h = Harness::new().await;
    let runner = h.runner();
    let customer = "971500000102";
    for message in ["Hi, I need a golden visa", "I want to talk to a human"] {
        h.text(customer, message).await;
        runner.run_due(10).await.expect("run");
    }
    h.text(customer, "hello?").await;
    let summary = runner.run_due(10).await.expect("run");
    assert_eq!(summary.done, 1, "the job completes, with no reply");
    assert_eq!(h.replies(customer).await, vec![greeted(texts::ASK_NAME), texts::HANDOFF.to_owned()]);
    assert_eq!(h.count("SELECT count(*) AS n FROM notification WHERE kind = 'human_requested'").await, 1);
    assert_eq!(
        h.count("SELECT count(*) AS n FROM lead WHERE status = 'handed_off' AND service = 'Golden visa'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_greeting_appears_exactly_once_per_conversation() {
    let h = Harness::new().await;
    let runner = h.runner();
    for customer in ["971500000103", "971500000104"] {
        for message in ["hi", "hello", "salam", "I need an emirates id", "Omar"] {
            h.text(customer, message).await;
        }
    }
    while runner.run_due(100).await.expect("run").claimed > 0 {}
    for customer in ["971500000103", "971500000104"] {
        let replies = h.replies(customer).await;
        assert_eq!(replies.len(), 5);
        assert_eq!(replies.iter().filter(|r| r.contains(GREETING)).count(), 1, "{replies:?}");
        assert!(replies[0].starts_with(GREETING));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_message_naming_everything_gets_the_email_question() {
    let h = Harness::new().await;
    let customer = "971500000105";
    h.text(customer, "Hi, I'm Ahmed from Pakistan and I need a family visa").await;
    h.runner().run_due(10).await.expect("run");
    assert_eq!(h.replies(customer).await, vec![greeted(texts::ASK_EMAIL)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn media_gets_a_polite_re_ask_and_reactions_get_nothing() {
    let h = Harness::new().await;
    let runner = h.runner();
    let customer = "971500000106";
    h.text(customer, "work permit please").await;
    h.inbound(customer, "image", None).await;
    h.inbound(customer, "reaction", None).await;
    h.inbound(customer, "location", None).await;
    while runner.run_due(100).await.expect("run").claimed > 0 {}
    let reask = format!("{} {}", texts::ONLY_TEXT, texts::ASK_NAME);
    assert_eq!(h.replies(customer).await, vec![greeted(texts::ASK_NAME), reask.clone(), reask]);
    assert_eq!(h.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'done'").await, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_conversation_replays_to_the_same_decisions() {
    let h = Harness::new().await;
    let runner = h.runner();
    let customer = "971500000107";
    for message in [
        "hello",
        "I need a freelance permit",
        "Maria Santos",
        "I'm from the Philippines",
        "maria.santos@yahoo.com",
    ] {
        h.text(customer, message).await;
        runner.run_due(10).await.expect("run");
    }
    h.inbound(customer, "reaction", None).await;
    runner.run_due(10).await.expect("run");

    let conversation_id = h.count("SELECT id AS n FROM conversation").await;
    let transcript = store::transcripts::transcript(&h.pool, conversation_id).await.expect("transcript");
    let turns: Vec<_> = transcript
        .iter()
        .map(|t| orchestrator_core::replay::StoredTurn {
            message_type: t.inbound.message_type.as_str(),
            text: t.inbound.text_body.as_deref(),
            received_at: t.inbound.received_at,
            stored_replies: t.replies.iter().map(|r| r.body.as_str()).collect(),
        })
        .collect();
    let replayed = orchestrator_core::replay::replay(&turns, &orchestrator_core::BusinessProfile::default());
    assert_eq!(replayed.len(), 6);
    assert!(replayed.iter().all(|t| t.matches), "{replayed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn while_staff_hold_a_conversation_the_bot_listens_but_does_not_answer() {
    let h = Harness::new().await;
    let runner = h.runner();
    let customer = "971500000150";
    h.text(customer, "Hello").await;
    runner.run_due(10).await.expect("run");
    h.execute(
        "INSERT INTO staff_user (email, password_hash, role) VALUES ('sara@example.com', 'x', 'agent')",
    )
    .await;
    h.execute("UPDATE conversation SET held_by = (SELECT id FROM staff_user), held_since = now()").await;
    h.text(customer, "I need a family visa, I'm Ahmed Khan").await;
    let summary = runner.run_due(10).await.expect("run");
    assert_eq!(summary.done, 1, "the job ends");
    assert_eq!(h.replies(customer).await.len(), 1, "no reply while staff hold the conversation");
    let learnt = "SELECT count(*) AS n FROM conversation WHERE known_fields->>'service' = 'Family visa' \
                  AND known_fields->>'name' = 'Ahmed Khan' AND (engine_state->>'asked') = 'ASK_SERVICE'";
    assert_eq!(h.count(learnt).await, 1, "what the customer said is kept; the bot's own state is not moved");
    assert_eq!(
        h.count("SELECT count(*) AS n FROM notification").await,
        0,
        "nothing raised for staff who are there"
    );
    h.text(customer, "stop").await;
    runner.run_due(10).await.expect("run");
    let replies = h.replies(customer).await;
    assert_eq!(replies.len(), 2, "an opt-out is still confirmed: {replies:?}");
    assert_eq!(h.count("SELECT count(*) AS n FROM contact WHERE opted_out_at IS NOT NULL").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_turn_answered_late_apologises_and_one_past_the_window_goes_to_staff() {
    let h = Harness::new().await;
    let runner = h.runner();
    let late = "971500000160";
    h.text_sent_at(late, "Hello, I need a family visa", chrono::Utc::now() - chrono::Duration::minutes(40))
        .await;
    runner.run_due(10).await.expect("run");
    assert_eq!(h.replies(late).await, [greeted(&format!("Sorry for the late reply. {}", texts::ASK_NAME))]);

    let stale = "971500000161";
    h.text_sent_at(stale, "Hello, I need a family visa", chrono::Utc::now() - chrono::Duration::hours(30))
        .await;
    runner.run_due(10).await.expect("run");
    assert!(h.replies(stale).await.is_empty(), "a reply past the 24-hour window could not be delivered");
    let notice = "SELECT count(*) AS n FROM notification WHERE kind = 'stale_inbound'";
    assert_eq!(h.count(notice).await, 1, "staff are told instead");
    let kept = "SELECT count(*) AS n FROM conversation WHERE known_fields->>'service' = 'Family visa' \
                AND NOT known_fields ? 'firstGreetingSentAt'";
    assert_eq!(h.count(kept).await, 1, "what the customer said is kept; no greeting went out");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_turn_supersedes_only_bot_replies_the_sender_has_not_claimed() {
    let h = Harness::new().await;
    let runner = h.runner();
    let customer = "971500000170";
    h.text(customer, "Hello").await;
    runner.run_due(10).await.expect("run");
    let sends = store::outbound::Sends::new(h.pool.clone());
    let claimed = sends.claim(10, std::time::Duration::from_secs(30)).await.expect("claim");
    assert_eq!(claimed.len(), 1, "the sender holds the greeting");
    h.text(customer, "I need a family visa").await;
    runner.run_due(10).await.expect("run");
    h.execute(
        "INSERT INTO staff_user (email, password_hash, role) VALUES ('sara@example.com', 'x', 'agent')",
    )
    .await;
    h.execute(
        "INSERT INTO outbound_message_log (conversation_id, dedupe_key, body, author_staff_id)
         SELECT id, 'staff-note', 'Sara here', (SELECT id FROM staff_user) FROM conversation",
    )
    .await;
    h.text(customer, "Ahmed Khan").await;
    runner.run_due(10).await.expect("run");
    let rows = h.strings("SELECT COALESCE(question_key, 'staff') || ':' || status AS s FROM outbound_message_log ORDER BY id").await;
    assert_eq!(
        rows,
        ["ASK_SERVICE:sending", "ASK_NAME:superseded", "staff:queued", "ASK_NATIONALITY:queued"],
        "a claimed reply and a staff reply are never superseded"
    );
}
