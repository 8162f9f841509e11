//! When a failed job runs again: capped exponential backoff with jitter.
//!
//! This is the only place that knows the `backoff` crate, so replacing it (RustSec flags it
//! as unmaintained) touches this file alone.

use std::time::Duration;

use backoff::ExponentialBackoffBuilder;
use backoff::backoff::Backoff;

/// Jitter of ±25%: enough to spread retries of many jobs, small enough that each retry of
/// one job still waits longer than the one before (the ranges of consecutive attempts,
/// which double, never overlap).
const JITTER: f64 = 0.25;

/// Delays between attempts: `base`, then doubling, never more than `max`, each ±25%.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Delay after the first failed attempt.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

/// A retry cap below the first delay.
#[derive(Debug, thiserror::Error)]
#[error("{prefix}_RETRY_MAX_MS ({max_ms}) must not be below {prefix}_RETRY_BASE_MS ({base_ms})")]
pub struct RetryCapBelowBase {
    prefix: &'static str,
    base_ms: u64,
    max_ms: u64,
}

impl RetryPolicy {
    /// The policy of `{prefix}_RETRY_BASE_MS` and `{prefix}_RETRY_MAX_MS`; the error names
    /// both variables.
    pub fn from_millis(prefix: &'static str, base_ms: u64, max_ms: u64) -> Result<Self, RetryCapBelowBase> {
        if max_ms < base_ms {
            return Err(RetryCapBelowBase { prefix, base_ms, max_ms });
        }
        Ok(Self { base: Duration::from_millis(base_ms), max: Duration::from_millis(max_ms) })
    }

    /// The delay before attempt `failed_attempts + 1`.
    pub fn delay_after(&self, failed_attempts: u32) -> Duration {
        let mut backoff = ExponentialBackoffBuilder::new()
            .with_initial_interval(self.base)
            .with_multiplier(2.0)
            .with_randomization_factor(JITTER)
            .with_max_interval(self.max)
            .with_max_elapsed_time(None)
            .build();
        let mut delay = self.base;
        for _ in 0..failed_attempts.max(1) {
            delay = backoff.next_backoff().unwrap_or(self.max);
        }
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_stay_capped_and_never_overlap() {
        let policy = RetryPolicy { base: Duration::from_secs(1), max: Duration::from_secs(60) };
        for _ in 0..200 {
            let delays: Vec<Duration> = (1..=10).map(|n| policy.delay_after(n)).collect();
            for pair in delays.windows(2).take(5) {
                assert!(pair[0] < pair[1], "{delays:?}");
            }
            assert!(delays.iter().all(|d| *d <= Duration::from_secs_f64(60.0 * 1.25)), "{delays:?}");
            assert!(delays[0] >= Duration::from_millis(750) && delays[0] <= Duration::from_millis(1250));
        }
    }
}
