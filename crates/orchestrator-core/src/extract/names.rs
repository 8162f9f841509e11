//! The customer's full name, from free text: up to eight words with their particles,
//! hyphens and apostrophes, titles split off, the customer's casing kept (unless all
//! lower or all upper case), never taken from an e-mail address and never a word that is
//! not a name.

use std::sync::LazyLock;

use regex::Regex;

use super::nationality::is_nationality_word;
use super::normalize::{arabic_stems, normalize};
use super::services::is_service_word;
use super::time::is_time_word;

/// Most words kept in a name.
const MAX_NAME_WORDS: usize = 8;

/// Longest word taken as part of a name: longer is not a name (and the closing message,
/// which thanks the customer by name, must stay within WhatsApp's 4,096 characters).
const MAX_NAME_WORD_CHARS: usize = 40;

/// Titles split off a name.
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mister",
    "dr",
    "doctor",
    "eng",
    "engr",
    "engineer",
    "sheikh",
    "sheikha",
    "shaikh",
    "prof",
    "professor",
    "السيد",
    "السيده",
    "الدكتور",
    "الدكتوره",
    "د",
    "المهندس",
    "المهندسه",
    "م",
    "الشيخ",
    "الشيخه",
    "الاستاذ",
    "الاستاذه",
];

/// Particles inside names; a name is never only particles.
const PARTICLES: &[&str] = &[
    "bin", "bint", "ibn", "al", "el", "abu", "abo", "van", "von", "de", "der", "da", "di", "du", "la", "le",
    "ul", "ud", "bn", "بن", "بنت", "ابو", "ال", "عبد",
];

/// Phrases that put a name after them.
const NAME_CUES: &[&str] = &[
    "my name is",
    "my name's",
    "my full name is",
    "full name is",
    "my complete name is",
    "name is",
    "name",
    "names",
    "i am",
    "i'm",
    "im",
    "this is",
    "it's",
    "its",
    "it is",
    "here is",
    "mera naam",
    "mera name",
    "naam",
    "ako si",
    "اسمي",
    "الاسم",
    "انا",
    "معك",
    "معاك",
];

/// Words that end a name ("I'm Ahmed *from* Pakistan").
const NAME_STOPS: &[&str] = &[
    "from",
    "and",
    "i",
    "im",
    "i'm",
    "need",
    "needs",
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
    "on",
    "please",
    "pls",
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
    "email",
    "mail",
    "e-mail",
    "nationality",
    "passport",
    "call",
    "contact",
    "whatsapp",
    "number",
    "phone",
    "is",
    "was",
    "will",
    "can",
    "could",
    "just",
    "sir",
    "madam",
    "and",
    "&",
    "so",
    "hai",
    "hoon",
    "hun",
    "و",
    "من",
    "اريد",
    "احتاج",
    "ابغي",
    "ابي",
    "ودي",
    "بدي",
    "عايز",
    "محتاج",
    "جنسيتي",
    "ايميلي",
    "بريدي",
    "وجنسيتي",
    "واريد",
    "وابغي",
    "وابي",
    "واحتاج",
    "رقمي",
    "في",
    "الى",
    "عندي",
    "اتصلوا",
    "كلموني",
    "اتصل",
    "بعد",
    "قبل",
    "ايميلي",
    "الايميل",
    "بريدي",
];

/// Words that are never part of a name.
const NOT_NAMES: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "hii",
    "hiii",
    "helo",
    "hallo",
    "salam",
    "salaam",
    "salams",
    "assalam",
    "assalamu",
    "asalam",
    "alaikum",
    "alaykum",
    "walaikum",
    "aoa",
    "slm",
    "marhaba",
    "marhaban",
    "ahlan",
    "yo",
    "good",
    "morning",
    "afternoon",
    "evening",
    "night",
    "day",
    "fine",
    "ok",
    "okay",
    "okey",
    "k",
    "kk",
    "great",
    "thanks",
    "thank",
    "thx",
    "tnx",
    "ty",
    "you",
    "welcome",
    "please",
    "pls",
    "plz",
    "sir",
    "madam",
    "mam",
    "maam",
    "bro",
    "dear",
    "yes",
    "yeah",
    "yep",
    "yup",
    "no",
    "nope",
    "nah",
    "not",
    "maybe",
    "sure",
    "what",
    "why",
    "how",
    "who",
    "where",
    "when",
    "which",
    "whom",
    "is",
    "are",
    "am",
    "was",
    "were",
    "be",
    "been",
    "can",
    "could",
    "would",
    "should",
    "will",
    "shall",
    "may",
    "might",
    "must",
    "do",
    "does",
    "did",
    "have",
    "has",
    "had",
    "i",
    "me",
    "my",
    "mine",
    "we",
    "us",
    "our",
    "your",
    "he",
    "she",
    "it",
    "they",
    "them",
    "this",
    "that",
    "these",
    "those",
    "there",
    "here",
    "and",
    "or",
    "but",
    "so",
    "because",
    "if",
    "then",
    "also",
    "too",
    "very",
    "much",
    "many",
    "more",
    "the",
    "a",
    "an",
    "of",
    "in",
    "on",
    "at",
    "to",
    "for",
    "from",
    "with",
    "by",
    "about",
    "stop",
    "later",
    "start",
    "unsubscribe",
    "agent",
    "human",
    "person",
    "someone",
    "anyone",
    "staff",
    "manager",
    "representative",
    "operator",
    "help",
    "info",
    "information",
    "details",
    "price",
    "cost",
    "fee",
    "fees",
    "charges",
    "quotation",
    "quote",
    "office",
    "location",
    "address",
    "hours",
    "timing",
    "open",
    "closed",
    "test",
    "testing",
    "name",
    "full",
    "email",
    "mail",
    "e-mail",
    "gmail",
    "nationality",
    "passport",
    "number",
    "phone",
    "whatsapp",
    "call",
    "calling",
    "sorry",
    "typo",
    "actually",
    "meant",
    "wrong",
    "renewal",
    "renew",
    "today",
    "tomorrow",
    "tonight",
    "now",
    "asap",
    "anytime",
    "interested",
    "looking",
    "searching",
    "trying",
    "doing",
    "going",
    "coming",
    "working",
    "living",
    "dubai",
    "sharjah",
    "ajman",
    "fujairah",
    "uae",
    "lol",
    "hmm",
    "hmmm",
    "ya",
    "haan",
    "ji",
    "nahi",
    "acha",
    "theek",
    "just",
    "still",
    "again",
    "already",
    "done",
    "well",
    "need",
    "want",
    "know",
    "tell",
    "send",
    "ask",
    "asked",
    "question",
    "questions",
    "speak",
    "talk",
    "arabic",
    "english",
    "urdu",
    "hindi",
    "documents",
    "document",
    "required",
    "requirements",
    "cheap",
    "urgent",
    "regarding",
    "inquiry",
    "enquiry",
    "service",
    "services",
    "after",
    "before",
    "between",
    "around",
    "weekend",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "evening",
    "noon",
    "new",
    "other",
    "another",
    "same",
    "all",
    "any",
    "some",
    "مرحبا",
    "مرحبه",
    "السلام",
    "عليكم",
    "وعليكم",
    "اهلا",
    "هلا",
    "شكرا",
    "مشكور",
    "تمام",
    "طيب",
    "زين",
    "اوكي",
    "ماشي",
    "نعم",
    "لا",
    "ايوه",
    "اي",
    "وقت",
    "موظف",
    "توقف",
    "ابدا",
    "صباح",
    "مساء",
    "الخير",
    "ممكن",
    "لو",
    "سمحت",
    "فضلك",
    "كم",
    "السعر",
    "وين",
    "اين",
    "متى",
    "ليش",
    "لماذا",
    "كيف",
    "هل",
    "عفوا",
    "عذرا",
    "اقصد",
    "قصدي",
    "الصحيح",
    "تصحيح",
    "غلطت",
    "galti",
    "ho",
    "gayi",
    "gaya",
    "hai",
    "hain",
    "chahiye",
    "karna",
    "kaam",
    "ka",
    "ki",
    "ke",
    "se",
    "mein",
    "mujhe",
    "aap",
    "kya",
    "bhai",
    "paise",
    "kitne",
    "lagenge",
    "po",
    "ang",
    "ng",
    "sa",
    "ko",
    "pwede",
    "magkano",
    "salamat",
    "ezayak",
    "3ayez",
    "abi",
    "abgha",
    "bdi",
    "wa2t",
    "ay",
    "koi",
    "bhi",
    "kahit",
    "anong",
    "oras",
    "insaan",
    "baat",
    "karni",
];

static EMAIL_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\S*@\S*").unwrap_or_else(|e| unreachable!("valid regex: {e}")));

/// A title's full stop, which does not end a sentence ("Eng. Khalid").
static TITLE_DOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(mr|mrs|ms|dr|eng|engr|prof|md|mohd)\.")
        .unwrap_or_else(|e| unreachable!("valid regex: {e}"))
});

/// One word as written, and as compared.
#[derive(Debug, Clone)]
struct Word<'a> {
    written: &'a str,
    folded: String,
}

/// The customer's name, if `text` states it. With `bare_allowed` (the name question was
/// just asked) a clause that is nothing but a plausible name counts too.
pub(crate) fn name(text: &str, bare_allowed: bool) -> Option<String> {
    let without_emails = EMAIL_LIKE.replace_all(text, " , ");
    let text = TITLE_DOT.replace_all(&without_emails, "$1 ");
    let clauses: Vec<Vec<Word<'_>>> = text
        .split(['.', ',', '!', '?', ';', ':', '\n', '،', '؟', '(', ')', '"', '/', '|'])
        .map(words)
        .filter(|c| !c.is_empty())
        .collect();
    for clause in &clauses {
        if let Some(found) = after_cue(clause) {
            return Some(found);
        }
    }
    if bare_allowed {
        for clause in &clauses {
            let start = leading_fillers(clause);
            let candidate: Vec<&Word<'_>> =
                clause[start..].iter().skip_while(|w| is_title(&w.folded)).collect();
            if (1..=MAX_NAME_WORDS).contains(&candidate.len()) && plausible(&candidate) {
                return Some(written(&candidate));
            }
        }
    }
    None
}

fn words(clause: &str) -> Vec<Word<'_>> {
    clause
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-')))
        .map(|w| w.trim_matches(['-', '\'', '’']))
        .filter(|w| !w.is_empty())
        .map(|written| Word { written, folded: normalize(written) })
        .collect()
}

/// The name after a cue ("my name is", "I'm", "اسمي"), if one follows.
fn after_cue(clause: &[Word<'_>]) -> Option<String> {
    for cue in NAME_CUES {
        let cue: Vec<&str> = cue.split(' ').collect();
        for start in 0..clause.len() {
            let matches = clause.len() >= start + cue.len()
                && clause[start..start + cue.len()].iter().zip(&cue).all(|(w, c)| w.folded == *c);
            if !matches {
                continue;
            }
            let rest = &clause[start + cue.len()..];
            let candidate: Vec<&Word<'_>> = rest
                .iter()
                .skip_while(|w| is_title(&w.folded))
                .take_while(|w| !ends_name(&w.folded))
                .take(MAX_NAME_WORDS)
                .collect();
            let verb_like =
                candidate.first().is_some_and(|w| w.folded.len() > 5 && w.folded.ends_with("ing"));
            if !verb_like && plausible(&candidate) {
                return Some(written(&candidate));
            }
        }
    }
    None
}

/// How many words at the start of a bare answer only lead up to the name ("ok, it's …").
fn leading_fillers(clause: &[Word<'_>]) -> usize {
    const LEADS: &[&str] = &[
        "ok", "okay", "sure", "yes", "yeah", "its", "it's", "name", "is", "sorry", "actually", "i", "meant",
        "mean",
    ];
    clause.iter().take_while(|w| LEADS.contains(&w.folded.as_str())).count()
}

fn is_title(folded: &str) -> bool {
    TITLES.contains(&folded)
}

/// Whether a word ends the name that a cue introduced: a word of the next idea, a
/// nationality, a service, or a time ("اسمي حصة *واتصلوا* …", "kiran rao *indian*").
fn ends_name(folded: &str) -> bool {
    let stems = arabic_stems(folded);
    stems.iter().any(|s| NAME_STOPS.contains(s))
        || is_nationality_word(folded)
        || (is_service_word(folded) && !PARTICLES.contains(&folded))
        || is_time_word(folded)
}

fn plausible(words: &[&Word<'_>]) -> bool {
    !words.is_empty()
        && !words.iter().all(|w| PARTICLES.contains(&w.folded.as_str()))
        && words.iter().enumerate().all(|(i, w)| {
            let chars = w.written.chars().count();
            let after_abd = i > 0 && ["عبد", "abd", "abdul", "abdel"].contains(&words[i - 1].folded.as_str());
            w.written.chars().all(|c| c.is_alphabetic() || c == '\'' || c == '’' || c == '-')
                && (1..=MAX_NAME_WORD_CHARS).contains(&chars)
                && (chars > 1 || words.len() > 1)
                && (after_abd || !NOT_NAMES.contains(&w.folded.as_str()))
                && !is_time_word(&w.folded)
                && (PARTICLES.contains(&w.folded.as_str())
                    || !(is_service_word(&w.folded) || is_nationality_word(&w.folded)))
        })
}

/// The words as the customer wrote them, or in title case if they wrote all in lower or
/// all in upper case.
fn written(words: &[&Word<'_>]) -> String {
    let letters: Vec<char> =
        words.iter().flat_map(|w| w.written.chars()).filter(|c| c.is_alphabetic()).collect();
    let cased: Vec<&char> = letters.iter().filter(|c| c.is_lowercase() || c.is_uppercase()).collect();
    let uniform = cased.iter().all(|c| c.is_lowercase()) || cased.iter().all(|c| c.is_uppercase());
    let out: Vec<String> =
        words.iter().map(|w| if uniform { title_case(w.written) } else { w.written.to_owned() }).collect();
    out.join(" ")
}

/// "al-hashimi" → "Al-Hashimi", "o'brien" → "O'Brien".
fn title_case(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut start = true;
    for c in word.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = matches!(c, '-' | '\'' | '’');
    }
    out
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
        assert_eq!(name("اسمي محمد بن راشد آل مكتوم", false).as_deref(), Some("محمد بن راشد آل مكتوم"));
        assert_eq!(
            name("Hi, golden visa please. I'm Ravi Shankar from India, email ravi.shankar@gmail.com, call me after 5", false)
                .as_deref(),
            Some("Ravi Shankar")
        );
        assert_eq!(
            name("sorry, my full name is Ahmed Hassan Ali", false).as_deref(),
            Some("Ahmed Hassan Ali")
        );
    }

    #[test]
    fn long_names_titles_and_casing() {
        assert_eq!(
            name("Syed Muhammad Ali Hasan Zaidi", true).as_deref(),
            Some("Syed Muhammad Ali Hasan Zaidi")
        );
        assert_eq!(name("Eng. Khalid Al Hammadi", true).as_deref(), Some("Khalid Al Hammadi"));
        assert_eq!(name("Dr Fatima bint Ahmed", true).as_deref(), Some("Fatima bint Ahmed"));
        assert_eq!(name("MARIA DE LA CRUZ", true).as_deref(), Some("Maria De La Cruz"));
        assert_eq!(name("Jean-Luc O'Neill", true).as_deref(), Some("Jean-Luc O'Neill"));
        assert_eq!(name("mohammed al-hashimi", true).as_deref(), Some("Mohammed Al-Hashimi"));
        assert_eq!(name("Ahmed Ali, Jordanian", true).as_deref(), Some("Ahmed Ali"));
        assert_eq!(name("McDonald van der Berg", true).as_deref(), Some("McDonald van der Berg"));
    }

    #[test]
    fn words_that_are_not_names_are_refused() {
        for text in [
            "I'm looking for a golden visa",
            "I am interested",
            "I'm fine thanks",
            "I am from India",
            "I'm Pakistani",
            "I'm local",
            "Hello",
            "family visa",
            "good morning",
            "stop",
            "STOP",
            "later",
            "ok",
            "thanks",
            "where is your office?",
            "how much will it cost?",
            "ravi.kumar@gmail.com",
            "call me at 5 pm",
            "Indian",
            "السلام عليكم",
        ] {
            assert_eq!(name(text, true), None, "{text}");
        }
    }

    #[test]
    fn a_bare_name_counts_only_when_the_name_was_asked() {
        assert_eq!(name("ahmed khan", true).as_deref(), Some("Ahmed Khan"));
        assert_eq!(name("ahmed khan", false), None);
    }
}
