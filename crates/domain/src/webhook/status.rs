//! Delivery statuses of messages we sent (`value.statuses[]`).

use serde::Deserialize;
use serde_json::Value;

use super::envelope::{ApiError, Recover};
use super::lenient;

/// A delivery status of one outbound message.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Status {
    /// The wamid our send returned.
    pub id: String,
    /// What happened.
    #[serde(default)]
    pub status: StatusKind,
    /// When, in Unix seconds.
    #[serde(default, deserialize_with = "lenient::opt_unix_seconds")]
    pub timestamp: Option<i64>,
    /// The customer (or group) the message went to.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub recipient_id: Option<String>,
    /// `group` for group messages.
    pub recipient_type: Option<String>,
    /// The echo of the `biz_opaque_callback_data` we sent.
    pub biz_opaque_callback_data: Option<String>,
    /// Conversation window (omitted from v24.0 on for most messages).
    pub conversation: Option<StatusConversation>,
    /// Pricing (on `sent` and one of `delivered`/`read`).
    pub pricing: Option<Pricing>,
    /// Why a `failed` send failed.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub errors: Vec<ApiError>,
}

/// The minimal shape every status has.
#[derive(Deserialize)]
pub(crate) struct StatusHeader {
    id: String,
    #[serde(default)]
    status: StatusKind,
    #[serde(default, deserialize_with = "lenient::opt_unix_seconds")]
    timestamp: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    recipient_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    biz_opaque_callback_data: Option<String>,
}

impl From<StatusHeader> for Status {
    fn from(h: StatusHeader) -> Self {
        Self {
            id: h.id,
            status: h.status,
            timestamp: h.timestamp,
            recipient_id: h.recipient_id,
            biz_opaque_callback_data: h.biz_opaque_callback_data,
            ..Self::default()
        }
    }
}

impl Recover for Status {
    type Header = StatusHeader;
}

/// The delivery states Meta reports; others are kept by name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(from = "String")]
pub enum StatusKind {
    /// Accepted by WhatsApp's servers.
    Sent,
    /// Arrived on the customer's device.
    Delivered,
    /// Opened by the customer.
    Read,
    /// A voice or video message was played.
    Played,
    /// Could not be delivered.
    Failed,
    /// Any other status, kept by name.
    Other(String),
    /// No `status` field at all.
    #[default]
    Missing,
}

impl From<String> for StatusKind {
    fn from(s: String) -> Self {
        match s.as_str() {
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "played" => Self::Played,
            "failed" => Self::Failed,
            _ => Self::Other(s),
        }
    }
}

impl StatusKind {
    /// The status as Meta spells it (`unknown` when missing).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Played => "played",
            Self::Failed => "failed",
            Self::Other(s) => s,
            Self::Missing => "unknown",
        }
    }
}

/// `statuses[].conversation`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct StatusConversation {
    /// Conversation id.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    /// When the window closes, in Unix seconds.
    #[serde(default, deserialize_with = "lenient::opt_unix_seconds")]
    pub expiration_timestamp: Option<i64>,
    /// `{type: service | marketing | ...}`.
    pub origin: Option<Value>,
}

/// `statuses[].pricing`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Pricing {
    /// Whether the message is billed.
    pub billable: Option<bool>,
    /// `PMP` (or `CBP` before July 2025).
    pub pricing_model: Option<String>,
    /// `regular`, `free_customer_service`, `free_entry_point`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `service`, `marketing`, `utility`, `authentication`.
    pub category: Option<String>,
}
