//! Delivery to S3 (`spec/flowlogs.md` §7): records of S3 flow logs are buffered per flow log
//! and 5-minute window of end time, and each window is written as one file (or several, when
//! records arrive after it was written or it outgrows [`MAX_FILE_RECORDS`]) under AWS's key
//! layout into the bucket store ([`Buckets`], `<data_dir>/s3/<bucket>/` by default).
//!
//! A background task writes the windows that closed more than the grace period ago; a window
//! that reaches [`MAX_FILE_RECORDS`] is written at once; [`Engine::shutdown`] writes every
//! window still open. The buffer lives in memory only: a crash (SIGKILL, power loss) loses the
//! records of the windows not yet written — at most the last 5 minutes and the grace period.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use flowwatch_flowlog::{FlowRecord, LogFormat, S3Layout, WINDOW_SECS, window_start};
use flowwatch_storage::{BucketStoreConfig, Buckets, FlowFileFormat};

use super::resource::{Destination, FlowLog};
use crate::Engine;

/// Most records in one file: a window holding more is written as several files (AWS caps a
/// file at 75 MB; 100,000 full records are about 30 MB of text).
pub(crate) const MAX_FILE_RECORDS: usize = 100_000;

/// How delivery to S3 runs.
#[derive(Debug, Clone)]
pub struct S3DeliveryConfig {
    /// Where buckets are (default: `<data_dir>/s3`, one directory per bucket).
    pub store: BucketStoreConfig,
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
            grace: Duration::from_secs(60),
            tick: Duration::from_secs(10),
        }
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
}

impl S3Delivery {
    pub(crate) fn new(config: S3DeliveryConfig) -> Self {
        Self {
            buckets: Buckets::new(config.store.clone()),
            config,
            pending: Mutex::default(),
            writing: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn tick(&self) -> Duration {
        self.config.tick
    }

    /// Takes the windows closed at `now_secs` (all of them with `None`).
    fn take_closed(&self, now_secs: Option<u64>) -> Vec<(WindowKey, Pending)> {
        let grace = self.config.grace.as_secs();
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let closed: Vec<WindowKey> = pending
            .keys()
            .filter(|(_, start)| now_secs.is_none_or(|now| start + WINDOW_SECS + grace <= now))
            .cloned()
            .collect();
        closed
            .into_iter()
            .filter_map(|key| pending.remove_entry(&key))
            .collect()
    }
}

impl Engine {
    /// Buffers the `records` kept by S3 flow log `log` (in its format `format`) and writes the
    /// windows that reached [`MAX_FILE_RECORDS`]; returns how many records were taken.
    pub(super) async fn deliver_to_s3<'r>(
        &self,
        log: &FlowLog,
        format: &LogFormat,
        records: impl Iterator<Item = &'r FlowRecord>,
    ) -> usize {
        let Destination::S3 {
            bucket,
            prefix,
            parquet,
            hive,
            per_hour,
        } = &log.destination
        else {
            return 0;
        };
        let target = Target {
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
        };
        let now_secs = u64::try_from(self.now() / 1000).unwrap_or(0);
        let version = Some(format.version());
        let mut taken = 0;
        let mut full = Vec::new();
        {
            let mut pending = self
                .s3
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for r in records {
                // The version field is the flow log's format's, not the capture's.
                let mut r = r.clone();
                r.version = r.version.and(version);
                let window = window_start(r.end.or(r.start).unwrap_or(now_secs));
                let key = (log.id.clone(), window);
                let entry = pending.entry(key.clone()).or_insert_with(|| Pending {
                    target: target.clone(),
                    records: Vec::new(),
                });
                entry.records.push(r);
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
        self.set_delivery_status(std::slice::from_ref(&id), error)
            .await;
    }
}
