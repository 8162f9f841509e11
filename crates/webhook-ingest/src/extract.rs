//! Turns parsed webhook values into the rows `store` writes.

use chrono::{DateTime, Utc};
use domain::callback::parse_outbound_callback_data;
use domain::webhook::{ApiError, ChangeValue, Message, Status};
use store::ingest::{InboundRecord, StatusRecord};

/// Items of a webhook that cannot be stored, and why.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// Messages of a change without `metadata.phone_number_id`.
    pub no_business_number: usize,
    /// Messages with neither `from` nor `from_user_id`.
    pub no_sender: usize,
}

/// The records of every message and status in `values`, in payload order.
pub fn records(values: &[ChangeValue]) -> (Vec<InboundRecord>, Vec<StatusRecord>, Skipped) {
    let mut messages = Vec::new();
    let mut statuses = Vec::new();
    let mut skipped = Skipped::default();
    for value in values {
        let metadata = value.metadata.as_ref();
        let phone_number_id = metadata.and_then(|m| m.phone_number_id.as_deref());
        for captured in &value.messages {
            let Some(phone_number_id) = phone_number_id else {
                skipped.no_business_number += 1;
                continue;
            };
            match inbound(value, &captured.item, captured.raw.get(), phone_number_id) {
                Some(record) => messages.push(record),
                None => skipped.no_sender += 1,
            }
        }
        for captured in &value.statuses {
            statuses.push(status(&captured.item, captured.raw.get()));
        }
    }
    (messages, statuses, skipped)
}

fn inbound<'a>(
    value: &'a ChangeValue,
    message: &'a Message,
    raw: &'a str,
    phone_number_id: &'a str,
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
        message_type: message.kind.as_str().to_owned(),
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
        status: status.status.as_str().to_owned(),
        outbound_status: store::SendStatus::reached_by(&status.status),
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
