//! Inbound messages (`value.messages[]`) of every type Meta documents.

use serde::Deserialize;
use serde_json::Value;

use super::envelope::{ApiError, Recover};
use super::lenient;

/// An inbound message. Exactly one body field (named after `type`) is usually set.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Message {
    /// The provider message id (`wamid.…`), unique per message.
    pub id: String,
    /// The sender's WhatsApp id (phone number); missing for username-only users.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub from: Option<String>,
    /// The sender's business-scoped user id (BSUID).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub from_user_id: Option<String>,
    /// When the customer sent it, in Unix seconds.
    #[serde(default, deserialize_with = "lenient::opt_unix_seconds")]
    pub timestamp: Option<i64>,
    /// The message type.
    #[serde(rename = "type", default)]
    pub kind: MessageType,
    /// `type: text`.
    pub text: Option<TextBody>,
    /// `type: image`.
    pub image: Option<Media>,
    /// `type: audio` (voice notes have `voice: true`).
    pub audio: Option<Media>,
    /// `type: video`.
    pub video: Option<Media>,
    /// `type: document`.
    pub document: Option<Media>,
    /// `type: sticker`.
    pub sticker: Option<Media>,
    /// `type: location`.
    pub location: Option<Location>,
    /// `type: contacts`: shared contact cards.
    pub contacts: Option<Vec<SharedContact>>,
    /// `type: interactive`: a reply to buttons, a list or a flow.
    pub interactive: Option<Interactive>,
    /// `type: button`: a template quick-reply.
    pub button: Option<ButtonReply>,
    /// `type: reaction`.
    pub reaction: Option<Reaction>,
    /// `type: order`.
    pub order: Option<Order>,
    /// `type: system`: number or identity changes.
    pub system: Option<SystemMessage>,
    /// `type: unsupported`.
    pub unsupported: Option<Unsupported>,
    /// Errors attached to the message (for `unsupported`).
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub errors: Vec<ApiError>,
    /// Reply or forward context.
    pub context: Option<Context>,
    /// Click-to-WhatsApp ad referral.
    pub referral: Option<Referral>,
}

impl Message {
    /// The text the customer typed or chose, if the message carries any: a text body, a
    /// button or list title, a template quick-reply, or a media caption.
    pub fn text(&self) -> Option<&str> {
        let interactive = self
            .interactive
            .as_ref()
            .and_then(|i| i.button_reply.as_ref().or(i.list_reply.as_ref()).and_then(|r| r.title.as_deref()));
        let caption = [&self.image, &self.video, &self.document]
            .into_iter()
            .flatten()
            .find_map(|m| m.caption.as_deref());
        self.text
            .as_ref()
            .and_then(|t| t.body.as_deref())
            .or(interactive)
            .or(self.button.as_ref().and_then(|b| b.text.as_deref()))
            .or(caption)
    }
}

/// The minimal shape every message has.
#[derive(Deserialize)]
pub(crate) struct MessageHeader {
    id: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    from: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    from_user_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_unix_seconds")]
    timestamp: Option<i64>,
    #[serde(rename = "type", default)]
    kind: MessageType,
}

impl From<MessageHeader> for Message {
    fn from(h: MessageHeader) -> Self {
        Self {
            id: h.id,
            from: h.from,
            from_user_id: h.from_user_id,
            timestamp: h.timestamp,
            kind: h.kind,
            ..Self::default()
        }
    }
}

impl Recover for Message {
    type Header = MessageHeader;
}

/// The `type` of a message; types Meta adds later arrive as [`MessageType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(from = "String")]
pub enum MessageType {
    /// Plain text.
    Text,
    /// A picture.
    Image,
    /// Audio or a voice note.
    Audio,
    /// A video.
    Video,
    /// A file.
    Document,
    /// A sticker.
    Sticker,
    /// A location pin.
    Location,
    /// Shared contact cards.
    Contacts,
    /// A reply to an interactive message.
    Interactive,
    /// A template quick-reply button.
    Button,
    /// An emoji reaction to a message.
    Reaction,
    /// A catalogue order.
    Order,
    /// A system notice (number or identity change).
    System,
    /// A type the Cloud API does not support.
    Unsupported,
    /// An edit of an earlier message.
    Edit,
    /// A deletion of an earlier message.
    Revoke,
    /// The customer opened the chat for the first time.
    RequestWelcome,
    /// Any other type, kept by name.
    Other(String),
    /// No `type` field at all.
    #[default]
    Missing,
}

impl From<String> for MessageType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "text" => Self::Text,
            "image" => Self::Image,
            "audio" => Self::Audio,
            "video" => Self::Video,
            "document" => Self::Document,
            "sticker" => Self::Sticker,
            "location" => Self::Location,
            "contacts" => Self::Contacts,
            "interactive" => Self::Interactive,
            "button" => Self::Button,
            "reaction" => Self::Reaction,
            "order" => Self::Order,
            "system" => Self::System,
            "unsupported" => Self::Unsupported,
            "edit" => Self::Edit,
            "revoke" => Self::Revoke,
            "request_welcome" => Self::RequestWelcome,
            _ => Self::Other(s),
        }
    }
}

impl MessageType {
    /// The type as Meta spells it (`unknown` when the field was missing).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Document => "document",
            Self::Sticker => "sticker",
            Self::Location => "location",
            Self::Contacts => "contacts",
            Self::Interactive => "interactive",
            Self::Button => "button",
            Self::Reaction => "reaction",
            Self::Order => "order",
            Self::System => "system",
            Self::Unsupported => "unsupported",
            Self::Edit => "edit",
            Self::Revoke => "revoke",
            Self::RequestWelcome => "request_welcome",
            Self::Other(s) => s,
            Self::Missing => "unknown",
        }
    }
}

/// `text` body.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct TextBody {
    /// What the customer typed.
    pub body: Option<String>,
}

/// Image, audio, video, document or sticker.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Media {
    /// The media id, to download it through the Graph API.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    /// MIME type.
    pub mime_type: Option<String>,
    /// SHA-256 of the file.
    pub sha256: Option<String>,
    /// Caption of an image, video or document.
    pub caption: Option<String>,
    /// File name of a document.
    pub filename: Option<String>,
    /// Whether an audio is a voice note.
    pub voice: Option<bool>,
    /// Whether a sticker is animated.
    pub animated: Option<bool>,
    /// A download URL, in newer payloads.
    pub url: Option<String>,
}

/// A location pin.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Location {
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// Place name.
    pub name: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Link.
    pub url: Option<String>,
}

/// A shared contact card, kept as JSON: its many optional parts are not used here.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(transparent)]
pub struct SharedContact(pub Value);

/// A reply to an interactive message.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Interactive {
    /// `button_reply`, `list_reply` or `nfm_reply`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A reply button was tapped.
    pub button_reply: Option<InteractiveReply>,
    /// A list row was chosen.
    pub list_reply: Option<InteractiveReply>,
    /// A flow was completed; kept as JSON (`response_json` is a string of JSON).
    pub nfm_reply: Option<Value>,
}

/// A tapped button or chosen list row.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct InteractiveReply {
    /// The id we gave the button or row.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// A list row's description.
    pub description: Option<String>,
}

/// A template quick-reply.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ButtonReply {
    /// The payload we set on the button.
    pub payload: Option<String>,
    /// The button's text.
    pub text: Option<String>,
}

/// A reaction; an empty or missing emoji means the reaction was removed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Reaction {
    /// The message reacted to.
    pub message_id: Option<String>,
    /// The emoji.
    pub emoji: Option<String>,
}

/// A catalogue order.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Order {
    /// The catalogue.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub catalog_id: Option<String>,
    /// A note from the customer.
    pub text: Option<String>,
    /// Ordered items.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub product_items: Vec<OrderItem>,
}

/// One line of an [`Order`].
#[derive(Debug, Default, Clone, Deserialize)]
pub struct OrderItem {
    /// The product.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub product_retailer_id: Option<String>,
    /// How many.
    pub quantity: Option<Value>,
    /// Unit price.
    pub item_price: Option<Value>,
    /// Currency.
    pub currency: Option<String>,
}

/// A system notice.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SystemMessage {
    /// Description.
    pub body: Option<String>,
    /// The new WhatsApp id after a number change.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub wa_id: Option<String>,
    /// `user_changed_number` or `customer_identity_changed`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `unsupported` details.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Unsupported {
    /// The type WhatsApp could not deliver (`poll_creation`, ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Reply or forward context.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Context {
    /// Who sent the message replied to.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub from: Option<String>,
    /// The message replied to.
    pub id: Option<String>,
    /// Forwarded once.
    pub forwarded: Option<bool>,
    /// Forwarded many times.
    pub frequently_forwarded: Option<bool>,
}

/// A Click-to-WhatsApp ad referral.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Referral {
    /// The ad's URL.
    pub source_url: Option<String>,
    /// The ad id.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub source_id: Option<String>,
    /// `ad` or `post`.
    pub source_type: Option<String>,
    /// Headline.
    pub headline: Option<String>,
    /// Body.
    pub body: Option<String>,
    /// Click id.
    pub ctwa_clid: Option<String>,
}
