//! Group commit: writes that arrive while every committer is busy are stored together, so a
//! burst costs one commit (one WAL flush, one `NOTIFY`) per group instead of one per write.
//!
//! Nothing changes for a caller: [`GroupCommitter::commit`] returns once the item's own rows
//! have committed, with the outcome a lone write gives. A lone item is written exactly as
//! before, with no extra round trip, so latency at low load is unchanged. If a group fails
//! for any reason but the database being unavailable, each of its items is written again on
//! its own, so one bad item never fails the others.
//!
//! Two writers use it: webhook deliveries ([`crate::ingest::DeliveryWriter`]) and job
//! results ([`crate::jobs::CompletionWriter`]).

use std::future::Future;
use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{DbPool, StoreError, connection};

/// What a [`GroupCommitter`] writes, and how.
pub trait GroupWriter: Send + Sync + 'static {
    /// One write a caller asks for (its `Default` is what the caller gets back, with an
    /// error, if a committer task died holding it).
    type Item: Default + Send + Sync + 'static;
    /// What that write did.
    type Outcome: Send + 'static;

    /// Most items committed together.
    const MAX_GROUP: usize;
    /// What the items are, as the `writer` label of the group-size histogram.
    const NAME: &'static str;

    /// Writes `items` (each with its caller's span, the parent of the rows' spans) all or
    /// nothing, and returns one outcome per item, in item order. Called with one item for a
    /// lone write.
    fn write(
        &self,
        conn: &mut AsyncPgConnection,
        items: &[(&Self::Item, &tracing::Span)],
    ) -> impl Future<Output = Result<Vec<Self::Outcome>, StoreError>> + Send;

    /// Whether an item's outcome in a group means it was not written and must be written
    /// again on its own (say, a group skipped a row lock it must not wait for).
    fn write_alone_instead(_outcome: &Self::Outcome) -> bool {
        false
    }
}

/// An item waiting to be written, and where its outcome goes.
struct Pending<W: GroupWriter> {
    item: W::Item,
    span: tracing::Span,
    reply: oneshot::Sender<Committed<W>>,
}

/// The item's outcome, with the item given back.
pub type Committed<W> = (<W as GroupWriter>::Item, Result<<W as GroupWriter>::Outcome, StoreError>);

/// Writes items with group commit; cheap to clone.
pub struct GroupCommitter<W: GroupWriter> {
    queue: mpsc::UnboundedSender<Pending<W>>,
}

impl<W: GroupWriter> Clone for GroupCommitter<W> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<W: GroupWriter> GroupCommitter<W> {
    /// Starts `committers` tasks writing through `pool` (one connection each at most). Items
    /// group only while every committer is busy, so fewer committers make larger groups.
    /// Call from within a Tokio runtime; the tasks end when the last clone is dropped.
    pub fn start(pool: DbPool, writer: W, committers: usize) -> Self {
        let (queue, incoming) = mpsc::unbounded_channel();
        let incoming = Arc::new(Mutex::new(incoming));
        let writer = Arc::new(writer);
        for _ in 0..committers.max(1) {
            tokio::spawn(commit_groups(pool.clone(), writer.clone(), incoming.clone()));
        }
        Self { queue }
    }

    /// Writes `item` and gives it back with the outcome, once its rows have committed.
    pub async fn commit(&self, item: W::Item) -> Committed<W> {
        let (reply, outcome) = oneshot::channel();
        let pending = Pending { item, span: tracing::Span::current(), reply };
        if let Err(mpsc::error::SendError(pending)) = self.queue.send(pending) {
            return (pending.item, Err(stopped()));
        }
        match outcome.await {
            Ok(committed) => committed,
            // A committer task ended without answering (a panic): the write may or may not
            // have committed, and the item went with the task. Every write is idempotent, so
            // the caller's retry settles it.
            Err(_) => (W::Item::default(), Err(stopped())),
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the group committers stopped".to_owned())
}

/// One committer: takes the next item and whatever else is already waiting, writes them.
async fn commit_groups<W: GroupWriter>(
    pool: DbPool,
    writer: Arc<W>,
    incoming: Arc<Mutex<mpsc::UnboundedReceiver<Pending<W>>>>,
) {
    loop {
        let group = {
            let mut incoming = incoming.lock().await;
            let Some(first) = incoming.recv().await else { return };
            let mut group = vec![first];
            while group.len() < W::MAX_GROUP {
                match incoming.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            group
        };
        metrics::histogram!("store_commit_group_size", "writer" => W::NAME).record(group.len() as f64);
        commit(&pool, writer.as_ref(), group).await;
    }
}

async fn commit<W: GroupWriter>(pool: &DbPool, writer: &W, group: Vec<Pending<W>>) {
    let written = write(pool, writer, &group).await;
    match written {
        Ok(outcomes) => {
            for (pending, outcome) in group.into_iter().zip(outcomes) {
                if W::write_alone_instead(&outcome) {
                    write_alone(pool, writer, pending).await;
                } else {
                    let _ = pending.reply.send((pending.item, Ok(outcome)));
                }
            }
        }
        Err(e) if group.len() == 1 => {
            if let Some(pending) = group.into_iter().next() {
                let _ = pending.reply.send((pending.item, Err(e)));
            }
        }
        Err(StoreError::Unavailable(reason)) => {
            for pending in group {
                let _ = pending.reply.send((pending.item, Err(StoreError::Unavailable(reason.clone()))));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, items = group.len(), "group commit failed; writing each item alone");
            for pending in group {
                write_alone(pool, writer, pending).await;
            }
        }
    }
}

/// Writes one item on its own and answers its caller.
async fn write_alone<W: GroupWriter>(pool: &DbPool, writer: &W, pending: Pending<W>) {
    let outcome = write(pool, writer, std::slice::from_ref(&pending))
        .await
        .and_then(|outcomes| outcomes.into_iter().next().ok_or_else(stopped));
    let _ = pending.reply.send((pending.item, outcome));
}

async fn write<W: GroupWriter>(
    pool: &DbPool,
    writer: &W,
    group: &[Pending<W>],
) -> Result<Vec<W::Outcome>, StoreError> {
    let mut conn = connection(pool).await?;
    let items: Vec<(&W::Item, &tracing::Span)> = group.iter().map(|p| (&p.item, &p.span)).collect();
    writer.write(&mut conn, &items).await
}
