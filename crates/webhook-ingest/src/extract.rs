//! Turns parsed webhook values into the rows `store` writes, and sets aside (for
//! quarantine) the items that cannot be stored or must not be answered.

use chrono::{DateTime, Utc};
use domain::callback::parse_outbound_callback_data;
use domain::webhook::{self, ApiError, ChangeValue, Message, Status};
use store::ingest::{Delivery, InboundRecord, IngestBatch, StatusRecord};
use store::quarantine::{self, ItemKind, QuarantineRecord};

/// What this deployment accepts of a delivery.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The business numbers served; empty serves any.
    pub phone_number_ids: Vec<String>,
    /// Most messages and statuses stored from one delivery; the rest are quarantined.
    pub max_items: usize,
}

/// Why an item was set aside before reaching Postgres: the `cause` label of
/// `webhook_quarantined_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// It does not parse, even as its minimal header.
    Unparsable,
    /// Its change has no `metadata.phone_number_id`.
    NoBusinessNumber,
    /// Its `phone_number_id` is not all digits.
    BadBusinessNumber,
    /// Its business number is not in `WHATSAPP_PHONE_NUMBER_IDS`.
    NotServed,
    /// A message with neither `from` nor `from_user_id`.
    NoSender,
    /// Past the per-delivery item limit.
    OverLimit,
}

impl Cause {
    /// Every cause, for registering the counters.
    pub const ALL: [Cause; 6] = [
        Self::Unparsable,
        Self::NoBusinessNumber,
        Self::BadBusinessNumber,
        Self::NotServed,
        Self::NoSender,
        Self::OverLimit,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Unparsable => "unparsable",
            Self::NoBusinessNumber => "no_business_number",
            Self::BadBusinessNumber => "bad_business_number",
            Self::NotServed => "not_served",
            Self::NoSender => "no_sender",
            Self::OverLimit => "over_limit",
        }
    }
}

/// A delivery split into what to store and what to quarantine, with the causes counted.
#[derive(Debug, Default)]
pub struct Extracted {
    /// The rows.
    pub delivery: Delivery,
    /// One cause per quarantine record, in the same order.
    pub causes: Vec<Cause>,
}

/// The rows of every message and status in `values`, in payload order.
pub fn records(values: &[ChangeValue], policy: &Policy, request_id: &str) -> Extracted {
    let mut out = Extracted::default();
    out.delivery.batch = IngestBatch { request_id: request_id.to_owned(), ..IngestBatch::default() };
    let mut items = 0usize;
    for value in values {
        let metadata = value.metadata.as_ref();
        let phone_number_id = metadata.and_then(|m| m.phone_number_id.as_deref());
        let aside = |kind, raw: &str, reason: String, cause: Cause| Aside {
            value,
            kind,
            raw: raw.to_owned(),
            reason,
            cause,
        };
        for unparsed in &value.unparsed {
            let kind = match unparsed.kind {
                webhook::ItemKind::Message => ItemKind::Message,
                webhook::ItemKind::Status => ItemKind::Status,
            };
            let reason = format!("{} does not parse: {}", kind.as_str(), unparsed.reason);
            out.set_aside(aside(kind, unparsed.raw.get(), reason, Cause::Unparsable));
        }
        for captured in &value.messages {
            let raw = captured.raw.get();
            items += 1;
            if items > policy.max_items {
                out.set_aside(aside(ItemKind::Message, raw, over_limit(policy), Cause::OverLimit));
                continue;
            }
            let Some(phone_number_id) = phone_number_id else {
                out.set_aside(aside(
                    ItemKind::Message,
                    raw,
                    "no business number".into(),
                    Cause::NoBusinessNumber,
                ));
                continue;
            };
            if !is_business_number(phone_number_id) {
                let reason = "business number is not a phone number id (digits)".to_owned();
                out.set_aside(aside(ItemKind::Message, raw, reason, Cause::BadBusinessNumber));
                continue;
            }
            if !policy.phone_number_ids.is_empty()
                && !policy.phone_number_ids.iter().any(|p| p == phone_number_id)
            {
                out.set_aside(aside(ItemKind::Message, raw, quarantine::NOT_SERVED.into(), Cause::NotServed));
                continue;
            }
            match inbound(value, &captured.item, raw, phone_number_id) {
                Some(record) => out.delivery.batch.messages.push(record),
                None => out.set_aside(aside(ItemKind::Message, raw, "no sender".into(), Cause::NoSender)),
            }
        }
        for captured in &value.statuses {
            items += 1;
            if items > policy.max_items {
                out.set_aside(aside(
                    ItemKind::Status,
                    captured.raw.get(),
                    over_limit(policy),
                    Cause::OverLimit,
                ));
                continue;
            }
            out.delivery.batch.statuses.push(status(&captured.item, captured.raw.get()));
        }
    }
    out
}

/// A `messages` change whose value does not parse at all.
#[derive(Debug)]
pub struct BadChange {
    /// The value as received.
    pub raw: String,
    /// Why, without the values it holds.
    pub reason: String,
}

impl Extracted {
    /// Sets aside whole change values that do not parse.
    pub fn set_aside_changes(&mut self, changes: Vec<BadChange>) {
        for change in changes {
            self.delivery.quarantine.push(QuarantineRecord {
                kind: ItemKind::Change,
                phone_number_id: None,
                display_phone_number: None,
                contacts: None,
                raw: change.raw,
                reason: change.reason,
                sqlstate: None,
                notify: true,
            });
            self.causes.push(Cause::Unparsable);
        }
    }
}

/// An item set aside, with the change it came from.
struct Aside<'a> {
    value: &'a ChangeValue,
    kind: ItemKind,
    raw: String,
    reason: String,
    cause: Cause,
}

impl Extracted {
    fn set_aside(&mut self, aside: Aside<'_>) {
        let metadata = aside.value.metadata.as_ref();
        self.delivery.quarantine.push(QuarantineRecord {
            kind: aside.kind,
            phone_number_id: metadata.and_then(|m| m.phone_number_id.clone()),
            display_phone_number: metadata.and_then(|m| m.display_phone_number.clone()),
            contacts: aside.value.raw_contacts.as_ref().map(|c| c.get().to_owned()),
            raw: aside.raw,
            reason: aside.reason,
            sqlstate: None,
            notify: aside.cause != Cause::NotServed,
        });
        self.causes.push(aside.cause);
    }
}

fn over_limit(policy: &Policy) -> String {
    format!("over the limit of {} items per delivery", policy.max_items)
}

/// Whether `id` can be a Graph API phone number id: 1 to 32 ASCII digits.
pub fn is_business_number(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

fn inbound(
    value: &ChangeValue,
    message: &Message,
    raw: &str,
    phone_number_id: &str,
) -> Option<InboundRecord> {
    let contact = value.contact_for(message);
    let user_id = message.from_user_id.as_deref().or(contact.and_then(|c| c.user_id.as_deref()));
    let wa_id = message.from.as_deref();
    if wa_id.is_none() && user_id.is_none() {
        return None;
    }
    Some(InboundRecord {
        wa_id: wa_id.map(str::to_owned),
        user_id: user_id.map(str::to_owned),
        profile_name: contact.and_then(|c| c.profile.as_ref()).and_then(|p| p.name.clone()),
        phone_number_id: phone_number_id.to_owned(),
        display_phone_number: value.metadata.as_ref().and_then(|m| m.display_phone_number.clone()),
        provider_message_id: message.id.clone(),
        message_type: message.kind.clone(),
        text_body: message.text().map(str::to_owned),
        raw_json: raw.to_owned(),
        provider_timestamp: message.timestamp.and_then(unix_seconds),
    })
}

fn status(status: &Status, raw: &str) -> StatusRecord {
    let callback = status.biz_opaque_callback_data.as_deref();
    let first_error = status.errors.first();
    StatusRecord {
        provider_message_id: status.id.clone(),
        status: status.status.clone(),
        provider_timestamp: status.timestamp.and_then(unix_seconds),
        recipient_id: status.recipient_id.clone(),
        biz_opaque_callback_data: callback.map(str::to_owned),
        callback_outbound_id: callback.and_then(parse_outbound_callback_data),
        error_code: first_error.and_then(|e| e.code).and_then(|c| i32::try_from(c).ok()),
        error_text: first_error.map(error_text),
        raw_json: raw.to_owned(),
    }
}

/// `title: details` of a status error, as stored on the row and shown to staff.
fn error_text(e: &ApiError) -> String {
    let title = e.title.as_deref().or(e.message.as_deref()).unwrap_or("error");
    match e.error_data.as_ref().and_then(|d| d.details.as_deref()) {
        Some(details) => format!("{title}: {details}"),
        None => title.to_owned(),
    }
}

fn unix_seconds(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0)
}
