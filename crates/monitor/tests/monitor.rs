//! Integration tests of the monitor: metric filters counted exactly once by a real storage
//! across flushes and crashes, and snapshot/restore at any point changing nothing.

use std::sync::Arc;
use std::time::Duration;

use flowwatch_model::logs::{MetricFilter, MetricTransformation};
use flowwatch_model::{ManualClock, Scope};
use flowwatch_monitor::{MetricFilterObserver, MetricKey, Statistic};
use flowwatch_storage::{
    DurableBatch, EventRef, IngestObserver, NewLogGroup, Storage, StorageConfig, StreamKey,
};
use proptest::prelude::*;

const T0: i64 = 1_700_000_040_000;
const SSH: &str = "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]";

fn scope() -> Scope {
    Scope {
        account: "123456789012".into(),
        region: "us-east-1".into(),
    }
}

fn filters() -> Vec<MetricFilter> {
    let t = |name: &str, value: &str| MetricFilter {
        filter_name: name.into(),
        filter_pattern: SSH.into(),
        metric_transformations: vec![MetricTransformation {
            metric_name: Some(name.into()),
            metric_namespace: Some("VPC".into()),
            metric_value: Some(value.into()),
            ..Default::default()
        }],
        log_group_name: "flows".into(),
        ..Default::default()
    };
    vec![t("SshRejects", "1"), t("SshRejectedPackets", "$packets")]
}

fn flow(packets: u32, action: &str) -> String {
    format!(
        "2 123456789012 eni-0a1b2c3d 198.51.100.7 10.0.0.5 49152 22 6 {packets} 840 1700000000 1700000060 {action} OK"
    )
}

/// (number of rejects, sum of their packets) over the whole hour.
fn totals(o: &MetricFilterObserver) -> (f64, f64) {
    let get = |name: &str| {
        let key = MetricKey::new(&scope(), "VPC", name, []);
        o.with_store(|s| s.statistics(&key, None, T0, T0 + 3_600_000, 3600, &[Statistic::Sum]))
            .expect("stats")
            .first()
            .and_then(|d| d.sum)
            .unwrap_or(0.0)
    };
    (get("SshRejects"), get("SshRejectedPackets"))
}

fn config(dir: &std::path::Path) -> StorageConfig {
    let mut c = StorageConfig::new(dir);
    c.fsync = false;
    c.flush_bytes = 1 << 30;
    c.flush_age = Duration::from_secs(3600);
    c.maintenance_interval = Duration::from_secs(3600);
    c
}

/// Opens the storage with a fresh observer that already knows the group's filters (what the
/// engine does at startup) — or not, to check the filters come back from the snapshot.
async fn open(
    dir: &std::path::Path,
    clock: &Arc<ManualClock>,
    group: Option<i64>,
) -> (Storage, Arc<MetricFilterObserver>) {
    let observer = Arc::new(MetricFilterObserver::default());
    if let Some(g) = group {
        observer
            .set_filters(g, &scope(), filters())
            .expect("filters");
    }
    let storage = Storage::open_with_observers(config(dir), clock.clone(), vec![observer.clone()])
        .await
        .expect("open");
    (storage, observer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_filters_count_each_event_once_across_crashes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let (mut s, mut o) = open(dir.path(), &clock, None).await;
    let gid = s
        .create_log_group(&scope(), "flows", NewLogGroup::default())
        .await
        .expect("group")
        .id;
    s.create_log_stream(&scope(), "flows", "eni")
        .await
        .expect("stream");
    o.set_filters(gid, &scope(), filters()).expect("filters");

    let mut want = (0.0, 0.0);
    let mut n = 0u32;
    let mut append = async |s: &Storage, rejects: u32, accepts: u32| {
        let (key, _) = s.stream_key(&scope(), "flows", "eni").expect("stream");
        let mut msgs = Vec::new();
        for _ in 0..rejects {
            n += 1;
            want.0 += 1.0;
            want.1 += f64::from(n);
            msgs.push(flow(n, "REJECT"));
        }
        msgs.extend((0..accepts).map(|i| flow(i, "ACCEPT")));
        let refs: Vec<EventRef<'_>> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| EventRef {
                timestamp: T0 + i as i64 * 1000,
                message: m,
            })
            .collect();
        s.append(key, T0, &refs).await.expect("append");
        s.observers_caught_up().await.expect("observers caught up");
        want
    };

    append(&s, 3, 2).await;
    s.flush().await.expect("flush");
    append(&s, 4, 1).await;
    let want1 = append(&s, 2, 0).await;
    assert_eq!(totals(&o), want1);
    s.close_without_flush().await;

    // Restored from the checkpoint (filters included), then the two later batches replayed.
    (s, o) = open(dir.path(), &clock, None).await;
    assert_eq!(totals(&o), want1, "after the first crash");

    // A crash with nothing flushed since: the same checkpoint, a longer replay.
    let want2 = append(&s, 5, 5).await;
    s.close_without_flush().await;
    (s, o) = open(dir.path(), &clock, Some(gid)).await;
    assert_eq!(totals(&o), want2, "after the second crash");

    // Flush, more, crash; then a clean close and reopen.
    s.flush().await.expect("flush");
    let want3 = append(&s, 1, 1).await;
    s.close_without_flush().await;
    (s, o) = open(dir.path(), &clock, Some(gid)).await;
    assert_eq!(totals(&o), want3, "after the third crash");
    s.close().await.expect("close");
    (s, o) = open(dir.path(), &clock, Some(gid)).await;
    assert_eq!(totals(&o), want3, "after a clean reopen");
    assert_eq!(want3.0, 15.0);
    s.close().await.expect("close");
}

/// One step of the property test: a batch of (minute, reject?) events ingested at a minute, a
/// tick, or a snapshot/restore into a fresh observer.
#[derive(Debug, Clone)]
enum Step {
    Batch(i64, Vec<(i64, bool, u32)>),
    Tick(i64),
    SnapshotRestore,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0i64..30, prop::collection::vec((0i64..30, any::<bool>(), 0u32..1000), 0..12))
            .prop_map(|(at, events)| Step::Batch(at, events)),
        1 => (0i64..40).prop_map(Step::Tick),
        2 => Just(Step::SnapshotRestore),
    ]
}

fn defaulting_filters() -> Vec<MetricFilter> {
    let mut f = filters();
    f[0].metric_transformations[0].default_value = Some(0.0);
    f
}

fn run(o: &MetricFilterObserver, step: &Step) {
    match step {
        Step::Batch(at, events) => {
            let msgs: Vec<(i64, String)> = events
                .iter()
                .map(|&(minute, reject, packets)| {
                    let action = if reject { "REJECT" } else { "ACCEPT" };
                    (T0 + minute * 60_000, flow(packets, action))
                })
                .collect();
            let refs: Vec<EventRef<'_>> = msgs
                .iter()
                .map(|(t, m)| EventRef {
                    timestamp: *t,
                    message: m,
                })
                .collect();
            o.on_durable(&DurableBatch {
                key: StreamKey {
                    group_id: 1,
                    stream_id: 1,
                },
                first_seq: 1,
                ingestion_time: T0 + at * 60_000,
                events: &refs,
            });
        }
        Step::Tick(at) => o.tick(T0 + at * 60_000),
        Step::SnapshotRestore => {}
    }
}

proptest! {
    #[test]
    fn snapshot_restore_anywhere_changes_nothing(steps in prop::collection::vec(step(), 1..40)) {
        let straight = MetricFilterObserver::default();
        straight.set_filters(1, &scope(), defaulting_filters()).expect("filters");
        let mut split = Arc::new(MetricFilterObserver::default());
        split.set_filters(1, &scope(), defaulting_filters()).expect("filters");
        for s in &steps {
            run(&straight, s);
            if let Step::SnapshotRestore = s {
                let saved = split.snapshot();
                split = Arc::new(MetricFilterObserver::default());
                split.restore(Some(&saved));
            } else {
                run(&split, s);
            }
        }
        straight.tick(T0 + 100 * 60_000);
        split.tick(T0 + 100 * 60_000);
        prop_assert_eq!(totals(&straight), totals(&split));
        prop_assert_eq!(straight.counters(), split.counters());
        prop_assert_eq!(straight.snapshot(), split.snapshot());
    }
}

/// A step against the real storage.
#[derive(Debug, Clone)]
enum StorageOp {
    Append(u32, u32),
    Flush,
    Crash,
    Reopen,
}

fn storage_op() -> impl Strategy<Value = StorageOp> {
    prop_oneof![
        5 => (0u32..6, 0u32..4).prop_map(|(r, a)| StorageOp::Append(r, a)),
        2 => Just(StorageOp::Flush),
        2 => Just(StorageOp::Crash),
        1 => Just(StorageOp::Reopen),
    ]
}

async fn run_storage_ops(ops: Vec<StorageOp>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let (mut s, mut o) = open(dir.path(), &clock, None).await;
    let gid = s
        .create_log_group(&scope(), "flows", NewLogGroup::default())
        .await
        .expect("group")
        .id;
    s.create_log_stream(&scope(), "flows", "eni")
        .await
        .expect("stream");
    o.set_filters(gid, &scope(), filters()).expect("filters");
    let (mut want, mut n) = ((0.0, 0.0), 0u32);
    for op in ops {
        match op {
            StorageOp::Append(rejects, accepts) => {
                let (key, _) = s.stream_key(&scope(), "flows", "eni").expect("stream");
                let mut msgs: Vec<String> = (0..accepts).map(|i| flow(i, "ACCEPT")).collect();
                for _ in 0..rejects {
                    n += 1;
                    want = (want.0 + 1.0, want.1 + f64::from(n));
                    msgs.push(flow(n, "REJECT"));
                }
                let refs: Vec<EventRef<'_>> = msgs
                    .iter()
                    .map(|m| EventRef {
                        timestamp: T0 + i64::from(n),
                        message: m,
                    })
                    .collect();
                s.append(key, T0, &refs).await.expect("append");
            }
            StorageOp::Flush => s.flush().await.expect("flush"),
            StorageOp::Crash => {
                s.close_without_flush().await;
                (s, o) = open(dir.path(), &clock, Some(gid)).await;
            }
            StorageOp::Reopen => {
                s.close().await.expect("close");
                (s, o) = open(dir.path(), &clock, Some(gid)).await;
            }
        }
        s.observers_caught_up().await.expect("observers caught up");
        assert_eq!(totals(&o), want, "each acknowledged event counted once");
    }
    s.close().await.expect("close");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn storage_crashes_never_lose_or_double_count(ops in prop::collection::vec(storage_op(), 1..16)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run_storage_ops(ops));
    }
}
