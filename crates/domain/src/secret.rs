//! Secrets from configuration: never printed, compared in constant time.

use std::fmt;
use std::str::FromStr;

use subtle::ConstantTimeEq;

/// A secret value (token, app secret). `Debug` and `Display` print `<redacted>`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` equals the secret, in time independent of where they differ.
    /// An empty candidate never matches.
    pub fn matches(&self, candidate: &str) -> bool {
        !candidate.is_empty() && self.0.as_bytes().ct_eq(candidate.as_bytes()).into()
    }

    /// `Ok` when the secret can protect anything: not empty or blank, and not a placeholder
    /// of the example manifests (`PLACEHOLDER_…`, `change-me`, `replace-me`, `<…>`) or an
    /// unexpanded `${VAR}`. `variable` names the setting in the error.
    pub fn check_usable(&self, variable: &'static str) -> Result<(), UnusableSecret> {
        let value = self.0.trim();
        if value.is_empty() {
            return Err(UnusableSecret::Empty { variable });
        }
        if is_placeholder(value) {
            return Err(UnusableSecret::Placeholder { variable });
        }
        Ok(())
    }
}

/// A configured secret that would protect nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnusableSecret {
    /// Set, but empty or blank.
    #[error("{variable} is empty: set it to the real secret")]
    Empty {
        /// The environment variable.
        variable: &'static str,
    },
    /// Still the placeholder of an example manifest.
    #[error("{variable} is a placeholder value: set it to the real secret")]
    Placeholder {
        /// The environment variable.
        variable: &'static str,
    },
}

/// Values the example manifests ship (deploy/k8s/base/secret.example.yaml) and their usual
/// spellings elsewhere.
fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let squashed: String = lower.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    lower.starts_with("placeholder")
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.starts_with("${") && value.ends_with('}'))
        || ["changeme", "replaceme", "changethis", "replacethis", "secret", "token", "xxx", "todo"]
            .iter()
            .any(|p| squashed == *p || squashed.starts_with(&format!("{p}please")))
        || squashed.starts_with("changeme")
        || squashed.starts_with("replaceme")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn never_printed_and_compared_exactly() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert!(s.matches("hunter2"));
        assert!(!s.matches("hunter3"));
        assert!(!s.matches("hunter"));
        assert!(!s.matches(""));
        assert!(!Secret::new("").matches(""), "an empty token matches nothing");
    }

    #[test]
    fn empty_and_placeholder_values_are_unusable() {
        for bad in [
            "",
            "  ",
            "PLACEHOLDER_APP_SECRET",
            "change-me",
            "CHANGE_ME",
            "replace-me",
            "<app secret>",
            "${CRON_SECRET}",
        ] {
            assert!(Secret::new(bad).check_usable("X").is_err(), "{bad:?}");
        }
        let empty = Secret::new("").check_usable("WHATSAPP_APP_SECRET");
        assert!(empty.is_err_and(|e| e.to_string().contains("WHATSAPP_APP_SECRET")));
        for good in ["dev-only-app-secret", "3f1c9e0a7b2d", "changed-meanwhile-x9"] {
            assert_eq!(Secret::new(good).check_usable("X"), Ok(()), "{good:?}");
        }
    }
}
