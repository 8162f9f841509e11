//! Re-running a stored conversation through the engine and comparing each decision with
//! the reply that was stored, to explain or check what the bot did.

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
    /// When it arrived (the engine's clock for this turn).
    pub received_at: DateTime<Utc>,
    /// The bodies of the replies stored for it.
    pub stored_replies: Vec<&'a str>,
}

/// The engine's decision for a stored turn, and whether it matches what was stored.
#[derive(Debug, Clone)]
pub struct ReplayedTurn {
    /// What the engine decides now.
    pub decision: Decision,
    /// Whether that is exactly what was stored (the same text, or no reply and none stored).
    pub matches: bool,
}

/// Replays `turns` in order from a new conversation, each message its own turn.
pub fn replay(turns: &[StoredTurn<'_>], profile: &BusinessProfile) -> Vec<ReplayedTurn> {
    let mut state = ConversationState::default();
    turns
        .iter()
        .map(|turn| {
            let kind = InboundKind::from(&MessageType::from(turn.message_type.to_owned()));
            let decision = decide(&state, &[Inbound { kind, text: turn.text }], turn.received_at, profile);
            let matches = match (&decision.reply, turn.stored_replies.as_slice()) {
                (None, []) => true,
                (Some(reply), [stored]) => reply.text == *stored,
                _ => false,
            };
            state = decision.state.clone();
            ReplayedTurn { decision, matches }
        })
        .collect()
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
}
