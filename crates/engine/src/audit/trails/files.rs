//! Trails' log files and digest files in their S3 bucket (spec `cloudtrail-iam.md` B.1, B.3).
//!
//! There is no buffer of its own: management records are already durable in the audit group's
//! `management` stream. Each trail keeps, per region it logs, a mark: the latest timestamp of
//! the records it has dealt with, and the sequence numbers of those within [`REREAD_MS`] of it.
//! Every [`TrailFilesConfig::delivery_period`] (and on a graceful stop)
//! [`Engine::deliver_trail_files`] reads the records from [`REREAD_MS`] before the mark, passes
//! over those already dealt with, keeps those the trail logs (the rule of the log-group
//! delivery: its home region or every region when multi-region, global services only with
//! `IncludeGlobalServiceEvents`, and only records made while the trail was logging), writes
//! them as one gzip file `{"Records":[…]}` (or several past [`MAX_FILE_RECORDS`]) and only then
//! advances the mark, saved in the catalog (`cloudtrail_files`). A crash between a file's write
//! and its mark writes those records again in a new file (at least once); none is lost. A
//! failed write leaves the mark, so the records go in the next try.
//!
//! Why the re-read: a record's timestamp is taken before its durable append, so a record may
//! become readable after one with a later timestamp. Any record appended less than
//! [`REREAD_MS`] after its timestamp is delivered.
//!
//! With `EnableLogFileValidation`, the log files delivered since the last digest are kept in
//! the same saved state (so a digest lists every file even across a restart), and every
//! [`TrailFilesConfig::digest_period`] a digest is written (`digests`), even without files.

mod digests;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use flowwatch_model::{ApiError, ApiResult, Scope};
use flowwatch_security::trail_files::{self, HASH_ALGORITHM, LogFileEntry};
use flowwatch_storage::{Direction, ReadRequest, StorageError};
use serde::{Deserialize, Serialize};

use super::TrailRecord;
use crate::audit::{AUDIT_GROUP, MANAGEMENT_STREAM};
use crate::{Engine, storage_error};

/// Most records in one log file.
pub const MAX_FILE_RECORDS: usize = 5_000;
/// Most bytes of records in one log file (before compression).
const MAX_FILE_BYTES: usize = 32 << 20;
/// How far before a mark reads start again (see the module documentation).
pub const REREAD_MS: i64 = 5 * 60 * 1000;
/// Records read from storage per batch.
const BATCH: usize = 1_000;

/// When trails' files are written.
#[derive(Debug, Clone)]
pub struct TrailFilesConfig {
    /// How often log files are written (CloudTrail: about every 5 minutes).
    pub delivery_period: Duration,
    /// How often a digest is written (CloudTrail: hourly).
    pub digest_period: Duration,
}

impl Default for TrailFilesConfig {
    fn default() -> Self {
        Self {
            delivery_period: Duration::from_secs(300),
            digest_period: Duration::from_secs(3600),
        }
    }
}

/// What every trail has delivered, by trail ARN and region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrailFiles {
    trails: BTreeMap<String, BTreeMap<String, RegionFiles>>,
}

/// What a trail has delivered of one region's records.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RegionFiles {
    /// The latest timestamp of the records delivered (or passed over).
    mark_ms: i64,
    /// The (sequence number, timestamp) of the records delivered or passed over whose
    /// timestamp is within [`REREAD_MS`] of the mark.
    seen: Vec<(u64, i64)>,
    /// The open digest window, while the trail validates log files.
    chain: Option<Chain>,
}

impl RegionFiles {
    /// Marks records dealt with, and forgets those too old to be read again.
    fn advance(&mut self, dealt: Vec<(u64, i64)>) {
        self.seen.extend(dealt);
        self.mark_ms = self
            .seen
            .iter()
            .map(|&(_, ms)| ms)
            .fold(self.mark_ms, i64::max);
        let oldest = self.mark_ms.saturating_sub(REREAD_MS);
        self.seen.retain(|&(_, ms)| ms >= oldest);
    }
}

/// The digest window being filled, and the digest before it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Chain {
    start_ms: i64,
    previous: Option<PreviousDigest>,
    files: Vec<LogFileEntry>,
}

/// The last digest written, which the next one links to.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PreviousDigest {
    bucket: String,
    key: String,
    /// Hex SHA-256 of the uncompressed file.
    sha256: String,
    signature: String,
}

/// The latest S3 deliveries of a trail (kept in memory; GetTrailStatus).
#[derive(Debug, Clone, Default)]
pub struct S3Status {
    pub(crate) latest_ms: Option<i64>,
    pub(crate) latest_error: Option<String>,
    pub(crate) latest_digest_ms: Option<i64>,
    pub(crate) latest_digest_error: Option<String>,
}

/// The event source of a record (to tell global services' events).
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "eventSource", borrow)]
    event_source: std::borrow::Cow<'a, str>,
}

fn is_global(json: &str) -> bool {
    serde_json::from_str::<Head<'_>>(json).is_ok_and(|h| {
        matches!(
            h.event_source.as_ref(),
            "iam.amazonaws.com" | "sts.amazonaws.com"
        )
    })
}

/// 16 random letters and digits (a log file's unique string).
fn unique_string() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let a = uuid::Uuid::new_v4();
    a.as_bytes()
        .iter()
        .map(|b| CHARS[usize::from(*b) % CHARS.len()] as char)
        .collect()
}

/// Gzip of `bytes` (off the async runtime).
async fn gzip(bytes: Vec<u8>) -> ApiResult<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let mut out = GzEncoder::new(Vec::new(), Compression::default());
        out.write_all(&bytes)?;
        out.finish()
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "gzip task failed");
        ApiError::internal("gzip task failed")
    })?
    .map_err(|error| {
        tracing::error!(%error, "gzip failed");
        ApiError::internal("gzip failed")
    })
}

/// The records of one log file.
struct Batch {
    json: Vec<u8>,
    records: usize,
    oldest_ms: i64,
    newest_ms: i64,
}

impl Batch {
    fn new() -> Self {
        Self {
            json: b"{\"Records\":[".to_vec(),
            records: 0,
            oldest_ms: i64::MAX,
            newest_ms: i64::MIN,
        }
    }

    fn push(&mut self, ms: i64, record: &str) {
        if self.records > 0 {
            self.json.push(b',');
        }
        self.json.extend_from_slice(record.as_bytes());
        self.records += 1;
        self.oldest_ms = self.oldest_ms.min(ms);
        self.newest_ms = self.newest_ms.max(ms);
    }

    fn full(&self) -> bool {
        self.records >= MAX_FILE_RECORDS || self.json.len() >= MAX_FILE_BYTES
    }

    fn finish(mut self) -> Self {
        self.json.extend_from_slice(b"]}");
        self
    }
}

impl Engine {
    /// Writes every trail's pending log files and the digests that are due (none when
    /// `stopping`: the files delivered are kept for the next digest after a restart). Passes
    /// never overlap.
    pub async fn deliver_trail_files(&self, stopping: bool) {
        let _running = self.trail_files_running.lock().await;
        let trails = self.trails.read(|set| set.trails.clone()).await;
        // Trails deleted since: nothing more is delivered for them (as in CloudTrail).
        let forgotten = self
            .trail_files
            .update_when(|files| {
                let before = files.trails.len();
                files.trails.retain(|arn, _| trails.contains_key(arn));
                Ok(((), files.trails.len() != before))
            })
            .await;
        if let Err(error) = forgotten {
            tracing::warn!(code = %error.code, "deleted trails' delivery state not dropped");
        }
        for (arn, trail) in &trails {
            for region in self.trail_regions(trail) {
                if let Err(error) = self.deliver_region(arn, trail, &region, stopping).await {
                    tracing::warn!(trail = %arn, %region, code = %error.code, message = %error.message, "trail files not delivered");
                }
            }
        }
    }

    /// The regions whose records trail `trail` logs: its home region, and when it is
    /// multi-region every region of its account that has audit records.
    fn trail_regions(&self, trail: &TrailRecord) -> Vec<String> {
        let mut regions = vec![trail.home_region.clone()];
        if trail.is_multi_region {
            for group in self.storage().all_log_groups() {
                if group.name == AUDIT_GROUP
                    && group.scope.account == trail.account
                    && !regions.contains(&group.scope.region)
                {
                    regions.push(group.scope.region);
                }
            }
        }
        regions
    }

    /// Delivers one region's records of one trail, then its digest when due.
    async fn deliver_region(
        &self,
        arn: &str,
        trail: &TrailRecord,
        region: &str,
        stopping: bool,
    ) -> ApiResult<()> {
        let now = self.now();
        let known = self
            .trail_files
            .read(|f| f.trails.get(arn).and_then(|r| r.get(region)).cloned())
            .await;
        let mut state = match known {
            Some(state) => state,
            // Logging now, or it logged before this pass (started and stopped in between).
            None if trail.logging || !trail.logging_periods.is_empty() => RegionFiles {
                mark_ms: trail
                    .logging_periods
                    .first()
                    .map(|&(start, _)| start)
                    .or(trail.start_logging_ms)
                    .unwrap_or(now),
                seen: Vec::new(),
                chain: None,
            },
            None => return Ok(()),
        };
        if trail.log_file_validation && trail.logging && state.chain.is_none() {
            // A starting digest: no previous link.
            state.chain = Some(Chain {
                start_ms: now,
                previous: None,
                files: Vec::new(),
            });
            self.save_region(arn, region, &state).await?;
        }
        self.deliver_records(arn, trail, region, &mut state).await?;
        if !stopping {
            self.write_digest_if_due(arn, trail, region, &mut state)
                .await?;
        }
        Ok(())
    }

    /// Forgets what a deleted trail delivered (a trail created again under its name starts
    /// anew, with a starting digest).
    pub(crate) async fn forget_trail_files(&self, arn: &str) {
        self.trail_s3_statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(arn);
        let forgotten = self
            .trail_files
            .update_when(|files| Ok(((), files.trails.remove(arn).is_some())))
            .await;
        if let Err(error) = forgotten {
            tracing::warn!(trail = %arn, code = %error.code, "deleted trail's delivery state not dropped");
        }
    }

    async fn save_region(&self, arn: &str, region: &str, state: &RegionFiles) -> ApiResult<()> {
        self.trail_files
            .update(|files| {
                files
                    .trails
                    .entry(arn.to_owned())
                    .or_default()
                    .insert(region.to_owned(), state.clone());
                Ok(())
            })
            .await
    }

    /// Writes the records after the mark that the trail logs, as log files, advancing the
    /// mark after each file.
    async fn deliver_records(
        &self,
        arn: &str,
        trail: &TrailRecord,
        region: &str,
        state: &mut RegionFiles,
    ) -> ApiResult<()> {
        let scope = Scope {
            account: trail.account.clone(),
            region: region.to_owned(),
        };
        let key = match self
            .storage()
            .stream_key(&scope, AUDIT_GROUP, MANAGEMENT_STREAM)
        {
            Ok((key, _)) => key,
            Err(StorageError::LogGroupNotFound | StorageError::LogStreamNotFound) => {
                return Ok(());
            }
            Err(e) => return Err(storage_error(e)),
        };
        let start_ms = state.mark_ms.saturating_sub(REREAD_MS);
        let mut request = ReadRequest {
            start_ms,
            end_ms: i64::MAX,
            cursor: None,
            direction: Direction::Forward,
            limit: BATCH,
            max_bytes: 8 << 20,
        };
        let already: HashSet<u64> = state.seen.iter().map(|&(seq, _)| seq).collect();
        let mut batch = Batch::new();
        // Records dealt with since the last save: (sequence number, timestamp).
        let mut dealt: Vec<(u64, i64)> = Vec::new();
        loop {
            let page = self
                .storage()
                .read_stream(key, &request)
                .await
                .map_err(storage_error)?;
            let Some(last) = page.last().map(|e| e.position()) else {
                break;
            };
            for event in &page {
                if already.contains(&event.seq) {
                    continue;
                }
                if trail.logged_at(event.timestamp)
                    && (trail.include_global_service_events || !is_global(&event.message))
                    && trail.selects(&event.message)
                {
                    batch.push(event.timestamp, &event.message);
                }
                dealt.push((event.seq, event.timestamp));
                if batch.full() {
                    let full = std::mem::replace(&mut batch, Batch::new());
                    self.write_log_file(arn, trail, region, state, full).await?;
                    state.advance(std::mem::take(&mut dealt));
                    self.save_region(arn, region, state).await?;
                }
            }
            request.cursor = Some(last);
        }
        if batch.records > 0 {
            self.write_log_file(arn, trail, region, state, batch)
                .await?;
        }
        if !dealt.is_empty() {
            state.advance(dealt);
            self.save_region(arn, region, state).await?;
        }
        Ok(())
    }

    /// Writes one log file, then records it (its mark, and its digest entry).
    async fn write_log_file(
        &self,
        arn: &str,
        trail: &TrailRecord,
        region: &str,
        state: &mut RegionFiles,
        batch: Batch,
    ) -> ApiResult<()> {
        let batch = batch.finish();
        let now = self.now();
        let key = trail_files::log_file_key(
            trail.s3_key_prefix.as_deref().unwrap_or(""),
            &trail.account,
            region,
            now,
            &unique_string(),
        );
        let sha256 = trail_files::sha256_hex(&batch.json);
        let records = batch.records;
        let body = gzip(batch.json).await?;
        let bucket = &trail.s3_bucket_name;
        let written = self.s3.buckets().put_object(bucket, &key, body, None).await;
        let path = match written {
            Ok(path) => path,
            Err(error) => {
                tracing::warn!(trail = %arn, %bucket, %key, %error, "trail log file not written; its records are tried again next time");
                self.set_s3_status(arn, |s| s.latest_error = Some(error.to_string()));
                return Err(ApiError::internal("log file not written"));
            }
        };
        tracing::info!(trail = %arn, records, %path, "CloudTrail log file written");
        self.set_s3_status(arn, |s| {
            s.latest_ms = Some(now);
            s.latest_error = None;
        });
        if let Some(chain) = state.chain.as_mut() {
            chain.files.push(LogFileEntry {
                s3_bucket: bucket.clone(),
                s3_object: key,
                hash_value: sha256,
                hash_algorithm: HASH_ALGORITHM.to_owned(),
                newest_event_time: trail_files::time_text(batch.newest_ms),
                oldest_event_time: trail_files::time_text(batch.oldest_ms),
            });
        }
        Ok(())
    }

    fn set_s3_status(&self, arn: &str, f: impl FnOnce(&mut S3Status)) {
        let mut statuses = self
            .trail_s3_statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(statuses.entry(arn.to_owned()).or_default());
    }

    /// The latest S3 deliveries of a trail.
    pub(crate) fn s3_status(&self, arn: &str) -> S3Status {
        self.trail_s3_statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(arn)
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
