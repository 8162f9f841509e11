//! Nationalities: English country names and demonyms (with small typos), local aliases,
//! and the Arabic, Urdu, Russian and Chinese spellings of the largest expatriate
//! communities. When several are named, the one on the passport wins.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::countries::NATIONALITIES;
use super::normalize::{arabic_stems, normalize};

/// The largest expatriate (and Gulf) nationalities, with their names in Arabic (the
/// masculine demonym first, then the country), Urdu, Russian and Chinese. Arabic feminine
/// and plural forms are derived.
const FOREIGN: &[(&str, &[&str])] = &[
    ("Emirati", &["اماراتي", "الامارات", "مواطن", "مواطنه", "اماراتيه"]),
    ("Saudi", &["سعودي", "السعوديه", "سعودية"]),
    ("Omani", &["عماني", "عمان"]),
    ("Kuwaiti", &["كويتي", "الكويت"]),
    ("Bahraini", &["بحريني", "البحرين"]),
    ("Qatari", &["قطري", "قطر"]),
    ("Yemeni", &["يمني", "اليمن"]),
    ("Iraqi", &["عراقي", "العراق"]),
    ("Egyptian", &["مصري", "مصر", "مصرى"]),
    ("Sudanese", &["سوداني", "السودان"]),
    ("Jordanian", &["اردني", "الاردن"]),
    ("Palestinian", &["فلسطيني", "فلسطين"]),
    ("Syrian", &["سوري", "سوريا", "سوريه"]),
    ("Lebanese", &["لبناني", "لبنان"]),
    ("Moroccan", &["مغربي", "المغرب"]),
    ("Algerian", &["جزائري", "الجزائر"]),
    ("Tunisian", &["تونسي", "تونس"]),
    ("Libyan", &["ليبي", "ليبيا"]),
    ("Mauritanian", &["موريتاني", "موريتانيا"]),
    ("Somali", &["صومالي", "الصومال"]),
    ("Indian", &["هندي", "الهند", "ہندوستانی", "بھارتی", "ہندوستان", "индиец", "индия", "印度"]),
    ("Pakistani", &["باكستاني", "باكستان", "پاکستانی", "پاکستان", "пакистанец", "巴基斯坦"]),
    ("Bangladeshi", &["بنغالي", "بنغلاديشي", "بنغلاديش", "بنگلہ دیشی", "бангладеш"]),
    ("Sri Lankan", &["سريلانكي", "سريلانكا", "سری لنکن"]),
    ("Nepali", &["نيبالي", "نيبال", "نیپالی"]),
    ("Afghan", &["افغاني", "افغانستان", "افغان"]),
    ("Iranian", &["ايراني", "ايران", "فارسی", "ایرانی", "иранец", "伊朗"]),
    ("Turkish", &["تركي", "تركيا"]),
    ("Filipino", &["فلبيني", "الفلبين", "菲律宾"]),
    ("Indonesian", &["اندونيسي", "اندونيسيا"]),
    ("Malaysian", &["ماليزي", "ماليزيا"]),
    ("Chinese", &["صيني", "الصين", "中国", "中国人", "китаец", "китай"]),
    ("Russian", &["روسي", "روسيا", "русский", "русская", "россиянин", "россиянка", "россия", "俄罗斯"]),
    ("Ukrainian", &["اوكراني", "اوكرانيا", "украинец", "украинка", "украина"]),
    ("Kazakh", &["كازاخستاني", "казах", "казахстан"]),
    ("Uzbek", &["اوزبكي", "узбек", "узбекистан"]),
    ("British", &["بريطاني", "بريطانيا", "انجليزي", "британец", "英国"]),
    ("American", &["امريكي", "امريكا", "американец", "美国"]),
    ("Canadian", &["كندي", "كندا"]),
    ("Australian", &["استرالي", "استراليا"]),
    ("French", &["فرنسي", "فرنسا"]),
    ("German", &["الماني", "المانيا"]),
    ("Italian", &["ايطالي", "ايطاليا"]),
    ("Ethiopian", &["اثيوبي", "اثيوبيا"]),
    ("Eritrean", &["ارتيري", "اريتريا"]),
    ("Kenyan", &["كيني", "كينيا"]),
    ("Nigerian", &["نيجيري", "نيجيريا"]),
    ("Ugandan", &["اوغندي", "اوغندا"]),
    ("South African", &["جنوب افريقي", "جنوب افريقيا"]),
];

/// Words customers use for a nationality that are neither its country nor its demonym.
const ALIASES: &[(&str, &str)] = &[
    ("local", "Emirati"),
    ("uae national", "Emirati"),
    ("emarati", "Emirati"),
    ("pinoy", "Filipino"),
    ("pinay", "Filipino"),
    ("philipino", "Filipino"),
    ("persian", "Iranian"),
    ("malayali", "Indian"),
    ("keralite", "Indian"),
    ("tamilian", "Indian"),
    ("brit", "British"),
    ("kiwi", "New Zealander"),
    ("saudia", "Saudi"),
    ("ksa", "Saudi"),
    ("srilankan", "Sri Lankan"),
    ("lankan", "Sri Lankan"),
    ("bangali", "Bangladeshi"),
    ("bengali", "Bangladeshi"),
    ("bangla", "Bangladeshi"),
    ("masri", "Egyptian"),
    ("masriya", "Egyptian"),
    ("masreya", "Egyptian"),
    ("urduni", "Jordanian"),
    ("lubnani", "Lebanese"),
    ("filastini", "Palestinian"),
    ("emarati", "Emirati"),
    ("citizen", "Emirati"),
    ("hindustani", "Indian"),
];

/// Places customers name instead of their country.
const PLACES: &[(&str, &str)] =
    &[("emirates", "Emirati"), ("kerala", "Indian"), ("punjab pakistan", "Pakistani")];

/// The nationalities whose names are matched with small typos.
const FUZZY: &[&str] = &[
    "Indian",
    "Pakistani",
    "Bangladeshi",
    "Filipino",
    "Egyptian",
    "Jordanian",
    "Emirati",
    "Palestinian",
    "Lebanese",
    "Sudanese",
    "Nepali",
    "Sri Lankan",
    "Syrian",
    "Iranian",
    "Afghan",
    "British",
    "American",
    "Canadian",
    "Australian",
    "Russian",
    "Ukrainian",
    "Chinese",
    "Moroccan",
    "Tunisian",
    "Algerian",
    "Ethiopian",
    "Nigerian",
    "Kenyan",
    "Ugandan",
    "Indonesian",
    "Malaysian",
    "Turkish",
    "Kuwaiti",
    "Bahraini",
    "Yemeni",
    "Iraqi",
];

/// How a phrase names a nationality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The country ("Pakistan"): it is the customer's only with a cue ("from Pakistan").
    Country,
    /// The people ("Pakistani", "سعودي", "local").
    Demonym,
}

/// One entry of the lexicon.
struct Entry {
    demonym: &'static str,
    kind: Kind,
    fuzzy: bool,
}

/// Every phrase (normalised words joined by spaces) with what it names, built once.
static LEXICON: LazyLock<HashMap<String, Entry>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    let mut add = |phrase: &str, demonym: &'static str, kind: Kind| {
        let key = normalize(phrase);
        if key.is_empty() {
            return;
        }
        let fuzzy = FUZZY.contains(&demonym) && key.is_ascii();
        if key.contains(' ') {
            let joined = key.replace(' ', "");
            map.entry(joined).or_insert(Entry { demonym, kind, fuzzy: false });
        }
        map.entry(key).or_insert(Entry { demonym, kind, fuzzy });
    };
    for n in NATIONALITIES {
        for d in n.demonyms {
            add(d, n.demonym, Kind::Demonym);
        }
        for c in n.countries {
            add(c, n.demonym, Kind::Country);
        }
    }
    for (alias, demonym) in ALIASES {
        add(alias, demonym, Kind::Demonym);
    }
    for (place, demonym) in PLACES {
        add(place, demonym, Kind::Country);
    }
    for (demonym, words) in FOREIGN {
        for word in *words {
            let normalized = normalize(word);
            add(&normalized, demonym, Kind::Demonym);
            if normalized.ends_with('ي') {
                add(&format!("{normalized}ه"), demonym, Kind::Demonym);
                add(&format!("{normalized}ين"), demonym, Kind::Demonym);
            }
        }
    }
    map
});

/// Phrases written without spaces (Chinese), matched inside the text.
static UNSPACED: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    FOREIGN
        .iter()
        .flat_map(|(demonym, words)| words.iter().map(move |w| (*w, *demonym)))
        .filter(|(w, _)| w.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)))
        .collect()
});

/// Words before a country that make it the customer's.
const COUNTRY_CUES: &[&str] = &[
    "from",
    "from the",
    "nationality",
    "nationality is",
    "citizen of",
    "national of",
    "passport",
    "من",
    "جنسيتي",
    "جنسيه",
];

/// Words before a demonym that make it the customer's.
const DEMONYM_CUES: &[&str] = &[
    "i am",
    "i'm",
    "im",
    "i am a",
    "i am an",
    "i'm a",
    "i'm an",
    "am",
    "nationality",
    "nationality is",
    "nationality's",
    "انا",
    "من",
    "جنسيتي",
    "الجنسيه",
    "جنسيه",
    "main",
    "hum",
    "ako ay",
    "ako",
];

/// Words after a nationality that make it the customer's, the passport ones first.
const PASSPORT_AFTER: &[&str] = &["passport", "passport holder", "جواز", "جواز سفر"];
const OWN_AFTER: &[&str] = &[
    "national",
    "citizen",
    "nationality",
    "here",
    "hoon",
    "hun",
    "hu",
    "ho",
    "need",
    "needs",
    "want",
    "looking",
];

/// Fillers a clause may hold beside a demonym and still be only that ("Pakistani here").
const FILLERS: &[&str] =
    &["here", "sir", "please", "pls", "thanks", "i", "am", "a", "an", "im", "i'm", "انا", "hoon"];

/// A nationality named in the text.
#[derive(Debug, Clone, Copy)]
struct Mention {
    demonym: &'static str,
    /// 3 on the passport, 2 "citizen"/"national", 1 named, 0 only the origin.
    rank: u8,
}

/// The customer's nationality, if `text` states it. With `asked` (the nationality
/// question was just asked) any country or demonym counts; otherwise only one introduced
/// as the customer's ("from Pakistan", "I am Indian", "Egyptian national", "Jordanian"
/// on its own). The passport wins over other mentions.
pub(crate) fn nationality(text: &str, asked: bool) -> Option<&'static str> {
    let mut mentions = Vec::new();
    for clause in text.split(['.', ',', '!', '?', ';', '\n', '،', '؟', '(', ')', '/', '&', '+']) {
        let normalized = normalize(clause);
        let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
        mentions.extend(in_clause(&words, asked));
    }
    for (phrase, demonym) in UNSPACED.iter() {
        if text.contains(phrase) {
            mentions.push(Mention { demonym, rank: 1 });
        }
    }
    let best = mentions.iter().map(|m| m.rank).max()?;
    mentions.iter().find(|m| m.rank == best).map(|m| m.demonym)
}

fn in_clause(words: &[&str], asked: bool) -> Vec<Mention> {
    let mut mentions = Vec::new();
    let mut start = 0;
    while start < words.len() {
        let Some((end, entry)) = longest_match(words, start) else {
            start += 1;
            continue;
        };
        let before = &words[..start];
        let after = &words[end..];
        let negated =
            before.last().is_some_and(|w| ["not", "no", "non", "مو", "مش", "ليس", "لست"].contains(w))
                || (entry.demonym == "Emirati"
                    && words[start] == "citizen"
                    && before.last().is_some_and(|w| is_demonym(w)));
        let origin = after
            .first()
            .is_some_and(|w| ["origin", "descent", "background", "roots", "heritage", "born"].contains(w));
        let passport = PASSPORT_AFTER.iter().any(|p| starts_with_phrase(after, p))
            || ends_with_phrase(before, "passport")
            || before.iter().rev().take(4).any(|w| ["hold", "holding", "have", "احمل"].contains(w));
        let cued = match entry.kind {
            // "from Pakistan", and "from Lahore Pakistan" (a city first).
            Kind::Country => COUNTRY_CUES.iter().any(|c| {
                ends_with_phrase(before, c)
                    || before.split_last().is_some_and(|(_, rest)| ends_with_phrase(rest, c))
            }),
            Kind::Demonym => DEMONYM_CUES.iter().any(|c| ends_with_phrase(before, c)),
        };
        let own_after = OWN_AFTER.iter().any(|p| starts_with_phrase(after, p));
        let alone = entry.kind == Kind::Demonym
            && words[..start].iter().chain(&words[end..]).all(|w| FILLERS.contains(w) || is_demonym(w));
        if !negated && (asked || cued || passport || own_after || alone) {
            let rank = if passport {
                3
            } else if origin {
                0
            } else if own_after {
                2
            } else {
                1
            };
            mentions.push(Mention { demonym: entry.demonym, rank });
        }
        start = end;
    }
    mentions
}

fn is_demonym(word: &str) -> bool {
    LEXICON.get(word).is_some_and(|e| e.kind == Kind::Demonym)
}

/// The longest lexicon phrase starting at `start`: exact, without Arabic particles, or
/// (for one Latin word of a large community) within a small edit distance.
fn longest_match(words: &[&str], start: usize) -> Option<(usize, &'static Entry)> {
    for end in (start + 1..=words.len().min(start + 5)).rev() {
        let phrase = words[start..end].join(" ");
        if let Some(entry) = LEXICON.get(&phrase) {
            return Some((end, entry));
        }
    }
    let word = words[start];
    if let Some(entry) = arabic_stems(word).iter().skip(1).find_map(|stem| LEXICON.get(*stem)) {
        return Some((start + 1, entry));
    }
    fuzzy(word).map(|entry| (start + 1, entry))
}

/// Words never read as a typo of a nationality.
const NOT_TYPOS: &[&str] = &["indiana", "indira", "herman", "korean", "italy", "pakistan"];

/// The phrases matched with typos, folded as [`fold_ph`] does, built once.
static FUZZY_KEYS: LazyLock<Vec<(String, &'static Entry)>> = LazyLock::new(|| {
    let mut keys: Vec<(String, &'static Entry)> = LEXICON
        .iter()
        .filter(|(key, entry)| entry.fuzzy && key.len() >= 6 && !key.contains(' '))
        .map(|(key, entry)| (fold_ph(key), entry))
        .collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys
});

fn fuzzy(word: &str) -> Option<&'static Entry> {
    let len = word.chars().count();
    if !(6..=20).contains(&len) || !word.chars().all(|c| c.is_ascii_alphabetic()) || NOT_TYPOS.contains(&word)
    {
        return None;
    }
    let limit = if len >= 8 { 2 } else { 1 };
    let folded = fold_ph(word);
    let first = folded.chars().next();
    FUZZY_KEYS
        .iter()
        .filter(|(key, _)| key.chars().next() == first)
        .map(|(key, entry)| (strsim::osa_distance(&folded, key), *entry))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, entry)| entry)
}

/// "ph" read as "f", so "philipino" and "filipino" are close.
fn fold_ph(word: &str) -> String {
    word.replace("ph", "f").replace("ll", "l").replace("pp", "p")
}

fn ends_with_phrase(words: &[&str], phrase: &str) -> bool {
    let cue: Vec<&str> = phrase.split(' ').collect();
    words.ends_with(&cue)
}

fn starts_with_phrase(words: &[&str], phrase: &str) -> bool {
    let cue: Vec<&str> = phrase.split(' ').collect();
    words.starts_with(&cue)
}

/// The Arabic demonym of a canonical nationality, if the table has one.
pub(crate) fn arabic_demonym(demonym: &str) -> Option<&'static str> {
    FOREIGN.iter().find(|(d, _)| *d == demonym).and_then(|(_, words)| words.first().copied())
}

/// Whether `word` (normalised) names a country or a people; such words are never names.
pub(crate) fn is_nationality_word(word: &str) -> bool {
    LEXICON.contains_key(word) || (word.len() >= 8 && fuzzy(word).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_make_a_nationality_the_customers() {
        assert_eq!(
            nationality("Hi, I'm Ahmed from Pakistan and I need a family visa", false),
            Some("Pakistani")
        );
        assert_eq!(nationality("I am Indian", false), Some("Indian"));
        assert_eq!(nationality("Egyptian national here", false), Some("Egyptian"));
        assert_eq!(nationality("Ahmed Ali, Jordanian", false), Some("Jordanian"));
        assert_eq!(nationality("I want to visit Jordan", false), None);
        assert_eq!(nationality("I'm Chad", false), None);
        assert_eq!(nationality("I'm from the UK", false), Some("British"));
        assert_eq!(nationality("I am Tariq Mehmood from Lahore Pakistan", false), Some("Pakistani"));
    }

    #[test]
    fn anything_counts_when_asked() {
        assert_eq!(nationality("Jordan", true), Some("Jordanian"));
        assert_eq!(nationality("filipino", true), Some("Filipino"));
        assert_eq!(nationality("can you help us", true), None);
        assert_eq!(nationality("how much will it cost?", true), None);
    }

    #[test]
    fn typos_and_aliases_are_understood() {
        for (text, expected) in [
            ("phillipines", "Filipino"),
            ("indain", "Indian"),
            ("Emarati", "Emirati"),
            ("I'm local", "Emirati"),
            ("pinoy po", "Filipino"),
            ("Persian", "Iranian"),
            ("pakistni", "Pakistani"),
            ("egyption", "Egyptian"),
            ("from Kerala", "Indian"),
            ("sri lankan", "Sri Lankan"),
            ("Srilankan", "Sri Lankan"),
        ] {
            assert_eq!(nationality(text, true), Some(expected), "{text}");
        }
        assert_eq!(nationality("I'm local", false), Some("Emirati"));
        assert_eq!(nationality("Herman", true), None);
    }

    #[test]
    fn other_scripts_are_understood() {
        for (text, expected) in [
            ("سعودي", "Saudi"),
            ("انا مصرية", "Egyptian"),
            ("أنا مواطنة", "Emirati"),
            ("من الأردن", "Jordanian"),
            ("جنسيتي هندي", "Indian"),
            ("الجنسية المصرية", "Egyptian"),
            ("پاکستانی", "Pakistani"),
            ("русский", "Russian"),
            ("中国人", "Chinese"),
        ] {
            assert_eq!(nationality(text, false), Some(expected), "{text}");
        }
    }

    #[test]
    fn the_passport_wins() {
        assert_eq!(nationality("British Pakistani, I hold a UK passport", false), Some("British"));
        assert_eq!(nationality("I'm Indian but I have a Canadian passport", false), Some("Canadian"));
        assert_eq!(nationality("not Indian, Pakistani", true), Some("Pakistani"));
    }
}
