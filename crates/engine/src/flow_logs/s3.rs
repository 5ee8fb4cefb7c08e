//! Delivery to S3 (`spec/flowlogs.md` §7): records of S3 flow logs are buffered per flow log
//! and window of end time (5 minutes as in AWS, or [`S3DeliveryConfig::window`]), and each window is written as one file (or several, when
//! records arrive after it was written or it outgrows [`MAX_FILE_RECORDS`]) under AWS's key
//! layout into the bucket store ([`Buckets`], `<data_dir>/s3/<bucket>/` by default).
//!
//! A background task writes the windows that closed more than the grace period ago; a window
//! that reaches [`MAX_FILE_RECORDS`] is written at once; [`Engine::shutdown`] writes every
//! window still open.
//!
//! The buffer survives a crash: a record is first appended, durably, as an event of the flow
//! log's stream in the internal group [`PENDING_GROUP`] (every field, in the full format), and
//! only then buffered in memory. Each file written records, per flow log and window, the
//! highest sequence number it held ([`Written`], saved in the catalog); on start the events not
//! covered by those marks are buffered again ([`Engine::replay_s3_pending`]). Appends and
//! buffering are serialised, so a window's records reach memory in sequence order and a mark
//! covers exactly the records written. A crash between a file's write and its mark writes that
//! window's records again (at least once); none is lost. The internal group keeps one day.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use flowwatch_flowlog::{FlowRecord, LogFormat, S3Layout, WINDOW_SECS, window_start};
use flowwatch_model::Scope;
use flowwatch_storage::{BucketStoreConfig, Buckets, Direction, FlowFileFormat, ReadRequest};
use serde::{Deserialize, Serialize};

use super::delivery::full_format;
use super::resource::{Destination, FlowLog};
use crate::Engine;
use crate::state::Persisted;

/// The internal log group holding the records of S3 flow logs until their files are written:
/// one stream per flow log.
pub const PENDING_GROUP: &str = "aws/vpcflowlogs/s3-pending";

/// Marks older than this are dropped (the internal group keeps its events one day).
const MARK_TTL_SECS: u64 = 2 * 86_400;

/// Per flow log and window (`<id>/<window start>`), the highest sequence number of the
/// [`PENDING_GROUP`] events already written to a file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Written {
    marks: BTreeMap<String, u64>,
}

fn mark_key(id: &str, window: u64) -> String {
    format!("{id}/{window}")
}

/// Most records in one file: a window holding more is written as several files (AWS caps a
/// file at 75 MB; 100,000 full records are about 30 MB of text).
pub(crate) const MAX_FILE_RECORDS: usize = 100_000;

/// How delivery to S3 runs.
#[derive(Debug, Clone)]
pub struct S3DeliveryConfig {
    /// Where buckets are (default: `<data_dir>/s3`, one directory per bucket).
    pub store: BucketStoreConfig,
    /// The window of record end times one file covers (AWS: 5 minutes; shorter windows give
    /// fresher files).
    pub window: Duration,
    /// How long after a window's end its file is written, so that late records join it.
    pub grace: Duration,
    /// How often closed windows are looked for.
    pub tick: Duration,
}

impl S3DeliveryConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: &std::path::Path) -> Self {
        Self {
            store: BucketStoreConfig::Local {
                root: data_dir.join("s3"),
            },
            window: Duration::from_secs(WINDOW_SECS),
            grace: Duration::from_secs(60),
            tick: Duration::from_secs(10),
        }
    }

    /// Sets the window and the grace (whole seconds, a window of at least one), and looks for
    /// closed windows often enough that a file is written within about a second of its grace
    /// ending: every second when either is short, else every 10 seconds.
    pub fn with_timing(mut self, window_secs: u64, grace_secs: u64) -> Self {
        self.window = Duration::from_secs(window_secs.max(1));
        self.grace = Duration::from_secs(grace_secs);
        self.tick = if window_secs < 60 || grace_secs < 20 {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(10)
        };
        self
    }

    fn window_secs(&self) -> u64 {
        self.window.as_secs().max(1)
    }
}

/// Where and how one flow log's files are written.
#[derive(Debug, Clone)]
struct Target {
    account: String,
    region: String,
    bucket: String,
    prefix: String,
    hive: bool,
    per_hour: bool,
    file_format: FlowFileFormat,
    format: LogFormat,
}

impl Target {
    fn layout(&self) -> S3Layout<'_> {
        S3Layout {
            account: &self.account,
            region: &self.region,
            prefix: &self.prefix,
            hive: self.hive,
            per_hour: self.per_hour,
            parquet: self.file_format == FlowFileFormat::Parquet,
        }
    }
}

/// The records of one flow log and window not written yet.
#[derive(Debug)]
struct Pending {
    target: Target,
    /// The highest [`PENDING_GROUP`] sequence number among the records (0: none durable).
    max_seq: u64,
    records: Vec<FlowRecord>,
}

/// A flow log's id and the start of a window (Unix seconds).
type WindowKey = (String, u64);

/// The buffer of S3 deliveries and the store they go to.
#[derive(Debug)]
pub(crate) struct S3Delivery {
    buckets: Buckets,
    config: S3DeliveryConfig,
    /// Never held across an await.
    pending: Mutex<BTreeMap<WindowKey, Pending>>,
    /// Held while windows are written, so that shutdown waits for a write in progress.
    writing: tokio::sync::Mutex<()>,
    /// Held from a batch's durable append until it is buffered, so that records reach the
    /// buffer in sequence order.
    taking: tokio::sync::Mutex<()>,
    /// What was written, per flow log and window.
    written: Persisted<Written>,
}

impl S3Delivery {
    pub(crate) fn new(config: S3DeliveryConfig, written: Persisted<Written>) -> Self {
        Self {
            buckets: Buckets::new(config.store.clone()),
            config,
            pending: Mutex::default(),
            writing: tokio::sync::Mutex::new(()),
            taking: tokio::sync::Mutex::new(()),
            written,
        }
    }

    /// The bucket stores (trails write their files there too).
    pub(crate) fn buckets(&self) -> &Buckets {
        &self.buckets
    }

    pub(crate) fn tick(&self) -> Duration {
        self.config.tick
    }

    /// Takes the windows closed at `now_secs` (all of them with `None`).
    fn take_closed(&self, now_secs: Option<u64>) -> Vec<(WindowKey, Pending)> {
        let grace = self.config.grace.as_secs();
        let len = self.config.window_secs();
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let closed: Vec<WindowKey> = pending
            .keys()
            .filter(|(_, start)| now_secs.is_none_or(|now| start + len + grace <= now))
            .cloned()
            .collect();
        closed
            .into_iter()
            .filter_map(|key| pending.remove_entry(&key))
            .collect()
    }
}

impl Engine {
    /// Buffers the `records` kept by S3 flow log `log` (in its format `format`), durably (see
    /// the module documentation), and writes the windows that reached [`MAX_FILE_RECORDS`];
    /// returns how many records were taken.
    pub(super) async fn deliver_to_s3<'r>(
        &self,
        log: &FlowLog,
        format: &LogFormat,
        records: impl Iterator<Item = &'r FlowRecord>,
    ) -> usize {
        let Some(target) = target_of(log, format) else {
            return 0;
        };
        let version = Some(format.version());
        let records: Vec<FlowRecord> = records
            .map(|r| {
                // The version field is the flow log's format's, not the capture's.
                let mut r = r.clone();
                r.version = r.version.and(version);
                r
            })
            .collect();
        if records.is_empty() {
            return 0;
        }
        let _taking = self.s3.taking.lock().await;
        let first_seq = match self.append_pending(log, &records).await {
            Ok(seq) => Some(seq),
            Err(error) => {
                // Still delivered while the server runs, but not across a crash.
                tracing::error!(flow_log = %log.id, %error, "S3 flow-log records not made durable");
                None
            }
        };
        let seqs = (0..records.len() as u64).map(|i| first_seq.map_or(0, |s| s + i));
        self.buffer_s3(&log.id, &target, records.into_iter().zip(seqs))
            .await
    }

    /// Appends records to the flow log's stream of [`PENDING_GROUP`]; returns the sequence
    /// number of the first.
    async fn append_pending(
        &self,
        log: &FlowLog,
        records: &[FlowRecord],
    ) -> flowwatch_model::ApiResult<u64> {
        let scope = Scope {
            account: log.account.clone(),
            region: log.region.clone(),
        };
        let key = self
            .internal_stream(&scope, PENDING_GROUP, &log.id, 1, |_| {})
            .await?;
        let full = full_format();
        let lines: Vec<String> = records.iter().map(|r| full.encode(r)).collect();
        self.append_internal(key, &lines).await
    }

    /// Puts records with their sequence numbers into the windows of flow log `id` and writes
    /// the windows that are full.
    async fn buffer_s3(
        &self,
        id: &str,
        target: &Target,
        records: impl Iterator<Item = (FlowRecord, u64)>,
    ) -> usize {
        let now_secs = u64::try_from(self.now() / 1000).unwrap_or(0);
        let mut taken = 0;
        let mut full = Vec::new();
        {
            let mut pending = self
                .s3
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for (r, seq) in records {
                let window = window_start(
                    r.end.or(r.start).unwrap_or(now_secs),
                    self.s3.config.window_secs(),
                );
                let key = (id.to_owned(), window);
                let entry = pending.entry(key.clone()).or_insert_with(|| Pending {
                    target: target.clone(),
                    max_seq: 0,
                    records: Vec::new(),
                });
                entry.records.push(r);
                entry.max_seq = entry.max_seq.max(seq);
                taken += 1;
                if entry.records.len() >= MAX_FILE_RECORDS
                    && let Some(p) = pending.remove(&key)
                {
                    full.push((key, p));
                }
            }
        }
        for (key, p) in full {
            self.write_window(key, p).await;
        }
        taken
    }

    /// Buffers again the records of S3 flow logs that were made durable but not written to a
    /// file before the server stopped (run once, when the engine opens).
    pub(crate) async fn replay_s3_pending(&self) {
        let logs = self.flow_logs.read(|set| set.logs.clone()).await;
        let marks = self.s3.written.read(|w| w.marks.clone()).await;
        let full = full_format();
        let mut replayed = 0usize;
        for log in &logs {
            let Ok(format) = LogFormat::parse(&log.log_format) else {
                continue;
            };
            let Some(target) = target_of(log, &format) else {
                continue;
            };
            let scope = Scope {
                account: log.account.clone(),
                region: log.region.clone(),
            };
            let Ok((key, _)) = self.storage().stream_key(&scope, PENDING_GROUP, &log.id) else {
                continue;
            };
            let mut request = ReadRequest {
                start_ms: i64::MIN,
                end_ms: i64::MAX,
                cursor: None,
                direction: Direction::Forward,
                limit: 10_000,
                max_bytes: 16 << 20,
            };
            loop {
                let page = match self.storage().read_stream(key, &request).await {
                    Ok(page) => page,
                    Err(error) => {
                        tracing::error!(flow_log = %log.id, %error, "S3 flow-log records not read back");
                        break;
                    }
                };
                let Some(last) = page.last().map(|e| e.position()) else {
                    break;
                };
                let records = page.iter().filter_map(|e| {
                    let r = full.decode(&e.message).ok()?;
                    let window =
                        window_start(r.end.or(r.start).unwrap_or(0), self.s3.config.window_secs());
                    let done = marks
                        .get(&mark_key(&log.id, window))
                        .is_some_and(|&mark| e.seq <= mark);
                    (!done).then_some((r, e.seq))
                });
                replayed += self.buffer_s3(&log.id, &target, records).await;
                request.cursor = Some(last);
            }
        }
        if replayed > 0 {
            tracing::info!(
                records = replayed,
                "S3 flow-log records buffered again after a restart"
            );
        }
    }

    /// Writes the windows closed by now (every window with `all`), one file each.
    pub(crate) async fn flush_s3(&self, all: bool) {
        let _writing = self.s3.writing.lock().await;
        let now_secs = u64::try_from(self.now() / 1000).unwrap_or(0);
        let closed = self.s3.take_closed((!all).then_some(now_secs));
        for (key, p) in closed {
            self.write_window(key, p).await;
        }
    }

    /// Writes one file and records the outcome on the flow log's DeliverLogsStatus.
    async fn write_window(&self, (id, window): WindowKey, p: Pending) {
        let hash = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let key = p.target.layout().object_key(&id, window, hash);
        let records = p.records.len();
        let result = self
            .s3
            .buckets
            .write_flow_log_file(
                &p.target.bucket,
                &key,
                p.target.file_format,
                p.target.format,
                p.records,
            )
            .await;
        let error = match result {
            Ok(path) => {
                tracing::info!(flow_log = %id, records, %path, "flow-log file written");
                None
            }
            Err(error) => {
                tracing::warn!(
                    flow_log = %id,
                    records,
                    bucket = %p.target.bucket,
                    %key,
                    %error,
                    "flow-log file not written; its records are lost"
                );
                Some(if error.is_access_denied() {
                    "Access error"
                } else {
                    "Unknown error"
                })
            }
        };
        if p.max_seq > 0 {
            // Written or given up: either way these records are not buffered again.
            let now_secs = u64::try_from(self.now() / 1000).unwrap_or(0);
            let marked = self
                .s3
                .written
                .update(|w| {
                    let at = w.marks.entry(mark_key(&id, window)).or_insert(0);
                    *at = (*at).max(p.max_seq);
                    w.marks.retain(|k, _| {
                        k.rsplit_once('/')
                            .and_then(|(_, t)| t.parse::<u64>().ok())
                            .is_some_and(|t| t + MARK_TTL_SECS > now_secs)
                    });
                    Ok(())
                })
                .await;
            if let Err(error) = marked {
                tracing::error!(flow_log = %id, %error, "S3 flow-log file not marked written; it may be written again after a restart");
            }
        }
        self.set_delivery_status(std::slice::from_ref(&id), error)
            .await;
    }
}

/// Where and how flow log `log` writes its files, if it delivers to S3.
fn target_of(log: &FlowLog, format: &LogFormat) -> Option<Target> {
    let Destination::S3 {
        bucket,
        prefix,
        parquet,
        hive,
        per_hour,
    } = &log.destination
    else {
        return None;
    };
    Some(Target {
        account: log.account.clone(),
        region: log.region.clone(),
        bucket: bucket.clone(),
        prefix: prefix.clone(),
        hive: *hive,
        per_hour: *per_hour,
        file_format: if *parquet {
            FlowFileFormat::Parquet
        } else {
            FlowFileFormat::PlainText
        },
        format: format.clone(),
    })
}
