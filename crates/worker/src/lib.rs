//! The loop every queue worker of the pipeline shares (job-runner, outbound-sender).
//!
//! A [`Queue`] says how to claim items, run one, give one back and do periodic upkeep;
//! [`serve`] runs it: claims in batches up to the free concurrency slots, runs each item on
//! its own task, sleeps until a [`Wake`] (LISTEN/NOTIFY, see [`listen`]) or the poll
//! interval, and on stop finishes in-flight items within a grace period, giving back the
//! ones still running. [`gauges`] reports each queue's depth and lateness.

pub mod gauges;
mod retry_policy;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
pub use retry_policy::{RetryCapBelowBase, RetryPolicy};
use store::StoreError;
use store::listen::Listener;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
pub use tokio_util::sync::CancellationToken;

/// A table of work items a worker claims under a lease.
pub trait Queue: Clone + Send + Sync + 'static {
    /// A claimed item.
    type Item: Clone + Send + 'static;

    /// The item's id (for logs and in-flight bookkeeping).
    fn id(item: &Self::Item) -> i64;

    /// Claims up to `limit` due items.
    fn claim(&self, limit: usize) -> impl Future<Output = Result<Vec<Self::Item>, StoreError>> + Send;

    /// Runs one item to one of its fenced outcomes.
    fn run(&self, item: Self::Item) -> impl Future<Output = ()> + Send;

    /// Gives back an item still running when the grace period ran out.
    fn release(&self, item: Self::Item) -> impl Future<Output = ()> + Send;

    /// Periodic upkeep (expired leases and the like), run on every poll tick.
    fn upkeep(&self) -> impl Future<Output = ()> + Send;

    /// How long until an item not due yet becomes due by time alone (say, a turn's quiet
    /// period ending), if any: the loop wakes then instead of at the next poll.
    fn next_due(&self) -> impl Future<Output = Option<Duration>> + Send {
        std::future::ready(None)
    }
}

/// How a worker loop runs.
#[derive(Debug, Clone, Copy)]
pub struct LoopSettings {
    /// Items run at once (at least 1).
    pub concurrency: usize,
    /// Most items claimed per query (at least 1).
    pub batch_size: usize,
    /// Poll period without wake-ups.
    pub poll_interval: Duration,
    /// Time to finish in-flight items after stop.
    pub grace: Duration,
    /// How long after a wake-up the items it announces can first be due (zero: at once).
    /// A queue whose new items become due only later (a turn, after its quiet period) is
    /// claimed then rather than at every wake-up: during a burst, a claim per wake-up would
    /// only read the queue again and again.
    pub wake_delay: Duration,
}

/// A wake-up signal: new work may be due.
#[derive(Debug, Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    /// Signals the worker (remembered if it is not waiting right now).
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Waits for the next signal.
    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

/// How much a [`run`] may do before it returns by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most items claimed.
    pub max_items: usize,
    /// Return once nothing is due and nothing is in flight, instead of waiting for more.
    pub until_idle: bool,
    /// Claim whole batches and run each to its end before the next claim, as a process
    /// draining a backlog does (one claim per batch); otherwise claim only for free slots,
    /// as a replica sharing the queue with others does (nothing waits claimed but idle).
    pub whole_batches: bool,
}

impl Budget {
    /// No limit: run until stopped, claiming for free slots.
    pub const UNLIMITED: Self = Self { max_items: usize::MAX, until_idle: false, whole_batches: false };
}

/// Runs `queue` until `stop` is cancelled, then finishes or releases in-flight items.
pub async fn serve<Q: Queue>(queue: Q, settings: LoopSettings, wake: Wake, stop: CancellationToken) {
    // Without `until_idle` a run never ends with an error.
    let _ = run(queue, settings, wake, stop, Budget::UNLIMITED).await;
}

/// Runs `queue` until `stop` is cancelled or `budget` is spent: claims up to the free
/// concurrency slots, runs each item on its own task, and waits for a wake-up, a finished
/// item or the poll interval when nothing more is due. Once `stop` is cancelled, in-flight
/// items get `settings.grace` to finish and those still running are released. Returns how
/// many items were claimed; a failed claim is retried at the poll interval, except in a run
/// `until_idle`, which ends with the error once its in-flight items are done.
pub async fn run<Q: Queue>(
    queue: Q,
    settings: LoopSettings,
    wake: Wake,
    stop: CancellationToken,
    budget: Budget,
) -> Result<usize, StoreError> {
    let slots = Arc::new(Semaphore::new(settings.concurrency));
    let in_flight: Arc<Mutex<HashMap<i64, Q::Item>>> = Arc::default();
    let mut tasks = JoinSet::new();
    let mut poll = tokio::time::interval(settings.poll_interval);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut claimed_total = 0_usize;
    let mut failure = None;
    'claims: while claimed_total < budget.max_items {
        while tasks.try_join_next().is_some() {}
        let remaining = budget.max_items - claimed_total;
        let mut permits = Vec::new();
        if budget.whole_batches {
            let batch_done = async { while tasks.join_next().await.is_some() {} };
            tokio::select! {
                () = batch_done => {}
                () = stop.cancelled() => break,
            }
        } else {
            let first = tokio::select! {
                permit = slots.clone().acquire_owned() => permit,
                () = stop.cancelled() => break,
            };
            let Ok(first) = first else { break };
            permits.push(first);
            while permits.len() < settings.batch_size.min(remaining) {
                match slots.clone().try_acquire_owned() {
                    Ok(permit) => permits.push(permit),
                    Err(_) => break,
                }
            }
        }
        let wanted = if budget.whole_batches { settings.batch_size.min(remaining) } else { permits.len() };
        let items = match queue.claim(wanted).await {
            Ok(items) => items,
            Err(e) if budget.until_idle => {
                failure = Some(e);
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim work; trying again after the poll interval");
                Vec::new()
            }
        };
        let claimed = items.len();
        claimed_total += claimed;
        let mut permits = permits.into_iter();
        for item in items {
            let id = Q::id(&item);
            if let Ok(mut map) = in_flight.lock() {
                map.insert(id, item.clone());
            }
            let (queue, in_flight, slots) = (queue.clone(), in_flight.clone(), slots.clone());
            let permit = permits.next();
            tasks.spawn(async move {
                // A whole batch takes its slots as they free up.
                let permit = match permit {
                    Some(permit) => Ok(permit),
                    None => slots.acquire_owned().await,
                };
                queue.run(item).await;
                if let Ok(mut map) = in_flight.lock() {
                    map.remove(&id);
                }
                drop(permit);
            });
        }
        if claimed < wanted {
            if budget.until_idle && tasks.is_empty() {
                break;
            }
            // When the next claim may find something, if before the next poll.
            let mut claim_at = queue
                .next_due()
                .await
                .filter(|due| *due < settings.poll_interval)
                .map(|due| tokio::time::Instant::now() + due);
            loop {
                tokio::select! {
                    () = wake.woken() => {
                        if settings.wake_delay.is_zero() {
                            break;
                        }
                        let due = tokio::time::Instant::now() + settings.wake_delay;
                        claim_at = Some(claim_at.map_or(due, |at| at.min(due)));
                    }
                    () = sleep_until(claim_at) => break,
                    // A finished item can make the next item of its group due.
                    Some(_) = tasks.join_next(), if budget.until_idle => break,
                    _ = poll.tick() => {
                        queue.upkeep().await;
                        break;
                    }
                    () = stop.cancelled() => break 'claims,
                }
            }
        }
    }
    finish(&queue, &settings, &mut tasks, &in_flight, &stop).await;
    failure.map_or(Ok(claimed_total), Err)
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Waits for in-flight items: without limit when the run ended by itself, for the grace
/// period after a stop, then releases the items still running.
async fn finish<Q: Queue>(
    queue: &Q,
    settings: &LoopSettings,
    tasks: &mut JoinSet<()>,
    in_flight: &Mutex<HashMap<i64, Q::Item>>,
    stop: &CancellationToken,
) {
    if !stop.is_cancelled() {
        let all_done = async { while tasks.join_next().await.is_some() {} };
        tokio::select! {
            () = all_done => return,
            () = stop.cancelled() => {}
        }
    }
    tracing::info!(in_flight = tasks.len(), "stopped claiming; finishing in-flight work");
    if tokio::time::timeout(settings.grace, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    let unfinished: Vec<Q::Item> =
        in_flight.lock().map(|m| m.values().cloned().collect()).unwrap_or_default();
    for item in unfinished {
        tracing::warn!(id = Q::id(&item), "in-flight work released");
        queue.release(item).await;
    }
}

/// Keeps a LISTEN connection on `channel` and wakes the worker on every notification
/// (and once on every connect, for what was committed while not listening); reconnects
/// with a growing pause. Returns when `stop` is cancelled.
pub async fn listen(database_url: String, channel: &'static str, wake: Wake, stop: CancellationToken) {
    listen_all(&database_url, &[channel], || wake.wake(), stop).await;
}

/// Keeps a LISTEN connection on every channel of `channels` and calls `notified` on every
/// notification (and once on every connect); reconnects with a growing pause. Returns
/// when `stop` is cancelled.
pub async fn listen_all(
    database_url: &str,
    channels: &[&'static str],
    mut notified: impl FnMut(),
    stop: CancellationToken,
) {
    let mut pause = Duration::from_millis(500);
    while !stop.is_cancelled() {
        match Listener::connect_all(database_url, channels).await {
            Ok(mut listener) => {
                pause = Duration::from_millis(500);
                notified();
                let mut wake_ups = std::pin::pin!(listener.wake_ups());
                loop {
                    tokio::select! {
                        next = wake_ups.next() => match next {
                            Some(Ok(())) => notified(),
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, ?channels, "notification connection lost; reconnecting");
                                break;
                            }
                            None => break,
                        },
                        () = stop.cancelled() => return,
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, ?channels, "cannot listen; polling meanwhile"),
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => return,
        }
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}

/// Cancels `stop` on SIGTERM or SIGINT.
pub async fn stop_on_signal(stop: CancellationToken) {
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(e) => {
            tracing::error!(error = %e, "cannot watch SIGTERM");
            return;
        }
    };
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
        () = stop.cancelled() => return,
    }
    stop.cancel();
}
