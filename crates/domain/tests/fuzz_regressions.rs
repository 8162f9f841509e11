//! Inputs the `webhook_envelope` fuzz target found, kept in `fuzz/regressions/webhook_envelope/`
//! (see docs/FUZZING.md): half of a UTF-16 surrogate pair (`\ud83d` without its `\udc4b`),
//! in an object key and at the end of a text. Postgres `jsonb` refuses such an escape, so
//! ingest failed the whole delivery, and Meta redelivered it for days, failing each time.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use domain::webhook::WebhookEnvelope;

/// The raw JSON and text of every message `body` carries, as ingest would store them.
fn messages(body: &[u8]) -> Vec<(String, Option<String>)> {
    let envelope = WebhookEnvelope::parse(body).expect("ingest accepts the envelope");
    let values = envelope.message_values().expect("ingest accepts the messages values");
    values
        .iter()
        .flat_map(|v| &v.messages)
        .map(|m| (m.raw.get().to_owned(), m.item.text().map(str::to_owned)))
        .collect()
}

fn assert_storable(raw: &str) {
    let strict = serde_json::from_str::<serde_json::Value>(raw);
    assert!(strict.is_ok(), "jsonb would refuse {raw}: {strict:?}");
    assert!(raw.contains("\\ufffd"), "the broken escape became U+FFFD: {raw}");
}

#[test]
fn a_lone_surrogate_in_a_message_key_is_stored_as_a_replacement_character() {
    let messages = messages(include_bytes!(
        "../../../fuzz/regressions/webhook_envelope/lone-surrogate-in-raw-json.json"
    ));
    assert_eq!(messages.len(), 1);
    assert_storable(&messages[0].0);
}

#[test]
fn half_an_emoji_at_the_end_of_a_text_keeps_the_text() {
    let messages =
        messages(include_bytes!("../../../fuzz/regressions/webhook_envelope/lone-surrogate-in-text.json"));
    assert_eq!(messages.len(), 1);
    assert_storable(&messages[0].0);
    assert_eq!(messages[0].1.as_deref(), Some("I need a family visa \u{FFFD}"));
}
