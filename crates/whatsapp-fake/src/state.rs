//! What the fake remembers: the faults in force, every accepted send and read receipt, and
//! the per-second send counts behind the throughput limit.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::template::TemplateSend;
use serde::Serialize;

use crate::config::Faults;

/// A send the fake accepted.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RecordedSend {
    /// The wamid it was given.
    pub wamid: String,
    /// The business number from the URL.
    pub phone_number_id: String,
    /// The recipient as sent (`+` and digits).
    pub to: String,
    /// The text (empty for a template send).
    pub body: String,
    /// The template of a template send: name, language and body parameters.
    #[serde(default)]
    pub template: Option<TemplateSend>,
    /// `context.message_id`, the inbound message answered.
    pub reply_to: Option<String>,
    /// `biz_opaque_callback_data`.
    pub callback_data: Option<String>,
    /// When the request arrived.
    pub received_at: DateTime<Utc>,
    /// `answered`, `lost` (answer never sent) or `reset` (connection dropped).
    pub answer: String,
}

/// A read receipt the fake accepted.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RecordedPresence {
    /// The business number from the URL.
    pub phone_number_id: String,
    /// The message marked read (with every earlier one of the chat).
    pub message_id: String,
    /// Whether a typing indicator was asked for.
    pub typing: bool,
    /// When the request arrived.
    pub received_at: DateTime<Utc>,
}

/// The fake's memory.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) faults: Faults,
    pub(crate) sends: Vec<RecordedSend>,
    pub(crate) presence: Vec<RecordedPresence>,
    next_wamid: u64,
    /// Per business number: the current second and the sends counted in it.
    windows: HashMap<String, (i64, u32)>,
}

impl State {
    pub(crate) fn new(faults: Faults) -> Self {
        Self { faults, ..Self::default() }
    }

    /// A new wamid, unique for this fake's lifetime.
    pub(crate) fn wamid(&mut self) -> String {
        self.next_wamid += 1;
        format!("wamid.FAKE{:016X}{:08X}", self.next_wamid, std::process::id())
    }

    /// Counts a send for `phone_number_id`; false when it is over the per-second limit.
    pub(crate) fn within_throughput(&mut self, phone_number_id: &str, now: DateTime<Utc>) -> bool {
        let limit = self.faults.max_per_second;
        if limit == 0 {
            return true;
        }
        let second = now.timestamp();
        let window = self.windows.entry(phone_number_id.to_owned()).or_insert((second, 0));
        if window.0 != second {
            *window = (second, 0);
        }
        window.1 += 1;
        window.1 <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_limit_counts_per_number_and_second() {
        let mut state = State::new(Faults { max_per_second: 2, ..Faults::default() });
        let now = Utc::now();
        assert!(state.within_throughput("a", now));
        assert!(state.within_throughput("a", now));
        assert!(!state.within_throughput("a", now));
        assert!(state.within_throughput("b", now));
        assert!(state.within_throughput("a", now + chrono::Duration::seconds(1)));
    }

    #[test]
    fn wamids_are_unique() {
        let mut state = State::default();
        assert_ne!(state.wamid(), state.wamid());
    }
}
