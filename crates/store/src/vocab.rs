//! The words the tables use for states and kinds, as types.
//!
//! Each enum is stored as the `TEXT` its migration's `CHECK` constraint (or the staff tools)
//! name; the spelling lives here and in the migrations only. A value Postgres returns that
//! no variant spells fails to load, so a typo cannot turn into a silent default.

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use domain::webhook::StatusKind;

/// A stored spelling no variant of the enum has.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownValue {
    kind: &'static str,
    value: String,
}

macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident as $kind:literal {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow,
            serde::Serialize, serde::Deserialize,
        )]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every variant.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownValue { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                Ok(text.parse()?)
            }
        }
    };
}

text_enum! {
    /// `outbound_job.status`.
    JobStatus as "job status" {
        /// Waiting to run (first time or after a retry delay).
        Queued = "queued",
        /// Claimed by a runner under a lease.
        Running = "running",
        /// Its result is committed.
        Done = "done",
        /// It used its attempts; staff were notified.
        Failed = "failed",
    }
}

text_enum! {
    /// `outbound_message_log.status`.
    SendStatus as "send status" {
        /// Waiting to be sent.
        Queued = "queued",
        /// Claimed by a sender, the request may be under way.
        Sending = "sending",
        /// Meta accepted it.
        Sent = "sent",
        /// It reached the customer's phone.
        Delivered = "delivered",
        /// The customer read it.
        Read = "read",
        /// It will not be sent (Meta refused it, or it used its attempts).
        Failed = "failed",
        /// Sent with no answer: settled by a status webhook, or handled after a window.
        Uncertain = "uncertain",
        /// Never sent: a newer reply of the conversation answers everything.
        Superseded = "superseded",
    }
}

impl SendStatus {
    /// The status a delivery-status webhook moves a row to, if any: `played` counts as
    /// `read`; statuses Meta may add later are recorded but move nothing.
    pub fn reached_by(status: &StatusKind) -> Option<Self> {
        match status {
            StatusKind::Sent => Some(Self::Sent),
            StatusKind::Delivered => Some(Self::Delivered),
            StatusKind::Read | StatusKind::Played => Some(Self::Read),
            StatusKind::Failed => Some(Self::Failed),
            StatusKind::Other(_) | StatusKind::Missing => None,
        }
    }
}

text_enum! {
    /// `lead.status`.
    LeadStatus as "lead status" {
        /// Known to exist, not yet qualified.
        New = "new",
        /// Every detail is known.
        Qualified = "qualified",
        /// Staff took over before the details were complete.
        HandedOff = "handed_off",
        /// Staff called the customer.
        Contacted = "contacted",
        /// Nothing more to do.
        Closed = "closed",
    }
}

text_enum! {
    /// `notification.kind`: what staff are told about.
    NoticeKind as "notification kind" {
        /// Every detail of a lead is known.
        LeadQualified = "lead_qualified",
        /// The customer asked for a person, or the bot could not understand them.
        HumanRequested = "human_requested",
        /// A job used its attempts.
        JobFailed = "job_failed",
        /// A reply could not be delivered.
        OutboundFailed = "outbound_failed",
        /// A reply got no answer and no status, and is held for staff.
        OutboundUncertain = "outbound_uncertain",
        /// The customer opted out: nothing more is sent to them.
        OptedOut = "opted_out",
        /// The customer wrote after the closing or a handoff.
        CustomerFollowup = "customer_followup",
        /// Items of a webhook delivery could not be stored and were quarantined.
        Quarantined = "quarantined",
        /// A customer's messages waited past the 24-hour window: only a template reaches them.
        StaleInbound = "stale_inbound",
    }
}

text_enum! {
    /// Why a conversation's newest message gets no presence request, as the presence claim
    /// (`crate::presence`) spells it.
    PresenceSkip as "presence skip" {
        /// The customer opted out: nothing of ours reaches them.
        OptedOut = "opted_out",
        /// The message is older than the 24-hour customer-service window.
        OutsideWindow = "outside_window",
        /// Its reply is being sent or was sent: a typing indicator now would outlast it.
        Replied = "replied",
    }
}

text_enum! {
    /// `staff_user.role`.
    StaffRole as "staff role" {
        /// Reads and answers conversations, notifications and leads.
        Agent = "agent",
        /// An agent who also runs operations and manages staff accounts.
        Admin = "admin",
    }
}

text_enum! {
    /// `staff_audit.action`: what a member of staff did.
    StaffAction as "staff action" {
        /// Logged in.
        LogIn = "log_in",
        /// Logged out.
        LogOut = "log_out",
        /// Took a conversation over from the bot.
        TakeOver = "take_over",
        /// Gave a conversation back to the bot.
        HandBack = "hand_back",
        /// Queued a reply to the customer.
        Reply = "reply",
        /// Wrote a note for colleagues.
        Note = "note",
        /// Marked a notification read.
        ReadNotification = "read_notification",
        /// Snoozed a notification.
        SnoozeNotification = "snooze_notification",
        /// Queued a failed job again.
        RequeueJob = "requeue_job",
        /// Queued a failed or held reply again.
        RequeueSend = "requeue_send",
        /// Exported the qualified leads.
        ExportLeads = "export_leads",
        /// Created a staff account or changed its password or role.
        SaveUser = "save_user",
        /// Disabled a staff account (its sessions end).
        DisableUser = "disable_user",
        /// Enabled a staff account again.
        EnableUser = "enable_user",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_reads_back_as_its_variant() {
        fn round_trip<T: std::str::FromStr + Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            as_str: fn(T) -> &'static str,
        ) {
            for variant in all {
                assert_eq!(as_str(*variant).parse::<T>().ok(), Some(*variant));
            }
        }
        round_trip(JobStatus::ALL, JobStatus::as_str);
        round_trip(SendStatus::ALL, SendStatus::as_str);
        round_trip(LeadStatus::ALL, LeadStatus::as_str);
        round_trip(NoticeKind::ALL, NoticeKind::as_str);
        round_trip(StaffRole::ALL, StaffRole::as_str);
        round_trip(StaffAction::ALL, StaffAction::as_str);
        round_trip(PresenceSkip::ALL, PresenceSkip::as_str);
        assert!("Failed".parse::<JobStatus>().is_err(), "spellings are exact");
    }

    #[test]
    fn json_carries_the_stored_spelling() {
        assert_eq!(
            serde_json::to_value(NoticeKind::OutboundUncertain).ok(),
            Some("outbound_uncertain".into())
        );
    }
}
