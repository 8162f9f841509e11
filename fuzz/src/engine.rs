//! `orchestrator_engine`: a whole conversation, turn by turn, through the pure engine,
//! with the state threaded through its JSON columns exactly as job-runner stores and
//! reloads it between jobs.
//!
//! # Input format
//!
//! The input is a conversation: turns separated by the byte `0x1E` (ASCII record
//! separator), at most [`MAX_TURNS`]. A turn is the customer's text (invalid UTF-8 is
//! replaced, as a lossy decode would), unless its first byte picks another kind of message:
//!
//! | first byte | inbound | text |
//! |---|---|---|
//! | `0x01` | media (picture, voice note, ...) | the rest, as a caption, if any |
//! | `0x02` | unreadable (location, contacts, order, unknown type) | the rest, if any |
//! | `0x03` | the customer opened the chat (`request_welcome`) | the rest, if any |
//! | `0x04` | ignored (reaction, system, edit, revoke) | the rest, if any |
//! | `0x05` | a text message without a body | none |
//! | anything else | text | the whole turn |
//!
//! Plain text files are therefore valid inputs: a file with one customer line is a
//! one-turn conversation.

use chrono::{DateTime, Duration, Utc};
use domain::conversation::{ConversationState, EngineState, KnownFields, QuestionKey, Stage};
use domain::text_policy::{contains_service_list, greeting_count, sanitize, starts_with_greeting};
use orchestrator_core::{BusinessProfile, ContactChange, Inbound, InboundKind, MAX_REASKS, decide};

/// Separates turns.
pub const TURN_SEPARATOR: u8 = 0x1E;
/// Turns read from one input; the rest is ignored.
pub const MAX_TURNS: usize = 64;
/// WhatsApp's limit on the body of a text message, in characters.
pub const MAX_REPLY_CHARS: usize = 4096;

/// One decoded turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// The kind of message.
    pub kind: InboundKind,
    /// Its text, if any.
    pub text: Option<String>,
}

/// The conversation an input stands for.
pub fn decode(data: &[u8]) -> Vec<Turn> {
    data.split(|b| *b == TURN_SEPARATOR).take(MAX_TURNS).map(decode_turn).collect()
}

fn decode_turn(raw: &[u8]) -> Turn {
    let text = |bytes: &[u8]| (!bytes.is_empty()).then(|| String::from_utf8_lossy(bytes).into_owned());
    let (kind, rest) = match raw.split_first() {
        Some((0x01, rest)) => (InboundKind::Media, rest),
        Some((0x02, rest)) => (InboundKind::Unreadable, rest),
        Some((0x03, rest)) => (InboundKind::Welcome, rest),
        Some((0x04, rest)) => (InboundKind::Ignored, rest),
        Some((0x05, _)) => return Turn { kind: InboundKind::Text, text: None },
        _ => (InboundKind::Text, raw),
    };
    Turn { kind, text: text(rest) }
}

/// The inverse of [`decode`], for writing seeds and regression inputs.
pub fn encode(turns: &[Turn]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, turn) in turns.iter().enumerate() {
        if i > 0 {
            out.push(TURN_SEPARATOR);
        }
        match (turn.kind, &turn.text) {
            (InboundKind::Text, None) => out.push(0x05),
            (InboundKind::Text, Some(_)) => {}
            (InboundKind::Media, _) => out.push(0x01),
            (InboundKind::Unreadable, _) => out.push(0x02),
            (InboundKind::Welcome, _) => out.push(0x03),
            (InboundKind::Ignored, _) => out.push(0x04),
        }
        if let Some(text) = &turn.text {
            out.extend_from_slice(text.as_bytes());
        }
    }
    out
}

/// When the conversation starts; each turn comes a minute after the previous one.
pub fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
}

/// Runs the conversation `data` stands for and checks every invariant after every turn.
pub fn check(data: &[u8]) {
    run(&decode(data));
}

/// Runs `turns` from a new conversation, checking every invariant after every turn.
pub fn run(turns: &[Turn]) {
    let profile = BusinessProfile::default();
    let mut state = ConversationState::default();
    let mut greetings = 0usize;
    let mut replies = 0usize;
    for (i, turn) in turns.iter().enumerate() {
        let now = start() + Duration::minutes(i64::try_from(i).unwrap_or_default());
        let inbound = [Inbound { kind: turn.kind, text: turn.text.as_deref() }];
        let decision = decide(&state, &inbound, now, &profile);
        let at = || format!("turn {i} ({:?} {:?})", turn.kind, turn.text);

        // Pure: the same state, turn and time give the same decision (checked on the
        // last turn only, as it doubles the cost of a turn).
        if i + 1 == turns.len() {
            assert_eq!(
                decide(&state, &inbound, now, &profile),
                decision,
                "{}: decide is not deterministic",
                at()
            );
        }

        // After an opt-out nothing is sent, and staff are not bothered, until the
        // customer opts back in.
        if state.engine.stage == Stage::OptedOut && decision.contact != Some(ContactChange::OptedIn) {
            assert!(
                decision.reply.is_none() && decision.notices.is_empty(),
                "{}: spoke after the opt-out",
                at()
            );
            assert_eq!(decision.state, state, "{}: state changed after the opt-out", at());
        }
        if turn.kind == InboundKind::Ignored {
            assert!(decision.reply.is_none() && decision.notices.is_empty(), "{}: answered a reaction", at());
        }

        if let Some(reply) = &decision.reply {
            replies += 1;
            let text = &reply.text;
            assert!(!text.trim().is_empty(), "{}: empty reply", at());
            let chars = text.chars().count();
            assert!(
                chars <= MAX_REPLY_CHARS,
                "{}: reply of {chars} characters exceeds WhatsApp's {MAX_REPLY_CHARS}",
                at()
            );
            let sanitized = sanitize(text);
            assert!(!sanitized.blocked, "{}: the sanitizer blocks the reply {text:?}", at());
            assert_eq!(&sanitized.text, text, "{}: the sanitizer changes the reply", at());
            assert!(!contains_service_list(text), "{}: the reply lists services: {text:?}", at());

            let greeted = greeting_count(text);
            greetings += greeted;
            assert!(greetings <= 1, "{}: greeting sent {greetings} times", at());
            if replies == 1 {
                assert_eq!(greeted, 1, "{}: the first reply does not greet", at());
                assert!(starts_with_greeting(text), "{}: the greeting is not in front", at());
            }
            assert!(
                decision.state.known.first_greeting_sent_at.is_some(),
                "{}: a reply went out but the greeting time is unset",
                at()
            );

            // Nothing known is asked, and the questions come in order.
            let known = &decision.state.known;
            if let Some(position) = QuestionKey::QUESTIONS.iter().position(|q| *q == reply.question_key) {
                assert!(
                    !known.answers(reply.question_key),
                    "{}: asked {} although it is known",
                    at(),
                    reply.question_key.as_str()
                );
                assert!(
                    QuestionKey::QUESTIONS[..position].iter().all(|q| known.answers(*q)),
                    "{}: asked {} out of order",
                    at(),
                    reply.question_key.as_str()
                );
                assert_eq!(
                    decision.state.engine.asked,
                    Some(reply.question_key),
                    "{}: asked is not recorded",
                    at()
                );
                assert_eq!(decision.state.engine.stage, Stage::Qualifying, "{}", at());
            }
            match reply.question_key {
                QuestionKey::Closing => assert_eq!(decision.state.engine.stage, Stage::Qualified, "{}", at()),
                QuestionKey::Handoff => assert_eq!(decision.state.engine.stage, Stage::HandedOff, "{}", at()),
                QuestionKey::OptOut => assert_eq!(decision.state.engine.stage, Stage::OptedOut, "{}", at()),
                _ => assert_ne!(decision.state.engine.stage, Stage::OptedOut, "{}", at()),
            }
        } else {
            assert_eq!(
                decision.state.known.first_greeting_sent_at,
                state.known.first_greeting_sent_at,
                "{}: greeting time changed without a reply",
                at()
            );
        }
        for notice in &decision.notices {
            assert!(!notice.title.is_empty() && !notice.body.is_empty(), "{}: empty notice", at());
            assert!(notice.body.chars().count() <= 4 * MAX_REPLY_CHARS, "{}: notice body too long", at());
        }
        assert!(
            decision.state.engine.unclear_answers <= MAX_REASKS + 1,
            "{}: unclear answers overflow",
            at()
        );
        keeps(&state.known, &decision.state.known, &at());

        // job-runner writes the state to its JSON columns and reads it back for the next job.
        state = through_json(&decision.state, &at());
    }
}

/// Stored fields are never blank, and the greeting time never moves once set.
fn keeps(before: &KnownFields, after: &KnownFields, at: &str) {
    for (name, value) in [
        ("service", &after.service),
        ("name", &after.name),
        ("nationality", &after.nationality),
        ("email", &after.email),
        ("best time to call", &after.best_time_to_call),
    ] {
        if let Some(value) = value {
            assert!(!value.trim().is_empty(), "{at}: {name} stored empty");
        }
    }
    if before.first_greeting_sent_at.is_some() {
        assert_eq!(
            before.first_greeting_sent_at, after.first_greeting_sent_at,
            "{at}: greeting time changed"
        );
    }
}

/// `known_fields` and `engine_state` as job-runner stores and reloads them.
fn through_json(state: &ConversationState, at: &str) -> ConversationState {
    let known = serde_json::to_string(&state.known).unwrap_or_else(|e| panic!("{at}: known_fields: {e}"));
    let engine = serde_json::to_string(&state.engine).unwrap_or_else(|e| panic!("{at}: engine_state: {e}"));
    let reloaded = ConversationState {
        known: serde_json::from_str::<KnownFields>(&known)
            .unwrap_or_else(|e| panic!("{at}: reload {known}: {e}")),
        engine: serde_json::from_str::<EngineState>(&engine)
            .unwrap_or_else(|e| panic!("{at}: reload {engine}: {e}")),
    };
    assert_eq!(&reloaded, state, "{at}: the state does not survive its JSON columns");
    reloaded
}
