//! Re-running a stored conversation through the engine, turn by turn, and comparing each
//! decision with the reply that was stored, to explain or check what the bot did.

use std::ops::Range;

use chrono::{DateTime, Utc};
use domain::conversation::ConversationState;
use domain::webhook::MessageType;

use crate::{BusinessProfile, Decision, Inbound, InboundKind, decide};

/// One stored inbound message and the replies stored for it.
#[derive(Debug, Clone)]
pub struct StoredTurn<'a> {
    /// Meta's `type`.
    pub message_type: &'a str,
    /// What the customer typed or chose.
    pub text: Option<&'a str>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The bodies of the replies stored for it.
    pub stored_replies: Vec<&'a str>,
}

/// The engine's decision for one turn of stored messages, and whether it matches what was
/// stored.
#[derive(Debug, Clone)]
pub struct ReplayedTurn {
    /// The turn's messages: indices into the replayed messages.
    pub messages: Range<usize>,
    /// What the engine decides now.
    pub decision: Decision,
    /// Whether that is exactly what was stored (the same text, or no reply and none stored).
    pub matches: bool,
}

/// Replays stored `messages` in order from a new conversation, turn by turn. A reply answers
/// its turn's newest message, so a turn is the run of messages up to and including one that
/// has a stored reply (the messages after the last reply are one more turn); its clock is
/// its newest message's arrival.
pub fn replay(messages: &[StoredTurn<'_>], profile: &BusinessProfile) -> Vec<ReplayedTurn> {
    let mut state = ConversationState::default();
    let mut turns = Vec::new();
    let mut start = 0;
    for (i, message) in messages.iter().enumerate() {
        if message.stored_replies.is_empty() && i + 1 < messages.len() {
            continue;
        }
        let turn = &messages[start..=i];
        let inbound: Vec<Inbound<'_>> = turn
            .iter()
            .map(|m| Inbound {
                kind: InboundKind::from(&MessageType::from(m.message_type.to_owned())),
                text: m.text,
            })
            .collect();
        let decision = decide(&state, &inbound, message.received_at, profile);
        let matches = match (&decision.reply, message.stored_replies.as_slice()) {
            (None, []) => true,
            (Some(reply), [stored]) => reply.text == *stored,
            _ => false,
        };
        state = decision.state.clone();
        turns.push(ReplayedTurn { messages: start..i + 1, decision, matches });
        start = i + 1;
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn<'a>(text: &'a str, stored: &[&'a str]) -> StoredTurn<'a> {
        StoredTurn {
            message_type: "text",
            text: Some(text),
            received_at: Utc::now(),
            stored_replies: stored.to_vec(),
        }
    }

    #[test]
    fn matching_and_differing_turns_are_told_apart() {
        let first = domain::text_policy::with_greeting(crate::texts::ASK_SERVICE);
        let replayed = replay(
            &[turn("hello", &[&first]), turn("I need a golden visa", &["something else"]), turn("Sara", &[])],
            &BusinessProfile::default(),
        );
        assert_eq!(replayed.iter().map(|t| t.matches).collect::<Vec<_>>(), [true, false, false]);
    }

    #[test]
    fn fragments_before_a_reply_are_one_turn() {
        let first = domain::text_policy::with_greeting(crate::texts::ASK_NAME);
        let replayed = replay(
            &[turn("hi", &[]), turn("i need", &[]), turn("a family visa", &[&first]), turn("Ahmed", &[])],
            &BusinessProfile::default(),
        );
        assert_eq!(replayed.iter().map(|t| t.messages.clone()).collect::<Vec<_>>(), [0..3, 3..4]);
        assert!(replayed[0].matches, "the three fragments get the one stored reply");
        assert_eq!(replayed[0].decision.state.known.service.as_deref(), Some("Family visa"));
    }
}
