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
        self.contains_normalized(&normalize(phrase))
    }

    /// Whether `phrase`, already normalised, occurs as whole words.
    pub(crate) fn contains_normalized(&self, phrase: &str) -> bool {
        self.0
            .match_indices(phrase)
            .any(|(i, _)| self.0[..i].ends_with(' ') && self.0[i + phrase.len()..].starts_with(' '))
    }

    /// The words, in order.
    pub(crate) fn words(&self) -> impl Iterator<Item = &str> {
        self.0.split_whitespace()
    }
}

/// Lower case, punctuation to spaces, Arabic variants folded, single spaces, trimmed.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ى' => 'ي',
            'ة' => 'ه',
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
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let text = Normalized::new("I need a Visa, please");
        assert!(text.contains_phrase("visa"));
        assert!(text.contains_phrase("need a visa"));
        assert!(!text.contains_phrase("vis"));
    }
}
