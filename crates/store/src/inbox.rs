//! The staff inbox: conversations by the customer's latest message, filtered, searched and
//! read a page at a time (keyset pagination on `conversation_inbox_order`).

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;

use crate::Keyset;
use crate::prepared::Prepared;
use crate::{DbPool, StoreError, connection};

/// Which conversations the inbox shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxFilter {
    /// Handed off by the bot, or held by staff.
    #[default]
    NeedsPerson,
    /// Every detail known; staff prepare the quotation.
    Qualified,
    /// The bot is still collecting details.
    InProgress,
    /// The customer opted out.
    OptedOut,
    /// Every conversation.
    All,
}

impl InboxFilter {
    /// Every filter, in the order the inbox offers them.
    pub const ALL: [Self; 5] =
        [Self::NeedsPerson, Self::Qualified, Self::InProgress, Self::OptedOut, Self::All];

    /// The spelling in URLs and in the statement.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NeedsPerson => "needs_person",
            Self::Qualified => "qualified",
            Self::InProgress => "in_progress",
            Self::OptedOut => "opted_out",
            Self::All => "all",
        }
    }
}

/// What the inbox asks for.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    /// Which conversations.
    pub filter: InboxFilter,
    /// Part of the customer's name (profile or given) or number.
    pub search: Option<String>,
    /// Start after this conversation.
    pub after: Option<Keyset>,
    /// How many rows.
    pub limit: i64,
}

/// One conversation in the inbox.
#[derive(Debug, Clone, QueryableByName)]
pub struct InboxRow {
    /// `conversation.id`.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The customer's WhatsApp number.
    #[diesel(sql_type = Nullable<Text>)]
    pub wa_id: Option<String>,
    /// Their WhatsApp profile name.
    #[diesel(sql_type = Nullable<Text>)]
    pub profile_name: Option<String>,
    /// The name they gave the bot.
    #[diesel(sql_type = Nullable<Text>)]
    pub lead_name: Option<String>,
    /// The bot's stage (`qualifying`, `qualified`, `handed_off`, `opted_out`).
    #[diesel(sql_type = Text)]
    pub stage: String,
    /// The customer opted out.
    #[diesel(sql_type = Bool)]
    pub opted_out: bool,
    /// Who holds the conversation, if staff do.
    #[diesel(sql_type = Nullable<Text>)]
    pub held_by: Option<String>,
    /// The customer's latest message (or the conversation's start).
    #[diesel(sql_type = Timestamptz)]
    pub activity_at: DateTime<Utc>,
    /// The start of the latest message's text, or its type.
    #[diesel(sql_type = Nullable<Text>)]
    pub preview: Option<String>,
    /// Customer messages this member of staff has not seen (at most 100).
    #[diesel(sql_type = BigInt)]
    pub unread: i64,
}

/// The inbox statement for one filter's condition, with or without a search. Each filter
/// is its own statement so the planner sees its condition (and uses the partial index of
/// "needs a person"); the page starts after `($4, $5)` on the inbox order's index.
macro_rules! inbox_sql {
    (@search $condition:expr, $search:expr) => {
        concat!(
            "SELECT c.id, k.wa_id, k.profile_name, c.known_fields->>'name' AS lead_name,
       COALESCE(c.engine_state->>'stage', 'qualifying') AS stage, k.opted_out_at IS NOT NULL AS opted_out,
       h.email AS held_by, COALESCE(c.last_inbound_at, c.created_at) AS activity_at,
       (SELECT COALESCE(left(m.text_body, 120), '[' || m.message_type || ']') FROM inbound_message m
        WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) AS preview,
       (SELECT count(*) FROM (SELECT 1 FROM inbound_message m
                              WHERE m.conversation_id = c.id AND m.received_at > COALESCE(r.read_at, '-infinity')
                              ORDER BY m.id DESC LIMIT 100) u) AS unread
FROM conversation c
JOIN contact k ON k.id = c.contact_id
LEFT JOIN staff_user h ON h.id = c.held_by
LEFT JOIN staff_conversation_read r ON r.conversation_id = c.id AND r.staff_user_id = $1
WHERE ", $condition, $search, "
  AND (COALESCE(c.last_inbound_at, c.created_at), c.id) < ($2, $3)
ORDER BY COALESCE(c.last_inbound_at, c.created_at) DESC, c.id DESC
LIMIT $4"
        )
    };
    ($condition:expr) => {
        [
            inbox_sql!(@search $condition, " AND $5::text IS NULL"),
            inbox_sql!(
                @search $condition,
                " AND c.id IN (SELECT v.id FROM conversation v WHERE (v.known_fields ->> 'name') ILIKE '%' || $5 || '%'
                  UNION SELECT v.id FROM contact x JOIN conversation v ON v.contact_id = x.id
                  WHERE x.profile_name ILIKE '%' || $5 || '%' OR x.wa_id LIKE '%' || $5 || '%')"
            ),
        ]
    };
}

/// The condition "needs a person" (the predicate of `conversation_needs_person`).
macro_rules! needs_person {
    () => {
        "(c.held_by IS NOT NULL OR (c.engine_state ->> 'stage') = 'handed_off')"
    };
}

/// Every inbox statement: by filter (in [`InboxFilter::ALL`]'s order), then plain and searching.
pub(crate) const INBOX_SQL: [[&str; 2]; 5] = [
    inbox_sql!(needs_person!()),
    inbox_sql!("(c.engine_state ->> 'stage') = 'qualified'"),
    inbox_sql!(
        "COALESCE(c.engine_state ->> 'stage', 'qualifying') = 'qualifying' AND c.held_by IS NULL AND k.opted_out_at IS NULL"
    ),
    inbox_sql!("k.opted_out_at IS NOT NULL"),
    inbox_sql!("true"),
];

/// A page of the inbox for the member of staff `viewer` (whose unread counts it shows).
pub async fn page(pool: &DbPool, viewer: i64, query: &InboxQuery) -> Result<Vec<InboxRow>, StoreError> {
    let search = query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(escape_like);
    let filter = InboxFilter::ALL.iter().position(|f| *f == query.filter).unwrap_or(0);
    let sql = INBOX_SQL[filter][usize::from(search.is_some())];
    let statement = diesel::sql_query(sql)
        .bind::<BigInt, _>(viewer)
        .bind::<Timestamptz, _>(query.after.map_or(DateTime::<Utc>::MAX_UTC, |c| c.at))
        .bind::<BigInt, _>(query.after.map_or(i64::MAX, |c| c.id))
        .bind::<BigInt, _>(query.limit.clamp(1, 200))
        .bind::<Nullable<Text>, _>(search);
    Ok(Prepared(statement).load(&mut *connection(pool).await?).await?)
}

/// Searched text matches itself only: `%`, `_` and `\` lose their LIKE meaning.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// How many conversations each filter holds, and how many have unread messages.
#[derive(Debug, Clone, Copy, Default, QueryableByName)]
pub struct InboxCounts {
    /// Handed off or held by staff.
    #[diesel(sql_type = BigInt)]
    pub needs_person: i64,
    /// Of those, with messages this member of staff has not seen.
    #[diesel(sql_type = BigInt)]
    pub needs_person_unread: i64,
}

pub(crate) const COUNTS_SQL: &str = concat!(
    "SELECT count(*) AS needs_person,
       count(*) FILTER (WHERE c.last_inbound_at > COALESCE(r.read_at, '-infinity')) AS needs_person_unread
FROM conversation c
LEFT JOIN staff_conversation_read r ON r.conversation_id = c.id AND r.staff_user_id = $1
WHERE ",
    needs_person!()
);

/// The figures of the inbox's header for `viewer`.
pub async fn counts(pool: &DbPool, viewer: i64) -> Result<InboxCounts, StoreError> {
    let query = diesel::sql_query(COUNTS_SQL).bind::<BigInt, _>(viewer);
    Ok(Prepared(query).get_result(&mut *connection(pool).await?).await?)
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn search_text_is_matched_literally() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(escape_like("Aisha"), "Aisha");
    }
}
