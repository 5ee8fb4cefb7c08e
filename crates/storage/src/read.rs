//! Reads: one stream page by page (GetLogEvents), or a scan across a group's streams
//! (FilterLogEvents), memory and segments as one, each event once, retention applied.

use flowwatch_model::limits::EVENT_OVERHEAD_BYTES;

use crate::db::Storage;
use crate::error::{Result, StorageError};
use crate::segment::{self, RowWanted};
use crate::types::{
    Direction, ReadRequest, ScanRequest, ScannedEvent, SegmentMeta, StoredEvent, StreamKey,
};

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

impl Storage {
    /// Reads a page of one stream's events in the request's direction, memory and segments as
    /// one, each event once; events older than the group's retention are never returned.
    pub async fn read_stream(&self, key: StreamKey, req: &ReadRequest) -> Result<Vec<StoredEvent>> {
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
        let mut out = Vec::new();
        let frozen = {
            let mem = self.shared().mem_read();
            mem.active.read(key, req, floor, &mut out);
            mem.frozen.clone()
        };
        for f in &frozen {
            f.table.read(key, req, floor, &mut out);
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
            if out.len() >= req.limit {
                let (lo, hi) = span(seg);
                let done = match req.direction {
                    Direction::Forward => {
                        out.select_nth_unstable_by_key(req.limit - 1, StoredEvent::position);
                        lo > out[req.limit - 1].timestamp
                    }
                    Direction::Backward => {
                        out.select_nth_unstable_by_key(req.limit - 1, |e| {
                            std::cmp::Reverse(e.position())
                        });
                        hi < out[req.limit - 1].timestamp
                    }
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
        match req.direction {
            Direction::Forward => out.sort_by_key(StoredEvent::position),
            Direction::Backward => out.sort_by_key(|e| std::cmp::Reverse(e.position())),
        }
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
        let shared = self.shared();
        let (floor, mut segments) = {
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
            (floor, segments)
        };
        let alive = |sid: i64| shared.catalog().stream_exists(group_id, sid);
        let mut out = Vec::new();
        let frozen = {
            let mem = shared.mem_read();
            mem.active.scan(group_id, req, floor, keep, &mut out);
            mem.frozen.clone()
        };
        for f in &frozen {
            f.table.scan(group_id, req, floor, keep, &mut out);
        }
        segments.sort_by_key(|s| s.min_ts);
        let position = |e: &ScannedEvent| e.event.position();
        for seg in &segments {
            if out.len() >= req.limit {
                out.select_nth_unstable_by_key(req.limit - 1, position);
                if seg.min_ts > out[req.limit - 1].event.timestamp {
                    break;
                }
            }
            let wanted = RowWanted {
                stream_id: None,
                min_ts: req.start_ms.max(floor),
                end_ts: req.end_ms,
            };
            segment::read_rows(&shared.store, seg, wanted, |sid, event| {
                if req.wants_stream(sid)
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
        out.retain(|e| alive(e.stream_id));
        out.sort_by_key(position);
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
