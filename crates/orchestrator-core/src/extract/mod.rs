//! Reading lead details out of what customers write.

mod countries;
mod normalize;
mod people;
mod services;

use std::sync::LazyLock;

use domain::conversation::QuestionKey;
use regex::Regex;

pub(crate) use people::wants_human;

/// Details found in one message.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Extracted {
    pub(crate) service: Option<&'static str>,
    pub(crate) name: Option<String>,
    pub(crate) nationality: Option<&'static str>,
    pub(crate) email: Option<String>,
    pub(crate) best_time_to_call: Option<String>,
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .unwrap_or_else(|e| unreachable!("valid regex: {e}"))
});

/// Longest best-time answer kept.
const MAX_TIME_CHARS: usize = 120;

/// Everything `text` says, read in the light of the question just asked (a bare name only
/// counts as a name after the name question, any text as a time after the time question).
pub(crate) fn extract(text: &str, asked: Option<QuestionKey>) -> Extracted {
    let normalized = normalize::Normalized::new(text);
    let email = EMAIL.find(text).map(|m| m.as_str().to_lowercase());
    let best_time_to_call = (asked == Some(QuestionKey::AskBestTime) && email.is_none())
        .then(|| text.trim())
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .map(|t| t.chars().take(MAX_TIME_CHARS).collect());
    Extracted {
        service: services::service(&normalized),
        name: people::name(text, asked == Some(QuestionKey::AskName)),
        nationality: people::nationality(text, asked == Some(QuestionKey::AskNationality)),
        email,
        best_time_to_call,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_can_fill_several_fields() {
        let found = extract("Hi, I'm Ahmed from Pakistan and I need a family visa", None);
        assert_eq!(found.service, Some("Family visa"));
        assert_eq!(found.name.as_deref(), Some("Ahmed"));
        assert_eq!(found.nationality, Some("Pakistani"));
        assert_eq!(found.email, None);
    }

    #[test]
    fn email_anywhere_and_time_only_when_asked() {
        let found = extract("sure, it's Ahmed.Khan+visa@Example.co.uk thanks", Some(QuestionKey::AskEmail));
        assert_eq!(found.email.as_deref(), Some("ahmed.khan+visa@example.co.uk"));
        assert_eq!(extract("tomorrow after 5pm", None).best_time_to_call, None);
        let time = extract("tomorrow after 5pm", Some(QuestionKey::AskBestTime)).best_time_to_call;
        assert_eq!(time.as_deref(), Some("tomorrow after 5pm"));
        assert_eq!(extract("???", Some(QuestionKey::AskBestTime)).best_time_to_call, None);
    }
}
