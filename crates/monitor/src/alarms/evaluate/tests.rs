use super::*;
use crate::alarms::definition::LowSampleCountPercentile;
use crate::alarms::definition::{ComparisonOperator, TreatMissingData};

const NOW: i64 = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000 + 30_000;

fn def(n: i64, m: i64, treat: TreatMissingData) -> AlarmDefinition {
    let mut d = AlarmDefinition::new(
        "a",
        "App",
        "Errors",
        Statistic::Maximum,
        60,
        n,
        1.0,
        ComparisonOperator::GreaterThanOrEqualToThreshold,
    );
    d.datapoints_to_alarm = Some(m);
    d.treat_missing_data = Some(treat);
    d
}

/// `0 - X - X`, oldest first: `0` good (0.0), `X` breaching (5.0), `-` missing.
fn slots(def: &AlarmDefinition, pattern: &str) -> Vec<Slot> {
    let (start, _, range) = evaluation_range(def, NOW);
    let cells: Vec<&str> = pattern.split(' ').collect();
    assert_eq!(cells.len() as i64, range, "{pattern}");
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| Slot {
            timestamp_ms: start + i as i64 * def.period * 1000,
            value: match *c {
                "0" => Some(0.0),
                "X" => Some(5.0),
                "-" => None,
                other => panic!("{other}"),
            },
            sample_count: None,
        })
        .collect()
}

fn state(value: StateValue) -> AlarmState {
    AlarmState {
        value,
        reason: "before".into(),
        reason_data: String::new(),
        updated_ms: 0,
    }
}

const STATES: [StateValue; 3] = [
    StateValue::Ok,
    StateValue::Alarm,
    StateValue::InsufficientData,
];

/// Checks one cell of a table: `expected` `None` means the state is retained.
fn check(n: i64, m: i64, pattern: &str, treat: TreatMissingData, expected: Option<StateValue>) {
    let d = def(n, m, treat);
    let s = slots(&d, pattern);
    for previous in STATES {
        let got = evaluate_slots(&d, &s, NOW, &state(previous)).map(|t| t.new_state.value);
        let want = expected.filter(|e| *e != previous);
        assert_eq!(got, want, "{pattern} N={n} M={m} {treat:?} from {previous}");
    }
}

use StateValue::{Alarm as A, InsufficientData as I, Ok as O};
use TreatMissingData::{Breaching, Ignore, Missing, NotBreaching};

#[test]
fn documented_table_three_of_three() {
    // datapoints, missing, ignore, breaching, notBreaching (None: retain state).
    let rows: [(&str, [Option<StateValue>; 4]); 5] = [
        ("0 - X - X", [Some(O), Some(O), Some(O), Some(O)]),
        ("0 - - - -", [Some(O), Some(O), Some(O), Some(O)]),
        ("- - - - -", [Some(I), None, Some(A), Some(O)]),
        ("0 X X - X", [Some(A), Some(A), Some(A), Some(A)]),
        ("- - X - -", [Some(A), None, Some(A), Some(O)]),
    ];
    for (pattern, expected) in rows {
        for (treat, want) in [Missing, Ignore, Breaching, NotBreaching]
            .into_iter()
            .zip(expected)
        {
            check(3, 3, pattern, treat, want);
        }
    }
}

#[test]
fn documented_table_two_of_three() {
    let rows: [(&str, [Option<StateValue>; 4]); 5] = [
        ("0 - X - X", [Some(A), Some(A), Some(A), Some(A)]),
        ("0 0 X 0 X", [Some(A), Some(A), Some(A), Some(A)]),
        ("0 - X - -", [Some(O), Some(O), Some(A), Some(O)]),
        ("- - - - 0", [Some(O), Some(O), Some(A), Some(O)]),
        ("- - - X -", [Some(A), None, Some(A), Some(O)]),
    ];
    for (pattern, expected) in rows {
        for (treat, want) in [Missing, Ignore, Breaching, NotBreaching]
            .into_iter()
            .zip(expected)
        {
            check(3, 2, pattern, treat, want);
        }
    }
}

#[test]
fn premature_alarm_waits_for_m_periods() {
    // Documented: no alarm on `- - - - X` or `- - - X -` with M = N = 3.
    check(3, 3, "- - - - X", Missing, None);
    check(3, 3, "- - - X -", Missing, None);
    check(3, 3, "- - X - -", Missing, Some(A));
    check(3, 3, "- - X X -", Missing, Some(A));
}

#[test]
fn three_of_five_missing_at_start_and_in_middle() {
    // N = 5, M = 3, range 7.
    // Missing at the start, five real datapoints: missing data plays no part.
    for treat in TreatMissingData::ALL {
        check(5, 3, "- - X 0 X 0 X", treat, Some(A));
        check(5, 3, "- - X 0 X 0 0", treat, Some(O));
    }
    // Missing in the middle, but still five real datapoints in range: the most recent five.
    for treat in TreatMissingData::ALL {
        check(5, 3, "X 0 - - X X 0", treat, Some(A));
        check(5, 3, "X 0 - - 0 X 0", treat, Some(O));
    }
    // Missing in the middle, only four real: one slot is filled (the most recent missing).
    check(5, 3, "- - X - X 0 0", Breaching, Some(A));
    check(5, 3, "- - X - X 0 0", NotBreaching, Some(O));
    check(5, 3, "- - X - X 0 0", Missing, Some(O));
    check(5, 3, "- - X - X 0 0", Ignore, Some(O));
    // Only breaching real datapoints, too few: premature alarm (oldest is 5 periods old).
    check(5, 3, "- - X - X - -", Missing, Some(A));
    check(5, 3, "- - X - X - -", Ignore, None);
    check(5, 3, "- - X - X - -", NotBreaching, Some(O));
    check(5, 3, "- - X - X - -", Breaching, Some(A));
    // The same two breaching datapoints but recent: too early to tell.
    check(5, 3, "- - - - - X X", Missing, None);
    check(5, 3, "- - - - - X X", Breaching, Some(A));
    check(5, 3, "- - - - - X X", NotBreaching, Some(O));
}

#[test]
fn comparison_operators() {
    let cases = [
        (
            ComparisonOperator::GreaterThanOrEqualToThreshold,
            [false, true, true],
        ),
        (
            ComparisonOperator::GreaterThanThreshold,
            [false, false, true],
        ),
        (ComparisonOperator::LessThanThreshold, [true, false, false]),
        (
            ComparisonOperator::LessThanOrEqualToThreshold,
            [true, true, false],
        ),
    ];
    for (op, want) in cases {
        let got = [0.5, 1.0, 1.5].map(|v| op.breaches(v, 1.0).unwrap());
        assert_eq!(got, want, "{op:?}");
    }
    assert_eq!(
        ComparisonOperator::LessThanLowerThreshold.breaches(0.0, 1.0),
        None
    );
}

#[test]
fn reason_text_and_data() {
    let mut d = def(3, 2, Missing);
    d.comparison_operator = ComparisonOperator::GreaterThanThreshold;
    d.threshold = 2.5;
    let s = slots(&d, "0 0 X 0 X");
    let t = evaluate_slots(&d, &s, NOW, &state(StateValue::Ok)).unwrap();
    let date = |i: usize| crate::alarms::format::reason_date(s[i].timestamp_ms);
    assert_eq!(
        t.new_state.reason,
        format!(
            "Threshold Crossed: 2 out of the last 3 datapoints [5.0 ({}), 5.0 ({})] were greater than the threshold (2.5) (minimum 2 datapoints for OK -> ALARM transition).",
            date(4),
            date(2)
        )
    );
    let data: serde_json::Value = serde_json::from_str(&t.new_state.reason_data).unwrap();
    assert_eq!(data["version"], "1.0");
    assert_eq!(data["statistic"], "Maximum");
    assert_eq!(data["period"], 60);
    assert_eq!(data["threshold"], 2.5);
    assert_eq!(data["recentDatapoints"], serde_json::json!([5.0, 0.0, 5.0]));
    assert_eq!(
        data["startDate"],
        crate::alarms::format::iso_millis(s[2].timestamp_ms)
    );
    assert_eq!(data["queryDate"], crate::alarms::format::iso_millis(NOW));
    assert_eq!(data["evaluatedDatapoints"].as_array().unwrap().len(), 3);
    assert_eq!(
        data["evaluatedDatapoints"][0]["timestamp"],
        crate::alarms::format::iso_millis(s[4].timestamp_ms)
    );
    // The text is emitted in field order, version first.
    assert!(
        t.new_state
            .reason_data
            .starts_with("{\"version\":\"1.0\",\"queryDate\":")
    );

    // Recovery: into OK the minimum is N - M + 1.
    let s = slots(&d, "X X 0 0 X");
    let t = evaluate_slots(&d, &s, NOW, &state(StateValue::Alarm)).unwrap();
    assert_eq!(
        t.new_state.reason,
        format!(
            "Threshold Crossed: 2 out of the last 3 datapoints [0.0 ({}), 0.0 ({})] were not greater than the threshold (2.5) (minimum 2 datapoints for ALARM -> OK transition).",
            crate::alarms::format::reason_date(s[3].timestamp_ms),
            crate::alarms::format::reason_date(s[2].timestamp_ms)
        )
    );
}

#[test]
fn reasons_without_data() {
    let d = def(1, 1, Missing);
    let s = slots(&d, "- - -");
    let t = evaluate_slots(&d, &s, NOW, &state(StateValue::Ok)).unwrap();
    assert_eq!(t.new_state.value, StateValue::InsufficientData);
    assert_eq!(
        t.new_state.reason,
        "Insufficient Data: 1 datapoint was unknown."
    );
    let d = def(3, 3, Breaching);
    let s = slots(&d, "- - - - -");
    let t = evaluate_slots(&d, &s, NOW, &state(StateValue::Ok)).unwrap();
    assert_eq!(
        t.new_state.reason,
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."
    );
}

#[test]
fn low_sample_count_percentiles_are_ignored_when_asked() {
    let mut d = def(1, 1, Missing);
    d.statistic = None;
    d.extended_statistic = Some("p99".into());
    let mut s = slots(&d, "- - X");
    s[2].sample_count = Some(999.0);
    // evaluate (default): the datapoint counts.
    assert!(evaluate_slots(&d, &s, NOW, &state(StateValue::Ok)).is_some());
    d.evaluate_low_sample_count_percentile = Some(LowSampleCountPercentile::Ignore);
    assert_eq!(evaluate_slots(&d, &s, NOW, &state(StateValue::Ok)), None);
    // p99 needs 1000 samples.
    s[2].sample_count = Some(1000.0);
    assert!(evaluate_slots(&d, &s, NOW, &state(StateValue::Ok)).is_some());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn decide_all(n: i64, m: i64, cells: &[Option<bool>]) -> [Option<StateValue>; 4] {
        TreatMissingData::ALL.map(|treat| {
            let d = def(n, m, treat);
            let (start, _, _) = evaluation_range(&d, NOW);
            let s: Vec<Slot> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| Slot {
                    timestamp_ms: start + i as i64 * 60_000,
                    value: c.map(|bad| if bad { 5.0 } else { 0.0 }),
                    sample_count: None,
                })
                .collect();
            // From INSUFFICIENT_DATA a retained state gives no transition.
            evaluate_slots(&d, &s, NOW, &state(StateValue::InsufficientData))
                .map(|t| t.new_state.value)
        })
    }

    proptest! {
        #[test]
        fn treatments_agree_when_enough_data_and_order_by_badness(
            n in 1i64..6,
            m_seed in 0i64..6,
            seed in proptest::collection::vec(proptest::option::of(any::<bool>()), 8),
        ) {
            let m = m_seed % n + 1;
            let cells = &seed[..(n + EXTRA_RANGE_PERIODS) as usize];
            let [missing, notbreaching, breaching, ignore] = decide_all(n, m, cells);
            let real = cells.iter().flatten().count() as i64;
            let bad = cells.iter().flatten().filter(|b| **b).count() as i64;
            if real >= n {
                // Missing data plays no part.
                prop_assert_eq!(missing, notbreaching);
                prop_assert_eq!(missing, breaching);
                prop_assert_eq!(missing, ignore);
            }
            if real == 0 {
                prop_assert_eq!(missing, None); // INSUFFICIENT_DATA already
                prop_assert_eq!(ignore, None);
            }
            // Treating missing data as breaching never gives a better state than as good.
            if notbreaching == Some(StateValue::Alarm) {
                prop_assert_eq!(breaching, Some(StateValue::Alarm));
            }
            if breaching == Some(StateValue::Ok) {
                prop_assert_eq!(notbreaching, Some(StateValue::Ok));
            }
            // Never ALARM without a breaching datapoint unless missing counts as breaching.
            if bad == 0 {
                prop_assert_ne!(missing, Some(StateValue::Alarm));
                prop_assert_ne!(ignore, Some(StateValue::Alarm));
                prop_assert_ne!(notbreaching, Some(StateValue::Alarm));
            }
            // With breaching/notBreaching there is always a decision.
            prop_assert!(breaching.is_some() && notbreaching.is_some());
        }
    }
}

mod persistence {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn threshold_off_by_one_ulp_after_json_round_trip(threshold in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            let mut d = def(3, 2, TreatMissingData::Ignore);
            d.threshold = threshold;
            let back: AlarmDefinition = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
            prop_assert_eq!(back.threshold.to_bits(), threshold.to_bits());
        }
    }
}
