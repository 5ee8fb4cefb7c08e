//! The values the storage API takes and returns.

use std::path::PathBuf;
use std::time::Duration;

use flowwatch_model::{RetentionDays, Scope, Tags};

/// A log group as the catalog knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogGroupInfo {
    /// Internal id, never reused (a group deleted and created again gets a new one).
    pub id: i64,
    pub scope: Scope,
    pub name: String,
    pub creation_time: i64,
    pub retention: Option<RetentionDays>,
    pub kms_key_id: Option<String>,
    pub class: String,
    pub deletion_protection: bool,
    pub tags: Tags,
    /// Bytes held for this group: Parquet segment sizes plus unflushed events (message + 26).
    pub stored_bytes: u64,
    /// Number of metric filters on the group.
    pub metric_filter_count: usize,
}

/// What CreateLogGroup sets besides the name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewLogGroup {
    pub kms_key_id: Option<String>,
    pub tags: Tags,
    pub class: String,
    pub deletion_protection: bool,
}

/// Event statistics of a stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub first_event_timestamp: Option<i64>,
    pub last_event_timestamp: Option<i64>,
    pub last_ingestion_time: Option<i64>,
    pub stored_bytes: u64,
}

impl StreamStats {
    pub(crate) fn observe(&mut self, first_ts: i64, last_ts: i64, ingestion_time: i64) {
        self.first_event_timestamp = Some(
            self.first_event_timestamp
                .map_or(first_ts, |t| t.min(first_ts)),
        );
        self.last_event_timestamp = Some(
            self.last_event_timestamp
                .map_or(last_ts, |t| t.max(last_ts)),
        );
        self.last_ingestion_time = Some(
            self.last_ingestion_time
                .map_or(ingestion_time, |t| t.max(ingestion_time)),
        );
    }
}

/// A log stream as the catalog knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogStreamInfo {
    /// Internal id, never reused.
    pub id: i64,
    pub group_id: i64,
    pub name: String,
    pub creation_time: i64,
    pub stats: StreamStats,
}

/// Identifies the stream an append or read targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamKey {
    pub group_id: i64,
    pub stream_id: i64,
}

/// A borrowed event to append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    pub timestamp: i64,
    pub message: &'a str,
}

/// An event as stored: its timestamp, ingestion time, the sequence number the WAL gave it, and
/// its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub seq: u64,
    pub message: String,
}

impl StoredEvent {
    pub fn position(&self) -> Position {
        Position {
            timestamp: self.timestamp,
            seq: self.seq,
        }
    }
}

/// The order of events in a stream: by timestamp, then by arrival (sequence number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub timestamp: i64,
    pub seq: u64,
}

/// Which way a read walks a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first, events strictly after the cursor.
    Forward,
    /// Newest first, events strictly before the cursor.
    Backward,
}

/// A page read from one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRequest {
    /// Inclusive lower bound on the timestamp.
    pub start_ms: i64,
    /// Exclusive upper bound on the timestamp.
    pub end_ms: i64,
    /// Start strictly after (forward) or before (backward) this position; `None` = from the
    /// head (forward) or the tail (backward).
    pub cursor: Option<Position>,
    pub direction: Direction,
    /// Most events to return.
    pub limit: usize,
    /// Most bytes (message + 26 per event) to return; at least one event is always returned.
    pub max_bytes: usize,
}

/// A page of a scan across a group's streams, oldest first (FilterLogEvents, and later
/// subscription and query readers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest {
    /// Inclusive lower bound on the timestamp.
    pub start_ms: i64,
    /// Exclusive upper bound on the timestamp.
    pub end_ms: i64,
    /// Stream ids to scan; `None` = every stream of the group.
    pub streams: Option<std::collections::BTreeSet<i64>>,
    /// Resume strictly after this position (positions are unique across a group).
    pub after: Option<Position>,
    /// Most events to return.
    pub limit: usize,
    /// Most bytes (message + 26 per event) to return; at least one event is always returned.
    pub max_bytes: usize,
}

impl ScanRequest {
    pub(crate) fn wants_stream(&self, stream_id: i64) -> bool {
        self.streams.as_ref().is_none_or(|s| s.contains(&stream_id))
    }
}

/// An event found by a scan, with its stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedEvent {
    pub stream_id: i64,
    pub event: StoredEvent,
}

/// Where segments live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectStoreConfig {
    /// A directory on the local file system (default: `<data-dir>/segments`).
    Local { root: PathBuf },
    /// An S3-compatible bucket.
    S3 {
        bucket: String,
        prefix: String,
        connection: S3Connection,
    },
}

/// How to reach an S3-compatible service (AWS S3, MinIO, moto...). Unset credentials and
/// region come from the environment (`AWS_ACCESS_KEY_ID`, ...), as the AWS SDKs take them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Connection {
    /// The service's URL (default: AWS S3 of `region`).
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Allow a plain-HTTP endpoint.
    pub allow_http: bool,
}

impl S3Connection {
    /// The object store of `bucket` on this service.
    pub(crate) fn bucket(&self, bucket: &str) -> crate::Result<object_store::aws::AmazonS3> {
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(&self.region)
            .with_allow_http(self.allow_http);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(key) = &self.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &self.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        Ok(builder.build()?)
    }
}

/// How the storage engine runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// Holds the catalog and the WAL.
    pub data_dir: PathBuf,
    pub object_store: ObjectStoreConfig,
    /// fsync the WAL before acknowledging (turn off only for throwaway data).
    pub fsync: bool,
    /// Roll to a new WAL file past this size.
    pub wal_segment_bytes: u64,
    /// Flush memory to segments once it holds this many bytes.
    pub flush_bytes: usize,
    /// ... or once its oldest event has waited this long.
    pub flush_age: Duration,
    /// Writers wait while unflushed memory exceeds this.
    pub memory_limit_bytes: usize,
    /// Merge a group's segments when it has at least this many smaller than `compact_below_bytes`.
    pub compact_min_segments: usize,
    pub compact_below_bytes: u64,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// How often retention and compaction run.
    pub maintenance_interval: Duration,
    /// Bytes of durable batches queued for the ingest observers' thread; past this the WAL
    /// thread waits for it before acknowledging more.
    pub observer_queue_bytes: usize,
    /// Longest [`Storage::observers_caught_up`](crate::Storage::observers_caught_up) waits.
    pub observer_wait: Duration,
}

impl StorageConfig {
    /// Defaults for a data directory, segments in `<data_dir>/segments`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            object_store: ObjectStoreConfig::Local {
                root: data_dir.join("segments"),
            },
            data_dir,
            fsync: true,
            wal_segment_bytes: 64 * 1024 * 1024,
            flush_bytes: 64 * 1024 * 1024,
            flush_age: Duration::from_secs(60),
            memory_limit_bytes: 256 * 1024 * 1024,
            compact_min_segments: 8,
            compact_below_bytes: 32 * 1024 * 1024,
            row_group_rows: 64 * 1024,
            maintenance_interval: Duration::from_secs(60),
            observer_queue_bytes: 64 * 1024 * 1024,
            observer_wait: Duration::from_secs(10),
        }
    }
}

/// A Parquet segment as listed in the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentMeta {
    pub id: i64,
    pub group_id: i64,
    /// Object path relative to the store's root.
    pub path: String,
    pub format_version: u32,
    pub min_ts: i64,
    pub max_ts: i64,
    pub row_count: u64,
    pub byte_size: u64,
    /// The format every row has (`flowwatch.segment.kind`, `docs/formats/segment.md`): a
    /// query over segments of flow-log records only types their numbers.
    pub kind: Option<String>,
    /// (stream id, min ts, max ts, rows) for each stream in the segment.
    pub streams: Vec<(i64, i64, i64, u64)>,
}
