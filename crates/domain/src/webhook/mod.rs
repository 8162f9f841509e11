//! The Cloud API webhook envelope Meta POSTs to us.
//!
//! `entry[] → changes[] → value` with `metadata`, `contacts[]`, `messages[]`, `statuses[]`
//! and value-level `errors[]`. Everything is lenient: unknown fields are ignored, unknown
//! message and status types parse, and a message or status whose body does not match the
//! documented shape still yields its id, sender and timestamp with the raw JSON kept, so
//! that nothing Meta delivers is ever rejected for a detail.

mod envelope;
mod lenient;
mod message;
mod status;

pub use envelope::{
    ApiError, Captured, Change, ChangeValue, Entry, ErrorData, ItemKind, Metadata, Profile, Unparsed,
    WHATSAPP_BUSINESS_ACCOUNT, WebhookContact, WebhookEnvelope, WebhookError,
};
pub use message::{
    ButtonReply, Context, Interactive, InteractiveReply, Location, Media, Message, MessageType, Order,
    OrderItem, Reaction, Referral, SharedContact, SystemMessage, TextBody, Unsupported,
};
pub use status::{Pricing, Status, StatusConversation, StatusKind};
