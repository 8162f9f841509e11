//! Turns decided late: after an outage, a backlog is answered with an apology, and a turn
//! too old for WhatsApp to deliver a reply goes to staff instead.

use chrono::{DateTime, Duration, Utc};
use domain::conversation::ConversationState;
use domain::text_policy::{GREETING, GREETING_AR};

use crate::decision::{Decision, Notice, NoticeKind};
use crate::texts;

/// A turn whose newest message is older than this is answered with an apology first.
pub const APOLOGY_AFTER: Duration = Duration::minutes(10);

/// WhatsApp's customer service window: no free-form reply reaches a customer whose last
/// message is older.
pub const SERVICE_WINDOW: Duration = Duration::hours(24);

/// `decision` for a turn whose newest message the customer sent at `sent_at`, decided at
/// `now` on the state `before`:
/// - newer than [`APOLOGY_AFTER`] (or of unknown age, or from a skewed clock): unchanged;
/// - older: the reply opens with an apology (after the greeting, which stays first);
/// - older than [`SERVICE_WINDOW`]: no reply (it could not be delivered) but a
///   `stale_inbound` notice for staff, and what the turn taught the bot is kept (except the
///   greeting, which did not go out).
pub fn apply(
    before: &ConversationState,
    mut decision: Decision,
    sent_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Decision {
    let Some(age) = sent_at.map(|at| now - at).filter(|age| *age > APOLOGY_AFTER) else {
        return decision;
    };
    let Some(reply) = decision.reply.as_mut() else { return decision };
    if age > SERVICE_WINDOW {
        decision.reply = None;
        decision.state.known.first_greeting_sent_at = before.known.first_greeting_sent_at;
        decision.notices.push(Notice {
            kind: NoticeKind::StaleInbound,
            title: "A customer waited more than 24 hours".to_owned(),
            body: format!(
                "Their message of {} was not answered in time; WhatsApp now accepts only an approved template.",
                sent_at.map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
            ),
            dedupe_suffix: decision.state.engine.turns.to_string(),
        });
        return decision;
    }
    let sorry = texts::of(decision.state.engine.language).sorry_for_the_delay;
    reply.text =
        match [GREETING, GREETING_AR].iter().find_map(|g| reply.text.strip_prefix(&format!("{g}\n\n"))) {
            Some(rest) => {
                let greeting = &reply.text[..reply.text.len() - rest.len()];
                format!("{greeting}{sorry} {rest}")
            }
            None => format!("{sorry} {}", reply.text),
        };
    decision
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use domain::conversation::{ConversationState, Language, QuestionKey};

    use super::*;
    use crate::decision::Reply;

    fn decision(text: &str, language: Language) -> Decision {
        let mut state = ConversationState::default();
        state.engine.language = language;
        state.known.first_greeting_sent_at = Some(Utc::now());
        Decision {
            state,
            reply: Some(Reply { question_key: QuestionKey::AskName, text: text.to_owned() }),
            notices: Vec::new(),
            contact: None,
        }
    }

    #[test]
    fn a_fresh_turn_is_left_alone() {
        let now = Utc::now();
        let d = decision("May I know your full name, please?", Language::En);
        let same = apply(&ConversationState::default(), d.clone(), Some(now - Duration::minutes(9)), now);
        assert_eq!(same, d);
        let skewed = apply(&ConversationState::default(), d.clone(), Some(now + Duration::hours(3)), now);
        assert_eq!(skewed, d, "a timestamp from the future is not a delay");
        assert_eq!(apply(&ConversationState::default(), d.clone(), None, now), d);
    }

    #[test]
    fn a_late_turn_apologises_after_the_greeting() {
        let now = Utc::now();
        let late = Some(now - Duration::minutes(45));
        let plain = apply(
            &ConversationState::default(),
            decision("May I know your full name, please?", Language::En),
            late,
            now,
        );
        assert_eq!(
            plain.reply.map(|r| r.text).as_deref(),
            Some("Sorry for the late reply. May I know your full name, please?")
        );
        let greeted = decision(&format!("{GREETING}\n\nHow can I help you today?"), Language::En);
        let text = apply(&ConversationState::default(), greeted, late, now).reply.map(|r| r.text);
        assert_eq!(text, Some(format!("{GREETING}\n\nSorry for the late reply. How can I help you today?")));
        let arabic = apply(&ConversationState::default(), decision("ما هي جنسيتك؟", Language::Ar), late, now);
        assert_eq!(arabic.reply.map(|r| r.text).as_deref(), Some("نعتذر عن التأخر في الرد. ما هي جنسيتك؟"));
    }

    #[test]
    fn a_turn_past_the_window_goes_to_staff() {
        let now = Utc::now();
        let stale = apply(
            &ConversationState::default(),
            decision("What is your nationality?", Language::En),
            Some(now - Duration::hours(30)),
            now,
        );
        assert_eq!(stale.reply, None, "it could not be delivered");
        assert_eq!(stale.notices.iter().map(|n| n.kind).collect::<Vec<_>>(), [NoticeKind::StaleInbound]);
        assert_eq!(stale.state.known.first_greeting_sent_at, None, "no greeting went out");
    }
}
