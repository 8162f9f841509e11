//! Properties of whole conversations made of random customer messages: no reply lists
//! services, a known field is never asked again unless the customer corrected it, and
//! after an opt-out nothing is sent until the customer opts back in.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use chrono::{DateTime, Duration, Utc};
use domain::conversation::{ConversationState, QuestionKey, Stage};
use domain::text_policy::{contains_service_list, sanitize};
use orchestrator_core::{BusinessProfile, ContactChange, Inbound, InboundKind, decide};
use proptest::prelude::*;

/// Pieces of what customers write; a message is one or a few of them, or random text.
const PIECES: &[&str] = &[
    "hi",
    "السلام عليكم",
    "golden visa",
    "family visa for my wife",
    "أبغى أفتح رخصة تجارية",
    "PRO",
    "I need VAT registration",
    "I'm Ahmed Khan",
    "Syed Muhammad Ali Hasan Zaidi",
    "اسمي محمد الكعبي",
    "sorry, my name is Sara Ali",
    "Jordanian",
    "from Pakistan",
    "مصري",
    "indain",
    "ahmed@gmail.com",
    "ravi kumar@gmial.com",
    "yes",
    "no",
    "no email",
    "test@test.com",
    "after 5",
    "بعد المغرب",
    "any time",
    "I can't take calls",
    "how much?",
    "where is your office?",
    "do you speak Arabic?",
    "agent",
    "ابي اكلم احد",
    "stop",
    "توقف",
    "wrong number",
    "START",
    "ابدأ",
    "ok",
    "thanks",
    "👍",
    "?",
    "later",
    "actually I'm British",
    "call me after 5",
    "sorry typo, john.smith@gmail.com",
];

/// One message: its kind (mostly text), the hours that pass before it, its text.
fn message() -> impl Strategy<Value = (InboundKind, i64, String)> {
    let kind = prop_oneof![
        8 => Just(InboundKind::Text),
        1 => Just(InboundKind::Media),
        1 => Just(InboundKind::Ignored),
    ];
    let hours = prop_oneof![8 => Just(0i64), 1 => Just(13i64), 1 => Just(800i64)];
    let text = prop_oneof![
        4 => proptest::collection::vec(proptest::sample::select(PIECES), 1..3).prop_map(|p| p.join(", ")),
        1 => "\\PC{0,40}",
    ];
    (kind, hours, text)
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).expect("valid")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn conversations_keep_their_promises(messages in proptest::collection::vec(message(), 1..14)) {
        let profile = BusinessProfile::default();
        let mut state = ConversationState::default();
        let mut now = start();
        for (kind, hours, text) in &messages {
            now += Duration::minutes(1) + Duration::hours(*hours);
            let inbound = Inbound { kind: *kind, text: Some(text) };
            let decision = decide(&state, &[inbound], now, &profile);
            let opted_in = decision.contact == Some(ContactChange::OptedIn);
            if state.engine.stage == Stage::OptedOut && !opted_in {
                prop_assert!(decision.reply.is_none(), "sent after the opt-out: {text:?}");
                prop_assert!(decision.notices.is_empty());
            }
            if let Some(reply) = &decision.reply {
                prop_assert!(!contains_service_list(&reply.text), "{:?}", reply.text);
                prop_assert!(!sanitize(&reply.text).blocked, "{:?}", reply.text);
                if QuestionKey::QUESTIONS.contains(&reply.question_key) {
                    // Asked only while unknown: it was unknown before, or the customer
                    // took it back in this very turn (a correction that left it unknown).
                    prop_assert!(!decision.state.known.answers(reply.question_key), "asked {:?} though known", reply.question_key);
                    let new_enquiry = state.engine.closed_at.is_some() && decision.state.engine.closed_at.is_none();
                    prop_assert!(
                        !state.known.answers(reply.question_key) || new_enquiry,
                        "asked {:?} again: {text:?}", reply.question_key
                    );
                }
            }
            state = decision.state;
        }
    }
}
