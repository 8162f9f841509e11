//! What every claimed queue row carries: its [`Lease`] (the fence of every later transition,
//! invariant 3) and its [`Origin`] (the webhook delivery it came from, to continue its trace);
//! and [`Fenced`], the answer of every transition the lease guards.

use diesel::QueryableByName;
use diesel::sql_types::{Int4, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

/// A claim on a queue row, valid while `claim_token` is still the row's.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct Lease {
    /// The fence: a transition applies only while the row still holds this token.
    #[diesel(sql_type = SqlUuid)]
    pub claim_token: Uuid,
    /// This attempt's number (1 for the first).
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    /// Attempts allowed.
    #[diesel(sql_type = Int4)]
    pub max_attempts: i32,
}

impl Lease {
    /// Whether this is the row's last allowed attempt.
    pub fn is_last_attempt(&self) -> bool {
        self.attempts >= self.max_attempts
    }
}

/// Where a row's work came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName, serde::Serialize)]
pub struct Origin {
    /// The request id of the webhook delivery.
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    /// The W3C trace context to continue.
    #[diesel(sql_type = Nullable<Text>)]
    pub traceparent: Option<String>,
}

impl Origin {
    /// The request id, or an empty string, for span fields.
    pub fn request_id(&self) -> &str {
        self.request_id.as_deref().unwrap_or("")
    }
}

/// The answer of a transition fenced by a [`Lease`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Fenced<T> {
    /// The lease still held and the transition was written.
    Applied(T),
    /// The row is no longer ours (the lease expired and another worker claimed it, or a
    /// status webhook settled it): nothing was written.
    LeaseLost,
}

impl<T> Fenced<T> {
    /// The transition's result, if it was applied.
    pub fn applied(self) -> Option<T> {
        match self {
            Self::Applied(value) => Some(value),
            Self::LeaseLost => None,
        }
    }

    /// Whether the transition was written.
    pub fn is_applied(&self) -> bool {
        matches!(self, Self::Applied(_))
    }
}

/// What a fenced retry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Queued again, to run after the delay.
    Requeued,
    /// That was its last attempt: it is `failed` and staff are notified.
    Failed,
}

impl Fenced<()> {
    /// `Applied` when `rows` (the rows a fenced statement changed) is one.
    pub(crate) fn from_rows(rows: usize) -> Self {
        if rows == 1 { Self::Applied(()) } else { Self::LeaseLost }
    }
}
