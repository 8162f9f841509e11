//! The best time to call: accepted only when it names a time, a day, a part of the day or
//! "any time" (English, Arabic, romanised Urdu/Hindi, Taglish); "I can't take calls" is
//! understood too.

use std::sync::LazyLock;

use regex::Regex;

use super::normalize::{Normalized, arabic_stems, fold_digits, normalize, without_particles};

/// What the customer said about being called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TimeFound {
    /// A time, in the customer's words.
    At(String),
    /// Any time suits them.
    Any,
    /// They cannot take calls: the quotation goes to them on WhatsApp.
    NoCalls,
}

/// Longest best-time answer kept.
const MAX_TIME_CHARS: usize = 120;

static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b\d{1,2}\s*(?::\s*\d{2})?\s*(?:am|pm|a\.m|p\.m|o'?clock|hrs|h|baje|بالليل|الصبح|مساء|صباحا|مساءً|صباحاً)\b|\b\d{1,2}:\d{2}\b|\b(?:after|before|around|at|by|till|until|from|between|after\s+the|ba3d(?:\s+el)?|بعد|قبل|الساعه|الساعة|حوالي|من)\s+\d{1,2}\b|\b\d{1,2}\s*(?:-|to|and|الى|إلى)\s*\d{1,2}\b|\b\d{1,2}\s+ke\s+baad\b",
    )
    .unwrap_or_else(|e| unreachable!("valid regex: {e}"))
});

/// Words and phrases that name a day or a part of the day.
const TIME_WORDS: &[&str] = &[
    "today",
    "tomorrow",
    "tmrw",
    "tmr",
    "tonight",
    "morning",
    "mornings",
    "afternoon",
    "afternoons",
    "evening",
    "evenings",
    "night",
    "noon",
    "midday",
    "lunch",
    "lunchtime",
    "weekend",
    "weekends",
    "weekday",
    "weekdays",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thurs",
    "fri",
    "sat",
    "sun",
    "next week",
    "this week",
    "asap",
    "as soon as possible",
    "right now",
    "now",
    "later today",
    "after work",
    "after office",
    "after my work",
    "office hours",
    "working hours",
    "business hours",
    "after lunch",
    "before lunch",
    "after maghrib",
    "after asr",
    "after isha",
    "after zuhr",
    "after dhuhr",
    "after fajr",
    "am",
    "pm",
    "subah",
    "dopahar",
    "shaam",
    "sham",
    "raat",
    "kal",
    "mamaya",
    "bukas",
    "umaga",
    "hapon",
    "gabi",
    "الصبح",
    "صباح",
    "الصباح",
    "الضحي",
    "الظهر",
    "ظهر",
    "العصر",
    "عصر",
    "المغرب",
    "مغرب",
    "العشاء",
    "العشا",
    "الفجر",
    "المسا",
    "المساء",
    "مساء",
    "الليل",
    "ليل",
    "بالليل",
    "السبت",
    "الاحد",
    "الاثنين",
    "الثلاثاء",
    "الاربعاء",
    "الخميس",
    "الجمعه",
    "بكره",
    "بكرا",
    "باكر",
    "اليوم",
    "الحين",
    "الان",
    "الساعه",
    "بعد الدوام",
    "الاسبوع",
    "ba3d el maghrib",
    "el sob7",
    "صباحا",
    "مساءا",
    "غدا",
    "ظهرا",
    "عصرا",
    "ليلا",
    "الضهر",
    "ضهر",
    "الواحده",
    "الثانيه",
    "الثالثه",
    "الرابعه",
    "الخامسه",
    "السادسه",
    "السابعه",
    "الثامنه",
    "التاسعه",
    "العاشره",
    "الحاديه عشره",
    "الثانيه عشره",
    "asr",
    "3asr",
    "maghrib",
    "magrib",
    "isha",
    "esha",
    "dhuhr",
    "duhr",
    "dohr",
    "zuhr",
    "zohr",
    "fajr",
    "sob7",
    "sobh",
    "masa",
    "bel leil",
    "lail",
    "jumma",
    "juma",
    "jummah",
    "bukra",
    "bokra",
];

/// Phrases for "any time".
const ANY_TIME: &[&str] = &[
    "any time",
    "anytime",
    "whenever",
    "any day",
    "anyday",
    "at your convenience",
    "all day",
    "any time is fine",
    "anytime is ok",
    "kabhi bhi",
    "kisi bhi time",
    "kisi bhi waqt",
    "اي وقت",
    "في اي وقت",
    "على راحتكم",
    "علي راحتكم",
    "براحتكم",
    "اي ساعه",
    "any time po",
    "kahit kailan",
    "kahit anong oras",
    "kahit kelan",
    "ay wa2t",
    "ay wa2et",
    "ay waqt",
    "koi bhi time",
    "koi bhi waqt",
    "any time is ok",
    "any time is good",
    "متى ما تبون",
];

/// Phrases for "I cannot take calls".
const NO_CALLS: &[&str] = &[
    "can't take calls",
    "cant take calls",
    "cannot take calls",
    "can not take calls",
    "can't take call",
    "cannot take call",
    "can't talk",
    "cant talk",
    "cannot talk",
    "no calls",
    "no call",
    "don't call",
    "dont call",
    "do not call",
    "text only",
    "whatsapp only",
    "only whatsapp",
    "message only",
    "messages only",
    "chat only",
    "only text",
    "only chat",
    "can't answer calls",
    "cannot answer calls",
    "not able to take calls",
    "unable to take calls",
    "can't receive calls",
    "cannot receive calls",
    "prefer whatsapp",
    "prefer text",
    "rather not be called",
    "call nahi",
    "لا تتصل",
    "لا تتصلوا",
    "بدون اتصال",
    "ما اقدر ارد",
    "ما اقدر اكلم",
    "ما اقدر ارد على المكالمات",
    "لا استطيع الرد",
    "لا استطيع استقبال المكالمات",
    "واتساب فقط",
    "رسائل فقط",
    "فقط واتساب",
    "لا اتصالات",
    "ما ابي اتصال",
];

/// Words that say the time is about a call, when the time question was not asked.
const CALL_CUES: &[&str] = &[
    "call",
    "calls",
    "reach",
    "contact",
    "available",
    "free",
    "ring",
    "phone",
    "اتصل",
    "اتصلوا",
    "كلمني",
    "كلموني",
    "اتصال",
    "الاتصال",
    "اتصالكم",
    "متاح",
    "فاضي",
    "متواجد",
    "tawag",
];

/// Words that lead up to a time without being part of it ("call me *after 5*").
const LEADS: &[&str] = &[
    "call",
    "me",
    "please",
    "pls",
    "plz",
    "you",
    "can",
    "could",
    "best",
    "time",
    "is",
    "to",
    "would",
    "be",
    "its",
    "it's",
    "it",
    "ok",
    "okay",
    "sure",
    "i'm",
    "im",
    "am",
    "i",
    "available",
    "free",
    "reach",
    "contact",
    "ring",
    "fine",
    "good",
    "will",
    "the",
    "us",
    "on",
    "اتصلوا",
    "اتصل",
    "علي",
    "عليا",
    "كلمني",
    "كلموني",
    "ممكن",
    "الوقت",
    "المناسب",
    "افضل",
    "وقت",
    "انا",
    "متاح",
    "فاضي",
    "هو",
    "yes",
    "yeah",
];

/// What `text` says about when to call. With `asked` (the time question was just asked)
/// any clause naming a time counts, a bare hour too; otherwise only one about a call
/// ("call me after 5").
pub(crate) fn best_time(text: &str, asked: bool) -> Option<TimeFound> {
    let normalized = Normalized::new(text);
    if NO_CALLS.iter().any(|p| normalized.contains_phrase(p)) {
        return Some(TimeFound::NoCalls);
    }
    let cue = |n: &Normalized, stripped: &Normalized| {
        CALL_CUES.iter().any(|c| n.contains_phrase(c) || stripped.contains_phrase(c))
    };
    let called = asked || cue(&normalized, &Normalized::new(&without_particles(text)));
    let mut found = Vec::new();
    for clause in text.split([',', '.', ';', '!', '\n', '،', '?', '؟']) {
        let clause = clause.trim();
        let n = Normalized::new(clause);
        let cued = asked || cue(&n, &Normalized::new(&without_particles(clause))) || only_time(&n);
        let bare_hour = asked && n.as_str().parse::<u8>().is_ok_and(|h| (1..=12).contains(&h));
        if cued && (names_time(clause, &n) || bare_hour) {
            found.push(without_leads(clause));
        }
    }
    let specific = found.iter().any(|t| CLOCK.is_match(&fold_digits(&t.to_lowercase())));
    if !specific && called && ANY_TIME.iter().any(|p| normalized.contains_phrase(p)) {
        return Some(TimeFound::Any);
    }
    let time = found.iter().filter(|t| !t.is_empty()).cloned().collect::<Vec<_>>().join(", ");
    let time: String = time.chars().take(MAX_TIME_CHARS).collect();
    (!time.trim().is_empty()).then(|| TimeFound::At(time.trim().to_owned()))
}

/// Whether a normalised word names a day or a part of the day (such words are never names).
pub(crate) fn is_time_word(folded: &str) -> bool {
    !folded.contains(' ')
        && (TIME_WORDS.contains(&folded)
            || arabic_stems(folded).iter().skip(1).any(|s| TIME_WORDS.contains(s)))
}

/// Words a clause that only gives a time may hold beside time words and numbers.
const TIME_GLUE: &[&str] = &[
    "after",
    "before",
    "around",
    "at",
    "by",
    "from",
    "to",
    "till",
    "until",
    "between",
    "and",
    "or",
    "the",
    "in",
    "on",
    "this",
    "next",
    "is",
    "fine",
    "ok",
    "better",
    "please",
    "pls",
    "baje",
    "ke",
    "baad",
    "se",
    "pehle",
    "po",
    "ng",
    "sa",
    "بعد",
    "قبل",
    "الساعه",
    "من",
    "الى",
    "في",
    "او",
    "و",
    "el",
    "ba3d",
    "oclock",
];

/// Whether the clause says nothing but a time ("after 4", "tomorrow morning").
fn only_time(normalized: &Normalized) -> bool {
    let words: Vec<&str> = normalized.words().collect();
    names_time(normalized.as_str(), normalized)
        && words.iter().all(|w| {
            TIME_WORDS.contains(w)
                || TIME_GLUE.contains(w)
                || w.chars().all(|c| c.is_ascii_digit())
                || CLOCK.is_match(w)
                || arabic_stems(w).iter().any(|s| TIME_WORDS.contains(s))
        })
}

fn names_time(clause: &str, normalized: &Normalized) -> bool {
    CLOCK.is_match(&fold_digits(&clause.to_lowercase()))
        || CLOCK.is_match(normalized.as_str())
        || TIME_WORDS.iter().any(|w| normalized.contains_phrase(w))
        || normalized.words().any(|w| arabic_stems(w).iter().skip(1).any(|s| TIME_WORDS.contains(s)))
}

/// The clause without the words that only lead up to the time.
fn without_leads(clause: &str) -> String {
    let words: Vec<&str> = clause.split_whitespace().collect();
    let skip = words.iter().take_while(|w| LEADS.contains(&normalize(w).as_str())).count();
    if skip == words.len() {
        return clause.to_owned();
    }
    words[skip..].join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<TimeFound> {
        Some(TimeFound::At(text.to_owned()))
    }

    #[test]
    fn a_time_is_a_time_at_any_step() {
        assert_eq!(best_time("call me after 5", false), at("after 5"));
        assert_eq!(
            best_time(
                "Hi, golden visa please. I'm Ravi Shankar from India, email ravi.shankar@gmail.com, call me after 5",
                false
            ),
            at("after 5")
        );
        assert_eq!(best_time("tomorrow after 5pm", false), at("tomorrow after 5pm"), "a time on its own");
        assert_eq!(best_time("I will come tomorrow for the visa", false), None, "not about a call");
        assert_eq!(best_time("I need a 10 year visa", false), None);
    }

    #[test]
    fn answers_to_the_time_question() {
        assert_eq!(best_time("Tomorrow after 5pm", true), at("Tomorrow after 5pm"));
        assert_eq!(best_time("5", true), at("5"));
        assert_eq!(best_time("بعد المغرب", true), at("بعد المغرب"));
        assert_eq!(best_time("اتصلوا علي بكرة الصبح", true), at("بكرة الصبح"));
        assert_eq!(best_time("shaam 6 baje ke baad", true), at("shaam 6 baje ke baad"));
        assert_eq!(best_time("any time", true), Some(TimeFound::Any));
        assert_eq!(best_time("في أي وقت", true), Some(TimeFound::Any));
        assert_eq!(best_time("I can't take calls", true), Some(TimeFound::NoCalls));
        assert_eq!(best_time("how much will it cost?", true), None);
        assert_eq!(best_time("ok", true), None);
        assert_eq!(best_time("???", true), None);
    }
}
