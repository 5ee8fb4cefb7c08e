//! # flowwatch-storage
//!
//! The storage engine: where log events and the metadata around them live.
//!
//! - **Catalog** (`catalog`, embedded SQLite with migrations): accounts, log groups, streams,
//!   tags, segments and the WAL checkpoint, cached in memory so appends never query SQLite.
//! - **WAL** (`wal`): every append is framed (length + CRC), written by one thread that batches
//!   all waiting appends into one write and one fsync, and acknowledged only after that fsync.
//! - **Memory** (`memtable`): acknowledged events, column by column, readable at once.
//! - **Segments** ([`segment`]): the memory is flushed by size and age into immutable Parquet
//!   files on an `object_store` (a local directory by default, S3 by configuration), listed in
//!   the catalog with their time range, streams, rows and bytes; the WAL is then truncated.
//! - **Maintenance**: retention drops whole expired segments (and reads never return expired
//!   events); compaction merges small segments.
//! - **Flow-log files** ([`Buckets`]): VPC flow logs delivered "to S3" as AWS writes them
//!   (gzip text with a header line, or GZIP Parquet), in a local directory per bucket.
//! - **Ingest observers** ([`IngestObserver`]): components deriving state from every durable
//!   batch (metric filters) run on their own thread, fed in sequence order through a bounded
//!   queue; their snapshots ride with the WAL checkpoint, and
//!   [`Storage::observers_caught_up`] waits until they have applied everything acknowledged.
//!
//! Invariants: an acknowledged append survives any crash (restart replays the WAL past the
//! catalog's checkpoint); reads see memory and segments as one ordered stream, each event once;
//! events order by (timestamp, seq), seq being the WAL's sequence number.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flowwatch_storage::StorageError> {
//! use std::sync::Arc;
//! use flowwatch_model::{Scope, SystemClock};
//! use flowwatch_storage::{EventRef, NewLogGroup, Storage, StorageConfig, StreamKey};
//! let storage = Storage::open(StorageConfig::new("./data"), Arc::new(SystemClock)).await?;
//! let scope = Scope { account: "123456789012".into(), region: "us-east-1".into() };
//! let group = storage.create_log_group(&scope, "app", NewLogGroup::default()).await?;
//! let stream = storage.create_log_stream(&scope, "app", "web-1").await?;
//! let key = StreamKey { group_id: group.id, stream_id: stream.id };
//! storage.append(key, 1_700_000_000_000, &[EventRef { timestamp: 1_700_000_000_000, message: "hi" }]).await?;
//! storage.close().await?;
//! # Ok(()) }
//! ```

mod catalog;
mod db;
mod engine_state;
mod error;
mod flow_files;
mod flush;
mod maintenance;
mod memtable;
mod metric_filters;
mod observer;
mod read;
pub use read::{GroupPass, PassBatch, PassEvent, PassRows};
pub use segment::{Part, TypedRead};
pub mod segment;
mod types;
mod wal;

pub use db::Storage;
pub use error::{Result, StorageError};
pub use flow_files::{
    BucketStoreConfig, Buckets, FlowFileFormat, SIGNATURE_SUFFIX, parquet_file, plain_text_gz,
};
pub use observer::{DurableBatch, IngestObserver};
pub use types::{
    Direction, EventRef, LogGroupInfo, LogStreamInfo, NewLogGroup, ObjectStoreConfig, Position,
    ReadRequest, S3Connection, ScanRequest, ScannedEvent, SegmentMeta, StorageConfig, StoredEvent,
    StreamKey, StreamStats,
};
