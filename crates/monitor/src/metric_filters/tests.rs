//! The user-guide scenarios, fed through `on_durable`.

use std::collections::BTreeMap;

use flowwatch_model::logs::MetricTransformation;
use flowwatch_storage::{EventRef, StreamKey};

use super::*;
use crate::metrics::{MetricKey, Statistic};

const T0: i64 = 1_700_000_040_000; // a minute boundary
const SSH: &str = "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]";

fn scope() -> Scope {
    Scope {
        account: "123456789012".into(),
        region: "us-east-1".into(),
    }
}

fn filter(name: &str, pattern: &str, value: &str) -> MetricFilter {
    MetricFilter {
        filter_name: name.into(),
        filter_pattern: pattern.into(),
        metric_transformations: vec![MetricTransformation {
            metric_name: Some(name.into()),
            metric_namespace: Some("VPC".into()),
            metric_value: Some(value.into()),
            ..Default::default()
        }],
        creation_time: 0,
        log_group_name: "flows".into(),
        ..Default::default()
    }
}

fn flow(src: &str, dport: u16, proto: u8, packets: u32, action: &str) -> String {
    format!(
        "2 123456789012 eni-0a1b2c3d {src} 10.0.0.5 49152 {dport} {proto} {packets} {} 1700000000 1700000060 {action} OK",
        packets * 60
    )
}

fn feed(o: &MetricFilterObserver, ingestion_time: i64, events: &[(i64, String)]) {
    let refs: Vec<EventRef<'_>> = events
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
        ingestion_time,
        events: &refs,
    });
}

fn sums(o: &MetricFilterObserver, key: &MetricKey, period: i64) -> Vec<(i64, f64, f64)> {
    o.with_store(|s| {
        s.statistics(
            key,
            None,
            T0,
            T0 + 3_600_000,
            period,
            &[Statistic::Sum, Statistic::SampleCount],
        )
    })
    .expect("stats")
    .into_iter()
    .map(|d| {
        (
            (d.timestamp_ms - T0) / MINUTE_MS,
            d.sum.unwrap(),
            d.sample_count.unwrap(),
        )
    })
    .collect()
}

#[test]
fn rejected_ssh_lines_are_counted() {
    let o = MetricFilterObserver::default();
    o.set_filters(1, &scope(), vec![filter("SshRejects", SSH, "1")])
        .expect("set");
    let mut rejected = 0;
    for minute in 0..10i64 {
        let mut batch = Vec::new();
        for i in 0..7i64 {
            let (port, proto, action) = match (minute + i) % 4 {
                0 => (22, 6, "REJECT"),
                1 => (22, 6, "ACCEPT"),
                2 => (443, 6, "REJECT"),
                _ => (22, 17, "REJECT"),
            };
            rejected += usize::from(port == 22 && proto == 6 && action == "REJECT");
            batch.push((
                T0 + minute * MINUTE_MS + i * 1000,
                flow("198.51.100.7", port, proto, 3, action),
            ));
        }
        feed(&o, T0 + minute * MINUTE_MS + 30_000, &batch);
    }
    let key = MetricKey::new(&scope(), "VPC", "SshRejects", []);
    let hour = sums(&o, &key, 3600);
    assert_eq!(hour, vec![(0, rejected as f64, rejected as f64)]);
    assert_eq!(rejected, 17);
    assert_eq!(o.counters().published, 17);
}

#[test]
fn packets_value_and_source_dimension() {
    let o = MetricFilterObserver::default();
    let mut f = filter("SshRejectedPackets", SSH, "$packets");
    f.metric_transformations[0].dimensions = Some(BTreeMap::from([(
        "Source".to_string(),
        "$source".to_string(),
    )]));
    f.metric_transformations[0].unit = Some("Count".into());
    o.set_filters(1, &scope(), vec![f]).expect("set");
    feed(
        &o,
        T0,
        &[
            (T0, flow("198.51.100.7", 22, 6, 3, "REJECT")),
            (T0 + 1, flow("198.51.100.7", 22, 6, 4, "REJECT")),
            (T0 + 2, flow("203.0.113.9", 22, 6, 10, "REJECT")),
            (T0 + 3, flow("203.0.113.9", 22, 6, 99, "ACCEPT")),
            // Matches, but the packet count is not a number: skipped, counted.
            (
                T0 + 4,
                flow("203.0.113.9", 22, 6, 1, "REJECT").replace(" 1 60 ", " - 60 "),
            ),
        ],
    );
    let key = |src: &str| {
        MetricKey::new(
            &scope(),
            "VPC",
            "SshRejectedPackets",
            [("Source".to_string(), src.to_string())],
        )
    };
    assert_eq!(sums(&o, &key("198.51.100.7"), 60), vec![(0, 7.0, 2.0)]);
    assert_eq!(sums(&o, &key("203.0.113.9"), 60), vec![(0, 10.0, 1.0)]);
    let listed = o.with_store(|s| s.list_metrics(&scope(), Some("VPC"), None, &[]));
    assert_eq!(listed, vec![key("198.51.100.7"), key("203.0.113.9")]);
    let unit = o.with_store(|s| {
        s.statistics(
            &key("203.0.113.9"),
            Some("Count"),
            T0,
            T0 + 60_000,
            60,
            &[Statistic::Sum],
        )
    });
    assert_eq!(unit.expect("stats").len(), 1);
    assert_eq!(o.counters().non_numeric, 1);
}

#[test]
fn default_value_only_for_minutes_with_events() {
    let o = MetricFilterObserver::default();
    let mut f = filter("SshRejects", SSH, "1");
    f.metric_transformations[0].default_value = Some(0.0);
    o.set_filters(1, &scope(), vec![f]).expect("set");
    let reject = flow("198.51.100.7", 22, 6, 3, "REJECT");
    let accept = flow("198.51.100.7", 22, 6, 3, "ACCEPT");
    // Minute 0: two matches; minute 1: only non-matching events; minute 2: nothing;
    // minute 3: one match among non-matching events; minute 4: non-matching.
    feed(
        &o,
        T0 + 10_000,
        &[(T0, reject.clone()), (T0 + 1, reject.clone())],
    );
    feed(
        &o,
        T0 + 70_000,
        &[(T0 + 60_000, accept.clone()), (T0 + 61_000, accept.clone())],
    );
    feed(
        &o,
        T0 + 190_000,
        &[(T0 + 180_000, accept.clone()), (T0 + 181_000, reject)],
    );
    feed(&o, T0 + 250_000, &[(T0 + 240_000, accept.clone())]);
    let key = MetricKey::new(&scope(), "VPC", "SshRejects", []);
    // Minute 1 is closed (its end + 60 s ≤ the last ingestion time) and got its default; minute
    // 4 is still open.
    assert_eq!(
        sums(&o, &key, 60),
        vec![(0, 2.0, 2.0), (1, 0.0, 1.0), (3, 1.0, 1.0)]
    );
    o.tick(T0 + 10 * MINUTE_MS);
    assert_eq!(
        sums(&o, &key, 60),
        vec![(0, 2.0, 2.0), (1, 0.0, 1.0), (3, 1.0, 1.0), (4, 0.0, 1.0)]
    );
    // A late non-matching event for a closed minute publishes no second default.
    feed(&o, T0 + 11 * MINUTE_MS, &[(T0 + 60_000, accept)]);
    o.tick(T0 + 20 * MINUTE_MS);
    assert_eq!(o.counters().defaults, 2);
    assert_eq!(sums(&o, &key, 3600), vec![(0, 3.0, 5.0)]);
}

#[test]
fn filters_are_not_retroactive_and_can_be_removed() {
    let o = MetricFilterObserver::default();
    let mut f = filter("SshRejects", SSH, "1");
    f.creation_time = T0 + 60_000;
    o.set_filters(1, &scope(), vec![f]).expect("set");
    let reject = flow("198.51.100.7", 22, 6, 3, "REJECT");
    feed(&o, T0, &[(T0 + 60_000, reject.clone())]);
    feed(&o, T0 + 60_000, &[(T0, reject.clone())]);
    let key = MetricKey::new(&scope(), "VPC", "SshRejects", []);
    assert_eq!(
        sums(&o, &key, 3600),
        vec![(0, 1.0, 1.0)],
        "only the batch ingested after creation"
    );
    o.set_filters(1, &scope(), vec![]).expect("remove");
    feed(&o, T0 + 120_000, &[(T0, reject)]);
    assert_eq!(sums(&o, &key, 3600), vec![(0, 1.0, 1.0)]);
}

#[test]
fn json_filter_with_path_value() {
    let o = MetricFilterObserver::default();
    o.set_filters(
        1,
        &scope(),
        vec![filter("Latency", "{ $.status = 200 }", "$.latency")],
    )
    .expect("set");
    feed(
        &o,
        T0,
        &[
            (T0, r#"{"status": 200, "latency": 12.5}"#.to_string()),
            (T0, r#"{"status": 500, "latency": 99}"#.to_string()),
            (T0, r#"{"status": 200, "latency": 7.5}"#.to_string()),
        ],
    );
    let key = MetricKey::new(&scope(), "VPC", "Latency", []);
    assert_eq!(sums(&o, &key, 60), vec![(0, 20.0, 2.0)]);
}

#[test]
fn invalid_filters_are_refused_whole() {
    let o = MetricFilterObserver::default();
    let bad = filter("Bad", SSH, "$nosuchfield");
    assert!(matches!(
        o.set_filters(1, &scope(), vec![filter("Ok", SSH, "1"), bad]),
        Err(MonitorError::InvalidFilter { .. })
    ));
    feed(&o, T0, &[(T0, flow("198.51.100.7", 22, 6, 3, "REJECT"))]);
    assert_eq!(o.counters().published, 0);
}

#[test]
fn snapshot_restore_round_trip() {
    let o = MetricFilterObserver::default();
    let mut f = filter("SshRejects", SSH, "1");
    f.metric_transformations[0].default_value = Some(0.5);
    o.set_filters(1, &scope(), vec![f, filter("Packets", SSH, "$packets")])
        .expect("set");
    feed(&o, T0, &[(T0, flow("198.51.100.7", 22, 6, 3, "REJECT"))]);
    feed(
        &o,
        T0 + 150_000,
        &[(T0 + 120_000, flow("198.51.100.7", 22, 6, 3, "ACCEPT"))],
    );
    let saved = o.snapshot();
    let back = MetricFilterObserver::default();
    back.restore(Some(&saved));
    assert_eq!(back.snapshot(), saved);
    // The open minute 2 travels with the snapshot and closes in both the same way.
    o.tick(T0 + 3_600_000);
    back.tick(T0 + 3_600_000);
    assert_eq!(back.snapshot(), o.snapshot());
    let key = MetricKey::new(&scope(), "VPC", "SshRejects", []);
    assert_eq!(sums(&back, &key, 60), vec![(0, 1.0, 1.0), (2, 0.5, 1.0)]);
    // A corrupt snapshot restores nothing but keeps the filters.
    back.restore(Some(b"garbage"));
    assert!(back.with_store(|s| s.is_empty()));
    feed(
        &back,
        T0 + 3_600_000,
        &[(T0 + 3_600_000, flow("198.51.100.7", 22, 6, 3, "REJECT"))],
    );
    assert_eq!(back.counters().published, 2);
}
