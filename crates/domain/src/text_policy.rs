//! The rules every outbound text obeys: the greeting goes out once, and no list of
//! services ever leaves the system.

use std::sync::LazyLock;

use regex::Regex;

/// Prefix of the first outbound message of a conversation, followed by a blank line.
pub const GREETING: &str = "Hi 👋 I'm ABCai from Al Ain Business Center.";

/// The greeting for a customer who writes Arabic.
pub const GREETING_AR: &str = "مرحباً 👋 أنا ABCai من مركز العين للأعمال.";

/// What the sanitizer falls back to when nothing is left of a text.
pub const FALLBACK: &str = "How can I help you today?";

/// `text` with the greeting in front.
pub fn with_greeting(text: &str) -> String {
    format!("{GREETING}\n\n{text}")
}

/// `text` with the Arabic greeting in front.
pub fn with_arabic_greeting(text: &str) -> String {
    format!("{GREETING_AR}\n\n{text}")
}

/// Whether `text` opens with the greeting, in either language.
pub fn starts_with_greeting(text: &str) -> bool {
    text.starts_with(GREETING) || text.starts_with(GREETING_AR)
}

/// How many times `text` carries the greeting, in either language.
pub fn greeting_count(text: &str) -> usize {
    text.matches(GREETING).count() + text.matches(GREETING_AR).count()
}

/// A parenthesised group naming a service: `(Family Visa, Work Permit, ...)`.
static SERVICE_GROUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*\([^()]*(?:visa|permit|setup|services)[^()]*\)")
        .unwrap_or_else(|e| unreachable!("valid regex: {e}"))
});

/// Two service words joined by a slash: `visa/permit`.
static SLASHED_SERVICES: LazyLock<Regex> = LazyLock::new(|| {
    let word = r"(?:visas?|permits?|setup|services?|licen[cs]es?|attestation|renewal|emirates id)";
    Regex::new(&format!(r"(?i)\b{word}\s*/\s*{word}\b")).unwrap_or_else(|e| unreachable!("valid regex: {e}"))
});

/// Whether `text` contains something that reads as a list of services.
pub fn contains_service_list(text: &str) -> bool {
    SERVICE_GROUP.is_match(text) || SLASHED_SERVICES.is_match(text)
}

/// The result of [`sanitize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    /// The text to send.
    pub text: String,
    /// Whether anything was removed.
    pub blocked: bool,
}

/// The last line of defence before a send: removes every parenthesised group that names
/// a service (Visa, Permit, Setup, Services; any case), trims, and falls back to
/// [`FALLBACK`] when nothing is left.
pub fn sanitize(text: &str) -> Sanitized {
    let cleaned = SERVICE_GROUP.replace_all(text, "");
    let blocked = cleaned.len() != text.len();
    let trimmed = cleaned.trim();
    let text = if trimmed.is_empty() { FALLBACK.to_owned() } else { trimmed.to_owned() };
    Sanitized { text, blocked }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_lists_are_removed_and_the_rest_kept() {
        let s = sanitize("How can I help you today? (Family Visa, Work Permit, Business Setup)");
        assert_eq!(s, Sanitized { text: "How can I help you today?".into(), blocked: true });
        let s = sanitize("We offer (golden VISA / PRO services) and more");
        assert_eq!(s.text, "We offer and more");
        assert!(s.blocked);
    }

    #[test]
    fn nothing_left_falls_back_to_the_service_question() {
        assert_eq!(sanitize("(visa, permit)").text, FALLBACK);
        assert_eq!(sanitize("   ").text, FALLBACK);
    }

    #[test]
    fn innocent_text_passes_untouched() {
        let text = "May I know your full name, please? (as on your passport)";
        assert_eq!(sanitize(text), Sanitized { text: text.into(), blocked: false });
        assert!(!contains_service_list(text));
    }

    #[test]
    fn slashed_service_words_count_as_a_list() {
        assert!(contains_service_list("visa/permit"));
        assert!(contains_service_list("Trade licence / renewal"));
        assert!(!contains_service_list("24/7 support"));
    }

    #[test]
    fn greeting_prefixes_with_a_blank_line() {
        assert_eq!(
            with_greeting("How can I help you today?"),
            "Hi 👋 I'm ABCai from Al Ain Business Center.\n\nHow can I help you today?"
        );
    }
}
