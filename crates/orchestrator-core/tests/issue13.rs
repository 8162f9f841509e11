//! The examples of issue 13, each as a customer would write it, in English and Arabic.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use chrono::{DateTime, Duration, Utc};
use domain::conversation::{ConversationState, Language, QuestionKey, Stage};
use domain::text_policy::{GREETING, GREETING_AR};
use orchestrator_core::{BusinessProfile, ContactChange, Decision, Inbound, NoticeKind, decide};

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).expect("valid")
}

fn profile() -> BusinessProfile {
    BusinessProfile::from_toml(include_str!("../../../deploy/business-profile.example.toml"))
        .expect("profile")
}

/// Runs `messages` from `state`, a minute apart from `at`, returning every decision.
fn run_from(state: &ConversationState, at: DateTime<Utc>, messages: &[&str]) -> Vec<Decision> {
    let mut state = state.clone();
    let profile = profile();
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let minutes = i64::try_from(i).expect("few messages");
            let decision = decide(&state, &[Inbound::text(m)], at + Duration::minutes(minutes), &profile);
            state = decision.state.clone();
            decision
        })
        .collect()
}

fn run(messages: &[&str]) -> Vec<Decision> {
    run_from(&ConversationState::default(), start(), messages)
}

fn last(decisions: &[Decision]) -> &Decision {
    decisions.last().expect("a decision")
}

fn reply(decision: &Decision) -> &str {
    decision.reply.as_ref().map_or("", |r| r.text.as_str())
}

fn key(decision: &Decision) -> Option<QuestionKey> {
    decision.reply.as_ref().map(|r| r.question_key)
}

#[test]
fn call_me_after_5_is_a_time_and_the_lead_is_complete() {
    let d = run(&[
        "Hi, golden visa please. I'm Ravi Shankar from India, email ravi.shankar@gmail.com, call me after 5",
    ]);
    let known = &last(&d).state.known;
    assert_eq!(known.service.as_deref(), Some("Golden visa"));
    assert_eq!(known.name.as_deref(), Some("Ravi Shankar"));
    assert_eq!(known.nationality.as_deref(), Some("Indian"));
    assert_eq!(known.email.as_deref(), Some("ravi.shankar@gmail.com"));
    assert_eq!(known.best_time_to_call.as_deref(), Some("after 5"));
    assert_eq!(key(last(&d)), Some(QuestionKey::Closing));
    assert!(
        reply(last(&d)).contains("Golden visa, Indian, ravi.shankar@gmail.com, after 5"),
        "{}",
        reply(last(&d))
    );
}

#[test]
fn a_handoff_keeps_the_details_of_the_same_message() {
    let d = run(&["I'm Ahmed Ali from Jordan, I need a family visa, can I talk to an agent?"]);
    let decision = last(&d);
    assert_eq!(decision.state.engine.stage, Stage::HandedOff);
    assert_eq!(decision.state.known.name.as_deref(), Some("Ahmed Ali"));
    let notice = decision.notices.first().expect("notice");
    assert_eq!(notice.kind, NoticeKind::HumanRequested);
    assert!(notice.body.contains("Family visa") && notice.body.contains("Jordanian"), "{}", notice.body);
}

#[test]
fn opt_outs_are_confirmed_once_and_then_nothing_is_sent() {
    for (messages, language) in [
        (["I need a visit visa", "don't message me again", "STOP"], Language::En),
        (["ابي فيزا زيارة", "لا تراسلني", "توقف"], Language::Ar),
    ] {
        let d = run(&messages);
        assert_eq!(key(&d[1]), Some(QuestionKey::OptOut));
        assert_eq!(d[1].contact, Some(ContactChange::OptedOut));
        assert_eq!(d[1].state.engine.language, language);
        assert_eq!(d[1].notices.first().map(|n| n.kind), Some(NoticeKind::OptedOut));
        assert_eq!(d[2].reply, None, "silent after the opt-out");
        assert!(d[2].notices.is_empty());
        let back = run_from(
            &d[2].state,
            start() + Duration::hours(1),
            &[if language == Language::En { "START" } else { "ابدأ" }],
        );
        assert_eq!(back[0].contact, Some(ContactChange::OptedIn));
        assert_eq!(key(&back[0]), Some(QuestionKey::AskName));
    }
}

#[test]
fn stop_at_the_name_question_is_an_opt_out_not_a_name() {
    let d = run(&["golden visa", "stop"]);
    assert_eq!(last(&d).state.known.name, None);
    assert_eq!(last(&d).state.engine.stage, Stage::OptedOut);
}

#[test]
fn arabic_is_answered_in_arabic_with_the_exact_texts() {
    let d = run(&["أبغى أفتح رخصة تجارية"]);
    assert_eq!(d[0].state.known.service.as_deref(), Some("New trade licence"));
    assert_eq!(reply(&d[0]), format!("{GREETING_AR}\n\nهل يمكنني معرفة اسمك الكامل من فضلك؟"));
    let d = run(&["السلام عليكم", "ابي الاقامة الذهبية", "محمد الكعبي", "سعودي"]);
    assert_eq!(reply(&d[0]), format!("{GREETING_AR}\n\nكيف يمكنني مساعدتك اليوم؟"));
    assert_eq!(reply(&d[2]), "ما هي جنسيتك؟");
    assert_eq!(last(&d).state.known.nationality.as_deref(), Some("Saudi"), "stored canonical");
    let d = run(&["hello", "ابي تجديد الرخصة"]);
    assert!(reply(&d[0]).starts_with(GREETING));
    assert_eq!(reply(&d[1]), "هل يمكنني معرفة اسمك الكامل من فضلك؟", "follows the latest message");
}

#[test]
fn corrections_overwrite_and_are_confirmed() {
    let d = run(&["family visa", "Ahmed", "sorry, my full name is Ahmed Hassan Ali"]);
    assert_eq!(last(&d).state.known.name.as_deref(), Some("Ahmed Hassan Ali"));
    assert!(
        reply(last(&d)).starts_with("Got it, I've changed your name to Ahmed Hassan Ali."),
        "{}",
        reply(last(&d))
    );
    assert_eq!(key(last(&d)), Some(QuestionKey::AskNationality));

    let d = run(&[
        "family visa",
        "John Smith",
        "British",
        "john.smtih@gmail.com",
        "sorry typo, john.smith@gmail.com",
    ]);
    assert_eq!(last(&d).state.known.email.as_deref(), Some("john.smith@gmail.com"));
    assert_eq!(key(last(&d)), Some(QuestionKey::AskBestTime));
}

#[test]
fn names_that_used_to_fail() {
    let d = run(&["golden visa", "Syed Muhammad Ali Hasan Zaidi"]);
    assert_eq!(last(&d).state.known.name.as_deref(), Some("Syed Muhammad Ali Hasan Zaidi"));
    let d = run(&["golden visa", "Eng. Khalid Al Hammadi"]);
    assert_eq!(last(&d).state.known.name.as_deref(), Some("Khalid Al Hammadi"));
    let d = run(&["golden visa", "Ravi Kumar", "Indian", "ravi kumar@gmail.com", "yes"]);
    assert!(reply(&d[3]).contains("Did you mean ravikumar@gmail.com?"), "{}", reply(&d[3]));
    assert_eq!(last(&d).state.known.email.as_deref(), Some("ravikumar@gmail.com"));
}

#[test]
fn nationalities_that_used_to_fail() {
    for (answer, expected) in
        [("phillipines", "Filipino"), ("indain", "Indian"), ("Emarati", "Emirati"), ("I'm local", "Emirati")]
    {
        let d = run(&["golden visa", "Sam Lee", answer]);
        assert_eq!(last(&d).state.known.nationality.as_deref(), Some(expected), "{answer}");
    }
}

#[test]
fn questions_get_an_answer_then_the_pending_question() {
    let d = run(&["golden visa", "Sam Lee", "Indian", "sam@gmail.com", "how much will it cost?"]);
    assert_eq!(last(&d).state.known.best_time_to_call, None);
    assert!(reply(last(&d)).starts_with("Fees depend on the service"), "{}", reply(last(&d)));
    assert!(reply(last(&d)).ends_with("What is the best time to call you?"));
    let d = run(&["golden visa", "where is your office?"]);
    assert!(reply(last(&d)).starts_with("Our office: Al Ain Business Center"), "{}", reply(last(&d)));
    assert!(reply(last(&d)).ends_with("May I know your full name, please?"));
    let unconfigured =
        decide(&d[0].state, &[Inbound::text("where is your office?")], start(), &BusinessProfile::default());
    assert!(reply(&unconfigured).starts_with("Our team will tell you when they call."));
    let d = run(&["ابي الاقامة الذهبية", "وين مكتبكم؟"]);
    assert!(reply(last(&d)).starts_with("عنوان مكتبنا:"), "{}", reply(last(&d)));
}

#[test]
fn an_unknown_service_goes_on_as_other() {
    let d = run(&["I need VAT registration for my company"]);
    let known = &last(&d).state.known;
    assert!(known.service.as_deref().is_some_and(|s| s.starts_with("Other: VAT registration")), "{known:?}");
    assert_eq!(key(last(&d)), Some(QuestionKey::AskName));
}

#[test]
fn after_the_closing_the_customer_is_acknowledged_and_staff_are_told() {
    let d = run(&["golden visa", "Sara Khan", "Pakistani", "sara@gmail.com", "after 5"]);
    assert_eq!(key(last(&d)), Some(QuestionKey::Closing));
    let after = run_from(
        &last(&d).state,
        start() + Duration::hours(1),
        &["hello again, I also need a family visa for my wife", "are you there?"],
    );
    assert_eq!(key(&after[0]), Some(QuestionKey::FollowUp));
    let notice = after[0].notices.first().expect("follow-up");
    assert_eq!(notice.kind, NoticeKind::CustomerFollowup);
    assert!(notice.body.contains("family visa for my wife"), "{}", notice.body);
    assert_eq!(after[1].reply, None, "one acknowledgement per 12 hours");
    assert_eq!(after[1].notices.first().map(|n| n.kind), Some(NoticeKind::CustomerFollowup));
    assert_ne!(notice.dedupe_suffix, after[1].notices[0].dedupe_suffix);
}

#[test]
fn a_correction_after_the_closing_updates_the_lead() {
    let d = run(&["golden visa", "Sara Khan", "Pakistani", "sara@gmail.com", "after 5"]);
    let after =
        run_from(&last(&d).state, start() + Duration::hours(1), &["sorry, my email is sara.khan@gmail.com"]);
    assert_eq!(after[0].state.known.email.as_deref(), Some("sara.khan@gmail.com"));
    assert!(reply(&after[0]).starts_with("Got it, I've changed your email to sara.khan@gmail.com."));
    assert!(after[0].notices[0].body.contains("corrected"));
}

#[test]
fn a_customer_back_after_30_days_starts_a_new_enquiry_without_being_asked_again() {
    let d = run(&["golden visa", "Sara Khan", "Pakistani", "sara@gmail.com", "after 5"]);
    let back = run_from(&last(&d).state, start() + Duration::days(31), &["Hi, I need a family visa now"]);
    let known = &back[0].state.known;
    assert_eq!(known.service.as_deref(), Some("Family visa"));
    assert_eq!(known.name.as_deref(), Some("Sara Khan"));
    assert_eq!(key(&back[0]), Some(QuestionKey::AskBestTime));
    assert!(!reply(&back[0]).contains(GREETING), "the greeting went out once");
}

#[test]
fn no_email_and_no_calls_are_accepted() {
    let d = run(&["golden visa", "Sara Khan", "Pakistani", "I don't have an email", "I can't take calls"]);
    assert!(reply(&d[3]).starts_with("No problem, we will send your quotation here on WhatsApp."));
    assert_eq!(key(last(&d)), Some(QuestionKey::Closing));
    assert!(reply(last(&d)).contains("we will send it here on WhatsApp"), "{}", reply(last(&d)));
    let d = run(&["golden visa", "Sara Khan", "Pakistani", "test@test.com"]);
    assert_eq!(last(&d).state.known.email, None);
    assert_eq!(key(last(&d)), Some(QuestionKey::AskEmail));
}

#[test]
fn a_turn_of_fragments_is_read_whole_and_answered_once() {
    let profile = profile();
    let turn =
        [Inbound::text("Hi"), Inbound::text("I'm Ahmed Ali"), Inbound::text("Jordanian, need a golden visa")];
    let decision = decide(&ConversationState::default(), &turn, start(), &profile);
    let known = &decision.state.known;
    assert_eq!(
        (known.service.as_deref(), known.name.as_deref(), known.nationality.as_deref()),
        (Some("Golden visa"), Some("Ahmed Ali"), Some("Jordanian"))
    );
    assert_eq!(key(&decision), Some(QuestionKey::AskEmail));
}
