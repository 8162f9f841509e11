//! Webhook bodies as Meta sends them, for every message and status type, and their
//! signatures.
//!
//! Bodies are serialised the way Meta serialises them: non-ASCII as `\uXXXX` escapes and
//! `/` as `\/`, so tests exercise signature checks over the exact raw bytes.

use serde_json::{Value, json};

/// The business phone number id of test payloads.
pub const PHONE_NUMBER_ID: &str = "106540352242922";
/// The business number as displayed.
pub const DISPLAY_PHONE_NUMBER: &str = "15550783881";
/// The app secret test services are configured with.
pub const APP_SECRET: &str = "test-app-secret";
/// The verify token test services are configured with.
pub const VERIFY_TOKEN: &str = "test-verify-token";

/// A customer writing to the business.
#[derive(Debug, Clone)]
pub struct Customer {
    /// WhatsApp id (phone number).
    pub wa_id: String,
    /// Business-scoped user id.
    pub user_id: String,
    /// Profile name.
    pub name: String,
}

impl Customer {
    /// A customer with a unique phone number.
    pub fn unique() -> Self {
        let n = uuid::Uuid::new_v4().as_u128() % 10_000_000_000;
        Self { wa_id: format!("971{n:010}"), user_id: format!("AE.{n}"), name: "Test Customer".to_owned() }
    }
}

/// A fresh wamid.
pub fn unique_wamid() -> String {
    format!("wamid.{}", uuid::Uuid::new_v4().simple())
}

/// Every message type Meta documents, with a representative body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `text`.
    Text,
    /// `image` with a caption.
    Image,
    /// `audio`.
    Audio,
    /// `audio` voice note.
    Voice,
    /// `video`.
    Video,
    /// `document`.
    Document,
    /// `sticker`.
    Sticker,
    /// `location`.
    Location,
    /// `contacts`.
    Contacts,
    /// `interactive` button reply.
    ButtonReply,
    /// `interactive` list reply.
    ListReply,
    /// `interactive` flow reply.
    FlowReply,
    /// `button` (template quick-reply).
    TemplateButton,
    /// `reaction`.
    Reaction,
    /// `order`.
    Order,
    /// `system`.
    System,
    /// `unsupported` with `errors[]`.
    Unsupported,
    /// A type Meta has not documented yet.
    Unknown,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 18] = [
        Kind::Text,
        Kind::Image,
        Kind::Audio,
        Kind::Voice,
        Kind::Video,
        Kind::Document,
        Kind::Sticker,
        Kind::Location,
        Kind::Contacts,
        Kind::ButtonReply,
        Kind::ListReply,
        Kind::FlowReply,
        Kind::TemplateButton,
        Kind::Reaction,
        Kind::Order,
        Kind::System,
        Kind::Unsupported,
        Kind::Unknown,
    ];

    /// The `type` Meta puts on such a message.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Image => "image",
            Kind::Audio | Kind::Voice => "audio",
            Kind::Video => "video",
            Kind::Document => "document",
            Kind::Sticker => "sticker",
            Kind::Location => "location",
            Kind::Contacts => "contacts",
            Kind::ButtonReply | Kind::ListReply | Kind::FlowReply => "interactive",
            Kind::TemplateButton => "button",
            Kind::Reaction => "reaction",
            Kind::Order => "order",
            Kind::System => "system",
            Kind::Unsupported => "unsupported",
            Kind::Unknown => "hologram",
        }
    }
}

/// A message object (`value.messages[]` item) from `customer`.
pub fn message(kind: Kind, customer: &Customer, wamid: &str) -> Value {
    let body = match kind {
        Kind::Text => json!({"text": {"body": "Hello, I need a family visa 👋"}}),
        Kind::Image => json!({"image": {"id": "1001", "mime_type": "image/jpeg",
            "sha256": "aGFzaA==", "caption": "my passport"}}),
        Kind::Audio => json!({"audio": {"id": "1002", "mime_type": "audio/mpeg",
            "sha256": "aGFzaA==", "voice": false}}),
        Kind::Voice => json!({"audio": {"id": "1003", "mime_type": "audio/ogg; codecs=opus",
            "sha256": "aGFzaA==", "voice": true}}),
        Kind::Video => json!({"video": {"id": "1004", "mime_type": "video/mp4",
            "sha256": "aGFzaA=="}}),
        Kind::Document => json!({"document": {"id": "1005", "mime_type": "application/pdf",
            "sha256": "aGFzaA==", "filename": "résumé.pdf", "caption": "CV"}}),
        Kind::Sticker => json!({"sticker": {"id": "1006", "mime_type": "image/webp",
            "sha256": "aGFzaA==", "animated": false}}),
        Kind::Location => json!({"location": {"latitude": 24.2075, "longitude": 55.7447,
            "name": "Al Ain", "address": "Al Ain, UAE", "url": "https://maps.example/x"}}),
        Kind::Contacts => json!({"contacts": [{"name": {"formatted_name": "Omar Ali",
            "first_name": "Omar"}, "phones": [{"phone": "+971500000000", "type": "CELL"}]}]}),
        Kind::ButtonReply => json!({"context": {"from": DISPLAY_PHONE_NUMBER, "id": "wamid.OURS"},
            "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}}),
        Kind::ListReply => json!({"context": {"from": DISPLAY_PHONE_NUMBER, "id": "wamid.OURS"},
            "interactive": {"type": "list_reply", "list_reply": {"id": "row_1",
                "title": "Golden visa", "description": "10 years"}}}),
        Kind::FlowReply => json!({"context": {"from": DISPLAY_PHONE_NUMBER, "id": "wamid.OURS"},
            "interactive": {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent",
                "response_json": "{\"flow_token\":\"abc\"}"}}}),
        Kind::TemplateButton => json!({"context": {"from": DISPLAY_PHONE_NUMBER, "id": "wamid.T"},
            "button": {"payload": "CALL_ME", "text": "Call me"}}),
        Kind::Reaction => json!({"reaction": {"message_id": "wamid.OURS", "emoji": "👍"}}),
        Kind::Order => json!({"order": {"catalog_id": "354160437058781", "text": "",
            "product_items": [{"product_retailer_id": "SKU1", "quantity": 2,
                "item_price": 30, "currency": "AED"}]}}),
        Kind::System => json!({"system": {"body": "User changed number",
            "wa_id": "971500000001", "type": "user_changed_number"}}),
        Kind::Unsupported => json!({"unsupported": {"type": "poll_creation"},
            "errors": [{"code": 131051, "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."}}]}),
        Kind::Unknown => json!({"hologram": {"depth": 3}}),
    };
    let mut message = json!({
        "from": customer.wa_id,
        "id": wamid,
        "timestamp": unix_now().to_string(),
        "type": kind.type_name(),
    });
    merge(&mut message, body);
    message
}

/// A text message object.
pub fn text(customer: &Customer, wamid: &str, body: &str) -> Value {
    let mut m = message(Kind::Text, customer, wamid);
    m["text"]["body"] = Value::String(body.to_owned());
    m
}

/// A status object (`value.statuses[]` item) for one of our outbound messages.
pub fn status(wamid: &str, status: &str, recipient: &str, callback_data: Option<&str>) -> Value {
    let mut s = json!({
        "id": wamid,
        "status": status,
        "timestamp": unix_now().to_string(),
        "recipient_id": recipient,
    });
    if let Some(data) = callback_data {
        s["biz_opaque_callback_data"] = Value::String(data.to_owned());
    }
    if status == "failed" {
        s["errors"] = json!([{"code": 131047, "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {"details": "More than 24 hours have passed since the customer last replied."}}]);
    } else {
        s["pricing"] = json!({"billable": false, "pricing_model": "PMP",
            "type": "free_customer_service", "category": "service"});
    }
    s
}

/// A `messages` change carrying `messages` from `customer`.
pub fn messages_change(customer: &Customer, messages: Vec<Value>) -> Value {
    json!({"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": customer.name}, "wa_id": customer.wa_id, "user_id": customer.user_id}],
        "messages": messages,
    }})
}

/// A `messages` change carrying delivery `statuses` only.
pub fn statuses_change(statuses: Vec<Value>) -> Value {
    json!({"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
        "statuses": statuses,
    }})
}

/// An envelope with one entry per item of `entries`, each holding those changes.
pub fn envelope(entries: Vec<Vec<Value>>) -> Value {
    let entries: Vec<Value> =
        entries.into_iter().map(|changes| json!({"id": "102290129340398", "changes": changes})).collect();
    json!({"object": "whatsapp_business_account", "entry": entries})
}

/// The envelope of a single message from `customer`.
pub fn single_message(customer: &Customer, message: Value) -> Value {
    envelope(vec![vec![messages_change(customer, vec![message])]])
}

/// A body ready to POST, with the `X-Hub-Signature-256` value for it.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The exact bytes to send.
    pub body: Vec<u8>,
    /// The `X-Hub-Signature-256` header value.
    pub signature: String,
}

/// Serialises `envelope` as Meta does and signs it with [`APP_SECRET`].
pub fn signed(envelope: &Value) -> Signed {
    signed_with(envelope, APP_SECRET)
}

/// Serialises `envelope` as Meta does and signs it with `secret`.
pub fn signed_with(envelope: &Value, secret: &str) -> Signed {
    let body = meta_bytes(envelope);
    let signature = whatsapp::signature::sign(secret.as_bytes(), &body);
    Signed { body, signature }
}

/// The `X-Hub-Signature-256` value of raw `body` bytes under [`APP_SECRET`].
pub fn sign_bytes(body: &[u8]) -> String {
    whatsapp::signature::sign(APP_SECRET.as_bytes(), body)
}

/// JSON as Meta writes it: non-ASCII escaped as `\uXXXX`, `/` as `\/`.
pub fn meta_bytes(value: &Value) -> Vec<u8> {
    let plain = value.to_string();
    let mut out = String::with_capacity(plain.len() + 16);
    for c in plain.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.into_bytes()
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        t.extend(e);
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_bytes_escape_like_meta_and_stay_the_same_json() {
        let value = json!({"a": "café / 👋"});
        let bytes = meta_bytes(&value);
        let text = String::from_utf8(bytes.clone()).expect("ascii");
        assert_eq!(text, r#"{"a":"caf\u00e9 \/ \ud83d\udc4b"}"#);
        let back: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(back, value);
    }
}
