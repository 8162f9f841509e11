//! Reading what the Graph API double received (`GET /_fake/sends`).

use std::collections::HashMap;
use std::time::SystemTime;

use hdrhistogram::Histogram;
use serde_json::Value;

/// The `outbound_message_log.id` a send carries in `biz_opaque_callback_data`.
pub fn outbound_id(send: &Value) -> Option<i64> {
    send["callback_data"].as_str()?.strip_prefix("outbound:")?.parse().ok()
}

/// When the Graph API double received `recorded` (a send or a read receipt).
pub fn received_at(recorded: &Value) -> Option<SystemTime> {
    let at = chrono::DateTime::parse_from_rfc3339(recorded["received_at"].as_str()?).ok()?;
    Some(SystemTime::from(at))
}

/// Microseconds from each acknowledged webhook (by inbound wamid) to the arrival of the
/// first reply to it at the Graph API double.
pub fn latency_us(acks: &HashMap<String, SystemTime>, sends: &[Value]) -> Histogram<u64> {
    let mut histogram =
        Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap_or_else(|_| unreachable!("valid bounds"));
    let mut answered = std::collections::HashSet::new();
    for send in sends {
        let (Some(reply_to), Some(received)) = (send["reply_to"].as_str(), received_at(send)) else {
            continue;
        };
        let Some(ack) = acks.get(reply_to) else {
            continue;
        };
        if !answered.insert(reply_to) {
            continue;
        }
        let micros = received.duration_since(*ack).map_or(1, |d| d.as_micros().max(1) as u64);
        let _ = histogram.record(micros);
    }
    histogram
}
