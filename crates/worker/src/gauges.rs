//! Queue depth and lateness as Prometheus gauges, refreshed in the background.
//!
//! Every replica reports the same table-wide figures; dashboards take the `max` over
//! replicas.

use std::time::Duration;

use store::DbPool;
use store::maintenance::{self, WorkQueue};

use crate::CancellationToken;

/// How often the gauges are refreshed.
pub const REFRESH: Duration = Duration::from_secs(5);

/// Sets `queue_depth{queue, status}` and `queue_oldest_age_seconds{queue}` for `queue`
/// every [`REFRESH`] until `stop` is cancelled. A failed read keeps the last values.
pub async fn report_queue_depth(pool: DbPool, queue: WorkQueue, stop: CancellationToken) {
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        match maintenance::depth(&pool, queue).await {
            Ok(depth) => {
                for (status, n) in depth.by_status {
                    metrics::gauge!("queue_depth", "queue" => queue.table(), "status" => status)
                        .set(n as f64);
                }
                metrics::gauge!("queue_oldest_age_seconds", "queue" => queue.table())
                    .set(depth.oldest_due_secs);
            }
            Err(e) => tracing::debug!(error = %e, queue = queue.table(), "cannot read the queue depth"),
        }
    }
}
