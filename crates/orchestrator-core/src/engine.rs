//! The conversation engine: a pure function from the conversation's state and one inbound
//! message to the new state, the reply (with its question key) and a notice for staff.

use chrono::{DateTime, Utc};
use domain::conversation::{ConversationState, KnownFields, QuestionKey, Stage};
use domain::text_policy::with_greeting;

use crate::extract::{Extracted, extract, wants_human};
use crate::texts;

/// How many times an unclear answer is met with the question again before a person takes
/// over.
pub const MAX_REASKS: u8 = 2;

/// What kind of message came in, as far as the conversation is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundKind {
    /// Something the customer typed or chose (text, button, list reply).
    Text,
    /// A picture, voice note, video, document or sticker.
    Media,
    /// Anything else with content the bot cannot read (location, contacts, order,
    /// unsupported or unknown types).
    Unreadable,
    /// The customer opened the chat for the first time.
    Welcome,
    /// Reactions, system notices, edits and deletions: no reply.
    Ignored,
}

impl InboundKind {
    /// The kind of a stored `inbound_message.message_type`.
    pub fn from_message_type(message_type: &str) -> Self {
        match message_type {
            "text" | "button" | "interactive" => Self::Text,
            "image" | "video" | "document" | "audio" | "sticker" => Self::Media,
            "request_welcome" => Self::Welcome,
            "reaction" | "system" | "edit" | "revoke" => Self::Ignored,
            _ => Self::Unreadable,
        }
    }
}

/// One inbound message.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// Its kind.
    pub kind: InboundKind,
    /// What the customer typed or chose, if anything.
    pub text: Option<&'a str>,
}

/// The engine's answer to one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The conversation's state after this message.
    pub state: ConversationState,
    /// The reply to send, if any.
    pub reply: Option<Reply>,
    /// Something staff must know, if anything.
    pub notice: Option<Notice>,
}

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The question (or closing or handoff) it carries; part of its dedupe key.
    pub question_key: QuestionKey,
    /// The exact text, greeting included when it is the conversation's first reply.
    pub text: String,
}

/// A notification for staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What happened.
    pub kind: NoticeKind,
    /// Short title.
    pub title: String,
    /// Details.
    pub body: String,
}

/// The notifications the engine raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Every detail is known.
    LeadQualified,
    /// The customer asked for a person, or the bot could not understand them.
    HumanRequested,
}

impl NoticeKind {
    /// The `notification.kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeadQualified => "lead_qualified",
            Self::HumanRequested => "human_requested",
        }
    }
}

/// Decides the reply to `inbound` in a conversation in `state`, at `now`.
pub fn decide(state: &ConversationState, inbound: &Inbound<'_>, now: DateTime<Utc>) -> Decision {
    let mut next = state.clone();
    if state.engine.stage != Stage::Qualifying {
        // Staff have taken over; the bot stays quiet.
        return Decision { state: next, reply: None, notice: None };
    }
    let text = inbound.text.map(str::trim).filter(|t| !t.is_empty());
    let (reply, notice) = match (inbound.kind, text) {
        (InboundKind::Ignored, _) => (None, None),
        (InboundKind::Text, Some(text)) => turn(&mut next, text),
        (InboundKind::Welcome, _) => {
            let question = ask_next(&mut next);
            (Some(question), None)
        }
        (InboundKind::Text | InboundKind::Media | InboundKind::Unreadable, _) => {
            let question = current_question(&next);
            next.engine.asked = Some(question);
            let text = format!("{} {}", texts::ONLY_TEXT, texts::question(question));
            (Some(Reply { question_key: question, text }), None)
        }
    };
    let reply = reply.map(|reply| greet_once(&mut next.known, reply, now));
    Decision { state: next, reply, notice }
}

/// A typed answer: a request for a person, new details, or an unclear answer.
fn turn(state: &mut ConversationState, text: &str) -> (Option<Reply>, Option<Notice>) {
    let asked = state.engine.asked;
    if wants_human(text, asked == Some(QuestionKey::AskBestTime)) {
        return hand_off(state, "The customer asked to talk to a person.");
    }
    let progressed = fill(&mut state.known, extract(text, asked));
    if let Some(question) = asked.filter(|q| !progressed && !state.known.answers(*q)) {
        state.engine.unclear_answers += 1;
        if state.engine.unclear_answers > MAX_REASKS {
            let reason = format!("The bot could not understand the answers to {}.", question.as_str());
            return hand_off(state, &reason);
        }
        let text = texts::rephrased(question, state.engine.unclear_answers).to_owned();
        return (Some(Reply { question_key: question, text }), None);
    }
    state.engine.unclear_answers = 0;
    if state.known.next_question().is_none() {
        state.engine.stage = Stage::Qualified;
        state.engine.asked = None;
        let notice = Notice {
            kind: NoticeKind::LeadQualified,
            title: "New qualified lead".to_owned(),
            body: summary(&state.known),
        };
        let reply = Reply { question_key: QuestionKey::Closing, text: texts::closing(&state.known) };
        return (Some(reply), Some(notice));
    }
    (Some(ask_next(state)), None)
}

/// Fills the fields still missing; true when anything new was learnt.
fn fill(known: &mut KnownFields, found: Extracted) -> bool {
    let before = known.clone();
    known.service = known.service.take().or(found.service.map(str::to_owned));
    known.name = known.name.take().or(found.name);
    known.nationality = known.nationality.take().or(found.nationality.map(str::to_owned));
    known.email = known.email.take().or(found.email);
    known.best_time_to_call = known.best_time_to_call.take().or(found.best_time_to_call);
    *known != before
}

/// The first missing question, recorded as asked.
fn ask_next(state: &mut ConversationState) -> Reply {
    let question = state.known.next_question().unwrap_or(QuestionKey::AskService);
    state.engine.asked = Some(question);
    Reply { question_key: question, text: texts::question(question).to_owned() }
}

/// The question the customer is (or is about to be) answering.
fn current_question(state: &ConversationState) -> QuestionKey {
    state.engine.asked.or_else(|| state.known.next_question()).unwrap_or(QuestionKey::AskService)
}

fn hand_off(state: &mut ConversationState, reason: &str) -> (Option<Reply>, Option<Notice>) {
    state.engine.stage = Stage::HandedOff;
    state.engine.asked = None;
    let notice = Notice {
        kind: NoticeKind::HumanRequested,
        title: "A customer needs a person".to_owned(),
        body: format!("{reason} {}", summary(&state.known)),
    };
    (Some(Reply { question_key: QuestionKey::Handoff, text: texts::HANDOFF.to_owned() }), Some(notice))
}

/// The greeting goes in front of the conversation's first reply, and only that one.
fn greet_once(known: &mut KnownFields, reply: Reply, now: DateTime<Utc>) -> Reply {
    if known.first_greeting_sent_at.is_some() {
        return reply;
    }
    known.first_greeting_sent_at = Some(now);
    Reply { text: with_greeting(&reply.text), ..reply }
}

/// The lead's details for staff.
fn summary(known: &KnownFields) -> String {
    let field = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_owned());
    format!(
        "Service: {}. Name: {}. Nationality: {}. Email: {}. Best time to call: {}.",
        field(&known.service),
        field(&known.name),
        field(&known.nationality),
        field(&known.email),
        field(&known.best_time_to_call)
    )
}
