//! The outer layers of a webhook: envelope, entries, changes and the `messages` value.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::lenient;
use super::message::Message;
use super::status::Status;

/// The `object` of every WhatsApp Business webhook.
pub const WHATSAPP_BUSINESS_ACCOUNT: &str = "whatsapp_business_account";

/// Why a body is not a WhatsApp webhook envelope.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The body is not JSON of the envelope's shape.
    #[error("body is not a webhook envelope: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The envelope's `object` is not `whatsapp_business_account`.
    #[error("webhook object is not {WHATSAPP_BUSINESS_ACCOUNT}")]
    NotWhatsApp,
    /// A `messages` change whose value could not be read.
    #[error("change value is not a messages value: {0}")]
    BadChangeValue(serde_json::Error),
}

/// The top level of a webhook body.
#[derive(Debug, Deserialize)]
pub struct WebhookEnvelope {
    /// Always `whatsapp_business_account` for WhatsApp.
    pub object: String,
    /// One entry per WhatsApp Business Account; Meta batches up to 1,000 updates.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub entry: Vec<Entry>,
}

impl WebhookEnvelope {
    /// Parses a raw webhook body and checks it is a WhatsApp envelope. Escapes Postgres
    /// cannot store (NUL, half a surrogate pair) become U+FFFD first (see
    /// [`crate::storable_json::storable_json`]), so such a message is stored, text and all, rather than
    /// refused on every redelivery. Verify the signature on the body as received, before.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let repaired = std::str::from_utf8(body).map(crate::storable_json);
        let body = repaired.as_ref().map_or(body, |text| text.as_bytes());
        let envelope: Self = serde_json::from_slice(body)?;
        if envelope.object != WHATSAPP_BUSINESS_ACCOUNT {
            return Err(WebhookError::NotWhatsApp);
        }
        Ok(envelope)
    }

    /// Every `messages` change value of every entry, in payload order.
    pub fn message_values(&self) -> Result<Vec<ChangeValue>, WebhookError> {
        let mut values = Vec::new();
        for entry in &self.entry {
            for change in &entry.changes {
                if let Some(value) = change.messages_value()? {
                    values.push(value);
                }
            }
        }
        Ok(values)
    }
}

/// One WhatsApp Business Account's updates.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    /// The changes; for messages and statuses `field` is `messages`.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub changes: Vec<Change>,
}

/// One change. Only `field == "messages"` matters to the pipeline; other fields (account,
/// template and call updates) are acknowledged and ignored, so their values are kept raw.
#[derive(Debug, Deserialize)]
pub struct Change {
    /// Which subscription this change belongs to (`messages`, `account_update`, ...).
    #[serde(default)]
    pub field: String,
    /// The change's value, parsed on demand.
    pub value: Option<Box<RawValue>>,
}

impl Change {
    /// The parsed value when this is a `messages` change.
    pub fn messages_value(&self) -> Result<Option<ChangeValue>, WebhookError> {
        match (&*self.field, &self.value) {
            ("messages", Some(raw)) => {
                serde_json::from_str(raw.get()).map(Some).map_err(WebhookError::BadChangeValue)
            }
            _ => Ok(None),
        }
    }
}

/// The value of a `messages` change. A message or status that does not parse, even as its
/// minimal header (no `id`, an `id` that is not a string, a number serde cannot read), is
/// kept raw in [`ChangeValue::unparsed`] instead of failing the whole change.
#[derive(Debug, Default, Deserialize)]
#[serde(from = "RawChangeValue")]
pub struct ChangeValue {
    /// Always `whatsapp`.
    pub messaging_product: Option<String>,
    /// The business phone number the update concerns.
    pub metadata: Option<Metadata>,
    /// Profiles of the customers who sent `messages`.
    pub contacts: Vec<WebhookContact>,
    /// Inbound messages.
    pub messages: Vec<Captured<Message>>,
    /// Delivery statuses of messages we sent.
    pub statuses: Vec<Captured<Status>>,
    /// Messages and statuses that could not be read, as received.
    pub unparsed: Vec<Unparsed>,
    /// `contacts[]` as received, for keeping with an item set aside.
    pub raw_contacts: Option<Box<RawValue>>,
    /// System or app problems reported by Meta rather than messages.
    pub errors: Vec<ApiError>,
}

/// Which list an item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// `messages[]`.
    Message,
    /// `statuses[]`.
    Status,
}

/// A message or status that does not parse.
#[derive(Debug)]
pub struct Unparsed {
    /// Its list.
    pub kind: ItemKind,
    /// The item's JSON, byte for byte as received.
    pub raw: Box<RawValue>,
    /// Why it does not parse, without the values it holds (`missing field `id``,
    /// `invalid type: integer, expected a string`).
    pub reason: String,
}

/// The wire shape of [`ChangeValue`], items still raw.
#[derive(Deserialize)]
struct RawChangeValue {
    messaging_product: Option<String>,
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    messages: Vec<Box<RawValue>>,
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    statuses: Vec<Box<RawValue>>,
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    errors: Vec<ApiError>,
}

impl From<RawChangeValue> for ChangeValue {
    fn from(raw: RawChangeValue) -> Self {
        let mut unparsed = Vec::new();
        let messages = capture_all(raw.messages, ItemKind::Message, &mut unparsed);
        let statuses = capture_all(raw.statuses, ItemKind::Status, &mut unparsed);
        let contacts = raw
            .contacts
            .as_ref()
            .and_then(|c| serde_json::from_str::<Option<Vec<WebhookContact>>>(c.get()).ok().flatten())
            .unwrap_or_default();
        Self {
            messaging_product: raw.messaging_product,
            metadata: raw.metadata,
            contacts,
            messages,
            statuses,
            unparsed,
            raw_contacts: raw.contacts,
            errors: raw.errors,
        }
    }
}

fn capture_all<T: Recover>(
    items: Vec<Box<RawValue>>,
    kind: ItemKind,
    unparsed: &mut Vec<Unparsed>,
) -> Vec<Captured<T>> {
    let mut captured = Vec::with_capacity(items.len());
    for raw in items {
        match capture::<T>(raw) {
            Ok(item) => captured.push(item),
            Err((raw, e)) => unparsed.push(Unparsed { kind, raw, reason: without_values(&e) }),
        }
    }
    captured
}

/// A serde error's message with the quoted values and the position cut out, so it can be
/// logged and shown: `invalid type: string "…", expected i64` keeps only its shape.
fn without_values(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.split(" at line ").next().unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => {}
            None => {
                if c == '"' {
                    quote = Some(c);
                    out.push_str("\"…");
                    continue;
                }
                out.push(c);
            }
        }
    }
    out.replace("\"…\"", "…").chars().take(200).collect()
}

impl ChangeValue {
    /// The profile Meta sent for a sender, matched on `wa_id` or the business-scoped id.
    pub fn contact_for(&self, message: &Message) -> Option<&WebhookContact> {
        self.contacts.iter().find(|c| {
            (c.wa_id.is_some() && c.wa_id == message.from)
                || (c.user_id.is_some() && c.user_id == message.from_user_id)
        })
    }
}

/// The business phone number of a change.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Metadata {
    /// The number as shown to customers.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub display_phone_number: Option<String>,
    /// The Graph API id of the number, used in send URLs.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub phone_number_id: Option<String>,
}

/// A customer profile in `value.contacts[]`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct WebhookContact {
    /// The customer's WhatsApp id (their phone number); missing for username-only users.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub wa_id: Option<String>,
    /// The business-scoped user id (BSUID).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub user_id: Option<String>,
    /// The customer's profile.
    pub profile: Option<Profile>,
}

/// A customer's WhatsApp profile.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Profile {
    /// The name the customer chose for their profile.
    pub name: Option<String>,
}

/// An error object, as found in `value.errors[]`, `statuses[].errors[]` and
/// `messages[].errors[]`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ApiError {
    /// Meta's numeric error code (131051, 131047, ...).
    pub code: Option<i64>,
    /// A short title.
    pub title: Option<String>,
    /// A message.
    pub message: Option<String>,
    /// Details.
    pub error_data: Option<ErrorData>,
    /// A link to Meta's error-code page.
    pub href: Option<String>,
}

/// `error_data` of an [`ApiError`].
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ErrorData {
    /// Human-readable details.
    pub details: Option<String>,
}

/// A parsed item together with the exact JSON it was parsed from, so the original can be
/// stored even when it carries fields this crate does not model.
#[derive(Debug)]
pub struct Captured<T> {
    /// The item's JSON, byte for byte as received.
    pub raw: Box<RawValue>,
    /// The parsed item.
    pub item: T,
}

/// Items that can be recovered from a minimal header when their full shape does not parse.
pub(crate) trait Recover: DeserializeOwned {
    /// The minimal shape, holding at least the item's id.
    type Header: DeserializeOwned + Into<Self>;
}

/// Parses `raw`, or its minimal header when the full shape does not match; gives `raw`
/// back with the error when neither parses.
fn capture<T: Recover>(raw: Box<RawValue>) -> Result<Captured<T>, (Box<RawValue>, serde_json::Error)> {
    let item = match serde_json::from_str::<T>(raw.get()) {
        Ok(item) => item,
        Err(_) => match serde_json::from_str::<T::Header>(raw.get()) {
            Ok(header) => header.into(),
            Err(e) => return Err((raw, e)),
        },
    };
    Ok(Captured { raw, item })
}

impl<'de, T: Recover> Deserialize<'de> for Captured<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        capture(raw).map_err(|(_, e)| D::Error::custom(e))
    }
}
