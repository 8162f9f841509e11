//! LISTEN/NOTIFY: a dedicated connection that wakes a worker when new work is committed.
//! Notifications are only a hint; workers also poll, so a lost one delays but never loses.

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use futures_util::{Stream, StreamExt};

use crate::StoreError;

/// A connection listening on one channel.
pub struct Listener {
    conn: AsyncPgConnection,
}

impl Listener {
    /// Connects and starts listening on `channel` (one of this crate's channel constants).
    pub async fn connect(database_url: &str, channel: &'static str) -> Result<Self, StoreError> {
        Self::connect_all(database_url, &[channel]).await
    }

    /// Connects and listens on every channel of `channels`.
    pub async fn connect_all(database_url: &str, channels: &[&'static str]) -> Result<Self, StoreError> {
        let mut conn = crate::connect::connect(database_url).await?;
        let listen: String = channels.iter().map(|c| format!("LISTEN {c};")).collect();
        conn.batch_execute(&listen).await?;
        Ok(Self { conn })
    }

    /// Yields once per notification; ends with an error when the connection is lost.
    pub fn wake_ups(&mut self) -> impl Stream<Item = Result<(), StoreError>> + '_ {
        self.conn.notifications_stream().map(|n| n.map(|_| ()).map_err(StoreError::from))
    }
}
