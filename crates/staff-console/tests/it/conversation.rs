//! Taking over, replying exactly once per form, handing back, notes, ticks.

use reqwest::StatusCode;

use testkit::console::attribute;

use crate::helpers::Console;

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_form_submitted_twice_is_one_message_and_takes_the_conversation_over() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000010", Some("Aisha"), "I need a golden visa").await;
    let mut agent = console.agent("sara@example.com").await;
    let page = agent.get(&format!("/conversations/{conversation}")).await;
    let token = attribute(&page.body, "name=\"form_token\" value").expect("the reply form has a token");
    let path = format!("/conversations/{conversation}/reply");
    for _ in 0..2 {
        let sent = agent.post(&path, &[("form_token", &token), ("body", "Hello Aisha, this is Sara.")]).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    }
    let rows = console
        .strings("SELECT body || '|' || status || '|' || (author_staff_id IS NOT NULL) AS s FROM outbound_message_log")
        .await;
    assert_eq!(rows, ["Hello Aisha, this is Sara.|queued|true"]);
    assert_eq!(console.count("SELECT count(*) AS n FROM conversation WHERE held_by IS NOT NULL").await, 1);
    let again = agent.get(&format!("/conversations/{conversation}")).await;
    let fresh = attribute(&again.body, "name=\"form_token\" value").expect("token");
    assert_ne!(fresh, token, "each rendering of the form is a new reply");
    agent.post(&path, &[("form_token", &fresh), ("body", "Second message")]).await;
    assert_eq!(console.count("SELECT count(*) AS n FROM outbound_message_log").await, 2);
    assert!(again.body.contains("Held by") && again.body.contains("you"), "the page says who holds it");
    let audit = console.count("SELECT count(*) AS n FROM staff_audit WHERE action = 'reply'").await;
    assert_eq!(audit, 2, "one audit entry per reply, none for the resubmission");
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_the_window_free_text_is_refused() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000011", None, "hi").await;
    console
        .execute(&format!(
            "UPDATE conversation SET last_inbound_at = now() - interval '25 hours' WHERE id = {conversation}"
        ))
        .await;
    let mut agent = console.agent("sara@example.com").await;
    let page = agent.get(&format!("/conversations/{conversation}")).await;
    assert!(page.body.contains("window has closed"), "{}", page.body);
    assert!(!page.body.contains("id=\"reply-body\""), "no free-text form outside the window");
    let refused = agent
        .post(
            &format!("/conversations/{conversation}/reply"),
            &[("form_token", &uuid::Uuid::new_v4().to_string()), ("body", "hello?")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(console.count("SELECT count(*) AS n FROM outbound_message_log").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_the_window_an_approved_template_is_queued_once_with_its_parameters() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000015", None, "hi").await;
    console
        .execute(&format!(
            "UPDATE conversation SET last_inbound_at = now() - interval '3 days' WHERE id = {conversation}"
        ))
        .await;
    let mut agent = console.agent("sara@example.com").await;
    let page = agent.get(&format!("/conversations/{conversation}")).await;
    assert!(
        page.body.contains("follow_up_en") && page.body.contains("follow_up_ar"),
        "the catalogue is offered"
    );
    let token = uuid::Uuid::new_v4().to_string();
    let path = format!("/conversations/{conversation}/template");
    let fields = [
        ("form_token", token.as_str()),
        ("template", "follow_up_en"),
        ("language", "en"),
        ("p1", "Fatima"),
        ("p2", "family visa"),
    ];
    for _ in 0..2 {
        assert_eq!(agent.post(&path, &fields).await.status, StatusCode::SEE_OTHER);
    }
    let rows = console.strings("SELECT body || '|' || template::text AS s FROM outbound_message_log").await;
    assert_eq!(
        rows,
        [
            "Hello Fatima, this is Al Ain Business Center following up on your family visa enquiry. Reply to this message to continue.|{\"name\": \"follow_up_en\", \"language\": \"en\", \"parameters\": [\"Fatima\", \"family visa\"]}"
        ]
    );
    let unknown = [("form_token", token.as_str()), ("template", "made_up"), ("language", "en")];
    assert_eq!(agent.post(&path, &unknown).await.status, StatusCode::BAD_REQUEST);
    let fresh = uuid::Uuid::new_v4().to_string();
    let bad = [
        ("form_token", fresh.as_str()),
        ("template", "follow_up_en"),
        ("language", "en"),
        ("p1", "Fatima\nX"),
        ("p2", "visa"),
    ];
    let refused = agent.post(&path, &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "Meta refuses line breaks in parameters");
    assert_eq!(console.count("SELECT count(*) AS n FROM outbound_message_log").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn take_over_and_hand_back_move_the_conversation_between_staff_and_the_bot() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000012", None, "I want to talk to a person").await;
    console
        .execute(&format!(
            "UPDATE conversation SET known_fields = '{{\"service\":\"Golden visa\",\"name\":\"Ravi Shankar\"}}',
                 engine_state = '{{\"stage\":\"handed_off\",\"asked\":\"ASK_NAME\",\"unclearAnswers\":3}}'
             WHERE id = {conversation}"
        ))
        .await;
    let mut agent = console.agent("sara@example.com").await;
    let inbox = agent.get("/inbox?filter=needs_person").await;
    assert!(
        inbox.body.contains(&format!("/conversations/{conversation}")),
        "a handed-off conversation needs a person"
    );
    let version = format!("SELECT version AS n FROM conversation WHERE id = {conversation}");
    let before = console.count(&version).await;
    agent.post(&format!("/conversations/{conversation}/take-over"), &[]).await;
    assert!(
        console.count(&version).await > before,
        "a turn being decided now sees the change and is decided again"
    );
    let held = agent.get(&format!("/conversations/{conversation}")).await;
    assert!(held.body.contains("Hand back to the bot"), "{}", held.body);
    let back = agent.post(&format!("/conversations/{conversation}/hand-back"), &[]).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    let state = console
        .strings(&format!(
            "SELECT (held_by IS NULL)::text || '|' || (engine_state->>'stage') || '|' || COALESCE(engine_state->>'asked', '-') AS s
             FROM conversation WHERE id = {conversation}"
        ))
        .await;
    assert_eq!(state, ["true|qualifying|-"], "the bot resumes at the next missing question (nationality)");
    let actions = console.strings("SELECT action || ':' || detail AS s FROM staff_audit WHERE conversation_id IS NOT NULL ORDER BY id").await;
    assert_eq!(actions, ["take_over:from the bot", "hand_back:bot resumes at ASK_NATIONALITY"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn notes_are_kept_for_colleagues_and_ticks_show_delivery() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000013", None, "hello").await;
    let mut agent = console.agent("sara@example.com").await;
    let page = agent.get(&format!("/conversations/{conversation}")).await;
    let token = attribute(&page.body, "name=\"form_token\" value").expect("token");
    agent
        .post(&format!("/conversations/{conversation}/reply"), &[("form_token", &token), ("body", "Hi!")])
        .await;
    let noted = agent
        .post(&format!("/conversations/{conversation}/notes"), &[("body", "Prefers Arabic <b>calls</b>")])
        .await;
    assert_eq!(noted.status, StatusCode::SEE_OTHER);
    let empty = agent.post(&format!("/conversations/{conversation}/notes"), &[("body", "   ")]).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    console.execute("UPDATE outbound_message_log SET status = 'read'").await;
    let page = agent.get(&format!("/conversations/{conversation}")).await;
    assert!(page.body.contains("Prefers Arabic &lt;b&gt;calls&lt;/b&gt;"), "notes are escaped");
    assert!(page.body.contains("class=\"ticks read\""), "read shows blue ticks");
    console.execute("UPDATE outbound_message_log SET status = 'failed', error_code = 131047").await;
    let live = agent.get(&format!("/conversations/{conversation}/transcript")).await;
    assert!(live.body.contains("More than 24 hours passed"), "a failure is explained: {}", live.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_opted_out_customer_cannot_be_written_to() {
    let console = Console::start().await;
    let conversation = console.customer_says("971500000014", None, "stop").await;
    console.execute("UPDATE contact SET opted_out_at = now()").await;
    let mut agent = console.agent("sara@example.com").await;
    let page = agent.get(&format!("/conversations/{conversation}")).await;
    assert!(page.body.contains("opted out"), "{}", page.body);
    assert!(!page.body.contains("name=\"form_token\""));
    let refused = agent
        .post(
            &format!("/conversations/{conversation}/reply"),
            &[("form_token", &uuid::Uuid::new_v4().to_string()), ("body", "hello?")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "refused even without the form");
    assert_eq!(console.count("SELECT count(*) AS n FROM outbound_message_log").await, 0);
    let opted = agent.get("/inbox?filter=opted_out").await;
    assert!(opted.body.contains(&format!("/conversations/{conversation}")));
}
