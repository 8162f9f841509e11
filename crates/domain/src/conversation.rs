//! What a conversation knows about the customer, and where the bot stands in it.
//!
//! Both are stored as JSON on the `conversation` row: [`KnownFields`] in `known_fields`
//! (camelCase keys, read by staff tools too) and [`EngineState`] in `engine_state`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The lead's details collected so far (`conversation.known_fields`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownFields {
    /// The service the customer wants (a canonical service name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Nationality (a demonym, e.g. "Pakistani").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    /// Email for the quotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// When staff should call, in the customer's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_time_to_call: Option<String>,
    /// When the greeting went out; set once, with the first outbound message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_greeting_sent_at: Option<DateTime<Utc>>,
    /// The customer has no e-mail address; the quotation goes to them on WhatsApp.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_declined: bool,
}

/// Everything the conversation engine reads and writes about one conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationState {
    /// The lead's details.
    pub known: KnownFields,
    /// The bot's bookkeeping.
    pub engine: EngineState,
}

/// The bot's own bookkeeping (`conversation.engine_state`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineState {
    /// The question the customer was last asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked: Option<QuestionKey>,
    /// How many answers in a row did not answer `asked`.
    #[serde(default)]
    pub unclear_answers: u8,
    /// Whether the bot is still qualifying, or has handed over to staff.
    #[serde(default)]
    pub stage: Stage,
    /// The language of the customer's latest text message; replies are written in it.
    #[serde(default)]
    pub language: Language,
    /// How many turns the engine has read in this conversation (ignored messages not
    /// counted); it tells apart the notices of one kind raised in different turns.
    #[serde(default)]
    pub turns: u64,
    /// When the closing message of the current enquiry went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// When the customer last got an acknowledgement after the closing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ack_at: Option<DateTime<Utc>>,
    /// An e-mail address the bot suggested ("Did you mean …?") and the customer has not
    /// confirmed yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_email: Option<String>,
    /// Where the conversation stood when the customer opted out; it resumes there when
    /// they opt back in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_before_opt_out: Option<Stage>,
}

/// The language the bot writes in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// English.
    #[default]
    En,
    /// Arabic (Modern Standard Arabic).
    Ar,
}

impl Language {
    /// The code as stored and shown (`en`, `ar`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ar => "ar",
        }
    }
}

/// Where a conversation is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The bot is collecting details.
    #[default]
    Qualifying,
    /// Every detail is known; staff prepare the quotation.
    Qualified,
    /// The customer asked for a person, or the bot could not understand them.
    HandedOff,
    /// The customer opted out: nothing of ours reaches them until they opt back in.
    OptedOut,
}

/// The questions and closing messages the bot sends; part of each reply's dedupe key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuestionKey {
    /// Which service the customer needs.
    AskService,
    /// Their full name.
    AskName,
    /// Their nationality.
    AskNationality,
    /// Their email, for the quotation.
    AskEmail,
    /// The best time to call them.
    AskBestTime,
    /// Every detail is known: thanks and what happens next.
    Closing,
    /// Staff take over.
    Handoff,
    /// The confirmation of an opt-out.
    OptOut,
    /// A short acknowledgement (or answer, or confirmed correction) after the closing.
    FollowUp,
}

impl QuestionKey {
    /// The questions of the qualification, in the order they are asked.
    pub const QUESTIONS: [QuestionKey; 5] =
        [Self::AskService, Self::AskName, Self::AskNationality, Self::AskEmail, Self::AskBestTime];

    /// The key as stored (`ASK_SERVICE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AskService => "ASK_SERVICE",
            Self::AskName => "ASK_NAME",
            Self::AskNationality => "ASK_NATIONALITY",
            Self::AskEmail => "ASK_EMAIL",
            Self::AskBestTime => "ASK_BEST_TIME",
            Self::Closing => "CLOSING",
            Self::Handoff => "HANDOFF",
            Self::OptOut => "OPT_OUT",
            Self::FollowUp => "FOLLOW_UP",
        }
    }
}

impl EngineState {
    /// Where the bot stands once staff hand the conversation back: at the next missing
    /// question (read from the customer's next message, as if just asked), or qualified
    /// when every detail is known. An opted-out conversation stays opted out.
    pub fn handed_back(&self, known: &KnownFields) -> Self {
        if self.stage == Stage::OptedOut {
            return self.clone();
        }
        let stage = if known.next_question().is_some() { Stage::Qualifying } else { Stage::Qualified };
        Self {
            asked: None,
            unclear_answers: 0,
            stage,
            closed_at: if stage == Stage::Qualified { self.closed_at } else { None },
            last_ack_at: None,
            suggested_email: None,
            ..self.clone()
        }
    }
}

impl KnownFields {
    /// Whether the field a question asks for is known.
    pub fn answers(&self, question: QuestionKey) -> bool {
        match question {
            QuestionKey::AskService => self.service.is_some(),
            QuestionKey::AskName => self.name.is_some(),
            QuestionKey::AskNationality => self.nationality.is_some(),
            QuestionKey::AskEmail => self.email.is_some() || self.email_declined,
            QuestionKey::AskBestTime => self.best_time_to_call.is_some(),
            QuestionKey::Closing | QuestionKey::Handoff | QuestionKey::OptOut | QuestionKey::FollowUp => true,
        }
    }

    /// The first question whose answer is still missing.
    pub fn next_question(&self) -> Option<QuestionKey> {
        QuestionKey::QUESTIONS.into_iter().find(|q| !self.answers(*q))
    }
}

/// The `outbound_message_log.dedupe_key` of the reply to one inbound message:
/// `{conversationId}:{inboundProviderMessageId}:{questionKey or 'reply'}`.
pub fn dedupe_key(
    conversation_id: i64,
    inbound_provider_message_id: &str,
    question: Option<QuestionKey>,
) -> String {
    let key = question.map_or("reply", QuestionKey::as_str);
    format!("{conversation_id}:{inbound_provider_message_id}:{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_use_the_documented_camel_case_keys() {
        let fields = KnownFields {
            best_time_to_call: Some("after 5pm".into()),
            first_greeting_sent_at: DateTime::from_timestamp(0, 0),
            ..KnownFields::default()
        };
        let json = serde_json::to_value(&fields).expect("serialise");
        assert_eq!(json["bestTimeToCall"], "after 5pm");
        assert!(json.get("firstGreetingSentAt").is_some());
        assert!(json.get("service").is_none(), "unknown fields are left out");
        let back: KnownFields = serde_json::from_value(json).expect("parse");
        assert_eq!(back, fields);
    }

    #[test]
    fn engine_state_stored_before_languages_and_opt_outs_still_parses() {
        let old: EngineState =
            serde_json::from_str(r#"{"asked":"ASK_NAME","unclearAnswers":1,"stage":"qualifying"}"#)
                .expect("parse");
        assert_eq!(old.asked, Some(QuestionKey::AskName));
        assert_eq!((old.language, old.turns, old.closed_at), (Language::En, 0, None));
        let new = EngineState { stage: Stage::OptedOut, language: Language::Ar, ..old };
        let json = serde_json::to_value(&new).expect("serialise");
        assert_eq!((json["stage"].as_str(), json["language"].as_str()), (Some("opted_out"), Some("ar")));
    }

    #[test]
    fn a_conversation_handed_back_resumes_at_the_next_missing_question() {
        let handed_off = EngineState {
            asked: Some(QuestionKey::AskNationality),
            unclear_answers: 3,
            stage: Stage::HandedOff,
            language: Language::Ar,
            ..EngineState::default()
        };
        let known = KnownFields { service: Some("Family visa".into()), ..KnownFields::default() };
        let back = handed_off.handed_back(&known);
        assert_eq!((back.stage, back.asked, back.unclear_answers), (Stage::Qualifying, None, 0));
        assert_eq!(back.language, Language::Ar, "the customer's language is kept");
        let complete = KnownFields {
            name: Some("Ahmed Khan".into()),
            nationality: Some("Pakistani".into()),
            email_declined: true,
            best_time_to_call: Some("after 5".into()),
            ..known
        };
        assert_eq!(handed_off.handed_back(&complete).stage, Stage::Qualified);
        let opted_out = EngineState { stage: Stage::OptedOut, ..EngineState::default() };
        assert_eq!(opted_out.handed_back(&complete), opted_out, "an opt-out stays final");
    }

    #[test]
    fn a_declined_email_answers_the_email_question() {
        let fields = KnownFields { email_declined: true, ..KnownFields::default() };
        assert!(fields.answers(QuestionKey::AskEmail));
        assert_eq!(serde_json::to_value(&fields).expect("serialise")["emailDeclined"], true);
    }

    #[test]
    fn questions_come_in_order_and_skip_what_is_known() {
        let mut fields = KnownFields::default();
        assert_eq!(fields.next_question(), Some(QuestionKey::AskService));
        fields.name = Some("Ahmed Khan".into());
        assert_eq!(fields.next_question(), Some(QuestionKey::AskService));
        fields.service = Some("Family visa".into());
        assert_eq!(fields.next_question(), Some(QuestionKey::AskNationality));
    }

    #[test]
    fn dedupe_key_names_conversation_message_and_question() {
        assert_eq!(dedupe_key(7, "wamid.A", Some(QuestionKey::AskName)), "7:wamid.A:ASK_NAME");
        assert_eq!(dedupe_key(7, "wamid.A", None), "7:wamid.A:reply");
    }
}
