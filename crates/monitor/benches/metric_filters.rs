//! What 100 metric filters on a log group cost durable ingest.
//!
//! `cargo bench -p flowwatch-monitor --bench metric_filters`
//!
//! - `ingest/no_filters` and `ingest/100_filters`: durable appends through a real [`Storage`]
//!   (temporary directory, production defaults: WAL fsync on before acknowledging, group
//!   commit), with a [`MetricFilterObserver`] attached in both cases. Each round, 4 writers (4
//!   streams of one VPC flow-log group) append one batch of 5,000 flow-log lines each,
//!   concurrently, and wait for the acknowledgements. The timed part ends when the observer
//!   thread has applied every acknowledged batch (`Storage::observers_caught_up`), so the
//!   figure is events *applied* to the metric store per second; the rate at which the writers
//!   were *acknowledged* is printed beside it. The memtable is flushed to Parquet after each
//!   sample, outside the timed part, so every sample measures WAL + memory + observer only.
//!   In `100_filters` the group has the 100 metric filters of [`vpc_filters`]: the filters run
//!   on the storage's observer thread, fed through a bounded queue, overlapping the WAL.
//! - `ingest/100_alert_filters`: the same with 100 alerting-style filters that each match few
//!   events ([`alert_filters`]), to separate the cost of matching from that of publishing.
//! - `observer/...`: the observer alone, `on_durable` on one in-memory batch of the same lines
//!   (what the observer thread spends on the filters per event), for both filter sets.
//!
//! Results and the machine they were measured on: `docs/benchmarks.md`.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowwatch_bench::workload::{GROUP, alert_filters, flow_lines, vpc_filters};
use flowwatch_model::logs::MetricFilter;
use flowwatch_model::{Clock, Scope, SystemClock};
use flowwatch_monitor::MetricFilterObserver;
use flowwatch_storage::{
    DurableBatch, EventRef, IngestObserver, NewLogGroup, Storage, StorageConfig, StreamKey,
};
use tokio::runtime::Runtime;

/// Events per append (a large PutLogEvents: ~0.6 MB of flow-log lines).
const BATCH: usize = 5_000;
/// Concurrent writers, each on its own stream of the group.
const WRITERS: usize = 4;

fn scope() -> Scope {
    Scope {
        account: "123456789012".into(),
        region: "us-east-1".into(),
    }
}

/// A storage with one flow-log group of [`WRITERS`] streams, the observer attached, and the
/// group's filters set.
struct Rig {
    rt: Runtime,
    storage: Storage,
    observer: Arc<MetricFilterObserver>,
    keys: Vec<StreamKey>,
    lines: Arc<Vec<Vec<String>>>,
    /// Rounds timed so far, the time until their last acknowledgement and until applied.
    timed: Cell<(u64, Duration, Duration)>,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new(filters: Vec<MetricFilter>) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        // Production defaults (fsync on); flushes happen between samples, see `run`.
        let config = StorageConfig::new(dir.path());
        let observer = Arc::new(MetricFilterObserver::default());
        let observers: Vec<Arc<dyn IngestObserver>> = vec![observer.clone()];
        let (storage, keys) = rt.block_on(async {
            let storage = Storage::open_with_observers(config, Arc::new(SystemClock), observers)
                .await
                .expect("open");
            storage
                .create_log_group(&scope(), GROUP, NewLogGroup::default())
                .await
                .expect("group");
            let mut keys = Vec::new();
            for w in 0..WRITERS {
                storage
                    .create_log_stream(&scope(), GROUP, &format!("eni-{w}"))
                    .await
                    .expect("stream");
                keys.push(
                    storage
                        .stream_key(&scope(), GROUP, &format!("eni-{w}"))
                        .expect("key")
                        .0,
                );
            }
            (storage, keys)
        });
        observer
            .set_filters(keys[0].group_id, &scope(), filters)
            .expect("filters compile");
        let lines = (0..WRITERS)
            .map(|w| flow_lines(10 + w as u64, BATCH))
            .collect();
        Self {
            rt,
            storage,
            observer,
            keys,
            lines: Arc::new(lines),
            timed: Cell::new((0, Duration::ZERO, Duration::ZERO)),
            _dir: dir,
        }
    }

    /// One round: every writer appends its batch, concurrently; returns when all are durable.
    fn round(&self) {
        self.rt.block_on(async {
            let mut writers = tokio::task::JoinSet::new();
            for (w, key) in self.keys.iter().enumerate() {
                let storage = self.storage.clone();
                let lines = self.lines.clone();
                let key = *key;
                writers.spawn(async move {
                    let now = SystemClock.now_millis();
                    let events: Vec<EventRef<'_>> = lines[w]
                        .iter()
                        .enumerate()
                        .map(|(i, message)| EventRef {
                            timestamp: now - 1000 + (i as i64 % 1000),
                            message,
                        })
                        .collect();
                    storage.append(key, now, &events).await.expect("append");
                });
            }
            while let Some(done) = writers.join_next().await {
                done.expect("writer");
            }
        });
    }

    /// `iters` rounds, timed until the observers have applied them all; then a flush (not
    /// timed) so memory does not build up.
    fn run(&self, iters: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            self.round();
        }
        let acked = start.elapsed();
        self.rt
            .block_on(self.storage.observers_caught_up())
            .expect("observers caught up");
        let applied = start.elapsed();
        let (rounds, a, b) = self.timed.get();
        self.timed.set((rounds + iters, a + acked, b + applied));
        self.rt.block_on(self.storage.flush()).expect("flush");
        applied
    }

    /// Events per second acknowledged and applied over every timed round (warm-up included).
    fn rates(&self) -> (f64, f64) {
        let (rounds, acked, applied) = self.timed.get();
        let events = (rounds * (WRITERS * BATCH) as u64) as f64;
        (events / acked.as_secs_f64(), events / applied.as_secs_f64())
    }

    fn close(self) {
        self.rt.block_on(self.storage.close()).expect("close");
    }
}

fn ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements((WRITERS * BATCH) as u64));
    for (id, filters) in [
        ("no_filters", Vec::new()),
        ("100_filters", vpc_filters()),
        ("100_alert_filters", alert_filters()),
    ] {
        let rig = Rig::new(filters);
        group.bench_function(id, |b| b.iter_custom(|iters| rig.run(iters)));
        let (acked, applied) = rig.rates();
        eprintln!(
            "{id}: {:.0} K events/s acknowledged, {:.0} K applied (all rounds); {:?}",
            acked / 1e3,
            applied / 1e3,
            rig.observer.counters()
        );
        rig.close();
    }
    group.finish();
}

fn observer(c: &mut Criterion) {
    let lines = flow_lines(10, BATCH);
    let now = SystemClock.now_millis();
    let events: Vec<EventRef<'_>> = lines
        .iter()
        .enumerate()
        .map(|(i, message)| EventRef {
            timestamp: now - 1000 + (i as i64 % 1000),
            message,
        })
        .collect();
    let batch = DurableBatch {
        key: StreamKey {
            group_id: 1,
            stream_id: 1,
        },
        first_seq: 1,
        ingestion_time: now,
        events: &events,
    };
    let mut group = c.benchmark_group("observer");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (id, filters) in [
        ("100_filters", vpc_filters()),
        ("100_alert_filters", alert_filters()),
    ] {
        assert_eq!(filters.len(), 100);
        let observer = MetricFilterObserver::default();
        observer
            .set_filters(1, &scope(), filters)
            .expect("filters compile");
        observer.on_durable(&batch);
        let per_batch = observer.counters().published;
        group.bench_function(id, |b| b.iter(|| observer.on_durable(&batch)));
        eprintln!(
            "observer/{id}: {:.2} samples published per event",
            per_batch as f64 / BATCH as f64
        );
    }
    group.finish();
}

fn config() -> Criterion {
    // Short runs: the machines this is measured on have 2 shared cores.
    Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = ingest, observer
}
criterion_main!(benches);
