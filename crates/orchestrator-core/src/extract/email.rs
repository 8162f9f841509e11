//! E-mail addresses: joined when the customer spaced them out, confirmed when a space or a
//! common domain typo makes them doubtful, refused when they are placeholders, and "no
//! e-mail" understood.

use std::sync::LazyLock;

use regex::Regex;

use super::normalize::{Normalized, fold_digits};

/// What the customer said about their e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EmailFound {
    /// A plausible address, lower case.
    Address(String),
    /// A doubtful address and the one the customer probably meant, to confirm.
    Suggest(String),
    /// A sample address (test@test.com, anything at example.com).
    Placeholder,
    /// The customer has no e-mail address.
    Declined,
}

/// Longest address kept (RFC 5321's limit).
const MAX_EMAIL_CHARS: usize = 254;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("valid regex {pattern}: {e}"))
}

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"));
static SPACED_AT: LazyLock<Regex> = LazyLock::new(|| regex(r"([A-Za-z0-9._%+-])\s*[@＠]\s*([A-Za-z0-9])"));
static SPACED_DOT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(@[A-Za-z0-9-]+)\s*\.?\s+\.?\s*(com|net|org|ae|co\.uk|co|in|pk|ph|uk|edu|gov|info|me)\b")
});
static DOT_SPACE: LazyLock<Regex> = LazyLock::new(|| regex(r"(@[A-Za-z0-9-]+)\s*\.\s*([A-Za-z]{2,})\b"));
static LOCAL_WORD: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-z0-9._-]+$"));

/// Words that may stand right before an address without being part of it.
const BEFORE_ADDRESS: &[&str] = &[
    "email",
    "e-mail",
    "mail",
    "is",
    "my",
    "at",
    "id",
    "address",
    "its",
    "it's",
    "here",
    "and",
    "sorry",
    "typo",
    "actually",
    "correct",
    "correction",
    "the",
    "to",
    "send",
    "use",
    "me",
    "meant",
    "mean",
    "new",
    "ok",
    "okay",
    "yes",
    "sure",
    "it",
    "please",
    "pls",
    "gmail",
    "emails",
    "email:",
    "mail:",
    "hai",
    "ye",
    "yeh",
    "و",
    "هو",
    "ايميلي",
    "بريدي",
    "الايميل",
    "ايميل",
    "عنوان",
    "البريد",
    "no",
    "not",
    "but",
];

/// Popular providers, and the real domains that look like typos of them.
const POPULAR: &[&str] = &["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com"];
const REAL: &[&str] = &[
    "mail.com",
    "email.com",
    "ymail.com",
    "gmx.com",
    "live.com",
    "me.com",
    "mac.com",
    "aol.com",
    "msn.com",
    "yahoo.co.uk",
    "yahoo.co.in",
    "yahoo.in",
    "hotmail.co.uk",
    "hotmail.fr",
    "outlook.sa",
    "rocketmail.com",
];

/// What `text` says about the customer's e-mail. "No e-mail" on its own ("no", "none")
/// only counts when the e-mail was just asked (`asked`).
pub(crate) fn email(text: &str, asked: bool) -> Option<EmailFound> {
    let folded = fold_digits(text);
    let joined = SPACED_AT.replace_all(&folded, "$1@$2");
    let joined = SPACED_DOT.replace_all(&joined, "$1.$2");
    let joined = DOT_SPACE.replace_all(&joined, "$1.$2");
    let Some(found) = EMAIL.find(&joined) else {
        return declined(text, asked).then_some(EmailFound::Declined);
    };
    let address: String = found.as_str().to_lowercase().chars().take(MAX_EMAIL_CHARS).collect();
    let address = address.trim_end_matches('.').to_owned();
    let (local, domain) = address.split_once('@').unwrap_or((&address, ""));
    if is_placeholder(local, domain) {
        return Some(EmailFound::Placeholder);
    }
    let before = joined[..found.start()].trim_end_matches(' ');
    let glued_word = (found.start() > 0 && joined[..found.start()].ends_with(' '))
        .then(|| before.rsplit(' ').next().unwrap_or(""))
        .filter(|w| LOCAL_WORD.is_match(w) && !BEFORE_ADDRESS.contains(w));
    let domain = corrected_domain(domain).unwrap_or_else(|| domain.to_owned());
    let suggestion = match glued_word {
        Some(word) => Some(format!("{word}{local}@{domain}")),
        None if !address.ends_with(&format!("@{domain}")) => Some(format!("{local}@{domain}")),
        None => None,
    };
    Some(match suggestion {
        Some(suggested) => EmailFound::Suggest(suggested),
        None => EmailFound::Address(address),
    })
}

fn is_placeholder(local: &str, domain: &str) -> bool {
    let host = domain.split('.').next().unwrap_or("");
    domain.starts_with("example.")
        || domain.ends_with(".example")
        || ["test.com", "domain.com", "xyz.com", "abc.com", "xxx.com", "sample.com", "email.email"]
            .contains(&domain)
        || (local == host && local.len() <= 5)
        || [
            "test",
            "example",
            "sample",
            "none",
            "noemail",
            "no",
            "na",
            "xxx",
            "abc",
            "asdf",
            "your.email",
            "youremail",
            "name",
        ]
        .contains(&local)
}

/// The popular domain `domain` is a typo of, if it is one.
fn corrected_domain(domain: &str) -> Option<String> {
    if POPULAR.contains(&domain) || REAL.contains(&domain) {
        return None;
    }
    let limit = if domain.len() <= 9 { 1 } else { 2 };
    POPULAR
        .iter()
        .map(|p| (strsim::osa_distance(domain, p), *p))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, p)| p.to_owned())
}

/// Whether the customer says they have no e-mail address.
fn declined(text: &str, asked: bool) -> bool {
    const PHRASES: &[&str] = &[
        "no email",
        "no e mail",
        "no mail",
        "no gmail",
        "dont have email",
        "don't have email",
        "dont have an email",
        "don't have an email",
        "do not have email",
        "do not have an email",
        "i have no email",
        "i don't have any email",
        "i dont have any email",
        "don't have e mail",
        "without email",
        "no email address",
        "email nahi",
        "email nhi",
        "email nahi hai",
        "ما عندي ايميل",
        "ماعندي ايميل",
        "ما عندي بريد",
        "ليس لدي بريد",
        "ليس لدي ايميل",
        "لا يوجد ايميل",
        "لا يوجد بريد",
        "لا املك بريد",
        "لا املك ايميل",
        "ما عندي إيميل",
        "no email id",
        "whatsapp only email",
        "wala po akong email",
        "wala akong email",
        "walang email",
        "wala email",
        "koi email nahi",
    ];
    const BARE: &[&str] = &[
        "no",
        "none",
        "nope",
        "nothing",
        "na",
        "n a",
        "not available",
        "i don't have",
        "i dont have",
        "don't have",
        "dont have",
        "dont have one",
        "don't have one",
        "i don't have one",
        "no i don't",
        "لا",
        "لا يوجد",
        "ما عندي",
        "ماعندي",
        "مافي",
        "ما في",
        "ليس لدي",
        "nahi",
        "nahi hai",
        "wala",
        "no sorry",
        "sorry no",
    ];
    let normalized = Normalized::new(text);
    PHRASES.iter().any(|p| normalized.contains_phrase(p))
        || (asked && BARE.iter().any(|p| normalized.is_exactly(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Option<EmailFound> {
        email(text, true)
    }

    #[test]
    fn plain_and_spaced_addresses() {
        assert_eq!(
            of("sure, it's Ahmed.Khan+visa@Gmail.com thanks"),
            Some(EmailFound::Address("ahmed.khan+visa@gmail.com".into()))
        );
        assert_eq!(of("ahmed @ gmail .com"), Some(EmailFound::Address("ahmed@gmail.com".into())));
        assert_eq!(of("ahmed@gmail . com"), Some(EmailFound::Address("ahmed@gmail.com".into())));
        assert_eq!(
            of("sorry typo, john.smith@gmail.com"),
            Some(EmailFound::Address("john.smith@gmail.com".into()))
        );
        assert_eq!(of("my email is sara@company.ae."), Some(EmailFound::Address("sara@company.ae".into())));
    }

    #[test]
    fn doubtful_addresses_are_confirmed() {
        assert_eq!(of("ravi kumar@gmail.com"), Some(EmailFound::Suggest("ravikumar@gmail.com".into())));
        for (typo, meant) in [
            ("ali@gmial.com", "ali@gmail.com"),
            ("ali@gmail.con", "ali@gmail.com"),
            ("ali@hotmial.com", "ali@hotmail.com"),
            ("ali@yaho.com", "ali@yahoo.com"),
        ] {
            assert_eq!(of(typo), Some(EmailFound::Suggest(meant.into())), "{typo}");
        }
        assert_eq!(of("ali@ymail.com"), Some(EmailFound::Address("ali@ymail.com".into())));
    }

    #[test]
    fn placeholders_and_no_email() {
        assert_eq!(of("test@test.com"), Some(EmailFound::Placeholder));
        assert_eq!(of("ahmed@example.com"), Some(EmailFound::Placeholder));
        assert_eq!(of("I don't have an email"), Some(EmailFound::Declined));
        assert_eq!(of("no"), Some(EmailFound::Declined));
        assert_eq!(of("ما عندي ايميل"), Some(EmailFound::Declined));
        assert_eq!(email("no", false), None);
        assert_eq!(of("what?"), None);
    }
}
