//! What goes into the engine (a turn of inbound messages) and what comes out of it (the
//! new state, at most one reply, notices for staff, a change to the contact).

use domain::conversation::{ConversationState, QuestionKey};
use domain::webhook::MessageType;

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

impl From<&MessageType> for InboundKind {
    fn from(message_type: &MessageType) -> Self {
        match message_type {
            MessageType::Text | MessageType::Button | MessageType::Interactive => Self::Text,
            MessageType::Image
            | MessageType::Video
            | MessageType::Document
            | MessageType::Audio
            | MessageType::Sticker => Self::Media,
            MessageType::RequestWelcome => Self::Welcome,
            MessageType::Reaction | MessageType::System | MessageType::Edit | MessageType::Revoke => {
                Self::Ignored
            }
            MessageType::Location
            | MessageType::Contacts
            | MessageType::Order
            | MessageType::Unsupported
            | MessageType::Other(_)
            | MessageType::Missing => Self::Unreadable,
        }
    }
}

/// One inbound message of a turn.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// Its kind.
    pub kind: InboundKind,
    /// What the customer typed or chose (or a media caption), if anything.
    pub text: Option<&'a str>,
}

impl<'a> Inbound<'a> {
    /// A text message.
    pub fn text(text: &'a str) -> Self {
        Self { kind: InboundKind::Text, text: Some(text) }
    }
}

/// The engine's answer to one turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The conversation's state after the turn.
    pub state: ConversationState,
    /// The one reply to send for the turn, if any.
    pub reply: Option<Reply>,
    /// What staff must know, in the order it happened.
    pub notices: Vec<Notice>,
    /// A change the pipeline applies to the contact row.
    pub contact: Option<ContactChange>,
}

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The question (or closing, handoff, opt-out, follow-up) it carries; part of its
    /// dedupe key.
    pub question_key: QuestionKey,
    /// The exact text, greeting included when it is the conversation's first reply.
    pub text: String,
}

/// A notification for staff.
///
/// The pipeline builds the notification's dedupe key as
/// `{kind}:{conversationId}:{dedupe_suffix}`: the suffix is the number of the turn that
/// raised it (`EngineState::turns`), so a retried job raises the same key again while two
/// follow-ups (or two opt-outs) in different turns stay apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What happened.
    pub kind: NoticeKind,
    /// Short title.
    pub title: String,
    /// Details: the lead's fields, and for a follow-up what the customer wrote.
    pub body: String,
    /// Tells apart notices of one kind in one conversation (see the type's docs).
    pub dedupe_suffix: String,
}

/// The notifications the engine raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Every detail is known.
    LeadQualified,
    /// The customer asked for a person, or the bot could not understand them.
    HumanRequested,
    /// The customer opted out.
    OptedOut,
    /// The customer wrote after the closing or the handoff; the body carries what they
    /// wrote.
    CustomerFollowup,
    /// The customer's messages were answered too late for WhatsApp to deliver a reply (past
    /// the 24-hour window): staff must reach them with a template.
    StaleInbound,
}

impl NoticeKind {
    /// The `notification.kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeadQualified => "lead_qualified",
            Self::HumanRequested => "human_requested",
            Self::OptedOut => "opted_out",
            Self::CustomerFollowup => "customer_followup",
            Self::StaleInbound => "stale_inbound",
        }
    }
}

/// A change to the contact that the pipeline applies with the turn's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactChange {
    /// Set `contact.opted_out_at` to the turn's time: nothing more may be sent to them.
    OptedOut,
    /// Clear `contact.opted_out_at`: the customer opted back in.
    OptedIn,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_type_has_a_kind() {
        let cases = [
            (MessageType::Text, InboundKind::Text),
            (MessageType::Button, InboundKind::Text),
            (MessageType::Interactive, InboundKind::Text),
            (MessageType::Image, InboundKind::Media),
            (MessageType::Audio, InboundKind::Media),
            (MessageType::Video, InboundKind::Media),
            (MessageType::Document, InboundKind::Media),
            (MessageType::Sticker, InboundKind::Media),
            (MessageType::Location, InboundKind::Unreadable),
            (MessageType::Contacts, InboundKind::Unreadable),
            (MessageType::Order, InboundKind::Unreadable),
            (MessageType::Unsupported, InboundKind::Unreadable),
            (MessageType::Other("hologram".into()), InboundKind::Unreadable),
            (MessageType::Missing, InboundKind::Unreadable),
            (MessageType::Reaction, InboundKind::Ignored),
            (MessageType::System, InboundKind::Ignored),
            (MessageType::Edit, InboundKind::Ignored),
            (MessageType::Revoke, InboundKind::Ignored),
            (MessageType::RequestWelcome, InboundKind::Welcome),
        ];
        for (message_type, kind) in cases {
            assert_eq!(InboundKind::from(&message_type), kind, "{message_type:?}");
        }
        assert_eq!(InboundKind::from(&MessageType::from("voice".to_owned())), InboundKind::Unreadable);
    }
}
