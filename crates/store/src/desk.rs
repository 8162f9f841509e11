//! One conversation at the staff desk: what it holds (transcript, details, notes, window)
//! and what staff do with it (take over, reply, hand back, write notes).
//!
//! Every action writes its audit entry in the same statement or transaction.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Int4, Jsonb, Nullable, Text, Timestamptz};

use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::conversation::{EngineState, KnownFields, Stage};
use domain::template::TemplateSend;

use crate::jobs::json_text;
use crate::prepared::{Count, Prepared};
use crate::vocab::{LeadStatus, SendStatus};
use crate::{DbPool, StoreError, connection};

/// A conversation's header: who, what is known, who holds it, its window.
#[derive(Debug, Clone)]
pub struct Desk {
    /// `conversation.id`.
    pub id: i64,
    /// The customer's WhatsApp number.
    pub wa_id: Option<String>,
    /// Their WhatsApp profile name.
    pub profile_name: Option<String>,
    /// The business number it reached.
    pub display_phone_number: Option<String>,
    /// The lead's details.
    pub known: KnownFields,
    /// The bot's bookkeeping.
    pub engine: EngineState,
    /// Who holds it, if staff do.
    pub held_by: Option<String>,
    /// Since when.
    pub held_since: Option<DateTime<Utc>>,
    /// The customer's latest message; the 24-hour window runs from it.
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// When the customer opted out, if they have.
    pub opted_out_at: Option<DateTime<Utc>>,
    /// The lead's status, once it has one.
    pub lead_status: Option<LeadStatus>,
}

#[derive(QueryableByName)]
struct DeskRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    wa_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    profile_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    display_phone_number: Option<String>,
    #[diesel(sql_type = Text)]
    known_fields: String,
    #[diesel(sql_type = Text)]
    engine_state: String,
    #[diesel(sql_type = Nullable<Text>)]
    held_by: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    held_since: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_inbound_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    opted_out_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    lead_status: Option<LeadStatus>,
}

pub(crate) const DESK_SQL: &str = "SELECT c.id, k.wa_id, k.profile_name, c.display_phone_number,
       c.known_fields::text AS known_fields, c.engine_state::text AS engine_state, h.email AS held_by, c.held_since,
       c.last_inbound_at, k.opted_out_at, l.status AS lead_status
FROM conversation c
JOIN contact k ON k.id = c.contact_id
LEFT JOIN staff_user h ON h.id = c.held_by
LEFT JOIN lead l ON l.conversation_id = c.id
WHERE c.id = $1";

/// The conversation `id`, if there is one.
pub async fn desk(pool: &DbPool, id: i64) -> Result<Option<Desk>, StoreError> {
    let query = diesel::sql_query(DESK_SQL).bind::<BigInt, _>(id);
    let mut rows: Vec<DeskRow> = Prepared(query).load(&mut *connection(pool).await?).await?;
    Ok(rows.pop().map(|row| Desk {
        id: row.id,
        wa_id: row.wa_id,
        profile_name: row.profile_name,
        display_phone_number: row.display_phone_number,
        known: serde_json::from_str(&row.known_fields).unwrap_or_default(),
        engine: serde_json::from_str(&row.engine_state).unwrap_or_default(),
        held_by: row.held_by,
        held_since: row.held_since,
        last_inbound_at: row.last_inbound_at,
        opted_out_at: row.opted_out_at,
        lead_status: row.lead_status,
    }))
}

/// Who wrote a message of the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// The customer.
    Customer,
    /// The bot.
    Bot,
    /// A member of staff (their e-mail; none for a deleted account).
    Staff(Option<String>),
}

/// One message of a transcript.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Who wrote it.
    pub author: Author,
    /// When it was written (received, or queued).
    pub at: DateTime<Utc>,
    /// The text; a customer's non-text message has none.
    pub text: Option<String>,
    /// The type of a customer's message (`text`, `image`, ...).
    pub message_type: Option<String>,
    /// How far one of ours got.
    pub status: Option<SendStatus>,
    /// Meta's error code when it failed.
    pub error_code: Option<i32>,
    /// Why it failed, as stored.
    pub error_text: Option<String>,
    /// The template it was sent as.
    pub template: Option<String>,
}

#[derive(QueryableByName)]
struct EntryRow {
    #[diesel(sql_type = Text)]
    author: String,
    #[diesel(sql_type = Nullable<Text>)]
    staff: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    message_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<SendStatus>,
    #[diesel(sql_type = Nullable<Int4>)]
    error_code: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    error_text: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    template: Option<String>,
}

pub(crate) const TRANSCRIPT_SQL: &str = "SELECT * FROM (
    (SELECT 'customer' AS author, NULL::text AS staff, COALESCE(m.provider_timestamp, m.received_at) AS at,
            m.text_body AS text, m.message_type, NULL::text AS status, NULL::int4 AS error_code,
            NULL::text AS error_text, NULL::text AS template
     FROM inbound_message m WHERE m.conversation_id = $1 ORDER BY m.id DESC LIMIT $2)
    UNION ALL
    (SELECT CASE WHEN o.question_key IS NOT NULL THEN 'bot' ELSE 'staff' END,
            u.email, o.created_at, o.body, NULL, o.status, o.error_code, o.error_text, o.template->>'name'
     FROM outbound_message_log o LEFT JOIN staff_user u ON u.id = o.author_staff_id
     WHERE o.conversation_id = $1 ORDER BY o.id DESC LIMIT $2)
) t ORDER BY at DESC LIMIT $2";

/// The newest `limit` messages of the conversation, oldest first.
pub async fn transcript(pool: &DbPool, conversation: i64, limit: i64) -> Result<Vec<Entry>, StoreError> {
    let query = diesel::sql_query(TRANSCRIPT_SQL).bind::<BigInt, _>(conversation).bind::<BigInt, _>(limit);
    let rows: Vec<EntryRow> = Prepared(query).load(&mut *connection(pool).await?).await?;
    Ok(rows
        .into_iter()
        .rev()
        .map(|row| Entry {
            author: match row.author.as_str() {
                "customer" => Author::Customer,
                "bot" => Author::Bot,
                _ => Author::Staff(row.staff),
            },
            at: row.at,
            text: row.text,
            message_type: row.message_type,
            status: row.status,
            error_code: row.error_code,
            error_text: row.error_text,
            template: row.template,
        })
        .collect())
}

/// A note for colleagues.
#[derive(Debug, Clone, QueryableByName)]
pub struct Note {
    /// Who wrote it (none for a deleted account).
    #[diesel(sql_type = Nullable<Text>)]
    pub author: Option<String>,
    /// What it says.
    #[diesel(sql_type = Text)]
    pub body: String,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

pub(crate) const NOTES_SQL: &str = "SELECT u.email AS author, n.body, n.created_at
    FROM conversation_note n LEFT JOIN staff_user u ON u.id = n.staff_user_id
    WHERE n.conversation_id = $1 ORDER BY n.id DESC LIMIT 100";

/// The conversation's newest notes first.
pub async fn notes(pool: &DbPool, conversation: i64) -> Result<Vec<Note>, StoreError> {
    let query = diesel::sql_query(NOTES_SQL).bind::<BigInt, _>(conversation);
    Ok(Prepared(query).load(&mut *connection(pool).await?).await?)
}

pub(crate) const ADD_NOTE_SQL: &str = "WITH note AS (
    INSERT INTO conversation_note (conversation_id, staff_user_id, body)
    SELECT id, $2, $3 FROM conversation WHERE id = $1
    RETURNING id, conversation_id
), audit AS (
    INSERT INTO staff_audit (staff_user_id, action, conversation_id, detail)
    SELECT $2, 'note', conversation_id, 'note ' || id FROM note
)
SELECT count(*) AS n FROM note";

/// Adds `actor`'s note to the conversation. False when there is no such conversation.
pub async fn add_note(pool: &DbPool, actor: i64, conversation: i64, body: &str) -> Result<bool, StoreError> {
    let query = diesel::sql_query(ADD_NOTE_SQL)
        .bind::<BigInt, _>(conversation)
        .bind::<BigInt, _>(actor)
        .bind::<Text, _>(body);
    let row: Count = Prepared(query).get_result(&mut *connection(pool).await?).await?;
    Ok(row.n == 1)
}

pub(crate) const MARK_READ_SQL: &str =
    "INSERT INTO staff_conversation_read (staff_user_id, conversation_id, read_at)
    SELECT $1, id, now() FROM conversation WHERE id = $2
    ON CONFLICT (staff_user_id, conversation_id) DO UPDATE SET read_at = EXCLUDED.read_at";

/// Records that `viewer` has seen the conversation up to now.
pub async fn mark_read(pool: &DbPool, viewer: i64, conversation: i64) -> Result<(), StoreError> {
    let query = diesel::sql_query(MARK_READ_SQL).bind::<BigInt, _>(viewer).bind::<BigInt, _>(conversation);
    Prepared(query).execute(&mut *connection(pool).await?).await?;
    Ok(())
}

pub(crate) const TAKE_OVER_SQL: &str = "WITH before AS (
    SELECT c.id, h.email AS previous FROM conversation c LEFT JOIN staff_user h ON h.id = c.held_by
    WHERE c.id = $1 FOR UPDATE OF c
), held AS (
    UPDATE conversation c SET held_by = $2, held_since = now(), version = c.version + 1, updated_at = now()
    FROM before b WHERE c.id = b.id AND c.held_by IS DISTINCT FROM $2
    RETURNING c.id, b.previous
), audit AS (
    INSERT INTO staff_audit (staff_user_id, action, conversation_id, detail)
    SELECT $2, 'take_over', id, CASE WHEN previous IS NULL THEN 'from the bot' ELSE 'from a colleague' END FROM held
)
SELECT count(*) AS n FROM before";

/// `actor` takes the conversation over: the bot stays silent in it until it is handed
/// back (the version changes, so a turn the bot is deciding right now is decided again
/// and sees the hold). False when there is no such conversation.
pub async fn take_over(pool: &DbPool, actor: i64, conversation: i64) -> Result<bool, StoreError> {
    let query = diesel::sql_query(TAKE_OVER_SQL).bind::<BigInt, _>(conversation).bind::<BigInt, _>(actor);
    let row: Count = Prepared(query).get_result(&mut *connection(pool).await?).await?;
    Ok(row.n == 1)
}

#[derive(QueryableByName)]
struct HeldState {
    #[diesel(sql_type = Text)]
    known_fields: String,
    #[diesel(sql_type = Text)]
    engine_state: String,
    #[diesel(sql_type = Bool)]
    held: bool,
}

pub(crate) const LOCK_FOR_HAND_BACK_SQL: &str = "SELECT known_fields::text AS known_fields,
       engine_state::text AS engine_state, held_by IS NOT NULL AS held
    FROM conversation WHERE id = $1 FOR UPDATE";

pub(crate) const HAND_BACK_SQL: &str = "WITH back AS (
    UPDATE conversation
    SET held_by = NULL, held_since = NULL, engine_state = $2::jsonb, version = version + 1, updated_at = now()
    WHERE id = $1
    RETURNING id
), audit AS (
    INSERT INTO staff_audit (staff_user_id, action, conversation_id, detail)
    SELECT $3, 'hand_back', id, 'bot resumes at ' || $4 FROM back
)
SELECT count(*) AS n FROM back";

/// What [`hand_back`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandBack {
    /// The bot answers again, from `stage`.
    Resumed {
        /// Where the bot stands now.
        stage: Stage,
    },
    /// Nobody held the conversation.
    NotHeld,
    /// There is no such conversation.
    NotFound,
}

/// `actor` gives the conversation back to the bot, which resumes at the next missing
/// question (see [`EngineState::handed_back`]).
pub async fn hand_back(pool: &DbPool, actor: i64, conversation: i64) -> Result<HandBack, StoreError> {
    let mut conn = connection(pool).await?;
    conn.transaction::<_, StoreError, _>(async |conn| {
        let lock = diesel::sql_query(LOCK_FOR_HAND_BACK_SQL).bind::<BigInt, _>(conversation);
        let Some(row) = Prepared(lock).load::<HeldState>(conn).await?.pop() else {
            return Ok(HandBack::NotFound);
        };
        if !row.held {
            return Ok(HandBack::NotHeld);
        }
        let known: KnownFields = serde_json::from_str(&row.known_fields).unwrap_or_default();
        let engine: EngineState = serde_json::from_str(&row.engine_state).unwrap_or_default();
        let resumed = engine.handed_back(&known);
        let resumes_at = known.next_question().map_or("the closing", |q| q.as_str());
        let back = diesel::sql_query(HAND_BACK_SQL)
            .bind::<BigInt, _>(conversation)
            .bind::<Text, _>(json_text(&resumed))
            .bind::<BigInt, _>(actor)
            .bind::<Text, _>(resumes_at);
        Prepared(back).execute(conn).await?;
        Ok(HandBack::Resumed { stage: resumed.stage })
    })
    .await
}

/// A reply written by staff.
#[derive(Debug, Clone)]
pub struct StaffReply<'a> {
    /// Who wrote it.
    pub author: i64,
    /// The conversation.
    pub conversation: i64,
    /// The token of the form it came from: the same form submitted twice is one reply.
    pub form_token: uuid::Uuid,
    /// The exact text the customer reads.
    pub body: &'a str,
    /// The approved template to send it as, needed outside the 24-hour window (`body` is
    /// then its preview).
    pub template: Option<&'a TemplateSend>,
    /// The request that wrote it.
    pub request_id: Option<&'a str>,
    /// Its trace, for the sender to continue.
    pub traceparent: Option<&'a str>,
}

impl StaffReply<'_> {
    /// Its `outbound_message_log.dedupe_key`.
    pub fn dedupe_key(&self) -> String {
        format!("{}:staff:{}", self.conversation, self.form_token)
    }
}

/// What became of a staff reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// Queued for the sender as row `id`.
    Queued {
        /// `outbound_message_log.id`.
        id: i64,
    },
    /// This form was already submitted: its reply is queued once.
    AlreadyQueued,
    /// The customer's 24-hour window is closed: only a template can be sent.
    WindowClosed,
    /// The customer opted out: nothing may be sent to them (invariant 11).
    OptedOut,
    /// There is no such conversation.
    NotFound,
}

#[derive(QueryableByName)]
struct ReplyRow {
    #[diesel(sql_type = Bool)]
    found: bool,
    #[diesel(sql_type = Bool)]
    window_open: bool,
    #[diesel(sql_type = Bool)]
    opted_out: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
}

/// The reply is written only if the conversation exists, its customer has not opted out,
/// and its window is open (or it is a template); writing it takes the conversation over, so the bot does not talk over staff.
pub(crate) const STAFF_REPLY_SQL: &str = "WITH conv AS (
    SELECT c.id, COALESCE(c.last_inbound_at > now() - interval '24 hours', false) AS window_open,
           k.opted_out_at IS NOT NULL AS opted_out
    FROM conversation c JOIN contact k ON k.id = c.contact_id WHERE c.id = $1 FOR UPDATE OF c
), allowed AS (
    SELECT id FROM conv WHERE (window_open OR $5::jsonb IS NOT NULL) AND NOT opted_out
), reply AS (
    INSERT INTO outbound_message_log
        (conversation_id, dedupe_key, body, author_staff_id, template, request_id, traceparent)
    SELECT id, $3, $4, $2, $5::jsonb, $6, $7 FROM allowed
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, conversation_id
), held AS (
    UPDATE conversation c SET held_by = $2, held_since = now(), version = c.version + 1, updated_at = now()
    FROM reply r WHERE c.id = r.conversation_id AND c.held_by IS DISTINCT FROM $2
    RETURNING c.id
), audit AS (
    INSERT INTO staff_audit (staff_user_id, action, conversation_id, detail)
    SELECT $2, 'reply', conversation_id,
           'reply ' || id || CASE WHEN $5::jsonb IS NULL THEN '' ELSE ' as template ' || ($5::jsonb->>'name') END
    FROM reply
), wake_sender AS (
    SELECT pg_notify('outbound_message_queued', '') WHERE EXISTS (SELECT 1 FROM reply)
)
SELECT EXISTS (SELECT 1 FROM conv) AS found, COALESCE((SELECT window_open FROM conv), false) AS window_open,
       COALESCE((SELECT opted_out FROM conv), false) AS opted_out,
       (SELECT id FROM reply) AS id, (SELECT count(*) FROM wake_sender) AS notified";

/// Queues a staff reply for the sender, after the conversation's earlier messages and
/// exactly once per form.
pub async fn reply(pool: &DbPool, reply: &StaffReply<'_>) -> Result<ReplyOutcome, StoreError> {
    let query = diesel::sql_query(STAFF_REPLY_SQL)
        .bind::<BigInt, _>(reply.conversation)
        .bind::<BigInt, _>(reply.author)
        .bind::<Text, _>(reply.dedupe_key())
        .bind::<Text, _>(reply.body)
        .bind::<Nullable<Jsonb>, _>(reply.template.map(serde_json::to_value).transpose().unwrap_or_default())
        .bind::<Nullable<Text>, _>(reply.request_id)
        .bind::<Nullable<Text>, _>(reply.traceparent);
    let row: ReplyRow = Prepared(query).get_result(&mut *connection(pool).await?).await?;
    Ok(match row {
        ReplyRow { found: false, .. } => ReplyOutcome::NotFound,
        ReplyRow { id: Some(id), .. } => ReplyOutcome::Queued { id },
        ReplyRow { opted_out: true, .. } => ReplyOutcome::OptedOut,
        ReplyRow { window_open: false, .. } if reply.template.is_none() => ReplyOutcome::WindowClosed,
        ReplyRow { .. } => ReplyOutcome::AlreadyQueued,
    })
}
