//! What to do about a failed send, decided by Meta's error code (Meta: "build your app's
//! error handling around error codes instead of subcodes or HTTP response status codes").

use std::time::Duration;

/// What a failed send calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Try again later (with backoff, and not before `retry_after` when Meta says so).
    Transient,
    /// The business number is over its throughput: slow down every sender for it.
    Throttled,
    /// Will never succeed as is: fail the message and tell staff.
    Permanent,
    /// The access token or its permissions are broken: fail, tell staff, pause sending.
    Auth,
}

impl Disposition {
    /// A short lowercase name, for metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Throttled => "throttled",
            Self::Permanent => "permanent",
            Self::Auth => "auth",
        }
    }
}

/// The disposition of a Graph API error code.
pub fn disposition(code: i64) -> Disposition {
    match code {
        130429 | 80007 | 4 => Disposition::Throttled,
        131056 | 131000 | 131016 | 2 | 1 | 133004 | 131057 | 2494100 => Disposition::Transient,
        0 | 3 | 10 | 190 | 200..=299 => Disposition::Auth,
        _ => Disposition::Permanent,
    }
}

/// How long Meta asks us to wait, from a `Retry-After` header in seconds.
pub fn retry_after(header: Option<&str>) -> Option<Duration> {
    header?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_as_meta_documents_them() {
        for code in [130429, 80007, 4] {
            assert_eq!(disposition(code), Disposition::Throttled, "{code}");
        }
        for code in [131056, 131000, 131016, 2, 133004] {
            assert_eq!(disposition(code), Disposition::Transient, "{code}");
        }
        for code in [131047, 131026, 131051, 100, 368, 131031, 132000, 131048] {
            assert_eq!(disposition(code), Disposition::Permanent, "{code}");
        }
        for code in [190, 0, 3, 10, 200, 299] {
            assert_eq!(disposition(code), Disposition::Auth, "{code}");
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        assert_eq!(retry_after(Some("30")), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(Some("soon")), None);
        assert_eq!(retry_after(None), None);
    }
}
