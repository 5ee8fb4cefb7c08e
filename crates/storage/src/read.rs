//! Reads: one stream page by page (GetLogEvents), or a scan across a group's streams
//! (FilterLogEvents), memory and segments as one, each event once, retention applied.

use std::sync::Arc;

use flowwatch_model::limits::EVENT_OVERHEAD_BYTES;

use crate::db::Storage;
use crate::error::{Result, StorageError};
use crate::segment::{self, Part, RowWanted, TypedRead};
use crate::types::{
    Direction, ReadRequest, ScanRequest, ScannedEvent, SegmentMeta, StoredEvent, StreamKey,
};
use arrow_array::{Array, Int32Array, Int64Array, StringArray, UInt64Array};

/// How often a read starts again when a segment it listed was removed meanwhile (compaction
/// and retention commit the catalog first, then delete the files; a fresh look at the catalog
/// finds the merged segment, or none past retention).
const MAX_READ_RETRIES: usize = 5;

/// How many events of `events` fit in `limit` events and `max_bytes` (at least one).
fn fitting<'a>(sizes: impl Iterator<Item = &'a str>, limit: usize, max_bytes: usize) -> usize {
    let mut bytes = 0;
    let mut n = 0;
    for message in sizes {
        let size = message.len() + EVENT_OVERHEAD_BYTES;
        if n >= limit || (n > 0 && bytes + size > max_bytes) {
            break;
        }
        bytes += size;
        n += 1;
    }
    n
}

/// The `limit` nearest events seen so far by `key` (smallest first), in bounded memory: at most
/// `2 * limit` are held at any time, however many rows a segment yields.
struct Nearest<T, K: Ord, F: Fn(&T) -> K> {
    items: Vec<T>,
    limit: usize,
    key: F,
}

impl<T, K: Ord, F: Fn(&T) -> K> Nearest<T, K, F> {
    fn new(limit: usize, key: F) -> Self {
        Self {
            items: Vec::new(),
            limit: limit.max(1),
            key,
        }
    }

    fn push(&mut self, item: T) {
        self.items.push(item);
        if self.items.len() >= self.limit.saturating_mul(2) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        if self.items.len() > self.limit {
            self.items
                .select_nth_unstable_by_key(self.limit - 1, &self.key);
            self.items.truncate(self.limit);
        }
    }

    /// The `limit`-th nearest item, once `limit` items are held.
    fn boundary(&mut self) -> Option<&T> {
        if self.items.len() < self.limit {
            return None;
        }
        self.items
            .select_nth_unstable_by_key(self.limit - 1, &self.key);
        self.items.get(self.limit - 1)
    }

    /// The items, nearest first.
    fn into_sorted(mut self) -> Vec<T> {
        self.trim();
        let key = self.key;
        self.items.sort_by_key(|x| key(x));
        self.items
    }
}

impl Storage {
    /// Reads a page of one stream's events in the request's direction, memory and segments as
    /// one, each event once; events older than the group's retention are never returned.
    pub async fn read_stream(&self, key: StreamKey, req: &ReadRequest) -> Result<Vec<StoredEvent>> {
        let mut attempt = 0;
        loop {
            match self.read_stream_once(key, req).await {
                Err(e) if e.is_not_found() && attempt < MAX_READ_RETRIES => {
                    attempt += 1;
                    tracing::debug!(error = %e, attempt, "a segment went away under a read; reading again");
                }
                other => return other,
            }
        }
    }

    async fn read_stream_once(
        &self,
        key: StreamKey,
        req: &ReadRequest,
    ) -> Result<Vec<StoredEvent>> {
        let (floor, segments) = {
            let catalog = self.shared().catalog();
            let group = catalog
                .group_by_id(key.group_id)
                .ok_or(StorageError::LogGroupNotFound)?;
            if !catalog.stream_exists(key.group_id, key.stream_id) {
                return Err(StorageError::LogStreamNotFound);
            }
            let floor = self.shared().retention_floor(group.retention);
            let segments: Vec<_> = catalog
                .segments(key.group_id)
                .iter()
                .filter(|s| segment::may_hold(s, key, req, floor))
                .cloned()
                .collect();
            (floor, segments)
        };
        let mut mem_events = Vec::new();
        let frozen = {
            let mem = self.shared().mem_read();
            mem.active.read(key, req, floor, &mut mem_events);
            mem.frozen.clone()
        };
        for f in &frozen {
            f.table.read(key, req, floor, &mut mem_events);
        }
        let forward = req.direction == Direction::Forward;
        // Forward: smallest positions first; backward: largest first (the key is mirrored).
        let mut out = Nearest::new(req.limit, |e: &StoredEvent| {
            // Order-preserving map of the timestamp to u64, complemented when walking backward.
            let t = (e.timestamp as u64) ^ (1 << 63);
            if forward { (t, e.seq) } else { (!t, !e.seq) }
        });
        for e in mem_events {
            out.push(e);
        }
        // Visit segments nearest the cursor first and stop once `limit` events are in hand
        // that no later segment can precede.
        let span = |seg: &crate::types::SegmentMeta| {
            seg.streams
                .iter()
                .find(|s| s.0 == key.stream_id)
                .map_or((i64::MIN, i64::MAX), |s| (s.1, s.2))
        };
        let mut segments = segments;
        match req.direction {
            Direction::Forward => segments.sort_by_key(|s| span(s).0),
            Direction::Backward => segments.sort_by_key(|s| std::cmp::Reverse(span(s).1)),
        }
        for seg in &segments {
            let (lo, hi) = span(seg);
            if let Some(b) = out.boundary() {
                let done = if forward {
                    lo > b.timestamp
                } else {
                    hi < b.timestamp
                };
                if done {
                    break;
                }
            }
            let wanted = RowWanted {
                stream_id: Some(key.stream_id),
                min_ts: req.start_ms.max(floor),
                end_ts: req.end_ms,
            };
            segment::read_rows(&self.shared().store, seg, wanted, |_, event| {
                if segment::after_cursor(req, event.position()) {
                    out.push(event);
                }
            })
            .await?;
        }
        let mut out = out.into_sorted();
        out.dedup_by_key(|e| e.seq);
        let n = fitting(
            out.iter().map(|e| e.message.as_str()),
            req.limit,
            req.max_bytes,
        );
        out.truncate(n);
        Ok(out)
    }

    /// Scans a group's streams (all, or those `req.streams` names) oldest first, interleaved by
    /// (timestamp, seq), keeping events whose message passes `keep`, up to the page limits.
    pub async fn scan_group(
        &self,
        group_id: i64,
        req: &ScanRequest,
        keep: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Vec<ScannedEvent>> {
        let mut attempt = 0;
        loop {
            match self.scan_group_once(group_id, req, keep).await {
                Err(e) if e.is_not_found() && attempt < MAX_READ_RETRIES => {
                    attempt += 1;
                    tracing::debug!(error = %e, attempt, "a segment went away under a scan; scanning again");
                }
                other => return other,
            }
        }
    }

    async fn scan_group_once(
        &self,
        group_id: i64,
        req: &ScanRequest,
        keep: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Vec<ScannedEvent>> {
        let shared = self.shared();
        let (floor, mut segments, alive) = {
            let catalog = shared.catalog();
            let group = catalog
                .group_by_id(group_id)
                .ok_or(StorageError::LogGroupNotFound)?;
            let floor = shared.retention_floor(group.retention);
            let start = req.start_ms.max(floor);
            let after_ts = req.after.map_or(i64::MIN, |a| a.timestamp);
            let segments: Vec<SegmentMeta> = catalog
                .segments(group_id)
                .iter()
                .filter(|s| {
                    s.streams.iter().any(|&(sid, lo, hi, _)| {
                        req.wants_stream(sid)
                            && catalog.stream_exists(group_id, sid)
                            && hi >= start
                            && hi >= after_ts
                            && lo < req.end_ms
                    })
                })
                .cloned()
                .collect();
            let alive: std::collections::HashSet<i64> = catalog
                .streams(group_id)
                .map(|s| s.values().map(|s| s.id).collect())
                .unwrap_or_default();
            (floor, segments, alive)
        };
        let alive = |sid: i64| alive.contains(&sid);
        let mut mem_events = Vec::new();
        let frozen = {
            let mem = shared.mem_read();
            mem.active.scan(group_id, req, floor, keep, &mut mem_events);
            mem.frozen.clone()
        };
        for f in &frozen {
            f.table.scan(group_id, req, floor, keep, &mut mem_events);
        }
        mem_events.retain(|e| alive(e.stream_id));
        let mut out = Nearest::new(req.limit, |e: &ScannedEvent| e.event.position());
        for e in mem_events {
            out.push(e);
        }
        segments.sort_by_key(|s| s.min_ts);
        for seg in &segments {
            if out
                .boundary()
                .is_some_and(|b| seg.min_ts > b.event.timestamp)
            {
                break;
            }
            let wanted = RowWanted {
                stream_id: None,
                min_ts: req.start_ms.max(floor),
                end_ts: req.end_ms,
            };
            segment::read_rows(&shared.store, seg, wanted, |sid, event| {
                if req.wants_stream(sid)
                    && alive(sid)
                    && req.after.is_none_or(|a| event.position() > a)
                    && keep(&event.message)
                {
                    out.push(ScannedEvent {
                        stream_id: sid,
                        event,
                    });
                }
            })
            .await?;
        }
        let mut out = out.into_sorted();
        out.dedup_by_key(|e| e.event.seq);
        let n = fitting(
            out.iter().map(|e| e.event.message.as_str()),
            req.limit,
            req.max_bytes,
        );
        out.truncate(n);
        Ok(out)
    }
}

/// One pass over every event of a group in a time range, for queries: what was in memory when
/// it began, then each segment read once, in no particular order (a query sorts for itself),
/// each event once. Unlike paging with [`Storage::scan_group`], which looks at every segment
/// again for each page, a pass reads the group's data once. While a pass lives, removed
/// segments' files are not deleted, so the segments it listed stay readable.
#[derive(Debug)]
pub struct GroupPass {
    group_id: i64,
    /// The events that were in memory, taken by [`GroupPass::take_memory`].
    memory: Vec<ScannedEvent>,
    segments: Vec<SegmentMeta>,
    /// Sequence numbers of `memory` (a segment flushed meanwhile may hold them too).
    in_memory: Arc<SeqSet>,
    alive: Arc<std::collections::HashSet<i64>>,
    start_ms: i64,
    end_ms: i64,
    _lease: tokio::sync::OwnedRwLockReadGuard<()>,
}

impl GroupPass {
    /// The events that were in memory (the first call; later calls give none).
    pub fn take_memory(&mut self) -> Vec<ScannedEvent> {
        std::mem::take(&mut self.memory)
    }

    /// How many segments the pass reads.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// In how many parts segment `index` is best read by readers working side by side
    /// ([`Storage::read_pass_part`]): one per [`PART_BYTES`] of it, so a large compacted
    /// segment is not one reader's alone and no reader holds all of it decoded.
    pub fn segment_parts(&self, index: usize) -> usize {
        self.segments.get(index).map_or(1, |seg| {
            usize::try_from(seg.byte_size.div_ceil(PART_BYTES))
                .unwrap_or(usize::MAX)
                .max(1)
        })
    }
}

/// About how many bytes of a segment a query reader reads at a time ([`GroupPass::segment_parts`]).
pub(crate) const PART_BYTES: u64 = 16 << 20;

impl Storage {
    /// Begins a [`GroupPass`] over the events of group `group_id` with `start_ms <= timestamp <
    /// end_ms` (and within retention).
    pub async fn group_pass(&self, group_id: i64, start_ms: i64, end_ms: i64) -> Result<GroupPass> {
        let shared = self.shared();
        let lease = shared.passes.clone().read_owned().await;
        let (start, segments, alive) = {
            let catalog = shared.catalog();
            let group = catalog
                .group_by_id(group_id)
                .ok_or(StorageError::LogGroupNotFound)?;
            let start = start_ms.max(shared.retention_floor(group.retention));
            let segments: Vec<SegmentMeta> = catalog
                .segments(group_id)
                .iter()
                .filter(|s| s.max_ts >= start && s.min_ts < end_ms)
                .cloned()
                .collect();
            let alive: std::collections::HashSet<i64> = catalog
                .streams(group_id)
                .map(|s| s.values().map(|s| s.id).collect())
                .unwrap_or_default();
            (start, segments, alive)
        };
        let req = ScanRequest {
            start_ms: start,
            end_ms,
            streams: None,
            after: None,
            limit: usize::MAX,
            max_bytes: usize::MAX,
        };
        let mut memory = Vec::new();
        let frozen = {
            let mem = shared.mem_read();
            mem.active
                .scan(group_id, &req, start, &|_| true, &mut memory);
            mem.frozen.clone()
        };
        for f in &frozen {
            f.table.scan(group_id, &req, start, &|_| true, &mut memory);
        }
        memory.retain(|e| alive.contains(&e.stream_id));
        let mut in_memory = std::collections::HashSet::with_capacity(memory.len());
        memory.retain(|e| in_memory.insert(e.event.seq));
        Ok(GroupPass {
            group_id,
            memory,
            segments,
            in_memory: Arc::new(SeqSet::new(in_memory)),
            alive: Arc::new(alive),
            start_ms: start,
            end_ms,
            _lease: lease,
        })
    }

    /// Whether every event of the pass is a flow-log record whose values typed columns hold
    /// exactly: the events in memory are, and every segment is marked so (its catalog entry
    /// says). A query over such a pass can type its flow-log numbers.
    pub fn pass_is_flow_log(&self, pass: &GroupPass) -> bool {
        pass.segments
            .iter()
            .all(|seg| seg.kind.as_deref() == Some(segment::flow::FLOW_LOG_KIND))
            && segment::flow::all_records(pass.memory.iter().map(|e| e.event.message.as_str()))
    }

    /// The events of the pass's segment `index` (one read of it).
    pub async fn read_pass_segment(
        &self,
        pass: &GroupPass,
        index: usize,
    ) -> Result<Vec<ScannedEvent>> {
        let mut out = Vec::new();
        self.read_pass_rows(pass, index, None)
            .await?
            .try_for_each(|e| {
                out.push(e.to_scanned());
                Ok::<_, StorageError>(())
            })?;
        Ok(out)
    }

    /// The events of the pass's segment `index` (one read of it), as decoded: borrowed by
    /// [`PassRows::try_for_each`] without a copy of each message. With `typed`, a segment of
    /// flow-log records is read as the typed columns it asks for ([`PassRows::is_typed`]).
    pub async fn read_pass_rows(
        &self,
        pass: &GroupPass,
        index: usize,
        typed: Option<&TypedRead>,
    ) -> Result<PassRows> {
        self.read_pass_part(pass, index, Part::WHOLE, typed).await
    }

    /// [`read_pass_rows`](Self::read_pass_rows) of one part of the segment (see
    /// [`GroupPass::segment_parts`]): the parts of a segment together hold its events once.
    pub async fn read_pass_part(
        &self,
        pass: &GroupPass,
        index: usize,
        part: Part,
        typed: Option<&TypedRead>,
    ) -> Result<PassRows> {
        let wanted = RowWanted {
            stream_id: None,
            min_ts: pass.start_ms,
            end_ts: pass.end_ms,
        };
        let ((batches, typed), path) = match pass.segments.get(index) {
            Some(seg) => {
                debug_assert_eq!(seg.group_id, pass.group_id);
                let store = &self.shared().store;
                let read = segment::read_batches(store, seg, wanted, typed, part).await?;
                (read, seg.path.clone())
            }
            None => ((Vec::new(), false), String::new()),
        };
        Ok(PassRows {
            batches,
            typed,
            path,
            wanted,
            alive: pass.alive.clone(),
            in_memory: pass.in_memory.clone(),
        })
    }
}

/// One event of a [`PassRows`], borrowed.
#[derive(Debug, Clone, Copy)]
pub struct PassEvent<'a> {
    pub stream_id: i64,
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub seq: u64,
    pub message: &'a str,
}

impl PassEvent<'_> {
    /// The event, owned.
    pub fn to_scanned(&self) -> ScannedEvent {
        ScannedEvent {
            stream_id: self.stream_id,
            event: StoredEvent {
                timestamp: self.timestamp,
                ingestion_time: self.ingestion_time,
                seq: self.seq,
                message: self.message.to_owned(),
            },
        }
    }
}

impl<'a> From<&'a ScannedEvent> for PassEvent<'a> {
    fn from(e: &'a ScannedEvent) -> Self {
        Self {
            stream_id: e.stream_id,
            timestamp: e.event.timestamp,
            ingestion_time: e.event.ingestion_time,
            seq: e.event.seq,
            message: &e.event.message,
        }
    }
}

/// A segment's events for a [`GroupPass`], as read (Arrow batches): the pass's events among
/// them are visited borrowed, so a query's reader copies each message once, into its input.
#[derive(Debug)]
pub struct PassRows {
    batches: Vec<arrow_array::RecordBatch>,
    /// Whether `batches` are typed flow-log columns ([`TypedRead`]).
    typed: bool,
    path: String,
    wanted: RowWanted,
    alive: Arc<std::collections::HashSet<i64>>,
    in_memory: Arc<SeqSet>,
}

/// The sequence numbers of a pass's in-memory events: most segment rows are older than all of
/// them, and are told apart by a comparison instead of a hash lookup.
#[derive(Debug)]
struct SeqSet {
    seqs: std::collections::HashSet<u64>,
    min: u64,
    max: u64,
}

impl SeqSet {
    fn new(seqs: std::collections::HashSet<u64>) -> Self {
        let min = seqs.iter().copied().min().unwrap_or(u64::MAX);
        let max = seqs.iter().copied().max().unwrap_or(0);
        Self { seqs, min, max }
    }

    fn contains(&self, seq: u64) -> bool {
        (self.min..=self.max).contains(&seq) && self.seqs.contains(&seq)
    }
}

impl PassRows {
    /// Whether the segment was read as typed flow-log columns: visit it with
    /// [`PassRows::try_for_each_batch`], not [`PassRows::try_for_each`].
    pub fn is_typed(&self) -> bool {
        self.typed
    }

    /// Visits the pass's events of a typed read, a batch at a time, until `visit` fails.
    pub fn try_for_each_batch<E: From<StorageError>>(
        &self,
        mut visit: impl FnMut(&PassBatch<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        for batch in &self.batches {
            let checked = PassBatch::of(batch, &self.path)?;
            // Which rows are the pass's: in its time range, of a live stream, not in memory.
            let mut last = (i64::MIN, false);
            let mut is_kept = |i: usize| {
                let (sid, ts) = (checked.stream_ids.value(i), checked.timestamps.value(i));
                if last.0 != sid {
                    last = (sid, self.alive.contains(&sid));
                }
                last.1
                    && ts >= self.wanted.min_ts
                    && ts < self.wanted.end_ts
                    && !self.in_memory.contains(checked.seqs.value(i))
            };
            // Most batches are the pass's whole: only a batch that is not gets a mask.
            if (0..batch.num_rows()).all(&mut is_kept) {
                visit(&checked)?;
                continue;
            }
            let keep: arrow_array::BooleanArray =
                (0..batch.num_rows()).map(|i| Some(is_kept(i))).collect();
            if keep.true_count() > 0 {
                let kept = arrow_select::filter::filter_record_batch(batch, &keep)
                    .map_err(StorageError::from)?;
                visit(&PassBatch::of(&kept, &self.path)?)?;
            }
        }
        Ok(())
    }

    /// Visits the pass's events of the segment until `visit` fails. A segment that does not
    /// have the columns it should is [`StorageError::Corrupt`].
    pub fn try_for_each<E: From<StorageError>>(
        &self,
        mut visit: impl FnMut(PassEvent<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        // Rows are sorted by stream: the last stream's liveness is asked once per run of it.
        let mut last = (i64::MIN, false);
        for batch in &self.batches {
            segment::SegmentRows::of(batch, &self.path)?.try_for_each(
                self.wanted,
                |stream_id, timestamp, ingestion_time, seq, message| {
                    if last.0 != stream_id {
                        last = (stream_id, self.alive.contains(&stream_id));
                    }
                    if !last.1 || self.in_memory.contains(seq) {
                        return Ok(());
                    }
                    visit(PassEvent {
                        stream_id,
                        timestamp,
                        ingestion_time,
                        seq,
                        message,
                    })
                },
            )?;
        }
        Ok(())
    }
}

/// A batch of a typed read ([`PassRows::try_for_each_batch`]): the pass's events, as columns.
#[derive(Debug)]
pub struct PassBatch<'a> {
    pub stream_ids: &'a Int64Array,
    pub timestamps: &'a Int64Array,
    pub ingestion_times: &'a Int64Array,
    pub seqs: &'a UInt64Array,
    /// Bytes of each message.
    pub message_sizes: &'a Int32Array,
    /// The messages, when the read asked for them.
    pub messages: Option<&'a StringArray>,
    batch: &'a arrow_array::RecordBatch,
}

impl<'a> PassBatch<'a> {
    fn of(batch: &'a arrow_array::RecordBatch, path: &str) -> Result<Self> {
        Ok(Self {
            stream_ids: segment::column(batch, path, "stream_id")?,
            timestamps: segment::column(batch, path, "timestamp")?,
            ingestion_times: segment::column(batch, path, "ingestion_time")?,
            seqs: segment::column(batch, path, "seq")?,
            message_sizes: segment::column(batch, path, segment::flow::MESSAGE_SIZE)?,
            messages: batch
                .column_by_name("message")
                .and_then(|c| c.as_any().downcast_ref()),
            batch,
        })
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.batch.num_rows() == 0
    }

    /// The typed column of `field` (as [`flowwatch_flowlog::arrow_schema`] types it), when the
    /// read asked for it.
    pub fn field(&self, field: flowwatch_flowlog::Field) -> Option<&'a arrow_array::ArrayRef> {
        self.batch.column_by_name(field.parquet_name())
    }
}
