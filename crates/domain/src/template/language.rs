//! Meta's template language codes: `en`, `en_US`, `ar`, `fil`, `prs_AF` ...

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language code as Meta names a template's translation: two or three lowercase letters,
/// optionally `_` and a two-letter uppercase region (`en`, `en_US`, `ar`, `fil`, `pt_BR`).
/// Case matters and the separator is an underscore: `en-US` and `EN` are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageCode(String);

/// A text that is not a Meta language code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a Meta language code (such as en, en_US or ar: lowercase language, `_`, uppercase region)"
)]
pub struct LanguageError(String);

impl LanguageCode {
    /// The code, as sent to the Graph API.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LanguageCode {
    type Error = LanguageError;

    fn try_from(code: String) -> Result<Self, LanguageError> {
        let (language, region) = match code.split_once('_') {
            Some((language, region)) => (language, Some(region)),
            None => (code.as_str(), None),
        };
        let language_ok =
            (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
        let region_ok = region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()));
        if language_ok && region_ok { Ok(Self(code)) } else { Err(LanguageError(code)) }
    }
}

impl FromStr for LanguageCode {
    type Err = LanguageError;

    fn from_str(code: &str) -> Result<Self, LanguageError> {
        Self::try_from(code.to_owned())
    }
}

impl From<LanguageCode> for String {
    fn from(code: LanguageCode) -> Self {
        code.0
    }
}

impl fmt::Display for LanguageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_codes_are_accepted_and_look_alikes_refused() {
        for code in ["en", "en_US", "ar", "fil", "pt_BR", "zh_HK", "prs_AF"] {
            assert_eq!(code.parse::<LanguageCode>().map(|c| c.to_string()), Ok(code.to_owned()));
        }
        for code in ["", "e", "en-US", "EN", "en_us", "en_USA", "english", "en_", "_US", "ar_AE_x", " en"] {
            assert!(code.parse::<LanguageCode>().is_err(), "{code:?} was accepted");
        }
    }

    #[test]
    fn serde_checks_the_code_too() {
        let code: LanguageCode = serde_json::from_str("\"en_GB\"").expect("a code");
        assert_eq!(serde_json::to_string(&code).expect("json"), "\"en_GB\"");
        assert!(serde_json::from_str::<LanguageCode>("\"en-GB\"").is_err());
    }
}
