//! Integration tests of the storage engine: a model-based property test with reopen and crash
//! steps, retention on an injected clock, and compaction.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use flowwatch_model::{ManualClock, RetentionDays, Scope};
use flowwatch_storage::{
    Direction, DurableBatch, EventRef, IngestObserver, NewLogGroup, ReadRequest, ScanRequest,
    Storage, StorageConfig, StorageError, StoredEvent,
};
use proptest::prelude::*;

#[path = "storage/observers.rs"]
mod observers;

const T0: i64 = 1_700_000_000_000;

fn scope() -> Scope {
    Scope {
        account: "123456789012".into(),
        region: "us-east-1".into(),
    }
}

fn config(dir: &std::path::Path) -> StorageConfig {
    let mut c = StorageConfig::new(dir);
    c.fsync = false;
    c.flush_bytes = 1 << 30;
    c.flush_age = Duration::from_secs(3600);
    c.maintenance_interval = Duration::from_secs(3600);
    c.compact_min_segments = 2;
    c.row_group_rows = 7;
    c
}

fn all(forward: bool) -> ReadRequest {
    ReadRequest {
        start_ms: 0,
        end_ms: i64::MAX,
        cursor: None,
        direction: if forward {
            Direction::Forward
        } else {
            Direction::Backward
        },
        limit: 10_000,
        max_bytes: usize::MAX,
    }
}

async fn read_all(s: &Storage, group: &str, stream: &str) -> Vec<StoredEvent> {
    let (key, _) = s.stream_key(&scope(), group, stream).expect("stream");
    s.read_stream(key, &all(true)).await.expect("read")
}

#[derive(Debug, Clone)]
enum Op {
    CreateGroup(u8),
    DeleteGroup(u8),
    CreateStream(u8, u8),
    DeleteStream(u8, u8),
    Append(u8, u8, Vec<i64>),
    Flush,
    Maintain,
    Reopen,
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    let g = 0u8..3;
    let s = 0u8..3;
    prop_oneof![
        2 => g.clone().prop_map(Op::CreateGroup),
        1 => g.clone().prop_map(Op::DeleteGroup),
        3 => (g.clone(), s.clone()).prop_map(|(g, s)| Op::CreateStream(g, s)),
        1 => (g.clone(), s.clone()).prop_map(|(g, s)| Op::DeleteStream(g, s)),
        8 => (g, s, prop::collection::vec(0i64..50, 1..20)).prop_map(|(g, s, mut ts)| {
            ts.sort_unstable();
            Op::Append(g, s, ts)
        }),
        2 => Just(Op::Flush),
        1 => Just(Op::Maintain),
        1 => Just(Op::Reopen),
        1 => Just(Op::Crash),
    ]
}

/// The model: groups → streams → events in (timestamp, arrival) order.
type Model = BTreeMap<String, BTreeMap<String, Vec<(i64, u64, String)>>>;

async fn check(s: &Storage, model: &Model) {
    let names: Vec<String> = s.log_groups(&scope()).into_iter().map(|g| g.name).collect();
    assert_eq!(names, model.keys().cloned().collect::<Vec<_>>());
    for (g, streams) in model {
        // A scan across the group, paged, filtered, interleaves every stream's events.
        let gid = s.log_group(&scope(), g).expect("group").id;
        let mut want: Vec<&(i64, u64, String)> = streams.values().flatten().collect();
        want.sort_by_key(|e| (e.0, e.1));
        let keep = |m: &str| !m.ends_with('7');
        let want: Vec<(i64, String)> = want
            .into_iter()
            .filter(|e| keep(&e.2))
            .map(|e| (e.0, e.2.clone()))
            .collect();
        let mut req = ScanRequest {
            start_ms: 0,
            end_ms: i64::MAX,
            streams: None,
            after: None,
            limit: 4,
            max_bytes: usize::MAX,
        };
        let mut scanned = Vec::new();
        loop {
            let page = s.scan_group(gid, &req, &keep).await.expect("scan");
            let Some(last) = page.last() else { break };
            req.after = Some(last.event.position());
            scanned.extend(
                page.into_iter()
                    .map(|e| (e.event.timestamp, e.event.message)),
            );
        }
        assert_eq!(scanned, want, "scan of {g}");

        let infos = s.log_streams(&scope(), g).expect("streams");
        let got: Vec<String> = infos.iter().map(|s| s.name.clone()).collect();
        assert_eq!(got, streams.keys().cloned().collect::<Vec<_>>());
        for info in &infos {
            let events = &streams[&info.name];
            assert_eq!(
                info.stats.first_event_timestamp,
                events.iter().map(|e| e.0).min(),
                "first event of {g}/{}",
                info.name
            );
            assert_eq!(
                info.stats.last_event_timestamp,
                events.iter().map(|e| e.0).max(),
                "last event of {g}/{}",
                info.name
            );
            assert_eq!(info.stats.last_ingestion_time.is_some(), !events.is_empty());
        }
        for (st, events) in streams {
            let mut want = events.clone();
            want.sort_by_key(|e| (e.0, e.1));
            let got = read_all(s, g, st).await;
            let got: Vec<(i64, String)> =
                got.into_iter().map(|e| (e.timestamp, e.message)).collect();
            let want: Vec<(i64, String)> = want.into_iter().map(|e| (e.0, e.2)).collect();
            assert_eq!(got, want, "stream {g}/{st}");
            // Backward reads are the same events reversed.
            let (key, _) = s.stream_key(&scope(), g, st).expect("stream");
            let mut back: Vec<(i64, String)> = s
                .read_stream(key, &all(false))
                .await
                .expect("read")
                .into_iter()
                .map(|e| (e.timestamp, e.message))
                .collect();
            back.reverse();
            assert_eq!(back, want, "backward {g}/{st}");
            // Small pages, both ways, visit the same events.
            for direction in [Direction::Forward, Direction::Backward] {
                let mut req = all(direction == Direction::Forward);
                req.limit = 3;
                let mut paged = Vec::new();
                loop {
                    let page = s.read_stream(key, &req).await.expect("page");
                    let Some(last) = page.last() else { break };
                    req.cursor = Some(last.position());
                    paged.extend(page.into_iter().map(|e| (e.timestamp, e.message)));
                }
                if direction == Direction::Backward {
                    paged.reverse();
                }
                assert_eq!(paged, want, "paged {direction:?} {g}/{st}");
            }
        }
    }
}

/// Counts events and remembers the last sequence number: after any crash it must hold exactly
/// the events ever acknowledged, each counted once.
#[derive(Debug, Default)]
struct Counter {
    events: AtomicU64,
    last_seq: AtomicU64,
}

impl IngestObserver for Counter {
    fn name(&self) -> &str {
        "counter"
    }
    fn restore(&self, state: Option<&[u8]>) {
        let (events, last) = state
            .map(|s| {
                let n =
                    |i: usize| u64::from_le_bytes(s[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
                (n(0), n(1))
            })
            .unwrap_or((0, 0));
        self.events.store(events, Ordering::SeqCst);
        self.last_seq.store(last, Ordering::SeqCst);
    }
    fn on_durable(&self, batch: &DurableBatch<'_>) {
        let last = self.last_seq.load(Ordering::SeqCst);
        assert!(
            batch.first_seq > last,
            "batch {} replayed after {last}",
            batch.first_seq
        );
        self.events
            .fetch_add(batch.events.len() as u64, Ordering::SeqCst);
        self.last_seq.store(
            batch.first_seq + batch.events.len() as u64 - 1,
            Ordering::SeqCst,
        );
    }
    fn snapshot(&self) -> Vec<u8> {
        let mut v = self.events.load(Ordering::SeqCst).to_le_bytes().to_vec();
        v.extend_from_slice(&self.last_seq.load(Ordering::SeqCst).to_le_bytes());
        v
    }
}

async fn open_counted(dir: &std::path::Path, clock: Arc<ManualClock>) -> (Storage, Arc<Counter>) {
    let counter = Arc::new(Counter::default());
    let s = Storage::open_with_observers(config(dir), clock, vec![counter.clone()])
        .await
        .expect("open");
    (s, counter)
}

async fn run_ops(ops: Vec<Op>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let (mut s, mut counter) = open_counted(dir.path(), clock.clone()).await;
    let mut model = Model::new();
    let mut arrival = 0u64;
    for op in ops {
        match op {
            Op::CreateGroup(g) => {
                let name = format!("g{g}");
                let r = s
                    .create_log_group(&scope(), &name, NewLogGroup::default())
                    .await;
                match model.entry(name) {
                    std::collections::btree_map::Entry::Occupied(_) => {
                        assert!(matches!(r, Err(StorageError::LogGroupExists)));
                    }
                    std::collections::btree_map::Entry::Vacant(v) => {
                        r.expect("create group");
                        v.insert(BTreeMap::new());
                    }
                }
            }
            Op::DeleteGroup(g) => {
                let name = format!("g{g}");
                let r = s.delete_log_group(&scope(), &name).await;
                if model.remove(&name).is_some() {
                    r.expect("delete group");
                } else {
                    assert!(matches!(r, Err(StorageError::LogGroupNotFound)));
                }
            }
            Op::CreateStream(g, st) => {
                let (gn, sn) = (format!("g{g}"), format!("s{st}"));
                let r = s.create_log_stream(&scope(), &gn, &sn).await;
                match model.get_mut(&gn) {
                    None => assert!(matches!(r, Err(StorageError::LogGroupNotFound))),
                    Some(streams) if streams.contains_key(&sn) => {
                        assert!(matches!(r, Err(StorageError::LogStreamExists)));
                    }
                    Some(streams) => {
                        r.expect("create stream");
                        streams.insert(sn, Vec::new());
                    }
                }
            }
            Op::DeleteStream(g, st) => {
                let (gn, sn) = (format!("g{g}"), format!("s{st}"));
                let r = s.delete_log_stream(&scope(), &gn, &sn).await;
                match model.get_mut(&gn).map(|m| m.remove(&sn)) {
                    Some(Some(_)) => r.expect("delete stream"),
                    _ => assert!(r.is_err()),
                }
            }
            Op::Append(g, st, ts) => {
                let (gn, sn) = (format!("g{g}"), format!("s{st}"));
                let Some(events) = model.get_mut(&gn).and_then(|m| m.get_mut(&sn)) else {
                    assert!(s.stream_key(&scope(), &gn, &sn).is_err());
                    continue;
                };
                let (key, _) = s.stream_key(&scope(), &gn, &sn).expect("stream");
                let msgs: Vec<String> = ts.iter().map(|t| format!("e{arrival}-{t}")).collect();
                let refs: Vec<EventRef<'_>> = ts
                    .iter()
                    .zip(&msgs)
                    .map(|(&t, m)| EventRef {
                        timestamp: T0 + t,
                        message: m,
                    })
                    .collect();
                s.append(key, T0, &refs).await.expect("append");
                for (t, m) in ts.iter().zip(msgs) {
                    events.push((T0 + t, arrival, m));
                    arrival += 1;
                }
            }
            Op::Flush => s.flush().await.expect("flush"),
            Op::Maintain => s.run_maintenance().await.expect("maintenance"),
            Op::Reopen => {
                s.close().await.expect("close");
                (s, counter) = open_counted(dir.path(), clock.clone()).await;
            }
            Op::Crash => {
                s.close_without_flush().await;
                (s, counter) = open_counted(dir.path(), clock.clone()).await;
            }
        }
        check(&s, &model).await;
        s.observers_caught_up().await.expect("observers caught up");
        assert_eq!(
            counter.events.load(Ordering::SeqCst),
            arrival,
            "observer saw each event once"
        );
    }
    s.close().await.expect("close");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn storage_matches_model(ops in prop::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run_ops(ops));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_hides_then_drops_expired_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let s = Storage::open(config(dir.path()), clock.clone())
        .await
        .expect("open");
    s.create_log_group(&scope(), "g", NewLogGroup::default())
        .await
        .expect("group");
    s.create_log_stream(&scope(), "g", "s")
        .await
        .expect("stream");
    let (key, _) = s.stream_key(&scope(), "g", "s").expect("key");
    s.append(
        key,
        T0,
        &[EventRef {
            timestamp: T0,
            message: "old",
        }],
    )
    .await
    .expect("append");
    s.flush().await.expect("flush");
    s.append(
        key,
        T0,
        &[EventRef {
            timestamp: T0 + 1,
            message: "in memory",
        }],
    )
    .await
    .expect("append");
    assert!(s.log_group(&scope(), "g").expect("g").stored_bytes > 0);
    s.update_log_group(&scope(), "g", |g| {
        g.retention = Some(RetentionDays::parse(1).expect("days"));
        Ok(())
    })
    .await
    .expect("retention");
    assert_eq!(read_all(&s, "g", "s").await.len(), 2);
    clock.advance(2 * 86_400_000);
    assert!(
        read_all(&s, "g", "s").await.is_empty(),
        "expired events are never returned"
    );
    s.flush().await.expect("flush");
    s.run_maintenance().await.expect("maintenance");
    assert_eq!(s.log_group(&scope(), "g").expect("g").stored_bytes, 0);
    let files = std::fs::read_dir(dir.path().join("segments/g1"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0, "expired segments are deleted");
    s.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_merges_small_segments_and_drops_deleted_streams() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let s = Storage::open(config(dir.path()), clock)
        .await
        .expect("open");
    s.create_log_group(&scope(), "g", NewLogGroup::default())
        .await
        .expect("group");
    for name in ["keep", "drop"] {
        s.create_log_stream(&scope(), "g", name)
            .await
            .expect("stream");
    }
    for i in 0..4 {
        for name in ["keep", "drop"] {
            let (key, _) = s.stream_key(&scope(), "g", name).expect("key");
            let msg = format!("{name} {i}");
            s.append(
                key,
                T0,
                &[EventRef {
                    timestamp: T0 + i,
                    message: &msg,
                }],
            )
            .await
            .expect("append");
        }
        s.flush().await.expect("flush");
    }
    s.delete_log_stream(&scope(), "g", "drop")
        .await
        .expect("delete");
    let before = s.log_group(&scope(), "g").expect("g").stored_bytes;
    s.run_maintenance().await.expect("compact");
    let files: Vec<_> = std::fs::read_dir(dir.path().join("segments/g1"))
        .expect("dir")
        .collect();
    assert_eq!(files.len(), 1, "four segments became one");
    let after = s.log_group(&scope(), "g").expect("g").stored_bytes;
    assert!(
        after < before,
        "deleted stream's rows are gone: {after} < {before}"
    );
    let got: Vec<String> = read_all(&s, "g", "keep")
        .await
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(got, ["keep 0", "keep 1", "keep 2", "keep 3"]);
    s.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_with_cursors_visits_every_event_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, _, key) = open_with_stream(dir.path()).await;
    let msgs: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
    // Half flushed to a segment, half in memory; equal timestamps across the boundary.
    for chunk in msgs.chunks(50) {
        let refs: Vec<EventRef<'_>> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| EventRef {
                timestamp: T0 + (i as i64 / 10),
                message: m,
            })
            .collect();
        s.append(key, T0, &refs).await.expect("append");
        s.flush().await.expect("flush");
    }
    let mut seen = Vec::new();
    let mut req = all(true);
    req.limit = 7;
    loop {
        let page = s.read_stream(key, &req).await.expect("read");
        let Some(last) = page.last() else { break };
        req.cursor = Some(last.position());
        seen.extend(page.into_iter().map(|e| e.seq));
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(seen.len(), 100);
    assert_eq!(sorted.len(), 100);
    s.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_flush_is_retried_before_the_checkpoint_moves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let s = Storage::open(config(dir.path()), clock.clone())
        .await
        .expect("open");
    s.create_log_group(&scope(), "g", NewLogGroup::default())
        .await
        .expect("group");
    s.create_log_stream(&scope(), "g", "s")
        .await
        .expect("stream");
    let (key, _) = s.stream_key(&scope(), "g", "s").expect("key");
    s.append(
        key,
        T0,
        &[EventRef {
            timestamp: T0,
            message: "first",
        }],
    )
    .await
    .expect("append");
    // The object store cannot write the group's directory: the flush fails.
    let blocker = dir.path().join("segments/g1");
    std::fs::write(&blocker, b"not a directory").expect("blocker");
    assert!(s.flush().await.is_err());
    s.append(
        key,
        T0,
        &[EventRef {
            timestamp: T0 + 1,
            message: "second",
        }],
    )
    .await
    .expect("append");
    assert_eq!(
        read_all(&s, "g", "s").await.len(),
        2,
        "unflushed events stay readable"
    );
    std::fs::remove_file(&blocker).expect("unblock");
    s.flush().await.expect("flush");
    s.close_without_flush().await;
    let s = Storage::open(config(dir.path()), clock)
        .await
        .expect("reopen");
    let got: Vec<String> = read_all(&s, "g", "s")
        .await
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(got, ["first", "second"]);
    s.close().await.expect("close");
}

/// Compaction commits the catalog and then deletes the merged segments' files: a scan or a
/// stream read that listed those segments just before reads again and still sees every event
/// (a 10-million-record query used to fail with "object not found").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_survive_compaction_removing_their_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, gid, key) = open_with_stream(dir.path()).await;
    append_rounds(&s, key, 10).await;
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            for round in 10..60 {
                append_round(&s, key, round).await;
                s.compact().await.expect("compact");
            }
        })
    };
    let scan = ScanRequest {
        start_ms: 0,
        end_ms: i64::MAX,
        streams: None,
        after: None,
        limit: 100_000,
        max_bytes: usize::MAX,
    };
    let mut reads = 0;
    while !writer.is_finished() {
        let at_least = 500;
        let scanned = s.scan_group(gid, &scan, &|_| true).await.expect("scan");
        assert!(scanned.len() >= at_least, "{} events", scanned.len());
        let read = s.read_stream(key, &all(true)).await.expect("read");
        assert!(read.len() >= at_least, "{} events", read.len());
        reads += 1;
    }
    writer.await.expect("writer");
    let scanned = s.scan_group(gid, &scan, &|_| true).await.expect("scan");
    assert_eq!(scanned.len(), 60 * 50);
    assert!(reads > 0);
}

/// [`append_round`] `rounds` times: a segment per round.
async fn append_rounds(s: &Storage, key: flowwatch_storage::StreamKey, rounds: i64) {
    for round in 0..rounds {
        append_round(s, key, round).await;
    }
}

/// Appends 50 events of round `round` and flushes them to a segment of their own.
async fn append_round(s: &Storage, key: flowwatch_storage::StreamKey, round: i64) {
    let events: Vec<(i64, String)> = (0..50)
        .map(|i| (T0 + round * 100 + i, format!("event {round} {i}")))
        .collect();
    let refs: Vec<EventRef<'_>> = events
        .iter()
        .map(|(timestamp, message)| EventRef {
            timestamp: *timestamp,
            message,
        })
        .collect();
    s.append(key, T0, &refs).await.expect("append");
    s.flush().await.expect("flush");
}

/// A group pass gives every event in range once (memory and segments), and the segments it
/// listed stay readable while it lives, even when compaction replaces them.
#[tokio::test]
async fn a_group_pass_reads_each_event_once_and_keeps_its_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, gid, key) = open_with_stream(dir.path()).await;
    append_rounds(&s, key, 3).await;
    // 50 more in memory only.
    let events: Vec<(i64, String)> = (0..50)
        .map(|i| (T0 + 900 + i, format!("mem {i}")))
        .collect();
    let refs: Vec<EventRef<'_>> = events
        .iter()
        .map(|(timestamp, message)| EventRef {
            timestamp: *timestamp,
            message,
        })
        .collect();
    s.append(key, T0, &refs).await.expect("append");

    let mut pass = s.group_pass(gid, T0 + 50, i64::MAX).await.expect("pass");
    // Round 0 (T0 .. T0+49) is before the range: its segment is not read.
    assert_eq!(pass.segment_count(), 2);
    // Compaction replaces the three segments while the pass lives: their files stay.
    s.compact().await.expect("compact");
    let mut seqs: Vec<u64> = pass.take_memory().iter().map(|e| e.event.seq).collect();
    for i in 0..pass.segment_count() {
        let chunk = s.read_pass_segment(&pass, i).await.expect("segment");
        seqs.extend(chunk.iter().map(|e| e.event.seq));
    }
    assert_eq!(seqs.len(), 2 * 50 + 50);
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 150);
    drop(pass);
    // Once no pass holds them, the replaced files go.
    s.delete_pending_objects().await.expect("delete");
    let segments = std::fs::read_dir(dir.path().join("segments").join(format!("g{gid}")))
        .expect("segments dir")
        .count();
    assert_eq!(segments, 1, "only the compacted segment is left");
}

/// A segment read in parts (its row groups shared out) gives its events once, in order,
/// however many parts; the pass says how many parts a segment is worth.
#[tokio::test]
async fn the_parts_of_a_segment_hold_its_events_once() {
    use flowwatch_storage::Part;

    let dir = tempfile::tempdir().expect("tempdir");
    let (s, gid, key) = open_with_stream(dir.path()).await;
    append_rounds(&s, key, 3).await;
    s.compact().await.expect("compact");
    // Rows from T0 + 20 on: the first row groups are pruned by time in every part.
    let pass = s.group_pass(gid, T0 + 20, i64::MAX).await.expect("pass");
    assert_eq!(pass.segment_count(), 1);
    assert_eq!(pass.segment_parts(0), 1, "a small segment is one part");
    let seqs = |rows: &flowwatch_storage::PassRows, out: &mut Vec<u64>| {
        rows.try_for_each(|e| {
            out.push(e.seq);
            Ok::<_, StorageError>(())
        })
        .expect("rows");
    };
    let mut whole = Vec::new();
    seqs(
        &s.read_pass_rows(&pass, 0, None).await.expect("read"),
        &mut whole,
    );
    assert_eq!(whole.len(), 150 - 20);
    // 150 rows in row groups of 7: 22 groups; more parts than groups leaves some empty.
    for count in [1, 2, 3, 5, 22, 40] {
        let mut parts = Vec::new();
        for index in 0..count {
            let part = Part { index, count };
            let rows = s.read_pass_part(&pass, 0, part, None).await.expect("part");
            seqs(&rows, &mut parts);
        }
        assert_eq!(parts, whole, "{count} parts");
    }
}

/// Segments of flow-log records carry their values as typed columns, which a typed read gives
/// in place of the messages (after a flush and after compaction); a segment with any other
/// event is read whole.
#[tokio::test]
async fn flow_log_segments_are_read_as_typed_columns() {
    use flowwatch_flowlog::Field;
    use flowwatch_storage::TypedRead;

    let dir = tempfile::tempdir().expect("tempdir");
    let (s, gid, key) = open_with_stream(dir.path()).await;
    let record = |i: usize| {
        format!(
            "2 123456789012 eni-1a2b3c4d 10.0.0.{i} 10.0.1.1 {} 22 6 1 {} 1600000000 1600000060 REJECT OK",
            40000 + i,
            100 * i
        )
    };
    put(&s, key, (0..10).map(record).collect()).await;
    put(&s, key, (10..20).map(record).collect()).await;
    let typed = TypedRead {
        fields: vec![Field::SrcAddr, Field::Bytes],
        message: false,
    };

    let check = |expect_typed: bool| {
        let s = &s;
        let typed = &typed;
        async move {
            let pass = s.group_pass(gid, 0, i64::MAX).await.expect("pass");
            let mut seen = Vec::new();
            for i in 0..pass.segment_count() {
                let rows = s.read_pass_rows(&pass, i, Some(typed)).await.expect("read");
                assert_eq!(rows.is_typed(), expect_typed);
                if !expect_typed {
                    continue;
                }
                rows.try_for_each_batch(|batch| {
                    assert!(batch.messages.is_none(), "message not asked for");
                    let src = batch.field(Field::SrcAddr).expect("srcaddr");
                    let src = src
                        .as_any()
                        .downcast_ref::<arrow_array::StringArray>()
                        .unwrap();
                    let bytes = batch.field(Field::Bytes).expect("bytes");
                    let bytes = bytes
                        .as_any()
                        .downcast_ref::<arrow_array::Int64Array>()
                        .unwrap();
                    assert!(
                        batch.field(Field::DstPort).is_none(),
                        "only the fields asked for"
                    );
                    for i in 0..batch.len() {
                        seen.push((
                            src.value(i).to_owned(),
                            bytes.value(i),
                            batch.message_sizes.value(i),
                        ));
                    }
                    Ok::<_, StorageError>(())
                })
                .expect("batches");
            }
            seen.sort();
            seen
        }
    };
    let pass = s.group_pass(gid, 0, i64::MAX).await.expect("pass");
    assert!(s.pass_is_flow_log(&pass));
    drop(pass);
    let flushed = check(true).await;
    assert_eq!(flushed.len(), 20);
    assert!(flushed.contains(&("10.0.0.7".to_owned(), 700, record(7).len() as i32)));
    s.compact().await.expect("compact");
    assert_eq!(check(true).await, flushed, "compaction keeps the columns");

    // The catalog keeps each segment's kind across a restart.
    s.close().await.expect("close");
    let s = Storage::open(config(dir.path()), Arc::new(ManualClock::new(T0)))
        .await
        .expect("reopen");
    let pass = s.group_pass(gid, 0, i64::MAX).await.expect("pass");
    assert!(s.pass_is_flow_log(&pass));
    drop(pass);

    // One other event in a segment: that segment is read whole.
    put(
        &s,
        key,
        vec![record(20), "{\"not\": \"a flow log\"}".to_owned()],
    )
    .await;
    let pass = s.group_pass(gid, 0, i64::MAX).await.expect("pass");
    let typed_segments = {
        let mut n = 0;
        for i in 0..pass.segment_count() {
            n += usize::from(
                s.read_pass_rows(&pass, i, Some(&typed))
                    .await
                    .expect("read")
                    .is_typed(),
            );
        }
        n
    };
    assert_eq!(typed_segments, pass.segment_count() - 1);
    assert!(!s.pass_is_flow_log(&pass));
}

/// Appends `messages` to stream `key` (timestamps from `T0`, a millisecond apart) and flushes.
async fn put(s: &Storage, key: flowwatch_storage::StreamKey, messages: Vec<String>) {
    let refs: Vec<EventRef<'_>> = messages
        .iter()
        .enumerate()
        .map(|(i, message)| EventRef {
            timestamp: T0 + i as i64,
            message,
        })
        .collect();
    s.append(key, T0, &refs).await.expect("append");
    s.flush().await.expect("flush");
}

/// A storage on `dir` (clock at `T0`) with group `g` and its stream `s`: the storage, the
/// group's id and the stream's key.
async fn open_with_stream(dir: &std::path::Path) -> (Storage, i64, flowwatch_storage::StreamKey) {
    let s = Storage::open(config(dir), Arc::new(ManualClock::new(T0)))
        .await
        .expect("open");
    let gid = s
        .create_log_group(&scope(), "g", NewLogGroup::default())
        .await
        .expect("group")
        .id;
    s.create_log_stream(&scope(), "g", "s")
        .await
        .expect("stream");
    let (key, _) = s.stream_key(&scope(), "g", "s").expect("key");
    (s, gid, key)
}
