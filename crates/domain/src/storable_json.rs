//! JSON text that Postgres `jsonb` accepts.
//!
//! A webhook body can be valid enough for the envelope parser and still be refused by
//! `jsonb`: a `\u0000` escape (jsonb has no NUL), or half of a UTF-16 surrogate pair such as
//! `\ud83d` without its `\udc4b` (an emoji cut in two by the sender's client). Refusing the
//! message would fail the whole delivery, and Meta would redeliver it for days, failing each
//! time. Each such escape becomes `\ufffd` (the replacement character) instead; everything
//! else is kept byte for byte.

use std::borrow::Cow;

/// `raw` (JSON text) with NUL escapes and unpaired surrogate escapes replaced by `\ufffd`;
/// borrowed unchanged when it has none.
pub fn storable_json(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        // In JSON text a backslash only starts an escape inside a string.
        let Some(unit) = escaped_unit(bytes, i) else {
            i += 2;
            continue;
        };
        let paired = is_high(unit) && escaped_unit(bytes, i + 6).is_some_and(is_low);
        if paired {
            i += 12;
            continue;
        }
        if unit == 0 || is_high(unit) || is_low(unit) {
            let out = out.get_or_insert_with(|| String::with_capacity(raw.len()));
            out.push_str(&raw[copied..i]);
            out.push_str("\\ufffd");
            copied = i + 6;
        }
        i += 6;
    }
    match out {
        None => Cow::Borrowed(raw),
        Some(mut out) => {
            out.push_str(&raw[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The code unit of a `\uXXXX` escape starting at `at`, if there is one.
fn escaped_unit(bytes: &[u8], at: usize) -> Option<u16> {
    let escape = bytes.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&escape[2..]).ok()?;
    u16::from_str_radix(hex, 16).ok()
}

fn is_high(unit: u16) -> bool {
    (0xD800..=0xDBFF).contains(&unit)
}

fn is_low(unit: u16) -> bool {
    (0xDC00..=0xDFFF).contains(&unit)
}

#[cfg(test)]
mod tests {
    use super::storable_json;

    #[test]
    fn clean_json_is_borrowed_unchanged() {
        let raw = r#"{"text":{"body":"Hi \ud83d\udc4b caf\u00e9 \\u0000 \"q\" \/"}}"#;
        assert!(matches!(storable_json(raw), std::borrow::Cow::Borrowed(s) if s == raw));
    }

    #[test]
    fn nul_and_unpaired_surrogates_become_replacement_characters() {
        assert_eq!(storable_json(r#"{"a":"x\u0000y"}"#), r#"{"a":"x\ufffdy"}"#);
        assert_eq!(storable_json(r#"{"a":"emoji \ud83d"}"#), r#"{"a":"emoji \ufffd"}"#);
        assert_eq!(storable_json(r#"{"a":"\udc4b first"}"#), r#"{"a":"\ufffd first"}"#);
        assert_eq!(storable_json(r#"{"\uD83D":1}"#), r#"{"\ufffd":1}"#);
        assert_eq!(storable_json(r#"["\ud83d\ud83d\udc4b"]"#), r#"["\ufffd\ud83d\udc4b"]"#);
        assert_eq!(storable_json(r#"["\ud83d\n"]"#), r#"["\ufffd\n"]"#);
    }

    #[test]
    fn the_result_is_json_a_strict_parser_accepts() {
        for raw in [r#"{"a":"\ud83d"}"#, r#"{"\udfff":"\u0000"}"#, r#"["\\\ud800", "\\ud800"]"#] {
            let fixed = storable_json(raw);
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(&fixed);
            assert!(parsed.is_ok(), "{raw} → {fixed}: {parsed:?}");
        }
    }
}
