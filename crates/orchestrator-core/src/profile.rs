//! The business facts the bot may tell customers, as the operator configures them.

use serde::Deserialize;

/// Facts about the business, read from the operator's TOML file (`BUSINESS_PROFILE`).
/// Every field is optional: a fact that is not configured is never invented, and the
/// customer is told the team will tell them when they call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusinessProfile {
    /// Where the office is, in English.
    pub address: Option<String>,
    /// Where the office is, in Arabic (the English text is used when this is missing).
    pub address_ar: Option<String>,
    /// Opening hours, in English.
    pub hours: Option<String>,
    /// Opening hours, in Arabic.
    pub hours_ar: Option<String>,
    /// The languages the team speaks, in English ("English", "Arabic", ...).
    pub languages: Option<Vec<String>>,
    /// One sentence on how fees are quoted, in English.
    pub fees: Option<String>,
    /// The same, in Arabic.
    pub fees_ar: Option<String>,
    /// One sentence on the documents customers usually need, in English.
    pub documents: Option<String>,
    /// The same, in Arabic.
    pub documents_ar: Option<String>,
}

/// Why a profile could not be read.
#[derive(Debug, thiserror::Error)]
#[error("business profile: {0}")]
pub struct ProfileError(#[from] toml::de::Error);

impl BusinessProfile {
    /// Reads a profile from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ProfileError> {
        Ok(toml::from_str(text)?)
    }

    /// Whether the team speaks a language (named in English, any case).
    pub fn speaks(&self, language: &str) -> Option<bool> {
        self.languages.as_ref().map(|all| all.iter().any(|l| l.eq_ignore_ascii_case(language)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_profile_parses_and_nothing_is_required() {
        let text = include_str!("../../../deploy/business-profile.example.toml");
        let profile = BusinessProfile::from_toml(text).expect("example profile");
        assert!(profile.address.is_some() && profile.hours.is_some() && profile.fees.is_some());
        assert_eq!(profile.speaks("arabic"), Some(true));
        assert_eq!(BusinessProfile::from_toml("").expect("empty"), BusinessProfile::default());
        assert!(BusinessProfile::from_toml("adress = \"typo\"").is_err(), "unknown keys are refused");
    }
}
