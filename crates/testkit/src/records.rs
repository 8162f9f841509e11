//! Rows for `store::ingest` built directly, for tests and benchmarks that store messages
//! without going through webhook-ingest.

use domain::webhook::{MessageType, StatusKind};
use store::ingest::{InboundRecord, IngestBatch, StatusRecord};

use crate::payloads::PHONE_NUMBER_ID;

/// A message of Meta's type `kind` from `customer` (a wa_id) to [`PHONE_NUMBER_ID`], its
/// raw JSON the few fields the tables read back.
pub fn inbound(customer: &str, wamid: &str, kind: MessageType, text: Option<&str>) -> InboundRecord {
    let raw = serde_json::json!({"from": customer, "id": wamid, "type": kind.as_str()});
    InboundRecord {
        wa_id: Some(customer.to_owned()),
        user_id: None,
        profile_name: None,
        phone_number_id: PHONE_NUMBER_ID.to_owned(),
        display_phone_number: None,
        provider_message_id: wamid.to_owned(),
        message_type: kind,
        text_body: text.map(str::to_owned),
        raw_json: raw.to_string(),
        provider_timestamp: None,
    }
}

/// A delivery of `messages` and no statuses.
pub fn delivery(messages: Vec<InboundRecord>) -> IngestBatch {
    IngestBatch { request_id: "req-test".to_owned(), traceparent: None, messages, statuses: Vec::new() }
}

/// A delivery of one text message `text` from `customer`.
pub fn text_delivery(customer: &str, wamid: &str, text: &str) -> IngestBatch {
    delivery(vec![inbound(customer, wamid, MessageType::Text, Some(text))])
}

/// A delivery status `status` of our message `wamid`, without time, recipient or error.
pub fn status(wamid: &str, status: StatusKind) -> StatusRecord {
    let raw = serde_json::json!({"id": wamid, "status": status.as_str()});
    StatusRecord {
        provider_message_id: wamid.to_owned(),
        status,
        provider_timestamp: None,
        recipient_id: None,
        biz_opaque_callback_data: None,
        callback_outbound_id: None,
        error_code: None,
        error_text: None,
        raw_json: raw.to_string(),
    }
}

/// A delivery of `statuses` and no messages.
pub fn status_delivery(statuses: Vec<StatusRecord>) -> IngestBatch {
    IngestBatch { statuses, ..delivery(Vec::new()) }
}
