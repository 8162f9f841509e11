//! `biz_opaque_callback_data`: the only field Meta echoes back from a send in its status
//! webhooks. The sender puts the `outbound_message_log` row id in it, so a status can
//! settle a send whose response was lost.

const PREFIX: &str = "outbound:";

/// The callback data for an outbound row.
pub fn outbound_callback_data(outbound_id: i64) -> String {
    format!("{PREFIX}{outbound_id}")
}

/// The outbound row id carried in callback data written by [`outbound_callback_data`].
pub fn parse_outbound_callback_data(data: &str) -> Option<i64> {
    data.strip_prefix(PREFIX)?.parse().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_data() {
        assert_eq!(parse_outbound_callback_data(&outbound_callback_data(42)), Some(42));
        assert_eq!(parse_outbound_callback_data("job:8f1c"), None);
        assert_eq!(parse_outbound_callback_data("outbound:-1"), None);
        assert_eq!(parse_outbound_callback_data("outbound:"), None);
        assert_eq!(parse_outbound_callback_data("42"), None);
    }
}
