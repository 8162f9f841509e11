//! Text as the extractors compare it: lower case, punctuation as spaces, Arabic letter
//! variants folded (so أ إ آ ا match, and ى ي, ة ه), diacritics dropped.

/// Normalised text, padded with a space at each end so phrases match whole words only.
#[derive(Debug, Clone)]
pub(crate) struct Normalized(String);

impl Normalized {
    pub(crate) fn new(text: &str) -> Self {
        Self(format!(" {} ", normalize(text)))
    }

    /// Whether `phrase` occurs as whole words.
    pub(crate) fn contains_phrase(&self, phrase: &str) -> bool {
        with_normalized(phrase, |normalized| self.contains_normalized(normalized))
    }

    /// Whether `phrase`, already normalised, occurs as whole words.
    pub(crate) fn contains_normalized(&self, phrase: &str) -> bool {
        self.find_normalized(phrase).is_some()
    }

    /// Where `phrase`, already normalised, first occurs as whole words (a byte offset).
    /// Messages are short and tables long, so each word start is compared in place rather
    /// than building a substring searcher per phrase.
    pub(crate) fn find_normalized(&self, phrase: &str) -> Option<usize> {
        if phrase.is_empty() {
            return None;
        }
        let text = self.0.as_bytes();
        let phrase = phrase.as_bytes();
        (0..text.len()).find(|&i| {
            i > 0
                && text[i - 1] == b' '
                && text[i..].starts_with(phrase)
                && text.get(i + phrase.len()) == Some(&b' ')
        })
    }

    /// Whether the whole text is `phrase`.
    pub(crate) fn is_exactly(&self, phrase: &str) -> bool {
        with_normalized(phrase, |normalized| self.0.trim() == normalized)
    }

    /// The normalised text, without its padding.
    pub(crate) fn as_str(&self) -> &str {
        self.0.trim()
    }

    /// The words, in order.
    pub(crate) fn words(&self) -> impl Iterator<Item = &str> {
        self.0.split_whitespace()
    }
}

/// Most phrases remembered per thread: the keyword tables hold a few thousand.
const PHRASE_CACHE_LIMIT: usize = 20_000;

thread_local! {
    /// Keyword phrases normalised once: the extractors look up the same tables on every
    /// message, and normalising a phrase costs far more than finding it.
    static NORMALIZED_PHRASES: std::cell::RefCell<std::collections::HashMap<String, String>> =
        std::cell::RefCell::default();
}

/// Calls `f` with `phrase` normalised, normalising each distinct phrase once per thread.
fn with_normalized<T>(phrase: &str, f: impl FnOnce(&str) -> T) -> T {
    NORMALIZED_PHRASES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(phrase) {
            if cache.len() >= PHRASE_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(phrase.to_owned(), normalize(phrase));
        }
        f(cache.get(phrase).map_or("", String::as_str))
    })
}

/// `text` with Arabic-Indic and Persian digits as ASCII digits, nothing else changed.
pub(crate) fn fold_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '٠'..='٩' => char::from_digit(u32::from(c) - 0x0660, 10).unwrap_or(c),
            '۰'..='۹' => char::from_digit(u32::from(c) - 0x06F0, 10).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// `text` normalised, each Arabic word without its attached conjunction and preposition
/// (the article kept): "بالمنطقة الحرة" reads "المنطقه الحره".
pub(crate) fn without_particles(text: &str) -> String {
    normalize(text)
        .split(' ')
        .map(|w| {
            let arabic = w.chars().next().is_some_and(|c| ('\u{0600}'..='\u{06FF}').contains(&c));
            if !arabic {
                return w.to_owned();
            }
            let mut rest = w;
            if let Some(stripped) = ["و", "ف"].iter().find_map(|p| rest.strip_prefix(p))
                && stripped.chars().count() >= 3
            {
                rest = stripped;
            }
            if let Some(stripped) = rest.strip_prefix("لل") {
                return format!("ال{stripped}");
            }
            match ["ب", "ك", "ل"].iter().find_map(|p| rest.strip_prefix(p)) {
                Some(stripped) if stripped.starts_with("ال") => stripped.to_owned(),
                _ => rest.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A normalised Arabic word and the forms it takes without its attached conjunction
/// (و ف), preposition (ب ل ك) and article (ال): "والاقامه" gives "الاقامه", "اقامه".
pub(crate) fn arabic_stems(word: &str) -> Vec<&str> {
    let mut stems = vec![word];
    let mut rest = word;
    for prefixes in [&["و", "ف"][..], &["ب", "ل", "ك"], &["ال", "ل"]] {
        if let Some(stripped) = prefixes.iter().find_map(|p| rest.strip_prefix(p))
            && stripped.chars().count() >= 2
        {
            rest = stripped;
            stems.push(rest);
        }
    }
    stems
}

/// Lower case, punctuation to spaces, Arabic variants folded, single spaces, trimmed.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ى' | 'ئ' => 'ي',
            'ؤ' => 'و',
            'ة' => 'ه',
            '٠'..='٩' => char::from_digit(u32::from(c) - 0x0660, 10).unwrap_or(c),
            '۰'..='۹' => char::from_digit(u32::from(c) - 0x06F0, 10).unwrap_or(c),
            'ـ' | '\u{064B}'..='\u{0652}' => continue,
            c if c.is_alphanumeric() || c == '\'' => c,
            _ => ' ',
        };
        out.extend(c.to_lowercase());
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_punctuation_and_arabic_variants_fold() {
        assert_eq!(normalize("  Hi,   I'm AHMED!! "), "hi i'm ahmed");
        assert_eq!(normalize("free-zone"), "free zone");
        assert_eq!(normalize("الإقامة"), normalize("الاقامة"));
        assert_eq!(normalize("تأشيرة"), normalize("تاشيره"));
        assert_eq!(normalize("٨ بالليل"), "8 بالليل");
        assert_eq!(normalize("۵"), "5");
    }

    #[test]
    fn attached_particles_come_off_arabic_words() {
        assert_eq!(arabic_stems("والاقامه"), ["والاقامه", "الاقامه", "اقامه"]);
        assert_eq!(arabic_stems("بالليل"), ["بالليل", "الليل", "ليل"]);
        assert_eq!(arabic_stems("للشركه"), ["للشركه", "لشركه", "شركه"]);
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let text = Normalized::new("I need a Visa, please");
        assert!(text.contains_phrase("visa"));
        assert!(text.contains_phrase("need a visa"));
        assert!(!text.contains_phrase("vis"));
    }
}
