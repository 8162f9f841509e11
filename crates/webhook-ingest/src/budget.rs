//! The in-flight body budget: how many body bytes all requests of the process may hold at
//! once, read but not yet answered. Bodies arrive before they can be authenticated, so
//! without a bound a flood of large uploads takes the process past its memory limit.
//!
//! Bodies larger than [`SMALL_BODY`] may use only [`LARGE_SHARE_PERCENT`] of the budget, so
//! a flood of large (or slow, never finished) uploads leaves room for Meta's deliveries,
//! which are a few kilobytes.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes the semaphore can count (its permits are `u32` per acquisition).
const MAX_BUDGET: usize = u32::MAX as usize;

/// A body up to this size is small.
pub(crate) const SMALL_BODY: usize = 64 * 1024;

/// The share of the budget large bodies may hold together.
pub(crate) const LARGE_SHARE_PERCENT: usize = 75;

/// A shared budget of body bytes; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct InflightBudget {
    total: Arc<Semaphore>,
    large: Arc<Semaphore>,
}

/// Bytes reserved for one request, given back when it is dropped.
#[derive(Debug, Default)]
pub(crate) struct Reservation {
    total: Option<OwnedSemaphorePermit>,
    large: Option<OwnedSemaphorePermit>,
}

impl InflightBudget {
    /// A budget of `bytes` (at most 4 GiB).
    pub(crate) fn new(bytes: usize) -> Self {
        let bytes = bytes.min(MAX_BUDGET);
        Self { total: Arc::new(Semaphore::new(bytes)), large: Arc::new(Semaphore::new(large_share(bytes))) }
    }

    /// Reserves `bytes` now, or `None` when the budget has no room for them.
    pub(crate) fn reserve(&self, bytes: usize) -> Option<Reservation> {
        let mut reservation = Reservation::default();
        self.grow(&mut reservation, bytes).then_some(reservation)
    }

    /// Grows `reservation` to `total` bytes; `false` (and unchanged) when there is no room.
    pub(crate) fn grow(&self, reservation: &mut Reservation, total: usize) -> bool {
        let more = total.saturating_sub(reservation.bytes());
        if more == 0 {
            return true;
        }
        let Some(extra) = acquire(&self.total, more) else { return false };
        if total > SMALL_BODY {
            let held = reservation.large.as_ref().map_or(0, |p| p.num_permits());
            let Some(large) = acquire(&self.large, total - held) else { return false };
            merge(&mut reservation.large, large);
        }
        merge(&mut reservation.total, extra);
        true
    }
}

/// [`LARGE_SHARE_PERCENT`] of `bytes`.
fn large_share(bytes: usize) -> usize {
    let share = bytes as u128 * LARGE_SHARE_PERCENT as u128 / 100;
    usize::try_from(share).unwrap_or(bytes)
}

fn acquire(semaphore: &Arc<Semaphore>, bytes: usize) -> Option<OwnedSemaphorePermit> {
    let n = u32::try_from(bytes).ok()?;
    Arc::clone(semaphore).try_acquire_many_owned(n).ok()
}

fn merge(into: &mut Option<OwnedSemaphorePermit>, permit: OwnedSemaphorePermit) {
    match into {
        Some(held) => held.merge(permit),
        None => *into = Some(permit),
    }
}

impl Reservation {
    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.total.as_ref().map_or(0, |p| p.num_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::{InflightBudget, SMALL_BODY};

    #[test]
    fn reservations_share_the_budget_and_give_it_back() {
        let budget = InflightBudget::new(100);
        let first = budget.reserve(60);
        assert!(first.is_some());
        assert!(budget.reserve(50).is_none(), "no room for a second body");
        let mut second = budget.reserve(0).expect("nothing reserved yet");
        assert!(budget.grow(&mut second, 40));
        assert!(!budget.grow(&mut second, 41));
        assert_eq!(second.bytes(), 40);
        drop(first);
        assert!(budget.grow(&mut second, 100));
    }

    #[test]
    fn large_bodies_leave_a_quarter_for_small_ones() {
        let budget = InflightBudget::new(8 * SMALL_BODY);
        let large: Vec<_> = std::iter::from_fn(|| budget.reserve(2 * SMALL_BODY)).take(10).collect();
        assert_eq!(large.len(), 3, "large bodies hold at most 75%");
        let small: Vec<_> = std::iter::from_fn(|| budget.reserve(SMALL_BODY)).take(10).collect();
        assert_eq!(small.len(), 2, "the rest is for small bodies");
    }
}
