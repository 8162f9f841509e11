//! Staff notifications: list, snooze, mark read.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamptz};
use diesel_async::RunQueryDsl;

use crate::schema::notification;
use crate::{DbPool, NoticeKind, StoreError, connection};

/// A notification as staff see it.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = notification)]
pub struct Notification {
    /// Id.
    pub id: i64,
    /// What happened.
    pub kind: NoticeKind,
    /// The conversation it is about.
    pub conversation_id: Option<i64>,
    /// Title.
    pub title: String,
    /// Details.
    pub body: String,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// When staff read it.
    pub read_at: Option<DateTime<Utc>>,
    /// Hidden until then.
    pub snoozed_until: Option<DateTime<Utc>>,
}

/// Which notifications to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// Include notifications already read.
    pub include_read: bool,
    /// Include notifications snoozed into the future.
    pub include_snoozed: bool,
}

/// The newest notifications first, at most `limit`.
pub async fn list(pool: &DbPool, filter: Filter, limit: i64) -> Result<Vec<Notification>, StoreError> {
    let mut query = notification::table.select(Notification::as_select()).into_boxed();
    if !filter.include_read {
        query = query.filter(notification::read_at.is_null());
    }
    if !filter.include_snoozed {
        query = query.filter(
            notification::snoozed_until.is_null().or(notification::snoozed_until.le(diesel::dsl::now)),
        );
    }
    Ok(query.order(notification::id.desc()).limit(limit).load(&mut *connection(pool).await?).await?)
}

/// Hides a notification until `until`. False when there is no such notification.
pub async fn snooze(pool: &DbPool, id: i64, until: DateTime<Utc>) -> Result<bool, StoreError> {
    let updated = diesel::update(notification::table.find(id))
        .set(notification::snoozed_until.eq(until))
        .execute(&mut *connection(pool).await?)
        .await?;
    Ok(updated == 1)
}

/// Marks a notification read (once; the first time is kept). False when there is no such
/// notification.
pub async fn mark_read(pool: &DbPool, id: i64) -> Result<bool, StoreError> {
    let updated = diesel::update(notification::table.find(id))
        .set(notification::read_at.eq(diesel::dsl::sql::<Nullable<Timestamptz>>("COALESCE(read_at, now())")))
        .execute(&mut *connection(pool).await?)
        .await?;
    Ok(updated == 1)
}
