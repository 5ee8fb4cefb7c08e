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
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowwatch_model::logs::{MetricFilter, MetricTransformation};
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
const GROUP: &str = "vpc-flow-logs";

fn scope() -> Scope {
    Scope {
        account: "123456789012".into(),
        region: "us-east-1".into(),
    }
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The ports the filters watch.
const PORTS: [u16; 15] = [
    22, 23, 25, 53, 80, 443, 445, 1433, 3306, 3389, 5432, 6379, 8080, 9200, 27017,
];

/// VPC Flow Logs v2 lines (default format): 256 sources (a quarter internal `10.0.x.y`), 64
/// destinations, 8 ENIs; destination ports mostly 443/80, then the watched ports and ephemeral
/// ones; about 20 % `REJECT`, 2 % `NODATA`, 1 % `SKIPDATA`.
fn flow_lines(seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..BATCH)
        .map(|i| {
            let start = 1_763_900_000 + (i as u64 / 64) * 60;
            let eni = format!("eni-0{:016x}", 0x0a1b_2c3d_0000 + rng.below(8));
            let dice = rng.below(100);
            if dice < 3 {
                let status = if dice < 2 { "NODATA" } else { "SKIPDATA" };
                return format!(
                    "2 123456789012 {eni} - - - - - - - {start} {} - {status}",
                    start + 60
                );
            }
            let src = rng.below(256);
            let source = if src < 64 {
                format!("10.0.{}.{}", src / 8, src % 8 + 10)
            } else {
                format!("{}.{}.113.{}", [198, 203, 192][src as usize % 3], 51 + src % 7, src)
            };
            let (dport, proto) = match rng.below(100) {
                0..40 => (443, 6),
                40..55 => (80, 6),
                55..80 => (PORTS[rng.below(PORTS.len() as u64) as usize], 6),
                80..88 => (53, 17),
                88..90 => (0, 1),
                _ => (1024 + rng.below(64_000) as u16, 6),
            };
            let action = if rng.below(100) < 20 { "REJECT" } else { "ACCEPT" };
            let spread = rng.below(2000) + 1;
            let packets = 1 + rng.below(spread);
            format!(
                "2 123456789012 {eni} {source} 10.0.{}.{} {} {dport} {proto} {packets} {} {start} {} {action} OK",
                rng.below(4),
                rng.below(16) + 4,
                1024 + rng.below(64_000),
                packets * (40 + rng.below(1400)),
                start + 60,
            )
        })
        .collect()
}

/// The fields of the default flow-log format, for space-delimited patterns.
const FIELDS: [&str; 14] = [
    "version",
    "account",
    "eni",
    "source",
    "destination",
    "srcport",
    "destport",
    "protocol",
    "packets",
    "bytes",
    "windowstart",
    "windowend",
    "action",
    "flowlogstatus",
];

/// A space-delimited pattern over the 14 fields with conditions on some of them.
fn flow_pattern(conditions: &[(&str, &str)]) -> String {
    let specs: Vec<String> = FIELDS
        .iter()
        .map(|f| match conditions.iter().find(|(name, _)| name == f) {
            Some((_, cond)) => format!("{f}{cond}"),
            None => (*f).to_owned(),
        })
        .collect();
    format!("[{}]", specs.join(", "))
}

fn filter(
    name: &str,
    pattern: String,
    value: &str,
    default: Option<f64>,
    dims: &[(&str, &str)],
) -> MetricFilter {
    MetricFilter {
        filter_name: name.to_owned(),
        filter_pattern: pattern,
        metric_transformations: vec![MetricTransformation {
            metric_name: Some(name.to_owned()),
            metric_namespace: Some("VPC".into()),
            metric_value: Some(value.to_owned()),
            default_value: default,
            dimensions: (!dims.is_empty()).then(|| {
                dims.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<BTreeMap<_, _>>()
            }),
            unit: None,
        }],
        creation_time: 0,
        log_group_name: GROUP.into(),
        ..Default::default()
    }
}

/// 100 metric filters one might put on a VPC flow-log group (AWS's maximum per group): per
/// watched port (15), rejected connections (the user guide's SSH pattern, 5 with
/// `defaultValue` 0), accepted bytes (`$bytes`), privileged source ports (`...` and a numeric
/// comparison) and short flows (`packets < 3`); for 10 of the ports, rejected packets by
/// source (a dimension), accepted connections by destination (a dimension) and internal
/// sources (a `10.0.*` wildcard); then protocol, action, size, term, regex and ENI filters.
fn vpc_filters() -> Vec<MetricFilter> {
    let mut out = Vec::new();
    for (i, port) in PORTS.iter().enumerate() {
        let quoted = format!("=\"{port}\"");
        let bare = format!(" = {port}");
        let default = (i < 5).then_some(0.0);
        out.push(filter(
            &format!("Rejected{port}"),
            flow_pattern(&[
                ("destport", &quoted),
                ("protocol", "=\"6\""),
                ("action", "=\"REJECT\""),
            ]),
            "1",
            default,
            &[],
        ));
        out.push(filter(
            &format!("AcceptedBytes{port}"),
            flow_pattern(&[("destport", &bare), ("action", " = ACCEPT")]),
            "$bytes",
            None,
            &[],
        ));
        out.push(filter(
            &format!("PrivilegedSource{port}"),
            format!(
                "[version, account, eni, source, destination, srcport < 1024, destport = {port}, ..., action, status]"
            ),
            "1",
            None,
            &[],
        ));
        out.push(filter(
            &format!("ShortFlows{port}"),
            flow_pattern(&[("destport", &bare), ("packets", " < 3")]),
            "1",
            None,
            &[],
        ));
    }
    for port in &PORTS[..10] {
        let bare = format!(" = {port}");
        out.push(filter(
            &format!("RejectedPackets{port}BySource"),
            flow_pattern(&[("destport", &bare), ("action", " = REJECT")]),
            "$packets",
            None,
            &[("Source", "$source")],
        ));
        out.push(filter(
            &format!("Accepted{port}ByDestination"),
            flow_pattern(&[("destport", &bare), ("action", " = ACCEPT")]),
            "1",
            None,
            &[("Destination", "$destination")],
        ));
        out.push(filter(
            &format!("Internal{port}"),
            flow_pattern(&[("source", " = 10.0.*"), ("destport", &bare)]),
            "1",
            None,
            &[],
        ));
    }
    let reject = flow_pattern(&[("action", " = REJECT")]);
    out.extend([
        filter(
            "UdpFlows",
            flow_pattern(&[("protocol", " = 17")]),
            "1",
            None,
            &[],
        ),
        filter(
            "IcmpFlows",
            flow_pattern(&[("protocol", " = 1")]),
            "1",
            Some(0.0),
            &[],
        ),
        filter("Rejects", reject.clone(), "1", Some(0.0), &[]),
        filter("RejectsByEni", reject, "1", None, &[("Eni", "$eni")]),
        filter(
            "AcceptedBytes",
            flow_pattern(&[("action", " = ACCEPT")]),
            "$bytes",
            None,
            &[],
        ),
        filter(
            "LargeFlows",
            flow_pattern(&[("bytes", " > 1000000")]),
            "$bytes",
            None,
            &[],
        ),
        filter("NoData", "NODATA".into(), "1", None, &[]),
        filter("SkipData", "SKIPDATA".into(), "1", None, &[]),
        filter(
            "TestNetSources",
            flow_pattern(&[("source", " = %^203\\.5[1-7]\\.%")]),
            "1",
            None,
            &[],
        ),
        filter(
            "EniRejects",
            format!("REJECT eni-0{:016x}", 0x0a1b_2c3d_0003_u64),
            "1",
            None,
            &[],
        ),
    ]);
    out
}

/// 100 alerting-style filters: each matches few events (rejected connections to one watched
/// port, counted, summed, by source, short, from internal sources; privileged source ports;
/// no-data records, ICMP and UDP rejects, very large flows, a regex and a term), so that
/// together they publish about one sample per 3 events.
fn alert_filters() -> Vec<MetricFilter> {
    let mut out = Vec::new();
    for port in PORTS {
        let dp = format!(" = {port}");
        let reject = flow_pattern(&[("destport", &dp), ("action", " = REJECT")]);
        out.extend([
            filter(
                &format!("Rejected{port}"),
                flow_pattern(&[
                    ("destport", &format!("=\"{port}\"")),
                    ("protocol", "=\"6\""),
                    ("action", "=\"REJECT\""),
                ]),
                "1",
                Some(0.0),
                &[],
            ),
            filter(
                &format!("RejectedPackets{port}"),
                reject.clone(),
                "$packets",
                None,
                &[],
            ),
            filter(
                &format!("Rejected{port}BySource"),
                reject,
                "1",
                None,
                &[("Source", "$source")],
            ),
            filter(
                &format!("ShortRejected{port}"),
                flow_pattern(&[
                    ("destport", &dp),
                    ("packets", " < 3"),
                    ("action", " = REJECT"),
                ]),
                "1",
                None,
                &[],
            ),
            filter(
                &format!("InternalRejected{port}"),
                flow_pattern(&[
                    ("source", " = 10.0.*"),
                    ("destport", &dp),
                    ("action", " = REJECT"),
                ]),
                "1",
                None,
                &[],
            ),
            filter(
                &format!("PrivilegedSource{port}"),
                format!(
                    "[version, account, eni, source, destination, srcport < 1024, destport = {port}, ..., action, status]"
                ),
                "1",
                None,
                &[],
            ),
        ]);
    }
    out.extend([
        filter("NoData", "NODATA".into(), "1", None, &[]),
        filter("SkipData", "SKIPDATA".into(), "1", None, &[]),
        filter(
            "IcmpRejects",
            flow_pattern(&[("protocol", " = 1"), ("action", " = REJECT")]),
            "1",
            None,
            &[],
        ),
        filter(
            "UdpRejects",
            flow_pattern(&[("protocol", " = 17"), ("action", " = REJECT")]),
            "1",
            Some(0.0),
            &[],
        ),
        filter(
            "HugeFlows",
            flow_pattern(&[("bytes", " > 2500000")]),
            "$bytes",
            None,
            &[],
        ),
        filter(
            "TestNetRejects",
            flow_pattern(&[("source", " = %^203\\.5[1-7]\\.%"), ("action", " = REJECT")]),
            "1",
            None,
            &[],
        ),
        filter(
            "EniRejects",
            format!("REJECT eni-0{:016x}", 0x0a1b_2c3d_0003_u64),
            "1",
            None,
            &[],
        ),
        filter(
            "Rejects",
            flow_pattern(&[("action", " = REJECT")]),
            "1",
            Some(0.0),
            &[],
        ),
        filter(
            "RejectsByEni",
            flow_pattern(&[("action", " = REJECT"), ("protocol", " = 6")]),
            "1",
            None,
            &[("Eni", "$eni")],
        ),
        filter(
            "SshAccepted",
            flow_pattern(&[("destport", " = 22"), ("action", " = ACCEPT")]),
            "1",
            None,
            &[],
        ),
    ]);
    out
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
        let lines = (0..WRITERS).map(|w| flow_lines(10 + w as u64)).collect();
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
    let lines = flow_lines(10);
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
