//! Qualified leads as staff list and export them.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;

use crate::Keyset;
use crate::prepared::Prepared;
use crate::vocab::LeadStatus;
use crate::{DbPool, StoreError, connection};

/// A lead with its customer's number.
#[derive(Debug, Clone, QueryableByName)]
pub struct LeadRow {
    /// `lead.id`.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The conversation it came from.
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    /// The customer's WhatsApp number.
    #[diesel(sql_type = Nullable<Text>)]
    pub wa_id: Option<String>,
    /// The service wanted.
    #[diesel(sql_type = Nullable<Text>)]
    pub service: Option<String>,
    /// Full name.
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    /// Nationality.
    #[diesel(sql_type = Nullable<Text>)]
    pub nationality: Option<String>,
    /// E-mail for the quotation.
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    /// When to call, in the customer's words.
    #[diesel(sql_type = Nullable<Text>)]
    pub best_time_to_call: Option<String>,
    /// Where the lead stands.
    #[diesel(sql_type = Text)]
    pub status: LeadStatus,
    /// When it last changed.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

pub(crate) const QUALIFIED_SQL: &str =
    "SELECT l.id, l.conversation_id, k.wa_id, l.service, l.name, l.nationality,
       l.email, l.best_time_to_call, l.status, l.updated_at
FROM lead l JOIN conversation c ON c.id = l.conversation_id JOIN contact k ON k.id = c.contact_id
WHERE l.status = 'qualified' AND ($1::timestamptz IS NULL OR (l.updated_at, l.id) < ($1, $2))
ORDER BY l.updated_at DESC, l.id DESC
LIMIT $3";

/// Qualified leads, newest first (by `updated_at`), `limit` of them after `after`.
pub async fn qualified(pool: &DbPool, after: Option<Keyset>, limit: i64) -> Result<Vec<LeadRow>, StoreError> {
    let query = diesel::sql_query(QUALIFIED_SQL)
        .bind::<Nullable<Timestamptz>, _>(after.map(|a| a.at))
        .bind::<BigInt, _>(after.map_or(0, |a| a.id))
        .bind::<BigInt, _>(limit);
    Ok(Prepared(query).load(&mut *connection(pool).await?).await?)
}
