//! The ingest seam: components that derive state from every event (metric filters, subscription
//! filters) see each batch once it is durable, in sequence order, and their state is saved with
//! the WAL checkpoint, so after a crash they are restored and replayed exactly from where their
//! saved state ends: no event is counted twice or missed.

use std::fmt;

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

/// Sees every durable batch. Called on the WAL thread before the writers are answered: keep it
/// quick and never call back into the storage from it.
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
