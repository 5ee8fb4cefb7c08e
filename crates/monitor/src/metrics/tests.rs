//! Statistics against hand-computed values.

use super::*;

const T0: i64 = 1_700_000_040_000; // a minute boundary (1_700_000_040 = 28_333_334 × 60)

fn scope() -> Scope {
    Scope {
        account: "123456789012".into(),
        region: "us-east-1".into(),
    }
}

fn key(dims: &[(&str, &str)]) -> MetricKey {
    MetricKey::new(
        &scope(),
        "App",
        "Latency",
        dims.iter().map(|(n, v)| (n.to_string(), v.to_string())),
    )
}

fn all_stats() -> Vec<Statistic> {
    [
        "SampleCount",
        "Average",
        "Sum",
        "Minimum",
        "Maximum",
        "p50",
        "p99",
    ]
    .into_iter()
    .map(|s| Statistic::parse(s).expect("stat"))
    .collect()
}

/// Offset, SampleCount, Average, Sum, Minimum, Maximum, p50, p99.
type Row = (i64, f64, f64, f64, f64, f64, f64, f64);

#[test]
fn statistics_match_hand_computed_values() {
    assert_eq!(T0 % MINUTE_MS, 0);
    let mut s = MetricStore::default();
    let k = key(&[]);
    // Minute 0: 1..=10; minute 1: 100; minute 3: 7 and 9 (minute 2 empty).
    for v in 1..=10 {
        s.put(&k, T0 + v * 1000, v as f64, 1.0, "Milliseconds")
            .expect("put");
    }
    s.put(&k, T0 + MINUTE_MS + 5, 100.0, 1.0, "Milliseconds")
        .expect("put");
    s.put(&k, T0 + 3 * MINUTE_MS, 7.0, 1.0, "Milliseconds")
        .expect("put");
    s.put(&k, T0 + 3 * MINUTE_MS + 59_999, 9.0, 1.0, "Milliseconds")
        .expect("put");

    let got = s
        .statistics(&k, None, T0, T0 + 5 * MINUTE_MS, 60, &all_stats())
        .expect("stats");
    let rows: Vec<Row> = got
        .iter()
        .map(|d| {
            (
                d.timestamp_ms - T0,
                d.sample_count.unwrap(),
                d.average.unwrap(),
                d.sum.unwrap(),
                d.minimum.unwrap(),
                d.maximum.unwrap(),
                d.extended_statistics["p50"],
                d.extended_statistics["p99"],
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (0, 10.0, 5.5, 55.0, 1.0, 10.0, 5.0, 10.0),
            (MINUTE_MS, 1.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0),
            (3 * MINUTE_MS, 2.0, 8.0, 16.0, 7.0, 9.0, 7.0, 9.0),
        ],
        "the empty minutes 2 and 4 are omitted"
    );
    assert!(got.iter().all(|d| d.unit == "Milliseconds"));

    // 120 s periods aligned on the start: [0,2) and [2,4).
    let got = s
        .statistics(&k, None, T0, T0 + 4 * MINUTE_MS, 120, &all_stats())
        .expect("stats");
    let sums: Vec<(i64, f64, f64, f64)> = got
        .iter()
        .map(|d| {
            (
                d.timestamp_ms - T0,
                d.sum.unwrap(),
                d.sample_count.unwrap(),
                d.extended_statistics["p50"],
            )
        })
        .collect();
    assert_eq!(
        sums,
        vec![(0, 155.0, 11.0, 6.0), (2 * MINUTE_MS, 16.0, 2.0, 7.0)]
    );

    // One hour: everything in one datapoint; p99 of 13 samples = rank 13 = the max.
    let got = s
        .statistics(&k, None, T0, T0 + 3_600_000, 3600, &all_stats())
        .expect("stats");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].sum, Some(171.0));
    assert_eq!(got[0].extended_statistics["p99"], 100.0);
    assert_eq!(got[0].extended_statistics["p50"], 7.0);
}

#[test]
fn only_requested_statistics_are_filled_and_start_rounds_down() {
    let mut s = MetricStore::default();
    let k = key(&[("Env", "prod")]);
    s.put(&k, T0 + 10_000, 4.0, 1.0, DEFAULT_UNIT).expect("put");
    // A start 30 s into the minute still covers the whole minute, stamped at its start.
    let got = s
        .statistics(&k, None, T0 + 30_000, T0 + 60_000, 60, &[Statistic::Sum])
        .expect("stats");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].timestamp_ms, T0);
    assert_eq!(got[0].sum, Some(4.0));
    assert_eq!(
        (got[0].sample_count, got[0].average, got[0].maximum),
        (None, None, None)
    );
    assert!(got[0].extended_statistics.is_empty());
    // Data at or after the end is not included; another dimension set is another metric.
    assert!(
        s.statistics(&k, None, T0 - 60_000, T0, 60, &[Statistic::Sum])
            .expect("stats")
            .is_empty()
    );
    assert!(
        s.statistics(&key(&[]), None, T0, T0 + 60_000, 60, &[Statistic::Sum])
            .expect("stats")
            .is_empty()
    );
}

#[test]
fn units_are_aggregated_separately() {
    let mut s = MetricStore::default();
    let k = key(&[]);
    s.put(&k, T0, 1.0, 1.0, "Count").expect("put");
    s.put(&k, T0, 1000.0, 1.0, "Bytes").expect("put");
    let all = s
        .statistics(&k, None, T0, T0 + 60_000, 60, &[Statistic::Sum])
        .expect("stats");
    let by_unit: Vec<(&str, f64)> = all
        .iter()
        .map(|d| (d.unit.as_str(), d.sum.unwrap()))
        .collect();
    assert_eq!(by_unit, vec![("Bytes", 1000.0), ("Count", 1.0)]);
    let count = s
        .statistics(&k, Some("Count"), T0, T0 + 60_000, 60, &[Statistic::Sum])
        .expect("stats");
    assert_eq!(count.len(), 1);
    assert!(
        s.statistics(&k, Some("Seconds"), T0, T0 + 60_000, 60, &[Statistic::Sum])
            .expect("stats")
            .is_empty()
    );
}

fn set(sample_count: f64, sum: f64, minimum: f64, maximum: f64) -> StatisticSet {
    StatisticSet {
        sample_count,
        sum,
        minimum,
        maximum,
    }
}

#[test]
fn statistic_sets_and_counts() {
    let mut s = MetricStore::default();
    let k = key(&[]);
    s.put_statistic_set(&k, T0, set(4.0, 20.0, 2.0, 8.0), DEFAULT_UNIT)
        .expect("set");
    s.put(&k, T0, 3.0, 2.0, DEFAULT_UNIT).expect("counts");
    let d = &s
        .statistics(&k, None, T0, T0 + 60_000, 60, &all_stats())
        .expect("stats")[0];
    assert_eq!(
        (d.sample_count, d.sum, d.minimum, d.maximum, d.average),
        (
            Some(6.0),
            Some(26.0),
            Some(2.0),
            Some(8.0),
            Some(26.0 / 6.0)
        )
    );
    assert!(d.extended_statistics.is_empty(), "percentiles unavailable");
    assert!(matches!(
        s.put_statistic_set(&k, T0, set(1.0, 1.0, 3.0, 2.0), DEFAULT_UNIT),
        Err(MonitorError::InvalidStatisticSet { .. })
    ));
    assert!(matches!(
        s.put(&k, T0, f64::NAN, 1.0, DEFAULT_UNIT),
        Err(MonitorError::InvalidValue { .. })
    ));
}

#[test]
fn query_bounds_are_checked() {
    let s = MetricStore::default();
    let k = key(&[]);
    let q = |start, end, period| s.statistics(&k, None, start, end, period, &[Statistic::Sum]);
    assert_eq!(
        q(T0, T0 + 60_000, 30),
        Err(MonitorError::InvalidPeriod { period_s: 30 })
    );
    assert_eq!(
        q(T0, T0 + 60_000, 0),
        Err(MonitorError::InvalidPeriod { period_s: 0 })
    );
    assert!(matches!(
        q(T0, T0, 60),
        Err(MonitorError::InvalidTimeRange { .. })
    ));
    assert_eq!(q(T0, T0 + 1440 * MINUTE_MS, 60), Ok(vec![]));
    assert!(matches!(
        q(i64::MIN, i64::MAX, 60),
        Err(MonitorError::TooManyDatapoints { .. })
    ));
    assert_eq!(minute_of(T0 + 59_999), T0);
    assert_eq!(minute_of(-1), -MINUTE_MS);
    assert_eq!(
        q(T0, T0 + 1440 * MINUTE_MS + 1, 60),
        Err(MonitorError::TooManyDatapoints {
            periods: 1441,
            max: 1440
        })
    );
}

#[test]
fn list_metrics_filters_by_namespace_name_and_dimensions() {
    let mut s = MetricStore::default();
    let a = key(&[("Env", "prod"), ("Host", "a")]);
    let b = key(&[("Env", "dev")]);
    let other_scope = MetricKey::new(
        &Scope {
            account: "210987654321".into(),
            region: "us-east-1".into(),
        },
        "App",
        "Latency",
        [],
    );
    for k in [&a, &b, &other_scope] {
        s.put(k, T0, 1.0, 1.0, DEFAULT_UNIT).expect("put");
    }
    let f = |name: &str, value: Option<&str>| DimensionFilter {
        name: name.into(),
        value: value.map(Into::into),
    };
    // Sorted, whatever order the store keeps them in.
    assert_eq!(
        s.list_metrics(&scope(), None, None, &[]),
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        s.list_metrics(&scope(), Some("App"), Some("Latency"), &[f("Env", None)])
            .len(),
        2
    );
    assert_eq!(
        s.list_metrics(&scope(), None, None, &[f("Env", Some("prod"))]),
        vec![a.clone()]
    );
    assert_eq!(
        s.list_metrics(&scope(), None, None, &[f("Host", None)]),
        vec![a]
    );
    assert!(
        s.list_metrics(&scope(), Some("Other"), None, &[])
            .is_empty()
    );
    // Dimension order does not matter to identity.
    assert_eq!(
        key(&[("Host", "a"), ("Env", "prod")]).dimensions()[0].name,
        "Env"
    );
}

#[test]
fn retention_drops_old_minutes_and_empty_metrics() {
    let mut s = MetricStore::new(MetricStoreConfig {
        retention_ms: 10 * MINUTE_MS,
        max_metrics: 2,
    });
    let k = key(&[]);
    s.put(&k, T0, 1.0, 1.0, DEFAULT_UNIT).expect("put");
    s.put(&k, T0 + 5 * MINUTE_MS, 2.0, 1.0, DEFAULT_UNIT)
        .expect("put");
    s.expire(T0 + 12 * MINUTE_MS);
    let sums = s
        .statistics(&k, None, T0, T0 + 60 * MINUTE_MS, 60, &[Statistic::Sum])
        .expect("stats");
    assert_eq!(sums.len(), 1);
    assert_eq!(sums[0].sum, Some(2.0));
    s.put(&k, T0 + MINUTE_MS, 1.0, 1.0, DEFAULT_UNIT)
        .expect("dropped");
    assert_eq!(s.expired_samples(), 1);
    s.expire(T0 + 20 * MINUTE_MS);
    assert!(s.is_empty());
    // The metric bound.
    s.put(&key(&[("A", "1")]), T0 + 20 * MINUTE_MS, 1.0, 1.0, "None")
        .expect("1");
    s.put(&key(&[("A", "2")]), T0 + 20 * MINUTE_MS, 1.0, 1.0, "None")
        .expect("2");
    assert_eq!(
        s.put(&key(&[("A", "3")]), T0 + 20 * MINUTE_MS, 1.0, 1.0, "None"),
        Err(MonitorError::TooManyMetrics { max: 2 })
    );
}

#[test]
fn bytes_round_trip_exactly() {
    let mut s = MetricStore::default();
    for i in 0..200 {
        let k = key(&[("I", &(i % 3).to_string())]);
        s.put(&k, T0 + i * 7_000, 0.1 * i as f64, 1.0, "Count")
            .expect("put");
    }
    s.expire(T0);
    let back = MetricStore::from_bytes(MetricStoreConfig::default(), &s.to_bytes()).expect("load");
    assert_eq!(back, s);
    // The same store saves to the same bytes (metrics in key order).
    assert_eq!(back.to_bytes(), s.to_bytes());
    assert!(MetricStore::from_bytes(MetricStoreConfig::default(), b"{").is_err());
}
