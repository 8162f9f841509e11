//! Masking contact details in text that comes from outside and ends up in logs, such as the
//! error messages of the Graph API: they are not meant to hold customer data, but nothing
//! guarantees it.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// Seven or more digits, optionally after `+` and separated by spaces, dots or dashes: a phone
/// number or a WhatsApp id.
static PHONE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\+?\d(?:[ .\-]?\d){6,}").unwrap_or_else(|e| unreachable!("valid regex: {e}"))
});

/// Something shaped like an e-mail address.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[^\s@<>()\[\]]+@[^\s@<>()\[\]]+\.[A-Za-z]{2,}")
        .unwrap_or_else(|e| unreachable!("valid regex: {e}"))
});

/// `text` with phone numbers replaced by `<number>` and e-mail addresses by `<email>`.
/// Borrows when there is nothing to mask.
pub fn contact_details(text: &str) -> Cow<'_, str> {
    match EMAIL.replace_all(text, "<email>") {
        Cow::Borrowed(text) => PHONE_NUMBER.replace_all(text, "<number>"),
        Cow::Owned(masked) => Cow::Owned(PHONE_NUMBER.replace_all(&masked, "<number>").into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_and_emails_are_masked() {
        assert_eq!(
            contact_details(
                "Recipient +44 7700 900123 (wa 447700900123) or ana.lima@example.com.br is invalid"
            ),
            "Recipient <number> (wa <number>) or <email> is invalid"
        );
        assert_eq!(contact_details("call 555-0100-22"), "call <number>");
    }

    #[test]
    fn error_codes_and_ordinary_text_are_kept() {
        let text = "(#131026) Message undeliverable: retry after 30 s, code 130429";
        assert!(matches!(contact_details(text), Cow::Borrowed(t) if t == text));
    }
}
