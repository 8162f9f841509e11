//! The parser accepts what Meta may send and rejects what is not a WhatsApp envelope.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use domain::webhook::{MessageType, WebhookEnvelope, WebhookError};
use serde_json::json;

fn envelope_with(messages: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "106540352242922"},
            "messages": messages
        }}]}]
    }))
    .expect("serialise")
}

#[test]
fn unknown_type_and_unknown_fields_parse() {
    let body = envelope_with(json!([{
        "from": "16505551234", "id": "wamid.X", "timestamp": "1697043223",
        "type": "hologram", "hologram": {"depth": 3}, "brand_new_field": [1, 2]
    }]));
    let values = WebhookEnvelope::parse(&body).expect("parse").message_values().expect("values");
    let m = &values[0].messages[0].item;
    assert_eq!(m.kind, MessageType::Other("hologram".into()));
    assert_eq!(m.kind.as_str(), "hologram");
    assert_eq!(m.timestamp, Some(1_697_043_223));
}

#[test]
fn a_body_of_the_wrong_shape_keeps_id_sender_and_raw() {
    let body = envelope_with(json!([{
        "from": 16505551234_u64, "id": "wamid.Y", "timestamp": 1697043223,
        "type": "location", "location": {"latitude": "north", "longitude": []}
    }]));
    let values = WebhookEnvelope::parse(&body).expect("parse").message_values().expect("values");
    let captured = &values[0].messages[0];
    assert_eq!(captured.item.id, "wamid.Y");
    assert_eq!(captured.item.from.as_deref(), Some("16505551234"));
    assert_eq!(captured.item.kind, MessageType::Location);
    assert!(captured.item.location.is_none());
    assert!(captured.raw.get().contains("\"north\""));
}

#[test]
fn a_message_without_an_id_is_kept_aside_raw_and_the_others_parse() {
    let body = envelope_with(json!([
        {"from": "1", "type": "text", "text": {"body": "secret words"}},
        {"from": "1", "id": 42, "type": "text"},
        {"from": "1", "id": "wamid.OK", "timestamp": "1", "type": "text", "text": {"body": "hi"}}
    ]));
    let values = WebhookEnvelope::parse(&body).expect("parse").message_values().expect("values");
    assert_eq!(values[0].messages.len(), 1);
    assert_eq!(values[0].unparsed.len(), 2);
    assert!(values[0].unparsed[0].raw.get().contains("secret words"), "kept raw");
    assert!(!values[0].unparsed[0].reason.contains("secret"), "{}", values[0].unparsed[0].reason);
    assert!(values[0].unparsed[0].reason.contains("missing field"), "{}", values[0].unparsed[0].reason);
}

#[test]
fn not_json_or_not_whatsapp_is_rejected() {
    assert!(matches!(WebhookEnvelope::parse(b"not json"), Err(WebhookError::Malformed(_))));
    assert!(matches!(WebhookEnvelope::parse(b"[1,2]"), Err(WebhookError::Malformed(_))));
    let page = json!({"object": "page", "entry": []}).to_string();
    assert!(matches!(WebhookEnvelope::parse(page.as_bytes()), Err(WebhookError::NotWhatsApp)));
}

#[test]
fn null_lists_and_other_fields_are_empty_not_errors() {
    let body = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [
            {"id": 42, "changes": null},
            {"id": "2", "changes": [
                {"field": "account_update", "value": {"event": "ACCOUNT_DELETED"}},
                {"field": "messages", "value": {"messages": null, "statuses": null}}
            ]}
        ]
    }))
    .expect("serialise");
    let values = WebhookEnvelope::parse(&body).expect("parse").message_values().expect("values");
    assert_eq!(values.len(), 1);
    assert!(values[0].messages.is_empty() && values[0].statuses.is_empty());
}
