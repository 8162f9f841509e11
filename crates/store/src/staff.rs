//! Staff accounts, their sessions and login attempts, and the audit trail of what staff do.
//!
//! Passwords arrive here already hashed (argon2id, by the staff console), and a session is
//! stored by the SHA-256 of its cookie: neither table alone lets anyone log in.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;

use crate::prepared::{Count, Prepared};
use crate::vocab::{StaffAction, StaffRole};
use crate::{DbPool, StoreError, connection};

/// A member of staff.
#[derive(Debug, Clone, QueryableByName)]
pub struct StaffUser {
    /// `staff_user.id`.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Their login, lower-cased.
    #[diesel(sql_type = Text)]
    pub email: String,
    /// What they may do.
    #[diesel(sql_type = Text)]
    pub role: StaffRole,
    /// When the account was disabled; a disabled account cannot log in.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub disabled_at: Option<DateTime<Utc>>,
    /// When it was created.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// An account with its password hash, for a login.
#[derive(Debug, Clone, QueryableByName)]
pub struct Credentials {
    /// The account.
    #[diesel(embed)]
    pub user: StaffUser,
    /// The argon2id PHC string.
    #[diesel(sql_type = Text)]
    pub password_hash: String,
}

/// Whether [`save_user`] created the account or changed an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// A new account.
    Created,
    /// An existing account got the new password and role (and is enabled).
    Updated,
}

#[derive(QueryableByName)]
struct SavedRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Bool)]
    created: bool,
}

pub(crate) const SAVE_USER_SQL: &str = "WITH saved AS (
    INSERT INTO staff_user (email, password_hash, role) VALUES (lower($1), $2, $3)
    ON CONFLICT (email) DO UPDATE
        SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, disabled_at = NULL, updated_at = now()
    RETURNING id, (xmax = 0) AS created
), audit AS (
    INSERT INTO staff_audit (staff_user_id, action, detail)
    SELECT $4, 'save_user', 'account ' || id || CASE WHEN created THEN ' created as ' ELSE ' set to ' END || $3
    FROM saved
)
SELECT id, created FROM saved";

/// Creates the account `email` (lower-cased) or gives an existing one a new password hash
/// and role and enables it; `actor` is the admin who did it (none from the command line).
pub async fn save_user(
    pool: &DbPool,
    actor: Option<i64>,
    email: &str,
    password_hash: &str,
    role: StaffRole,
) -> Result<(i64, Saved), StoreError> {
    let query = diesel::sql_query(SAVE_USER_SQL)
        .bind::<Text, _>(email)
        .bind::<Text, _>(password_hash)
        .bind::<Text, _>(role)
        .bind::<Nullable<BigInt>, _>(actor);
    let row: SavedRow = Prepared(query).get_result(&mut *connection(pool).await?).await?;
    Ok((row.id, if row.created { Saved::Created } else { Saved::Updated }))
}

pub(crate) const CREDENTIALS_SQL: &str = "SELECT id, email, role, disabled_at, created_at, password_hash
    FROM staff_user WHERE email = lower($1)";

/// The account `email` logs in with, if there is one.
pub async fn credentials(pool: &DbPool, email: &str) -> Result<Option<Credentials>, StoreError> {
    let query = diesel::sql_query(CREDENTIALS_SQL).bind::<Text, _>(email);
    let mut rows: Vec<Credentials> = Prepared(query).load(&mut *connection(pool).await?).await?;
    Ok(rows.pop())
}

pub(crate) const USERS_SQL: &str =
    "SELECT id, email, role, disabled_at, created_at FROM staff_user ORDER BY email";

/// Every account, by e-mail.
pub async fn users(pool: &DbPool) -> Result<Vec<StaffUser>, StoreError> {
    Ok(Prepared(diesel::sql_query(USERS_SQL)).load(&mut *connection(pool).await?).await?)
}

pub(crate) const SET_DISABLED_SQL: &str = "WITH changed AS (
    UPDATE staff_user SET disabled_at = CASE WHEN $3 THEN COALESCE(disabled_at, now()) END, updated_at = now()
    WHERE id = $2
    RETURNING id
), ended AS (
    DELETE FROM staff_session WHERE $3 AND staff_user_id IN (SELECT id FROM changed)
), audit AS (
    INSERT INTO staff_audit (staff_user_id, action, detail)
    SELECT $1, CASE WHEN $3 THEN 'disable_user' ELSE 'enable_user' END, 'account ' || id FROM changed
)
SELECT count(*) AS n FROM changed";

/// Disables the account `id` (ending its sessions) or enables it again. False when there
/// is no such account.
pub async fn set_disabled(pool: &DbPool, actor: i64, id: i64, disabled: bool) -> Result<bool, StoreError> {
    let query = diesel::sql_query(SET_DISABLED_SQL)
        .bind::<BigInt, _>(actor)
        .bind::<BigInt, _>(id)
        .bind::<Bool, _>(disabled);
    let row: Count = Prepared(query).get_result(&mut *connection(pool).await?).await?;
    Ok(row.n == 1)
}

/// Recent failed logins, for the rate limit.
#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct LoginFailures {
    /// Failures for this account (from anywhere) since the last success.
    #[diesel(sql_type = BigInt)]
    pub account: i64,
    /// Failures from this address (for any account).
    #[diesel(sql_type = BigInt)]
    pub address: i64,
    /// Seconds until the oldest counted failure leaves the window.
    #[diesel(sql_type = Nullable<Double>)]
    pub retry_after_secs: Option<f64>,
}

pub(crate) const LOGIN_FAILURES_SQL: &str = "WITH recent AS (
    SELECT a.email, a.address, a.attempted_at FROM staff_login_attempt a
    WHERE a.attempted_at > now() - make_interval(secs => $3) AND NOT a.succeeded
      AND (a.email = lower($1) OR a.address = $2)
      AND a.attempted_at > COALESCE((SELECT max(s.attempted_at) FROM staff_login_attempt s
                                     WHERE s.email = a.email AND s.succeeded), '-infinity')
)
SELECT (SELECT count(*) FROM recent WHERE email = lower($1)) AS account,
       (SELECT count(*) FROM recent WHERE address = $2) AS address,
       (SELECT EXTRACT(EPOCH FROM min(attempted_at) + make_interval(secs => $3) - now())::float8 FROM recent)
           AS retry_after_secs";

/// Failed logins within `window` for the account `email` and from `address`.
pub async fn login_failures(
    pool: &DbPool,
    email: &str,
    address: &str,
    window: Duration,
) -> Result<LoginFailures, StoreError> {
    let query = diesel::sql_query(LOGIN_FAILURES_SQL)
        .bind::<Text, _>(email)
        .bind::<Text, _>(address)
        .bind::<Double, _>(window.as_secs_f64());
    Ok(Prepared(query).get_result(&mut *connection(pool).await?).await?)
}

pub(crate) const LOGIN_ATTEMPT_SQL: &str = "WITH attempt AS (
    INSERT INTO staff_login_attempt (email, address, succeeded) VALUES (lower($1), $2, $3::bigint IS NOT NULL)
), audit AS (
    INSERT INTO staff_audit (staff_user_id, action) SELECT $3, 'log_in' WHERE $3 IS NOT NULL
)
SELECT 1 AS n";

/// Records a login attempt for `email` from `address`: a success names the account that
/// logged in (and is audited), a failure names none.
pub async fn record_login(
    pool: &DbPool,
    email: &str,
    address: &str,
    logged_in: Option<i64>,
) -> Result<(), StoreError> {
    let query = diesel::sql_query(LOGIN_ATTEMPT_SQL)
        .bind::<Text, _>(email)
        .bind::<Text, _>(address)
        .bind::<Nullable<BigInt>, _>(logged_in);
    Prepared(query).execute(&mut *connection(pool).await?).await?;
    Ok(())
}

/// A logged-in member of staff, as a request sees them.
#[derive(Debug, Clone, QueryableByName)]
pub struct Session {
    /// Who.
    #[diesel(embed)]
    pub user: StaffUser,
    /// The token every form of this session carries.
    #[diesel(sql_type = Text)]
    pub csrf_token: String,
    /// When the session ends.
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
}

pub(crate) const START_SESSION_SQL: &str =
    "INSERT INTO staff_session (token_hash, staff_user_id, csrf_token, expires_at)
    VALUES ($1, $2, $3, now() + make_interval(secs => $4))";

/// Starts a session for account `user`, known by `token_hash`, for `lifetime`.
pub async fn start_session(
    pool: &DbPool,
    token_hash: &str,
    user: i64,
    csrf_token: &str,
    lifetime: Duration,
) -> Result<(), StoreError> {
    let query = diesel::sql_query(START_SESSION_SQL)
        .bind::<Text, _>(token_hash)
        .bind::<BigInt, _>(user)
        .bind::<Text, _>(csrf_token)
        .bind::<Double, _>(lifetime.as_secs_f64());
    Prepared(query).execute(&mut *connection(pool).await?).await?;
    Ok(())
}

pub(crate) const SESSION_SQL: &str = "UPDATE staff_session s SET last_seen_at = now()
    FROM staff_user u
    WHERE s.token_hash = $1 AND s.expires_at > now() AND u.id = s.staff_user_id AND u.disabled_at IS NULL
    RETURNING u.id, u.email, u.role, u.disabled_at, u.created_at, s.csrf_token, s.expires_at";

/// The live session known by `token_hash`: not expired, of an enabled account.
pub async fn session(pool: &DbPool, token_hash: &str) -> Result<Option<Session>, StoreError> {
    let query = diesel::sql_query(SESSION_SQL).bind::<Text, _>(token_hash);
    let mut rows: Vec<Session> = Prepared(query).load(&mut *connection(pool).await?).await?;
    Ok(rows.pop())
}

pub(crate) const END_SESSION_SQL: &str = "WITH ended AS (
    DELETE FROM staff_session WHERE token_hash = $1 RETURNING staff_user_id
), audit AS (
    INSERT INTO staff_audit (staff_user_id, action) SELECT staff_user_id, 'log_out' FROM ended
)
SELECT count(*) AS n FROM ended";

/// Ends the session known by `token_hash` (logout).
pub async fn end_session(pool: &DbPool, token_hash: &str) -> Result<(), StoreError> {
    let query = diesel::sql_query(END_SESSION_SQL).bind::<Text, _>(token_hash);
    Prepared(query).execute(&mut *connection(pool).await?).await?;
    Ok(())
}

pub(crate) const PRUNE_SQL: &str = "WITH sessions AS (
    DELETE FROM staff_session WHERE expires_at < now() RETURNING 1
), attempts AS (
    DELETE FROM staff_login_attempt WHERE attempted_at < now() - interval '1 day' RETURNING 1
)
SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM attempts) AS n";

/// Deletes expired sessions and login attempts older than a day. Returns how many rows.
pub async fn prune(pool: &DbPool) -> Result<i64, StoreError> {
    let row: Count = Prepared(diesel::sql_query(PRUNE_SQL)).get_result(&mut *connection(pool).await?).await?;
    Ok(row.n)
}

pub(crate) const AUDIT_SQL: &str =
    "INSERT INTO staff_audit (staff_user_id, action, conversation_id, detail) VALUES ($1, $2, $3, $4)";

/// Records that `actor` did `action` (about `conversation`). `detail` is shown to admins:
/// ids and settings, never customer text.
pub async fn audit(
    pool: &DbPool,
    actor: i64,
    action: StaffAction,
    conversation: Option<i64>,
    detail: &str,
) -> Result<(), StoreError> {
    let query = diesel::sql_query(AUDIT_SQL)
        .bind::<BigInt, _>(actor)
        .bind::<Text, _>(action)
        .bind::<Nullable<BigInt>, _>(conversation)
        .bind::<Text, _>(detail);
    Prepared(query).execute(&mut *connection(pool).await?).await?;
    Ok(())
}

/// One line of the audit trail.
#[derive(Debug, Clone, QueryableByName)]
pub struct AuditEntry {
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    /// Who (none for the command line, or a deleted account).
    #[diesel(sql_type = Nullable<Text>)]
    pub actor: Option<String>,
    /// What.
    #[diesel(sql_type = Text)]
    pub action: StaffAction,
    /// About which conversation.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub conversation_id: Option<i64>,
    /// Ids and settings.
    #[diesel(sql_type = Text)]
    pub detail: String,
}

pub(crate) const AUDIT_TRAIL_SQL: &str =
    "SELECT a.created_at AS at, u.email AS actor, a.action, a.conversation_id, a.detail
    FROM staff_audit a LEFT JOIN staff_user u ON u.id = a.staff_user_id
    WHERE $1::bigint IS NULL OR a.conversation_id = $1
    ORDER BY a.id DESC LIMIT $2";

/// The newest `limit` audit entries, of one conversation or of all.
pub async fn audit_trail(
    pool: &DbPool,
    conversation: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let query =
        diesel::sql_query(AUDIT_TRAIL_SQL).bind::<Nullable<BigInt>, _>(conversation).bind::<BigInt, _>(limit);
    Ok(Prepared(query).load(&mut *connection(pool).await?).await?)
}
