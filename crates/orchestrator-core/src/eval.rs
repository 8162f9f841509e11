//! Scoring the engine on a labelled corpus of conversations (the format is described in
//! `eval/README.md`): the share of conversations handled fully right, the accuracy of each
//! field, and every failure with what was expected and what the engine did. Pure: the
//! caller reads the files and passes their text.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use domain::conversation::{ConversationState, Language, QuestionKey, Stage};
use serde::Deserialize;

use crate::{ANY_TIME, BusinessProfile, Inbound, InboundKind, NO_CALLS, decide};

/// One labelled conversation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    /// Unique across the corpus.
    pub id: String,
    /// Free words describing it.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The customer's messages, oldest first, each its own turn.
    pub messages: Vec<String>,
    /// What the engine must end with.
    pub expect: Expect,
}

/// What a conversation must end with. A field left out must be unknown.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The canonical service, or "Other: …" (compared by the prefix "Other:").
    pub service: Option<String>,
    /// The name, exactly.
    pub name: Option<String>,
    /// The canonical demonym.
    pub nationality: Option<String>,
    /// The address, or "none" for a customer without one.
    pub email: Option<String>,
    /// A part of the stored best time, "any" for any time, "whatsapp" for no calls.
    pub best_time: Option<String>,
    /// qualified, handed_off, opted_out or in_progress.
    pub outcome: String,
    /// The language of the last reply: en or ar.
    pub language: String,
    /// The question key of the last reply, when given.
    pub last_question: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    conversation: Vec<Conversation>,
}

/// Why a corpus file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {source}")]
pub struct CorpusError {
    file: String,
    source: toml::de::Error,
}

/// The conversations of one corpus file (`name` is used in errors).
pub fn parse(name: &str, text: &str) -> Result<Vec<Conversation>, CorpusError> {
    toml::from_str::<File>(text)
        .map(|f| f.conversation)
        .map_err(|source| CorpusError { file: name.to_owned(), source })
}

/// What the engine ended a conversation with.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The final state.
    pub state: ConversationState,
    /// The language and question key of the last reply, if any was sent.
    pub last_reply: Option<(Language, QuestionKey)>,
}

/// When every evaluated conversation starts.
pub fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
}

/// Runs a conversation's messages through the engine, one turn each, a minute apart
/// (or as `<wait …>` says); `<image>`, `<location>`, `<reaction>`, ... stand for those
/// message types.
pub fn run(conversation: &Conversation, profile: &BusinessProfile) -> Outcome {
    let mut state = ConversationState::default();
    let mut now = start();
    let mut last_reply = None;
    for message in &conversation.messages {
        let trimmed = message.trim();
        if let Some(wait) = trimmed.strip_prefix("<wait ").and_then(|w| w.strip_suffix('>')) {
            now += parse_wait(wait);
            continue;
        }
        now += Duration::minutes(1);
        let inbound = match trimmed {
            "<image>" | "<audio>" | "<video>" | "<document>" | "<sticker>" => {
                Inbound { kind: InboundKind::Media, text: None }
            }
            "<location>" | "<contacts>" => Inbound { kind: InboundKind::Unreadable, text: None },
            "<reaction>" => Inbound { kind: InboundKind::Ignored, text: None },
            _ => Inbound::text(message),
        };
        let decision = decide(&state, &[inbound], now, profile);
        if let Some(reply) = &decision.reply {
            last_reply = Some((decision.state.engine.language, reply.question_key));
        }
        state = decision.state;
    }
    Outcome { state, last_reply }
}

fn parse_wait(wait: &str) -> Duration {
    let (number, unit) = wait.split_at(wait.trim_end_matches(char::is_alphabetic).len());
    let n: i64 = number.trim().parse().unwrap_or(0);
    match unit {
        "d" => Duration::days(n),
        "h" => Duration::hours(n),
        "s" => Duration::seconds(n),
        _ => Duration::minutes(n),
    }
}

/// The fields scored, in the order reported.
pub const FIELDS: [&str; 8] =
    ["service", "name", "nationality", "email", "best_time", "outcome", "language", "last_question"];

/// One field of one conversation that did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The field (one of [`FIELDS`]).
    pub field: &'static str,
    /// What the corpus expects ("-" for unknown).
    pub expected: String,
    /// What the engine ended with ("-" for unknown).
    pub got: String,
}

/// The mismatches of one conversation.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The conversation's id.
    pub id: String,
    /// Its messages.
    pub messages: Vec<String>,
    /// What did not match.
    pub mismatches: Vec<Mismatch>,
}

/// The corpus' score.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Conversations scored.
    pub conversations: usize,
    /// Conversations handled fully right.
    pub fully_right: usize,
    /// Per field of [`FIELDS`]: how many conversations got it right, and how many scored it.
    pub fields: Vec<(&'static str, usize, usize)>,
    /// Every conversation not fully right.
    pub failures: Vec<Failure>,
}

impl Report {
    /// The share of conversations handled fully right (1.0 for an empty corpus).
    pub fn full_share(&self) -> f64 {
        share(self.fully_right, self.conversations)
    }

    /// The lowest accuracy among the lead's fields (service, name, nationality, email,
    /// best time), and that field.
    pub fn weakest_field(&self) -> (&'static str, f64) {
        self.fields
            .iter()
            .take(5)
            .map(|(f, right, total)| (*f, share(*right, *total)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or(("none", 1.0))
    }
}

fn share(part: usize, total: usize) -> f64 {
    if total == 0 { 1.0 } else { part as f64 / total as f64 }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            writeln!(f, "✗ {}: {:?}", failure.id, failure.messages)?;
            for m in &failure.mismatches {
                writeln!(f, "    {}: expected {:?}, got {:?}", m.field, m.expected, m.got)?;
            }
        }
        writeln!(
            f,
            "fully right: {}/{} ({:.1} %)",
            self.fully_right,
            self.conversations,
            100.0 * self.full_share()
        )?;
        for (field, right, total) in &self.fields {
            writeln!(f, "  {field:<14} {right}/{total} ({:.1} %)", 100.0 * share(*right, *total))?;
        }
        Ok(())
    }
}

/// Scores every conversation.
pub fn score(conversations: &[Conversation], profile: &BusinessProfile) -> Report {
    let mut report = Report {
        conversations: conversations.len(),
        fields: FIELDS.iter().map(|f| (*f, 0, 0)).collect(),
        ..Report::default()
    };
    for conversation in conversations {
        let outcome = run(conversation, profile);
        let checks = checks(&conversation.expect, &outcome);
        let mut mismatches = Vec::new();
        for (field, right, total) in report.fields.iter_mut() {
            let Some(check) = checks.iter().find(|c| c.0 == *field) else { continue };
            *total += 1;
            if check.1 {
                *right += 1;
            } else {
                mismatches.push(Mismatch { field, expected: check.2.clone(), got: check.3.clone() });
            }
        }
        if mismatches.is_empty() {
            report.fully_right += 1;
        } else {
            report.failures.push(Failure {
                id: conversation.id.clone(),
                messages: conversation.messages.clone(),
                mismatches,
            });
        }
    }
    report
}

/// Per field: whether it matches, what was expected, what the engine has.
fn checks(expect: &Expect, outcome: &Outcome) -> Vec<(&'static str, bool, String, String)> {
    let known = &outcome.state.known;
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let service = match (&expect.service, &known.service) {
        (Some(e), Some(g)) if e.starts_with("Other:") => g.starts_with("Other:"),
        (e, g) => e == g,
    };
    let email_got = known.email.clone().or_else(|| known.email_declined.then(|| "none".to_owned()));
    let time = match (expect.best_time.as_deref(), known.best_time_to_call.as_deref()) {
        (None, None) => true,
        (Some("any"), Some(g)) => g == ANY_TIME,
        (Some("whatsapp"), Some(g)) => g == NO_CALLS,
        (Some(e), Some(g)) => g.to_lowercase().contains(&e.to_lowercase()),
        _ => false,
    };
    let stage = match outcome.state.engine.stage {
        Stage::Qualifying => "in_progress",
        Stage::Qualified => "qualified",
        Stage::HandedOff => "handed_off",
        Stage::OptedOut => "opted_out",
    };
    let language = outcome.last_reply.map_or(outcome.state.engine.language, |(l, _)| l).as_str();
    let mut checks = vec![
        ("service", service, show(&expect.service), show(&known.service)),
        ("name", expect.name == known.name, show(&expect.name), show(&known.name)),
        (
            "nationality",
            expect.nationality == known.nationality,
            show(&expect.nationality),
            show(&known.nationality),
        ),
        ("email", expect.email == email_got, show(&expect.email), show(&email_got)),
        ("best_time", time, show(&expect.best_time), show(&known.best_time_to_call)),
        ("outcome", expect.outcome == stage, expect.outcome.clone(), stage.to_owned()),
        ("language", expect.language == language, expect.language.clone(), language.to_owned()),
    ];
    if let Some(last) = &expect.last_question {
        let got = outcome.last_reply.map_or("-", |(_, k)| k.as_str());
        checks.push(("last_question", last == got, last.clone(), got.to_owned()));
    }
    checks
}
