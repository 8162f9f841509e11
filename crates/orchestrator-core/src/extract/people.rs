//! Names, nationalities and requests for a person, from free text.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::countries::NATIONALITIES;
use super::normalize::{Normalized, normalize};
use super::services::is_service_word;

/// Words that end a name ("I'm Ahmed *from* Pakistan").
const NAME_STOPS: &[&str] = &[
    "from",
    "and",
    "i",
    "im",
    "i'm",
    "need",
    "want",
    "wants",
    "looking",
    "would",
    "like",
    "here",
    "with",
    "my",
    "the",
    "a",
    "an",
    "to",
    "for",
    "in",
    "at",
    "of",
    "please",
    "but",
    "also",
    "who",
    "currently",
    "working",
    "living",
    "residing",
    "based",
    "calling",
    "writing",
    "interested",
    "و",
    "من",
    "اريد",
    "احتاج",
    "ابغي",
];

/// Words that are never part of a name.
const NOT_NAMES: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "hii",
    "salam",
    "salaam",
    "assalam",
    "assalamu",
    "alaikum",
    "alaykum",
    "marhaba",
    "good",
    "morning",
    "afternoon",
    "evening",
    "fine",
    "ok",
    "okay",
    "great",
    "thanks",
    "thank",
    "you",
    "interested",
    "looking",
    "searching",
    "not",
    "sure",
    "yes",
    "no",
    "yeah",
    "here",
    "there",
    "new",
    "sorry",
    "trying",
    "just",
    "help",
    "need",
    "want",
    "what",
    "why",
    "how",
    "who",
    "where",
    "when",
    "is",
    "are",
    "am",
    "can",
    "could",
    "would",
    "please",
    "pls",
    "plz",
    "the",
    "a",
    "an",
    "it",
    "this",
    "that",
    "me",
    "my",
    "your",
    "name",
    "full",
    "email",
    "mail",
    "nationality",
    "visa",
    "info",
    "information",
    "price",
    "cost",
    "quotation",
    "quote",
    "agent",
    "human",
    "test",
    "doing",
    "well",
    "very",
    "much",
    "مرحبا",
    "السلام",
    "عليكم",
    "اهلا",
    "شكرا",
    "نعم",
    "لا",
];

/// Phrases that put a name after them.
const NAME_CUES: &[&str] = &[
    "my name is",
    "my name's",
    "my full name is",
    "name is",
    "i am",
    "i'm",
    "im",
    "this is",
    "it's",
    "its",
    "اسمي",
    "انا",
];

/// The customer's name, if `text` states it. With `bare_allowed` (the name question was
/// just asked) a message that is nothing but a plausible name counts too.
pub(crate) fn name(text: &str, bare_allowed: bool) -> Option<String> {
    for clause in clauses(text) {
        let words: Vec<&str> = clause.split(' ').filter(|w| !w.is_empty()).collect();
        for cue in NAME_CUES {
            let cue_words: Vec<&str> = cue.split(' ').collect();
            for start in 0..words.len() {
                if words[start..].starts_with(&cue_words) {
                    let after = &words[start + cue_words.len()..];
                    let candidate: Vec<&str> =
                        after.iter().copied().take_while(|w| !NAME_STOPS.contains(w)).take(4).collect();
                    if plausible_name(&candidate) {
                        return Some(title_case(&candidate));
                    }
                }
            }
        }
        if bare_allowed && (1..=4).contains(&words.len()) && plausible_name(&words) {
            return Some(title_case(&words));
        }
    }
    None
}

/// The customer's nationality, if `text` states it. With `asked` (the nationality question
/// was just asked) any country or demonym counts; otherwise only one introduced as the
/// customer's ("from Pakistan", "I am Indian", "Egyptian national").
pub(crate) fn nationality(text: &str, asked: bool) -> Option<&'static str> {
    let normalized = normalize(text);
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    NATIONALITY_PHRASES
        .iter()
        .find(|(_, countries, demonyms)| {
            let country = |start: usize, _: usize| asked || ends_with_any(&words[..start], COUNTRY_CUES);
            let demonym = |start: usize, end: usize| {
                asked
                    || ends_with_any(&words[..start], DEMONYM_CUES)
                    || words.get(end).is_some_and(|next| ["national", "citizen", "passport"].contains(next))
            };
            countries.iter().any(|p| occurs(&words, p, country))
                || demonyms.iter().any(|p| occurs(&words, p, demonym))
        })
        .map(|(demonym, _, _)| *demonym)
}

/// Cues that introduce the customer's country ("from Pakistan").
const COUNTRY_CUES: &[&[&str]] = &[
    &["from"],
    &["from", "the"],
    &["nationality", "is"],
    &["nationality"],
    &["citizen", "of"],
    &["من"],
    &["جنسيتي"],
];

/// Cues that introduce the customer's demonym ("I am Indian").
const DEMONYM_CUES: &[&[&str]] = &[
    &["i", "am"],
    &["i'm"],
    &["im"],
    &["i", "am", "a"],
    &["i", "am", "an"],
    &["nationality", "is"],
    &["nationality"],
    &["انا"],
];

/// Each nationality's country names and demonyms as normalised word lists, built once.
#[allow(clippy::type_complexity, reason = "a private lookup table")]
static NATIONALITY_PHRASES: LazyLock<Vec<(&'static str, Vec<Vec<String>>, Vec<Vec<String>>)>> =
    LazyLock::new(|| {
        let words = |phrases: &[&str]| -> Vec<Vec<String>> {
            phrases.iter().map(|p| normalize(p).split(' ').map(str::to_owned).collect()).collect()
        };
        NATIONALITIES.iter().map(|n| (n.demonym, words(n.countries), words(n.demonyms))).collect()
    });

/// Every word naming a country or its people, built once.
static NATIONALITY_WORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    NATIONALITY_PHRASES
        .iter()
        .flat_map(|(_, countries, demonyms)| countries.iter().chain(demonyms))
        .filter(|phrase| phrase.len() == 1)
        .map(|phrase| phrase[0].clone())
        .collect()
});

/// Whether `phrase` occurs in `words` at a place `accept(start, end)` agrees with.
fn occurs(words: &[&str], phrase: &[String], accept: impl Fn(usize, usize) -> bool) -> bool {
    (0..words.len()).any(|start| {
        let end = start + phrase.len();
        end <= words.len() && words[start..end].iter().zip(phrase).all(|(w, p)| w == p) && accept(start, end)
    })
}

fn ends_with_any(words: &[&str], cues: &[&[&str]]) -> bool {
    cues.iter().any(|cue| words.ends_with(cue))
}

/// Whether the customer asks for a person instead of the bot. "Call me" counts unless the
/// bot just asked when to call (`asked_time`).
pub(crate) fn wants_human(text: &str, asked_time: bool) -> bool {
    let normalized = Normalized::new(text);
    let phrases = [
        "talk to",
        "speak to",
        "speak with",
        "talk with",
        "connect me",
        "call back",
        "customer service",
        "customer care",
        "real person",
        "live agent",
        "human being",
        "human agent",
        "a human",
        "an agent",
        "the agent",
        "your agent",
        "someone call",
        "موظف",
        "انسان",
        "شخص حقيقي",
        "خدمه العملاء",
        "كلمني",
    ];
    if phrases.iter().any(|p| normalized.contains_phrase(p)) {
        return true;
    }
    if !asked_time && ["call me", "اتصل بي", "اتصلوا بي"].iter().any(|p| normalized.contains_phrase(p))
    {
        return true;
    }
    let short = normalized.words().count() <= 4;
    short
        && ["agent", "human", "person", "representative", "operator", "staff", "someone"]
            .iter()
            .any(|w| normalized.contains_phrase(w))
}

/// The text split at sentence punctuation, each part normalised.
fn clauses(text: &str) -> Vec<String> {
    text.split(['.', ',', '!', '?', ';', ':', '\n', '،', '؟'])
        .map(normalize)
        .filter(|c| !c.is_empty())
        .collect()
}

/// Longest word taken as part of a name: longer is not a name (and the closing message,
/// which thanks the customer by first name, must stay within WhatsApp's 4,096 characters).
const MAX_NAME_WORD_CHARS: usize = 40;

fn plausible_name(words: &[&str]) -> bool {
    !words.is_empty()
        && words.iter().all(|w| {
            w.chars().all(|c| c.is_alphabetic() || c == '\'' || c == '-')
                && (2..=MAX_NAME_WORD_CHARS).contains(&w.chars().count())
                && !NOT_NAMES.contains(w)
                && !is_service_word(w)
                && !is_nationality_word(w)
        })
}

fn is_nationality_word(word: &str) -> bool {
    NATIONALITY_WORDS.contains(word)
}

fn title_case(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_after_cues_stop_at_the_next_idea() {
        assert_eq!(
            name("Hi, I'm Ahmed from Pakistan and I need a family visa", false).as_deref(),
            Some("Ahmed")
        );
        assert_eq!(name("my name is sara al mansoori", false).as_deref(), Some("Sara Al Mansoori"));
        assert_eq!(name("This is John Smith.", false).as_deref(), Some("John Smith"));
        assert_eq!(name("اسمي محمد", false).as_deref(), Some("محمد"));
    }

    #[test]
    fn greetings_services_and_fillers_are_not_names() {
        for text in [
            "I'm looking for a golden visa",
            "I am interested",
            "I'm fine thanks",
            "I am from India",
            "I'm Pakistani",
            "Hello",
            "family visa",
            "good morning",
        ] {
            assert_eq!(name(text, true), None, "{text}");
        }
    }

    #[test]
    fn a_bare_name_counts_only_when_the_name_was_asked() {
        assert_eq!(name("ahmed khan", true).as_deref(), Some("Ahmed Khan"));
        assert_eq!(name("ahmed khan", false), None);
        assert_eq!(name("call me at 5 pm", true), None);
    }

    #[test]
    fn nationality_needs_a_cue_unless_it_was_asked() {
        assert_eq!(
            nationality("Hi, I'm Ahmed from Pakistan and I need a family visa", false),
            Some("Pakistani")
        );
        assert_eq!(nationality("I am Indian", false), Some("Indian"));
        assert_eq!(nationality("Egyptian national here", false), Some("Egyptian"));
        assert_eq!(nationality("I want to visit Jordan", false), None);
        assert_eq!(nationality("Jordan", true), Some("Jordanian"));
        assert_eq!(nationality("filipino", true), Some("Filipino"));
        assert_eq!(nationality("I'm from the UK", false), Some("British"));
        assert_eq!(nationality("انا مصري", false), Some("Egyptian"));
        assert_eq!(nationality("can you help us", true), None);
        assert_eq!(nationality("I'm Chad", false), None);
    }

    #[test]
    fn requests_for_a_person_are_recognised() {
        for text in
            ["agent", "Can I talk to a human?", "please call me", "I want to speak to someone", "موظف"]
        {
            assert!(wants_human(text, false), "{text}");
        }
        assert!(!wants_human("call me after 5pm", true));
        assert!(!wants_human("I am a real estate agent and need a freelance permit", false));
        assert!(!wants_human("family visa", false));
    }
}
