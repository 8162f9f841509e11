//! Group commit for webhook deliveries: deliveries that arrive while every committer is busy
//! are stored together, in one transaction, so a burst costs one commit (one WAL flush, one
//! `NOTIFY`) per group instead of one per delivery.
//!
//! Nothing changes for a caller: [`Ingestor::ingest`] returns once the delivery's own rows
//! have committed, with the same outcome [`crate::ingest::ingest`] gives. A lone delivery is
//! stored exactly as before, with no extra round trip, so latency at low load is unchanged.
//!
//! A group writes its rows in the same lock order as a lone delivery does
//! ([`crate::ingest`]), so concurrent transactions do not deadlock, and a customer's messages
//! keep their arrival order. If a group fails for any reason but the database being
//! unavailable, each of its deliveries is stored again on its own, so one bad delivery never
//! fails the others.

use std::sync::Arc;

use diesel_async::AsyncConnection;
use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::Instrument;

use crate::ingest::{IngestBatch, IngestOutcome, ingest, write_in_lock_order};
use crate::{DbPool, StoreError, connection};

/// Most deliveries committed together. Larger groups hold their row locks longer, and
/// measured no faster.
const MAX_GROUP: usize = 8;

/// A delivery waiting to be stored, and where its outcome goes.
struct Pending {
    batch: IngestBatch,
    /// The caller's span: the rows' spans are its children.
    span: tracing::Span,
    reply: oneshot::Sender<(IngestBatch, Result<IngestOutcome, StoreError>)>,
}

/// Stores webhook deliveries with group commit; cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    queue: mpsc::UnboundedSender<Pending>,
}

impl Ingestor {
    /// Starts `committers` tasks storing deliveries through `pool` (one connection each at
    /// most; the pool's size is the natural count). Call from within a Tokio runtime.
    pub fn start(pool: DbPool, committers: usize) -> Self {
        let (queue, incoming) = mpsc::unbounded_channel();
        let incoming = Arc::new(Mutex::new(incoming));
        for _ in 0..committers.max(1) {
            tokio::spawn(commit_groups(pool.clone(), incoming.clone()));
        }
        Self { queue }
    }

    /// Stores `batch` (all of it or nothing) and gives it back with the outcome, once its
    /// rows have committed.
    pub async fn ingest(&self, batch: IngestBatch) -> (IngestBatch, Result<IngestOutcome, StoreError>) {
        let (reply, outcome) = oneshot::channel();
        let pending = Pending { batch, span: tracing::Span::current(), reply };
        if let Err(mpsc::error::SendError(pending)) = self.queue.send(pending) {
            return (pending.batch, Err(stopped()));
        }
        match outcome.await {
            Ok(stored) => stored,
            // A committer task ended without answering (a panic): the delivery may or may not
            // have committed; Meta's retry settles it (duplicates are no-ops).
            Err(_) => (IngestBatch::default(), Err(stopped())),
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the ingest committers stopped".to_owned())
}

/// One committer: takes the next delivery and whatever else is already waiting, stores them.
async fn commit_groups(pool: DbPool, incoming: Arc<Mutex<mpsc::UnboundedReceiver<Pending>>>) {
    loop {
        let group = {
            let mut incoming = incoming.lock().await;
            let Some(first) = incoming.recv().await else { return };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match incoming.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            group
        };
        metrics::histogram!("webhook_commit_group_size").record(group.len() as f64);
        commit(&pool, group).await;
    }
}

async fn commit(pool: &DbPool, group: Vec<Pending>) {
    if group.len() == 1 {
        return answer_alone(pool, group).await;
    }
    let stored = async {
        let mut conn = connection(pool).await?;
        let deliveries: Vec<(&IngestBatch, &tracing::Span)> =
            group.iter().map(|p| (&p.batch, &p.span)).collect();
        conn.transaction(async |conn| write_in_lock_order(conn, &deliveries).await).await
    }
    .await;
    match stored {
        Ok(outcomes) => {
            for (pending, outcome) in group.into_iter().zip(outcomes) {
                let _ = pending.reply.send((pending.batch, Ok(outcome)));
            }
        }
        Err(e) if e.is_unavailable() => {
            for pending in group {
                let _ = pending.reply.send((pending.batch, Err(StoreError::Unavailable(e.to_string()))));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, deliveries = group.len(), "group commit failed; storing each delivery alone");
            answer_alone(pool, group).await;
        }
    }
}

/// Stores each delivery in its own transaction.
async fn answer_alone(pool: &DbPool, group: Vec<Pending>) {
    for pending in group {
        let outcome = ingest(pool, &pending.batch).instrument(pending.span.clone()).await;
        let _ = pending.reply.send((pending.batch, outcome));
    }
}
