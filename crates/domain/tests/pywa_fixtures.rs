//! Every real-world webhook body in `fixtures/pywa-updates` parses, and every message and
//! status in it comes out with its id, type and raw JSON.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::path::PathBuf;

use domain::webhook::{MessageType, StatusKind, WebhookEnvelope};
use serde_json::Value;

fn fixture_cases() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pywa-updates");
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixture directory") {
        let path = entry.expect("fixture entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("fixture file");
            let file: serde_json::Map<String, Value> = serde_json::from_str(&text).expect("fixture JSON");
            let stem = path.file_stem().expect("stem").to_string_lossy().into_owned();
            cases.extend(file.into_iter().map(|(k, v)| (format!("{stem}/{k}"), v)));
        }
    }
    assert!(cases.len() > 60, "expected the whole pywa fixture set, got {}", cases.len());
    cases
}

#[test]
fn every_fixture_parses_with_every_item() {
    for (name, body) in fixture_cases() {
        let bytes = serde_json::to_vec(&body).expect("serialise");
        let envelope = WebhookEnvelope::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let values = envelope.message_values().unwrap_or_else(|e| panic!("{name}: {e}"));

        let expected: Vec<&Value> = body["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|e| e["changes"].as_array().into_iter().flatten())
            .filter(|c| c["field"] == "messages")
            .collect();
        assert_eq!(values.len(), expected.len(), "{name}: messages changes");

        for (value, change) in values.iter().zip(expected) {
            let raw_messages = change["value"]["messages"].as_array().cloned().unwrap_or_default();
            assert_eq!(value.messages.len(), raw_messages.len(), "{name}: messages");
            for (m, raw) in value.messages.iter().zip(&raw_messages) {
                assert_eq!(m.item.id, raw["id"].as_str().expect("id"), "{name}");
                assert_eq!(m.item.kind.as_str(), raw["type"].as_str().expect("type"), "{name}");
                assert_ne!(m.item.kind, MessageType::Missing, "{name}");
                let reparsed: Value = serde_json::from_str(m.raw.get()).expect("raw JSON");
                assert_eq!(&reparsed, raw, "{name}: raw kept byte for byte");
                assert!(m.item.timestamp.is_some(), "{name}: timestamp");
            }
            let raw_statuses = change["value"]["statuses"].as_array().cloned().unwrap_or_default();
            assert_eq!(value.statuses.len(), raw_statuses.len(), "{name}: statuses");
            for (s, raw) in value.statuses.iter().zip(&raw_statuses) {
                assert_eq!(s.item.id, raw["id"].as_str().expect("id"), "{name}");
                assert_eq!(s.item.status.as_str(), raw["status"].as_str().expect("status"));
                assert!(!matches!(s.item.status, StatusKind::Other(_)), "{name}");
            }
        }
    }
}

#[test]
fn text_is_found_in_text_buttons_lists_and_captions() {
    let cases = fixture_cases();
    let find = |name: &str| {
        let (_, body) = cases.iter().find(|(n, _)| n == name).expect(name);
        let bytes = serde_json::to_vec(body).expect("serialise");
        let envelope = WebhookEnvelope::parse(&bytes).expect("parse");
        let values = envelope.message_values().expect("values");
        values[0].messages[0].item.clone()
    };
    assert_eq!(find("message/text").text(), Some("Body Text"));
    assert!(find("callback_button/button").text().is_some());
    assert!(find("callback_button/quick_reply").text().is_some());
    assert!(find("callback_selection/callback").text().is_some());
    assert_eq!(find("message/reaction").text(), None);
    assert_eq!(find("message/current_location").text(), None);
}
