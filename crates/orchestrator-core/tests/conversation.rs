//! The conversation, turn by turn, with the exact texts customers see.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Duration, Utc};
use domain::conversation::{ConversationState, Language, QuestionKey, Stage};
use domain::text_policy::{GREETING, contains_service_list, sanitize};
use orchestrator_core::{BusinessProfile, Decision, Inbound, InboundKind, NoticeKind, decide, texts};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).expect("valid")
}

fn text(t: &str) -> Inbound<'_> {
    Inbound { kind: InboundKind::Text, text: Some(t) }
}

/// Runs `messages` through the engine from a new conversation, returning each decision.
fn run(messages: &[Inbound<'_>]) -> Vec<Decision> {
    let mut state = ConversationState::default();
    messages
        .iter()
        .map(|m| {
            let decision = decide(&state, &[*m], now(), &BusinessProfile::default());
            state = decision.state.clone();
            decision
        })
        .collect()
}

fn replies(decisions: &[Decision]) -> Vec<Option<String>> {
    decisions.iter().map(|d| d.reply.as_ref().map(|r| r.text.clone())).collect()
}

fn greeted(text: &str) -> String {
    format!("{GREETING}\n\n{text}")
}

#[test]
fn a_customer_is_walked_from_first_message_to_the_closing() {
    let decisions = run(&[
        text("Hello"),
        text("I need a family visa for my wife"),
        text("Ahmed Khan"),
        text("Pakistani"),
        text("ahmed.khan@gmail.com"),
        text("Tomorrow after 5pm"),
    ]);
    assert_eq!(
        replies(&decisions),
        vec![
            Some(greeted("How can I help you today?")),
            Some("May I know your full name, please?".to_owned()),
            Some("What is your nationality?".to_owned()),
            Some(texts::ASK_EMAIL.to_owned()),
            Some(texts::ASK_BEST_TIME.to_owned()),
            Some(
                "Thank you, Ahmed! Here is what I have: Ahmed Khan, Family visa, Pakistani, ahmed.khan@gmail.com, \
                 Tomorrow after 5pm. Our team will prepare your quotation and call you at the time you chose. \
                 If anything needs changing, just tell me here."
                    .to_owned()
            ),
        ]
    );
    let keys: Vec<_> = decisions.iter().map(|d| d.reply.as_ref().map(|r| r.question_key)).collect();
    assert_eq!(
        keys,
        [
            QuestionKey::AskService,
            QuestionKey::AskName,
            QuestionKey::AskNationality,
            QuestionKey::AskEmail,
            QuestionKey::AskBestTime,
            QuestionKey::Closing
        ]
        .map(Some)
    );
    let last = decisions.last().expect("decisions");
    let known = &last.state.known;
    assert_eq!(known.service.as_deref(), Some("Family visa"));
    assert_eq!(known.name.as_deref(), Some("Ahmed Khan"));
    assert_eq!(known.nationality.as_deref(), Some("Pakistani"));
    assert_eq!(known.email.as_deref(), Some("ahmed.khan@gmail.com"));
    assert_eq!(known.best_time_to_call.as_deref(), Some("Tomorrow after 5pm"));
    assert_eq!(last.state.engine.stage, Stage::Qualified);
    let notice = last.notices.first().expect("lead notice");
    assert_eq!(notice.kind, NoticeKind::LeadQualified);
    assert!(decisions[..5].iter().all(|d| d.notices.is_empty()));

    // Staff have it from here: the customer gets one acknowledgement and staff are told.
    let after = decide(&last.state, &[text("hello?")], now(), &BusinessProfile::default());
    assert_eq!(after.reply.map(|r| r.question_key), Some(QuestionKey::FollowUp));
    assert_eq!(after.notices.first().map(|n| n.kind), Some(NoticeKind::CustomerFollowup));
}

#[test]
fn the_greeting_goes_out_exactly_once() {
    let decisions = run(&[text("hi"), text("hi again"), text("hello"), text("Golden visa"), text("Sara")]);
    let greetings = replies(&decisions).iter().flatten().filter(|r| r.contains(GREETING)).count();
    assert_eq!(greetings, 1);
    assert!(decisions[0].state.known.first_greeting_sent_at.is_some());
    assert!(decisions.iter().all(|d| d.state.known.first_greeting_sent_at == Some(now())));
}

#[test]
fn a_first_message_naming_everything_skips_to_the_email() {
    let decisions = run(&[text("Hi, I'm Ahmed from Pakistan and I need a family visa")]);
    let reply = decisions[0].reply.as_ref().expect("reply");
    assert_eq!(reply.question_key, QuestionKey::AskEmail);
    assert_eq!(reply.text, greeted(texts::ASK_EMAIL));
    let known = &decisions[0].state.known;
    assert_eq!(
        (known.service.as_deref(), known.name.as_deref(), known.nationality.as_deref()),
        (Some("Family visa"), Some("Ahmed"), Some("Pakistani"))
    );
}

#[test]
fn a_first_message_naming_a_service_skips_the_service_question() {
    let decisions = run(&[text("Do you do trade license renewal?")]);
    assert_eq!(decisions[0].reply.as_ref().map(|r| r.question_key), Some(QuestionKey::AskName));
}

#[test]
fn unclear_answers_are_asked_again_twice_then_a_person_takes_over() {
    let decisions = run(&[text("hello"), text("hmm"), text("what?"), text("lol")]);
    assert_eq!(
        replies(&decisions),
        vec![
            Some(greeted(texts::ASK_SERVICE)),
            Some(texts::rephrased(Language::En, QuestionKey::AskService, 1).to_owned()),
            Some(texts::rephrased(Language::En, QuestionKey::AskService, 2).to_owned()),
            Some(texts::HANDOFF.to_owned()),
        ]
    );
    let last = decisions.last().expect("decisions");
    assert_eq!(last.state.engine.stage, Stage::HandedOff);
    assert_eq!(last.notices.first().map(|n| n.kind), Some(NoticeKind::HumanRequested));
    let after = decide(&last.state, &[text("family visa")], now(), &BusinessProfile::default());
    assert_eq!(after.reply, None, "the bot stops asking");
    assert_eq!(after.notices.first().map(|n| n.kind), Some(NoticeKind::CustomerFollowup), "staff are told");
}

#[test]
fn asking_for_a_person_hands_off_at_once() {
    let decisions = run(&[text("I need a golden visa"), text("can I talk to an agent please")]);
    assert_eq!(decisions[1].reply.as_ref().map(|r| r.question_key), Some(QuestionKey::Handoff));
    assert_eq!(decisions[1].notices.first().map(|n| n.kind), Some(NoticeKind::HumanRequested));
}

#[test]
fn media_and_unreadable_messages_re_ask_politely_and_reactions_get_nothing() {
    let media = Inbound { kind: InboundKind::Media, text: None };
    let location = Inbound { kind: InboundKind::Unreadable, text: None };
    let reaction = Inbound { kind: InboundKind::Ignored, text: None };
    let decisions = run(&[text("I need a work permit"), media, location, reaction, text("Omar Ali")]);
    let expected_reask = format!("{} {}", texts::ONLY_TEXT, texts::ASK_NAME);
    assert_eq!(decisions[1].reply.as_ref().map(|r| r.text.clone()), Some(expected_reask.clone()));
    assert_eq!(decisions[2].reply.as_ref().map(|r| r.text.clone()), Some(expected_reask));
    assert_eq!(decisions[3].reply, None);
    assert_eq!(decisions[3].state, decisions[2].state, "a reaction changes nothing");
    assert_eq!(decisions[4].reply.as_ref().map(|r| r.question_key), Some(QuestionKey::AskNationality));
}

/// Messages of every kind the walk below feeds to every state: both languages, every
/// field, corrections, questions, opt-out and opt-in, requests for a person.
const WALK_TEXTS: &[&str] = &[
    "hi",
    "السلام عليكم",
    "I need a family visa",
    "ابي الاقامة الذهبية",
    "I need VAT registration",
    "Ahmed Khan",
    "اسمي محمد الكعبي",
    "sorry, my name is Sara Ali",
    "I'm from India",
    "سعودي",
    "ahmed@gmail.com",
    "ravi kumar@gmial.com",
    "yes",
    "no email",
    "test@test.com",
    "tomorrow 5pm",
    "بعد المغرب",
    "I can't take calls",
    "how much will it cost?",
    "وين مكتبكم؟",
    "asdf qwer",
    "agent",
    "STOP",
    "START",
    "ابدأ",
    "Hi, I'm Ahmed from Pakistan and I need a family visa, ahmed@gmail.com, call me after 5",
];

/// The walk's key for a state: the turn counter only numbers notices, so states that
/// differ in it alone are one.
fn walk_key(state: &ConversationState) -> String {
    let mut key = state.clone();
    key.engine.turns = 0;
    format!("{key:?}")
}

/// Most states the walk visits (it is breadth first, so every state near the start is in).
const MAX_WALK_STATES: usize = 600;

#[test]
fn every_reachable_state_keeps_the_promises() {
    let inputs: Vec<Inbound<'_>> = WALK_TEXTS
        .iter()
        .map(|t| text(t))
        .chain(
            [InboundKind::Media, InboundKind::Unreadable, InboundKind::Welcome, InboundKind::Ignored]
                .map(|kind| Inbound { kind, text: None }),
        )
        .collect();
    let profile = BusinessProfile::from_toml(include_str!("../../../deploy/business-profile.example.toml"))
        .expect("profile");
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([ConversationState::default()]);
    let mut replies_checked = 0;
    let mut stages = HashSet::new();
    let mut languages = HashSet::new();
    while let Some(state) = queue.pop_front() {
        if seen.len() >= MAX_WALK_STATES || !seen.insert(walk_key(&state)) {
            continue;
        }
        stages.insert(format!("{:?}", state.engine.stage));
        languages.insert(state.engine.language);
        // Now, half a day later (the acknowledgement may go again), and after 30 days (a
        // new enquiry).
        let laters: &[Duration] = match state.engine.stage {
            Stage::Qualifying => &[Duration::zero()],
            _ => &[Duration::zero(), Duration::hours(13), Duration::days(31)],
        };
        for later in laters.iter().copied() {
            for inbound in &inputs {
                let decision = decide(&state, &[*inbound], now() + later, &profile);
                check(&state, inbound, &decision);
                replies_checked += usize::from(decision.reply.is_some());
                if later.is_zero() {
                    queue.push_back(decision.state);
                }
            }
        }
    }
    assert!(seen.len() > 400, "walked {} states", seen.len());
    assert!(replies_checked > 10_000, "checked {replies_checked} replies");
    assert_eq!(stages.len(), 4, "every stage reached: {stages:?}");
    assert_eq!(languages.len(), 2, "both languages reached");
    for language in [Language::En, Language::Ar] {
        for key in QuestionKey::QUESTIONS {
            for text in [
                texts::question(language, key),
                texts::rephrased(language, key, 1),
                texts::rephrased(language, key, 2),
            ] {
                assert!(!contains_service_list(text) && !sanitize(text).blocked, "{text}");
            }
        }
    }
}

/// The promises one decision keeps.
fn check(before: &ConversationState, inbound: &Inbound<'_>, decision: &Decision) {
    let at = || format!("{inbound:?} in {before:?}");
    let after = &decision.state;
    if inbound.kind == InboundKind::Ignored {
        assert_eq!(
            decision,
            &Decision { state: before.clone(), reply: None, notices: vec![], contact: None }
        );
    }
    if before.engine.stage == Stage::OptedOut
        && decision.contact != Some(orchestrator_core::ContactChange::OptedIn)
    {
        assert!(decision.reply.is_none() && decision.notices.is_empty(), "spoke after the opt-out: {}", at());
    }
    let Some(reply) = &decision.reply else { return };
    assert!(!contains_service_list(&reply.text), "{:?} {}", reply.text, at());
    assert!(!sanitize(&reply.text).blocked, "{:?} {}", reply.text, at());
    assert!(reply.text.chars().count() <= 4096, "{}", at());
    let greetings = domain::text_policy::greeting_count(&reply.text);
    if before.known.first_greeting_sent_at.is_some() {
        assert_eq!(greetings, 0, "greeted twice: {}", at());
    } else {
        assert!(domain::text_policy::starts_with_greeting(&reply.text) && greetings == 1, "{}", at());
    }
    let known = &after.known;
    let order = QuestionKey::QUESTIONS;
    if let Some(position) = order.iter().position(|q| *q == reply.question_key) {
        assert!(
            !known.answers(reply.question_key),
            "asked {:?} although known: {}",
            reply.question_key,
            at()
        );
        assert!(order[..position].iter().all(|q| known.answers(*q)), "asked out of order: {}", at());
        assert_eq!(after.engine.asked, Some(reply.question_key), "{}", at());
    }
}
