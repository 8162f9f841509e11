//! Keyset pagination: a newest-first list continues after its last row's time and id, so a
//! page never repeats or skips a row while new rows arrive.

use chrono::{DateTime, Utc};

/// Where the next page of a newest-first list starts: after the row with this time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    /// The ordering time of the last row shown.
    pub at: DateTime<Utc>,
    /// Its id, which breaks ties.
    pub id: i64,
}

impl Keyset {
    /// The position as it travels in a link: `{unix microseconds}.{id}`.
    pub fn to_param(self) -> String {
        format!("{}.{}", self.at.timestamp_micros(), self.id)
    }

    /// Reads [`Keyset::to_param`]'s text back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('.')?;
        Some(Self { at: DateTime::from_timestamp_micros(micros.parse().ok()?)?, id: id.parse().ok()? })
    }
}

#[cfg(test)]
mod tests {
    use super::Keyset;

    #[test]
    fn a_position_survives_its_link() {
        let at = chrono::DateTime::from_timestamp_micros(1_764_590_400_123_456).expect("time");
        let keyset = Keyset { at, id: 42 };
        assert_eq!(Keyset::parse(&keyset.to_param()), Some(keyset));
        for bad in ["", "garbage", "1.x", "x.1", "1"] {
            assert_eq!(Keyset::parse(bad), None, "{bad}");
        }
    }
}
