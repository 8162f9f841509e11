//! A conversation kept in `fuzz/regressions/orchestrator_engine/` (see docs/FUZZING.md): a
//! customer answers the name question with one 4,101-letter word. Taken as the name, it made
//! the closing message ("Thank you, {first name}! …") longer than the 4,096 characters
//! WhatsApp accepts, so the customer never got it.

use chrono::{DateTime, Duration, Utc};
use domain::conversation::{ConversationState, QuestionKey};
use orchestrator_core::{BusinessProfile, Inbound, InboundKind, decide};

/// WhatsApp's limit on a text message body, in characters.
const MAX_REPLY_CHARS: usize = 4096;

#[test]
fn an_overlong_word_is_not_taken_as_a_name_and_every_reply_fits_whatsapp() {
    let data = include_bytes!("../../../fuzz/regressions/orchestrator_engine/overlong-name-in-closing.txt");
    let turns: Vec<String> =
        data.split(|b| *b == 0x1E).map(|turn| String::from_utf8_lossy(turn).into_owned()).collect();
    let start = DateTime::<Utc>::from_timestamp(1_790_000_000, 0).expect("valid");
    let mut state = ConversationState::default();
    let mut asked = Vec::new();
    for (i, text) in turns.iter().enumerate() {
        let decision = decide(
            &state,
            &[Inbound { kind: InboundKind::Text, text: Some(text) }],
            start + Duration::minutes(i as i64),
            &BusinessProfile::default(),
        );
        if let Some(reply) = decision.reply {
            let chars = reply.text.chars().count();
            assert!(chars <= MAX_REPLY_CHARS, "turn {i}: {chars} characters");
            asked.push(reply.question_key);
        }
        state = decision.state;
    }
    assert!(
        state.known.name.as_deref().is_none_or(|name| !name.contains("bbbb")),
        "a 4,101-letter word is not a name: {:?}",
        state.known.name.as_deref().map(|n| n.chars().count())
    );
    assert_eq!(asked[1], QuestionKey::AskName, "the name is asked for again instead");
}
