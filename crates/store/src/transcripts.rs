//! A conversation's stored messages, for replaying it through the engine.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::{DbPool, StoreError, connection};
use domain::webhook::MessageType;

use crate::SendStatus;
use crate::schema::{inbound_message, outbound_message_log};

/// An inbound message as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inbound_message)]
pub struct StoredInbound {
    /// Id.
    pub id: i64,
    /// wamid.
    pub provider_message_id: String,
    /// Meta's `type`.
    #[diesel(deserialize_as = String)]
    pub message_type: MessageType,
    /// What the customer typed or chose.
    pub text_body: Option<String>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// A reply as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbound_message_log)]
pub struct StoredReply {
    /// Id.
    pub id: i64,
    /// The inbound message it answers.
    pub reply_to_provider_message_id: Option<String>,
    /// Its question key.
    pub question_key: Option<String>,
    /// The text.
    pub body: String,
    /// Delivery status.
    pub status: SendStatus,
}

/// An inbound message with the replies stored for it.
#[derive(Debug, Clone)]
pub struct TranscriptTurn {
    /// The message.
    pub inbound: StoredInbound,
    /// Its replies, oldest first.
    pub replies: Vec<StoredReply>,
}

/// Every inbound message of a conversation with its replies, oldest first.
pub async fn transcript(pool: &DbPool, conversation_id: i64) -> Result<Vec<TranscriptTurn>, StoreError> {
    let conn = &mut *connection(pool).await?;
    let inbound = inbound_message::table
        .filter(inbound_message::conversation_id.eq(conversation_id))
        .order(inbound_message::id)
        .select(StoredInbound::as_select())
        .load(conn)
        .await?;
    let replies = outbound_message_log::table
        .filter(outbound_message_log::conversation_id.eq(conversation_id))
        .order(outbound_message_log::id)
        .select(StoredReply::as_select())
        .load(conn)
        .await?;
    Ok(inbound
        .into_iter()
        .map(|message| {
            let answers = replies
                .iter()
                .filter(|r| r.reply_to_provider_message_id.as_deref() == Some(&message.provider_message_id))
                .cloned()
                .collect();
            TranscriptTurn { inbound: message, replies: answers }
        })
        .collect())
}
