//! The ingest seam: components that derive state from every event (metric filters, subscription
//! filters) see each batch once it is durable, in sequence order, and their state is saved with
//! the WAL checkpoint, so after a crash they are restored and replayed exactly from where their
//! saved state ends: no event is counted twice or missed.

mod pipeline;

use std::fmt;

pub(crate) use pipeline::{PendingState, Pipeline};

use crate::types::{EventRef, StreamKey};

/// A batch of events that has just become durable, or is replayed after a restart.
#[derive(Debug, Clone, Copy)]
pub struct DurableBatch<'a> {
    pub key: StreamKey,
    /// Sequence number of `events[0]`; the others follow.
    pub first_seq: u64,
    pub ingestion_time: i64,
    pub events: &'a [EventRef<'a>],
}

/// Sees every durable batch.
///
/// Live batches are applied on the storage's own observer thread, in sequence order, after the
/// WAL fsync and off the acknowledgement path: a writer may be answered before its batch is
/// applied. [`Storage::observers_caught_up`](crate::Storage::observers_caught_up) waits until
/// every batch acknowledged before the call has been applied (call it before reading state an
/// observer derives). The WAL thread waits for the observer thread only when the queue between
/// them is full. [`snapshot`](Self::snapshot) is taken on the observer thread too, between two
/// batches, exactly after the last batch a checkpoint covers. [`restore`](Self::restore) and
/// replay run at open, before the thread starts. `on_durable` and `snapshot` are never called
/// concurrently with each other; never call back into the storage from them (a full queue
/// would deadlock). A panic in an observer stops the observers and the storage's appends (see
/// [`StorageError::Observer`](crate::StorageError::Observer)).
pub trait IngestObserver: Send + Sync + fmt::Debug {
    /// A stable name under which the state is saved.
    fn name(&self) -> &str;
    /// Restores the state saved with the last checkpoint (`None` the first time), before replay.
    fn restore(&self, state: Option<&[u8]>);
    /// Applies one batch (live or replayed).
    fn on_durable(&self, batch: &DurableBatch<'_>);
    /// The state covering exactly the batches seen so far.
    fn snapshot(&self) -> Vec<u8>;
}
