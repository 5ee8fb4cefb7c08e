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

/// The observer (all filters of a group matched together, samples published per batch and
/// key) ends with exactly the store of the plain way: each filter on its own, each event
/// extracted and put one by one.
mod same_as_one_filter_at_a_time {
    use flowwatch_pattern::{FilterPattern, ValueRef};
    use proptest::prelude::*;

    use super::*;
    use crate::metrics::{DEFAULT_UNIT, MetricStoreConfig};

    fn filters() -> Vec<MetricFilter> {
        let with_dims = |mut f: MetricFilter, dims: &[(&str, &str)]| {
            f.metric_transformations[0].dimensions = Some(
                dims.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            );
            f
        };
        let d = |c: &str| {
            format!(
                "[version, account, eni, source, destination, srcport, destport{c}, protocol, packets, bytes, start, end, action, status]"
            )
        };
        vec![
            filter("Ssh", SSH, "1"),
            filter("SshPackets", SSH, "$packets"),
            filter("Port443Bytes", &d(" = 443"), "$bytes"),
            filter("Any", &d(""), "$9"),
            filter("Rejects", "REJECT", "2.5"),
            filter(
                "Tail",
                "[..., action = REJECT || action = ACCEPT, status]",
                "$status",
            ),
            with_dims(
                filter("BySource", &d(" = 22"), "1"),
                &[("Source", "$source")],
            ),
            with_dims(
                filter("ByPair", &d(" != 443"), "$packets"),
                &[("Src", "$source"), ("Action", "$13")],
            ),
        ]
    }

    fn reference(filters: &[MetricFilter], batches: &[Vec<(i64, String)>]) -> MetricStore {
        let mut store = MetricStore::new(MetricStoreConfig::default());
        for f in filters {
            let pattern = FilterPattern::parse(&f.filter_pattern).expect("pattern");
            let t = &f.metric_transformations[0];
            let value_text = t.metric_value.as_deref().expect("value");
            for (ts, message) in batches.iter().flatten() {
                let Some(x) = pattern.extract(message) else {
                    continue;
                };
                let value = match value_text.parse::<f64>() {
                    Ok(v) => Some(v),
                    Err(_) => x.resolve_number(&ValueRef::parse(value_text).expect("ref")),
                };
                let Some(value) = value else { continue };
                let dims: Option<Vec<(String, String)>> = t
                    .dimensions
                    .iter()
                    .flatten()
                    .map(|(name, r)| {
                        let v = x.resolve(&ValueRef::parse(r).expect("ref"))?;
                        (!v.is_empty()).then(|| (name.clone(), v.into_owned()))
                    })
                    .collect();
                let Some(dims) = dims else { continue };
                let name = t.metric_name.clone().expect("name");
                let key = MetricKey::new(&scope(), "VPC", name, dims);
                store
                    .put(&key, *ts, value, 1.0, DEFAULT_UNIT)
                    .expect("within bounds");
            }
        }
        store
    }

    fn line() -> impl Strategy<Value = String> {
        let src = prop::sample::select(vec!["198.51.100.7", "203.0.113.9", "10.0.0.1", "-"]);
        let port = prop::sample::select(vec![22u16, 443, 80]);
        let action = prop::sample::select(vec!["REJECT", "ACCEPT", "-"]);
        (src, port, 0u32..5, action, any::<bool>()).prop_map(|(s, p, n, a, odd)| {
            let line = flow(s, p, 6, n, a);
            // Not a number where the values are read.
            if odd {
                line.replace(&format!(" {n} "), " x ")
            } else {
                line
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn store_matches(batches in prop::collection::vec(prop::collection::vec((0i64..180_000, line()), 0..30), 1..5)) {
            let batches: Vec<Vec<(i64, String)>> = batches
                .into_iter()
                .map(|b| b.into_iter().map(|(dt, m)| (T0 + dt, m)).collect())
                .collect();
            let o = MetricFilterObserver::default();
            o.set_filters(1, &scope(), filters()).expect("set");
            for batch in &batches {
                feed(&o, T0, batch);
            }
            let mut want = reference(&filters(), &batches);
            want.expire(T0);
            let got = o.with_store(MetricStore::clone);
            prop_assert_eq!(got, want);
        }
    }

    /// Past the cache of built keys, new dimension values still publish (a key is built for
    /// each such event), and the cache is cleared for the next batch.
    #[test]
    fn dimension_values_past_the_key_cache() {
        let many = crate::metric_filters::compiled::MAX_CACHED_KEYS + 50;
        let batch: Vec<(i64, String)> = (0..many)
            .map(|i| {
                let src = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
                (T0 + (i as i64 % 1000), flow(&src, 22, 6, 1, "REJECT"))
            })
            .collect();
        let f = vec![filters().swap_remove(6)];
        let o = MetricFilterObserver::default();
        o.set_filters(1, &scope(), f.clone()).expect("set");
        feed(&o, T0, &batch);
        feed(&o, T0, &batch[..10]);
        let mut want = reference(&f, &[batch.clone(), batch[..10].to_vec()]);
        want.expire(T0);
        o.with_store(|got| assert_eq!(got, &want));
        assert_eq!(o.with_store(MetricStore::len), many);
        assert_eq!(o.counters().published, many as u64 + 10);
    }
}
