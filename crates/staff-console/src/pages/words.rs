//! Plain words for what the tables store: stages, delivery ticks, WhatsApp's error codes.

use chrono::Duration;
use store::{NoticeKind, SendStatus};

/// A bot stage as staff read it.
pub fn stage(stage: &str) -> &'static str {
    match stage {
        "qualifying" => "In progress",
        "qualified" => "Qualified",
        "handed_off" => "Needs a person",
        "opted_out" => "Opted out",
        _ => "Unknown",
    }
}

/// The ticks (or word) for one of our messages, and a class for its colour.
pub fn ticks(status: SendStatus) -> (&'static str, &'static str, &'static str) {
    match status {
        SendStatus::Queued => ("🕓", "pending", "Queued"),
        SendStatus::Sending => ("🕓", "pending", "Sending"),
        SendStatus::Sent => ("✓", "sent", "Sent"),
        SendStatus::Delivered => ("✓✓", "delivered", "Delivered"),
        SendStatus::Read => ("✓✓", "read", "Read"),
        SendStatus::Failed => ("!", "failed", "Failed"),
        SendStatus::Uncertain => ("?", "pending", "Sent, not yet confirmed"),
        SendStatus::Superseded => ("–", "superseded", "Not sent: a newer reply answered everything"),
    }
}

/// Why a message failed, in plain words: WhatsApp's error code where it is known, else the
/// stored text.
pub fn failure(code: Option<i32>, text: Option<&str>) -> String {
    let known = match code {
        Some(131047) => {
            Some("More than 24 hours passed since the customer's last message; only a template can be sent.")
        }
        Some(131026) => {
            Some("WhatsApp could not deliver it: the number may not use WhatsApp, or its app is too old.")
        }
        Some(131050) => Some("The customer chose not to receive these messages."),
        Some(131051) => Some("WhatsApp does not support this kind of message."),
        Some(131056) => Some("Too many messages to this customer in a short time."),
        Some(130429) => Some("Our number hit WhatsApp's rate limit."),
        Some(131000) | Some(1) | Some(2) => Some("WhatsApp had an internal error."),
        Some(190) => Some("WhatsApp refused our access token: an admin must renew it."),
        Some(100) => Some("WhatsApp refused the message as malformed."),
        Some(132000) => Some("The template's parameters do not match the approved template."),
        Some(132001) => Some("The template does not exist in that language, or is not approved."),
        Some(133010) => Some("Our business number is not registered with WhatsApp."),
        Some(368) => Some("Our number is temporarily blocked by WhatsApp."),
        _ => None,
    };
    match (known, text) {
        (Some(words), _) => words.to_owned(),
        (None, Some(text)) if !text.is_empty() => text.to_owned(),
        (None, _) => "WhatsApp gave no reason.".to_owned(),
    }
}

/// A notification kind as a short label.
pub fn notice(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::LeadQualified => "Lead qualified",
        NoticeKind::HumanRequested => "Wants a person",
        NoticeKind::JobFailed => "Reply not prepared",
        NoticeKind::OutboundFailed => "Not delivered",
        NoticeKind::OutboundUncertain => "Delivery unknown",
        NoticeKind::OptedOut => "Opted out",
        NoticeKind::CustomerFollowup => "Customer wrote again",
        NoticeKind::Quarantined => "Webhook item quarantined",
        NoticeKind::StaleInbound => "Waited over 24 hours",
    }
}

/// A duration as "3 h 20 min" (or "under a minute").
pub fn duration(left: Duration) -> String {
    let minutes = left.num_minutes();
    match (minutes / 60, minutes % 60) {
        (0, 0) => "under a minute".to_owned(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_explained_in_plain_words() {
        assert!(failure(Some(131047), Some("Re-engagement message")).contains("24 hours"));
        assert_eq!(failure(Some(4242), Some("odd failure")), "odd failure");
        assert_eq!(failure(None, None), "WhatsApp gave no reason.");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::minutes(200)), "3 h 20 min");
        assert_eq!(duration(Duration::minutes(45)), "45 min");
        assert_eq!(duration(Duration::seconds(30)), "under a minute");
    }
}
