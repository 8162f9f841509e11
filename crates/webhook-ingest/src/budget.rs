//! The in-flight body budget: how many body bytes all requests of the process may hold at
//! once, read but not yet answered. Bodies arrive before they can be authenticated, so
//! without a bound a flood of large uploads takes the process past its memory limit.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes the semaphore can count (its permits are `u32` per acquisition).
const MAX_BUDGET: usize = u32::MAX as usize;

/// A shared budget of body bytes; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct InflightBudget {
    bytes: Arc<Semaphore>,
}

/// Bytes reserved for one request, given back when it is dropped.
#[derive(Debug)]
pub(crate) struct Reservation {
    permit: Option<OwnedSemaphorePermit>,
}

impl InflightBudget {
    /// A budget of `bytes` (at most 4 GiB).
    pub(crate) fn new(bytes: usize) -> Self {
        Self { bytes: Arc::new(Semaphore::new(bytes.min(MAX_BUDGET))) }
    }

    /// Reserves `bytes` now, or `None` when the budget has no room for them.
    pub(crate) fn reserve(&self, bytes: usize) -> Option<Reservation> {
        if bytes == 0 {
            return Some(Reservation { permit: None });
        }
        let n = u32::try_from(bytes).ok()?;
        let permit = Arc::clone(&self.bytes).try_acquire_many_owned(n).ok()?;
        Some(Reservation { permit: Some(permit) })
    }

    /// Grows `reservation` to `total` bytes; `false` (and unchanged) when there is no room.
    pub(crate) fn grow(&self, reservation: &mut Reservation, total: usize) -> bool {
        let more = total.saturating_sub(reservation.bytes());
        if more == 0 {
            return true;
        }
        let Some(extra) = self.reserve(more).and_then(|r| r.permit) else { return false };
        match &mut reservation.permit {
            Some(permit) => permit.merge(extra),
            None => reservation.permit = Some(extra),
        }
        true
    }
}

impl Reservation {
    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.permit.as_ref().map_or(0, |p| p.num_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::InflightBudget;

    #[test]
    fn reservations_share_the_budget_and_give_it_back() {
        let budget = InflightBudget::new(100);
        let first = budget.reserve(60);
        assert!(first.is_some());
        assert!(budget.reserve(50).is_none(), "no room for a second large body");
        let mut second = budget.reserve(0).expect("nothing reserved yet");
        assert!(budget.grow(&mut second, 40));
        assert!(!budget.grow(&mut second, 41));
        assert_eq!(second.bytes(), 40);
        drop(first);
        assert!(budget.grow(&mut second, 100));
    }
}
