//! Recent events in memory, column by column (the layout of an Arrow string column, so a flush
//! hands contiguous buffers to the Parquet writer and appends never allocate per event).

use std::collections::HashMap;
use std::time::Instant;

use crate::types::{
    Direction, EventRef, Position, ReadRequest, ScanRequest, ScannedEvent, StoredEvent, StreamKey,
};

/// One stream's unflushed events.
#[derive(Debug)]
pub(crate) struct StreamBuffer {
    pub(crate) timestamps: Vec<i64>,
    pub(crate) seqs: Vec<u64>,
    pub(crate) ingestion: Vec<i64>,
    /// `offsets[i]..offsets[i + 1]` is event `i`'s message in `data`.
    pub(crate) offsets: Vec<usize>,
    pub(crate) data: String,
    /// Whether events are in (timestamp, seq) order as appended.
    sorted: bool,
}

impl Default for StreamBuffer {
    fn default() -> Self {
        Self {
            timestamps: Vec::new(),
            seqs: Vec::new(),
            ingestion: Vec::new(),
            offsets: vec![0],
            data: String::new(),
            sorted: true,
        }
    }
}

impl StreamBuffer {
    pub(crate) fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// Memory the buffer holds (capacities, not lengths: growth by doubling counts).
    pub(crate) fn heap_bytes(&self) -> usize {
        8 * (self.timestamps.capacity()
            + self.seqs.capacity()
            + self.ingestion.capacity()
            + self.offsets.capacity())
            + self.data.capacity()
    }

    /// Logical size: message bytes + 26 per event, as AWS sizes events.
    pub(crate) fn logical_bytes(&self) -> usize {
        self.data.len() + self.len() * flowwatch_model::limits::EVENT_OVERHEAD_BYTES
    }

    pub(crate) fn message(&self, i: usize) -> &str {
        &self.data[self.offsets[i]..self.offsets[i + 1]]
    }

    fn position(&self, i: usize) -> Position {
        Position {
            timestamp: self.timestamps[i],
            seq: self.seqs[i],
        }
    }

    fn push(&mut self, timestamp: i64, seq: u64, ingestion_time: i64, message: &str) {
        if let Some(&last) = self.timestamps.last()
            && timestamp < last
        {
            self.sorted = false;
        }
        self.timestamps.push(timestamp);
        self.seqs.push(seq);
        self.ingestion.push(ingestion_time);
        self.data.push_str(message);
        self.offsets.push(self.data.len());
    }

    /// Indices of the events in (timestamp, seq) order.
    pub(crate) fn order(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        if !self.sorted {
            idx.sort_by_key(|&i| self.position(i));
        }
        idx
    }

    /// Up to `limit` events in [start, end) after `after` whose message passes `keep`, oldest
    /// first.
    fn scan(
        &self,
        start: i64,
        end: i64,
        after: Option<Position>,
        limit: usize,
        keep: &dyn Fn(&str) -> bool,
        mut out: impl FnMut(StoredEvent),
    ) {
        let mut n = 0;
        for i in self.order() {
            if n >= limit {
                break;
            }
            let ts = self.timestamps[i];
            if ts < start || ts >= end || after.is_some_and(|a| self.position(i) <= a) {
                continue;
            }
            let message = self.message(i);
            if !keep(message) {
                continue;
            }
            out(StoredEvent {
                timestamp: ts,
                ingestion_time: self.ingestion[i],
                seq: self.seqs[i],
                message: message.to_owned(),
            });
            n += 1;
        }
    }

    /// Up to `req.limit` events matching `req`, in the request's direction.
    fn read(&self, req: &ReadRequest, min_ts: i64, out: &mut Vec<StoredEvent>) {
        let order = self.order();
        let matches = |i: usize| {
            let ts = self.timestamps[i];
            ts >= req.start_ms.max(min_ts)
                && ts < req.end_ms
                && match (req.cursor, req.direction) {
                    (None, _) => true,
                    (Some(c), Direction::Forward) => self.position(i) > c,
                    (Some(c), Direction::Backward) => self.position(i) < c,
                }
        };
        let take = |i: usize| StoredEvent {
            timestamp: self.timestamps[i],
            ingestion_time: self.ingestion[i],
            seq: self.seqs[i],
            message: self.message(i).to_owned(),
        };
        match req.direction {
            Direction::Forward => out.extend(
                order
                    .into_iter()
                    .filter(|&i| matches(i))
                    .take(req.limit)
                    .map(take),
            ),
            Direction::Backward => out.extend(
                order
                    .into_iter()
                    .rev()
                    .filter(|&i| matches(i))
                    .take(req.limit)
                    .map(take),
            ),
        }
    }
}

/// All unflushed events, by stream.
#[derive(Debug, Default)]
pub(crate) struct MemTable {
    pub(crate) streams: HashMap<StreamKey, StreamBuffer>,
    /// Sum of (message bytes + 26) of the events held (flush trigger, storedBytes).
    pub(crate) bytes: usize,
    /// Memory the buffers hold (back-pressure).
    pub(crate) heap: usize,
    /// Highest sequence number applied.
    pub(crate) max_seq: u64,
    /// When the first event arrived in this table.
    pub(crate) since: Option<Instant>,
}

impl MemTable {
    pub(crate) fn append(
        &mut self,
        key: StreamKey,
        first_seq: u64,
        ingestion_time: i64,
        events: &[EventRef<'_>],
    ) {
        // A new buffer's own initial allocation counts too.
        let heap_before = self.streams.get(&key).map_or(0, StreamBuffer::heap_bytes);
        let buffer = self.streams.entry(key).or_default();
        for (i, e) in events.iter().enumerate() {
            buffer.push(e.timestamp, first_seq + i as u64, ingestion_time, e.message);
            self.bytes += e.message.len() + flowwatch_model::limits::EVENT_OVERHEAD_BYTES;
        }
        self.heap = self.heap + buffer.heap_bytes() - heap_before;
        if !events.is_empty() {
            self.max_seq = self.max_seq.max(first_seq + events.len() as u64 - 1);
            self.since.get_or_insert_with(Instant::now);
        }
    }

    /// Drops a stream's events (the stream or its group was deleted).
    pub(crate) fn remove_stream(&mut self, key: StreamKey) {
        if let Some(buf) = self.streams.remove(&key) {
            debug_assert!(self.bytes >= buf.logical_bytes() && self.heap >= buf.heap_bytes());
            self.bytes = self.bytes.saturating_sub(buf.logical_bytes());
            self.heap = self.heap.saturating_sub(buf.heap_bytes());
        }
    }

    /// Events of a group's streams (all when `req.streams` is `None`) for a scan.
    pub(crate) fn scan(
        &self,
        group_id: i64,
        req: &ScanRequest,
        min_ts: i64,
        keep: &dyn Fn(&str) -> bool,
        out: &mut Vec<ScannedEvent>,
    ) {
        for (key, buf) in &self.streams {
            if key.group_id != group_id || !req.wants_stream(key.stream_id) {
                continue;
            }
            buf.scan(
                req.start_ms.max(min_ts),
                req.end_ms,
                req.after,
                req.limit,
                keep,
                |event| {
                    out.push(ScannedEvent {
                        stream_id: key.stream_id,
                        event,
                    })
                },
            );
        }
    }

    pub(crate) fn read(
        &self,
        key: StreamKey,
        req: &ReadRequest,
        min_ts: i64,
        out: &mut Vec<StoredEvent>,
    ) {
        if let Some(buffer) = self.streams.get(&key) {
            buffer.read(req, min_ts, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The accounting that back-pressure and storedBytes rest on returns to zero when every
    /// stream is removed, whatever was appended.
    #[test]
    fn byte_and_heap_accounting_balance() {
        let mut mem = MemTable::default();
        let keys: Vec<StreamKey> = (0..3)
            .map(|i| StreamKey {
                group_id: 1,
                stream_id: i,
            })
            .collect();
        let mut seq = 1;
        for round in 0..50 {
            for key in &keys {
                let msg = "x".repeat(round * 7 + 1);
                let events = [EventRef {
                    timestamp: 1000 - round as i64,
                    message: &msg,
                }];
                mem.append(*key, seq, 5, &events);
                seq += 1;
            }
        }
        let heap: usize = mem.streams.values().map(StreamBuffer::heap_bytes).sum();
        assert_eq!(mem.heap, heap);
        assert!(
            mem.heap >= mem.bytes - 26 * mem.streams.values().map(StreamBuffer::len).sum::<usize>()
        );
        for key in keys {
            mem.remove_stream(key);
        }
        assert_eq!((mem.bytes, mem.heap), (0, 0));
    }
}
