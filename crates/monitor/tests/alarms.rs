//! Alarms over a real metric store: the user guide's scenario, M of N with each missing-data
//! treatment, validation, notifications and persistence.

use flowwatch_model::Scope;
use flowwatch_monitor::alarms::{
    AlarmDefinition, AlarmSet, ComparisonOperator, DescribeFilter, HistoryItemType, INITIAL_REASON,
    StateValue, TreatMissingData, alarm_notification_message, alarm_notification_subject,
};
use flowwatch_monitor::{Dimension, MetricStore, MonitorError, Statistic};
use serde_json::json;

/// 2026-11-23T17:00:00Z.
const T0: i64 = 1_795_453_200_000;
const MIN: i64 = 60_000;

fn scope() -> Scope {
    Scope {
        account: "123456789012".into(),
        region: "us-east-1".into(),
    }
}

fn errors_alarm() -> AlarmDefinition {
    let mut d = AlarmDefinition::new(
        "errors-high",
        "App",
        "Errors",
        Statistic::Sum,
        3600,
        1,
        10.0,
        ComparisonOperator::GreaterThanOrEqualToThreshold,
    );
    d.alarm_description = Some("too many errors".into());
    d.dimensions = vec![Dimension {
        name: "Env".into(),
        value: "prod".into(),
    }];
    d.alarm_actions = vec!["arn:aws:sns:us-east-1:123456789012:ops".into()];
    d
}

#[test]
fn user_guide_sum_over_an_hour_reaches_ten() {
    let scope = scope();
    let mut alarms = AlarmSet::default();
    alarms.put(&scope, errors_alarm(), T0).unwrap();
    let a = alarms.get(&scope, "errors-high").unwrap();
    assert_eq!(a.state.value, StateValue::InsufficientData);
    assert_eq!(a.state.reason, INITIAL_REASON);
    assert_eq!(a.state.reason, "Unchecked: Initial alarm creation");

    let mut store = MetricStore::default();
    // No data yet: stays INSUFFICIENT_DATA.
    assert!(alarms.evaluate_all(&store, T0 + 30_000).is_empty());

    let key = errors_alarm().metric_key(&scope);
    for i in 0..9 {
        store
            .put(&key, T0 + i * MIN + 5_000, 1.0, 1.0, "Count")
            .unwrap();
    }
    let fired = alarms.evaluate_all(&store, T0 + 9 * MIN + 30_000);
    assert_eq!(fired.len(), 1);
    let t = &fired[0].transition;
    assert_eq!(t.old_state.value, StateValue::InsufficientData);
    assert_eq!(t.new_state.value, StateValue::Ok);
    assert_eq!(
        t.new_state.reason,
        "Threshold Crossed: 1 out of the last 1 datapoints [9.0 (23/11/26 16:09:00)] was not greater than or equal to the threshold (10.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> OK transition)."
    );
    // Still nine: no transition.
    assert!(
        alarms
            .evaluate_all(&store, T0 + 9 * MIN + 50_000)
            .is_empty()
    );

    store
        .put(&key, T0 + 9 * MIN + 40_000, 1.0, 1.0, "Count")
        .unwrap();
    let fired = alarms.evaluate_all(&store, T0 + 10 * MIN + 985);
    assert_eq!(fired.len(), 1);
    let t = &fired[0].transition;
    assert_eq!(
        (t.old_state.value, t.new_state.value),
        (StateValue::Ok, StateValue::Alarm)
    );
    assert_eq!(
        t.new_state.reason,
        "Threshold Crossed: 1 out of the last 1 datapoints [10.0 (23/11/26 16:10:00)] was greater than or equal to the threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition)."
    );
    assert_eq!(
        t.new_state.reason_data,
        r#"{"version":"1.0","queryDate":"2026-11-23T17:10:00.985+0000","startDate":"2026-11-23T16:10:00.000+0000","statistic":"Sum","period":3600,"recentDatapoints":[10.0],"threshold":10.0,"evaluatedDatapoints":[{"timestamp":"2026-11-23T16:10:00.000+0000","sampleCount":10.0,"value":10.0}]}"#
    );
    assert_eq!(fired[0].scope, scope);
    let stored = alarms.get(&scope, "errors-high").unwrap();
    assert_eq!(stored.state, t.new_state);
    assert_eq!(stored.state_transitioned_ms, T0 + 10 * MIN + 985);

    // An hour later the datapoints age out of the last period: back to OK? No: with `missing`
    // and no datapoint left in the range the alarm becomes INSUFFICIENT_DATA.
    let fired = alarms.evaluate_all(&store, T0 + 4 * 3_600_000);
    assert_eq!(
        fired[0].transition.new_state.value,
        StateValue::InsufficientData
    );
    assert_eq!(
        fired[0].transition.new_state.reason,
        "Insufficient Data: 1 datapoint was unknown."
    );

    // History, newest first.
    let items = alarms.history(&scope, Some("errors-high"), None, 0, i64::MAX);
    let summaries: Vec<&str> = items.iter().map(|i| i.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Alarm updated from ALARM to INSUFFICIENT_DATA",
            "Alarm updated from OK to ALARM",
            "Alarm updated from INSUFFICIENT_DATA to OK",
            "Alarm \"errors-high\" created",
        ]
    );
    assert_eq!(
        items[3].history_item_type,
        HistoryItemType::ConfigurationUpdate
    );
    assert_eq!(items[1].history_item_type, HistoryItemType::StateUpdate);
    let data: serde_json::Value = serde_json::from_str(&items[1].history_data).unwrap();
    assert_eq!(data["version"], "1.0");
    assert_eq!(data["oldState"]["stateValue"], "OK");
    assert_eq!(data["newState"]["stateValue"], "ALARM");
    assert_eq!(
        data["newState"]["stateReasonData"]["recentDatapoints"],
        json!([10.0])
    );
    assert_eq!(
        alarms
            .history(
                &scope,
                None,
                Some(HistoryItemType::StateUpdate),
                0,
                i64::MAX
            )
            .len(),
        3
    );
}

/// Three of five over a store, each treatment, one datapoint per minute (`None`: missing).
fn three_of_five(pattern: [Option<f64>; 7], treat: TreatMissingData) -> Option<StateValue> {
    let scope = scope();
    let mut def = AlarmDefinition::new(
        "m-of-n",
        "App",
        "Latency",
        Statistic::Maximum,
        60,
        5,
        100.0,
        ComparisonOperator::GreaterThanThreshold,
    );
    def.datapoints_to_alarm = Some(3);
    def.treat_missing_data = Some(treat);
    let mut alarms = AlarmSet::default();
    alarms.put(&scope, def.clone(), T0).unwrap();
    let mut store = MetricStore::default();
    let key = def.metric_key(&scope);
    for (i, v) in pattern.iter().enumerate() {
        if let Some(v) = v {
            store
                .put(&key, T0 + i as i64 * MIN, *v, 1.0, "Milliseconds")
                .unwrap();
        }
    }
    let fired = alarms.evaluate_all(&store, T0 + 7 * MIN + 1);
    fired.first().map(|f| f.transition.new_state.value)
}

#[test]
fn three_of_five_with_each_treatment() {
    const G: Option<f64> = Some(50.0);
    const B: Option<f64> = Some(500.0);
    const M: Option<f64> = None;
    use StateValue::{Alarm, Ok};
    use TreatMissingData::{Breaching, Ignore, Missing, NotBreaching};
    // Missing at the start: five real datapoints decide, whatever the treatment.
    for treat in TreatMissingData::ALL {
        assert_eq!(
            three_of_five([M, M, B, G, B, G, B], treat),
            Some(Alarm),
            "{treat:?}"
        );
        assert_eq!(
            three_of_five([M, M, B, G, B, G, G], treat),
            Some(Ok),
            "{treat:?}"
        );
    }
    // Missing in the middle, four real: one slot filled.
    let p = [M, M, B, M, B, G, G];
    assert_eq!(three_of_five(p, Breaching), Some(Alarm));
    assert_eq!(three_of_five(p, NotBreaching), Some(Ok));
    assert_eq!(three_of_five(p, Missing), Some(Ok));
    assert_eq!(three_of_five(p, Ignore), Some(Ok));
    // Two old breaching datapoints, nothing since: premature alarm only with `missing`.
    let p = [M, M, B, M, B, M, M];
    assert_eq!(three_of_five(p, Missing), Some(Alarm));
    assert_eq!(three_of_five(p, Ignore), None);
    assert_eq!(three_of_five(p, Breaching), Some(Alarm));
    assert_eq!(three_of_five(p, NotBreaching), Some(Ok));
    // Nothing at all.
    let p = [M; 7];
    assert_eq!(three_of_five(p, Missing), None); // already INSUFFICIENT_DATA
    assert_eq!(three_of_five(p, Ignore), None);
    assert_eq!(three_of_five(p, Breaching), Some(Alarm));
    assert_eq!(three_of_five(p, NotBreaching), Some(Ok));
}

fn invalid(change: impl FnOnce(&mut AlarmDefinition)) -> MonitorError {
    let mut d = errors_alarm();
    change(&mut d);
    d.validate().unwrap_err()
}

#[test]
fn validation_errors_carry_aws_messages() {
    assert_eq!(errors_alarm().validate(), Ok(()));
    let e = invalid(|d| d.evaluation_periods = 0);
    assert_eq!(e.code(), "InvalidParameterValue");
    assert_eq!(
        e.to_string(),
        "1 validation error detected: Value '0' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    let e = invalid(|d| {
        d.evaluation_periods = 3;
        d.datapoints_to_alarm = Some(4);
    });
    assert_eq!(
        e.to_string(),
        "DatapointsToAlarm must be less than or equal to EvaluationPeriods"
    );
    // Period × EvaluationPeriods: one day for periods under an hour, seven days otherwise.
    let e = invalid(|d| {
        d.period = 60;
        d.evaluation_periods = 1441;
    });
    assert_eq!(
        e.to_string(),
        "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)"
    );
    let mut ok = errors_alarm();
    ok.period = 60;
    ok.evaluation_periods = 1440;
    assert_eq!(ok.validate(), Ok(()));
    ok.period = 3600;
    ok.evaluation_periods = 168;
    assert_eq!(ok.validate(), Ok(()));
    let e = invalid(|d| d.evaluation_periods = 169);
    assert!(e.to_string().contains("<= 604800"), "{e}");
    let e = invalid(|d| d.period = 90);
    assert_eq!(
        e.to_string(),
        "The parameter Period must be 10, 20, 30, or a multiple of 60."
    );
    let e = invalid(|d| d.period = 10);
    assert_eq!(e.code(), "InvalidParameterValue");
    let e = invalid(|d| d.extended_statistic = Some("p99".into()));
    assert_eq!(e.code(), "InvalidParameterCombination");
    assert_eq!(
        e.to_string(),
        "Exactly one element of the Statistic and ExtendedStatistic parameters must be set."
    );
    let e = invalid(|d| d.statistic = None);
    assert_eq!(e.code(), "InvalidParameterCombination");
    let e = invalid(|d| d.statistic = Some("sum".into()));
    assert!(
        e.to_string().contains("Member must satisfy enum value set"),
        "{e}"
    );
    let e = invalid(|d| {
        d.comparison_operator = ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold
    });
    assert_eq!(e.code(), "InvalidParameterCombination");
    let e = invalid(|d| d.alarm_name = String::new());
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("MissingParameter", "The parameter AlarmName is required.")
    );
    let e = invalid(|d| d.alarm_name = "x".repeat(256));
    assert!(
        e.to_string()
            .contains("Member must have length less than or equal to 255"),
        "{e}"
    );
    let e = invalid(|d| d.alarm_name = "a\nb".into());
    assert_eq!(e.code(), "InvalidParameterValue");
    let e = invalid(|d| d.alarm_actions = vec!["arn:aws:sns:us-east-1:1:t".into(); 6]);
    assert!(e.to_string().contains("less than or equal to 5"), "{e}");
    let e = invalid(|d| d.threshold = f64::NAN);
    assert_eq!(e.code(), "InvalidParameterValue");
    let e = invalid(|d| {
        d.evaluate_low_sample_count_percentile =
            Some(flowwatch_monitor::alarms::LowSampleCountPercentile::Ignore)
    });
    assert_eq!(e.code(), "InvalidParameterCombination");
    assert!(ComparisonOperator::parse("GreaterThan").is_err());
    assert_eq!(
        TreatMissingData::parse("notBreaching"),
        Ok(TreatMissingData::NotBreaching)
    );

    // The set refuses invalid definitions and stores nothing.
    let mut alarms = AlarmSet::default();
    let mut bad = errors_alarm();
    bad.period = 0;
    assert!(alarms.put(&scope(), bad, T0).is_err());
    assert!(alarms.is_empty());
}

#[test]
fn notification_message_and_subject() {
    let scope = scope();
    let mut alarms = AlarmSet::default();
    alarms.put(&scope, errors_alarm(), T0).unwrap();
    let t = alarms
        .set_state(
            &scope,
            "errors-high",
            StateValue::Alarm,
            "testing",
            Some(r#"{"a":1}"#),
            T0 + 1_234,
        )
        .unwrap()
        .unwrap();
    let def = errors_alarm();
    let message = alarm_notification_message(&def, &scope.account, &scope.region, T0, &t);
    assert_eq!(
        message,
        json!({
            "AlarmName": "errors-high",
            "AlarmDescription": "too many errors",
            "AWSAccountId": "123456789012",
            "AlarmConfigurationUpdatedTimestamp": "2026-11-23T17:00:00.000+0000",
            "NewStateValue": "ALARM",
            "NewStateReason": "testing",
            "StateChangeTime": "2026-11-23T17:00:01.234+0000",
            "Region": "US East (N. Virginia)",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors-high",
            "OldStateValue": "INSUFFICIENT_DATA",
            "OKActions": [],
            "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"],
            "InsufficientDataActions": [],
            "Trigger": {
                "MetricName": "Errors",
                "Namespace": "App",
                "StatisticType": "Statistic",
                "Statistic": "SUM",
                "Unit": null,
                "Dimensions": [{"value": "prod", "name": "Env"}],
                "Period": 3600,
                "EvaluationPeriods": 1,
                "DatapointsToAlarm": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Threshold": 10.0,
                "TreatMissingData": "missing",
                "EvaluateLowSampleCountPercentile": ""
            }
        })
    );
    assert_eq!(
        alarm_notification_subject(&def, &scope.region, &t),
        "ALARM: \"errors-high\" in US East (N. Virginia)"
    );
    let mut long = def.clone();
    long.alarm_name = "n".repeat(200);
    assert_eq!(
        alarm_notification_subject(&long, "eu-west-1", &t)
            .chars()
            .count(),
        100
    );
}

#[test]
fn describe_set_state_delete_and_round_trip() {
    let scope = scope();
    let other = Scope {
        account: "123456789012".into(),
        region: "eu-west-1".into(),
    };
    let mut alarms = AlarmSet::default();
    for name in ["api-errors", "api-latency", "db-cpu"] {
        let mut d = errors_alarm();
        d.alarm_name = name.into();
        if name == "db-cpu" {
            d.alarm_actions = vec!["arn:aws:automate:us-east-1:ec2:stop".into()];
        }
        alarms.put(&scope, d, T0).unwrap();
    }
    alarms.put(&other, errors_alarm(), T0).unwrap();
    fn names_in(alarms: &AlarmSet, f: &DescribeFilter, s: &Scope) -> Vec<String> {
        alarms
            .describe(s, f)
            .unwrap()
            .iter()
            .map(|a| a.definition.alarm_name.clone())
            .collect()
    }
    assert_eq!(
        names_in(&alarms, &DescribeFilter::default(), &scope),
        ["api-errors", "api-latency", "db-cpu"]
    );
    assert_eq!(
        names_in(&alarms, &DescribeFilter::default(), &other),
        ["errors-high"]
    );
    let prefix = DescribeFilter {
        alarm_name_prefix: Some("api-".into()),
        ..Default::default()
    };
    assert_eq!(
        names_in(&alarms, &prefix, &scope),
        ["api-errors", "api-latency"]
    );
    let by_name = DescribeFilter {
        alarm_names: vec!["db-cpu".into(), "nope".into()],
        ..Default::default()
    };
    assert_eq!(names_in(&alarms, &by_name, &scope), ["db-cpu"]);
    let action = DescribeFilter {
        action_prefix: Some("arn:aws:automate:".into()),
        ..Default::default()
    };
    assert_eq!(names_in(&alarms, &action, &scope), ["db-cpu"]);
    let both = DescribeFilter {
        alarm_names: vec!["a".into()],
        alarm_name_prefix: Some("a".into()),
        ..Default::default()
    };
    assert_eq!(
        alarms.describe(&scope, &both).unwrap_err().code(),
        "InvalidParameterCombination"
    );

    // SetAlarmState.
    assert!(
        alarms
            .set_state(
                &scope,
                "api-errors",
                StateValue::Alarm,
                "manual",
                None,
                T0 + 1
            )
            .unwrap()
            .is_some()
    );
    let alarm_state = DescribeFilter {
        state_value: Some(StateValue::Alarm),
        ..Default::default()
    };
    assert_eq!(names_in(&alarms, &alarm_state, &scope), ["api-errors"]);
    let e = alarms
        .set_state(
            &scope,
            "api-errors",
            StateValue::Ok,
            "x",
            Some("{not json"),
            T0,
        )
        .unwrap_err();
    assert_eq!(e.code(), "InvalidFormat");
    let e = alarms
        .set_state(&scope, "nope", StateValue::Ok, "x", None, T0)
        .unwrap_err();
    assert_eq!(e.code(), "ResourceNotFound");
    // The next evaluation restores the real state (no data: INSUFFICIENT_DATA).
    let fired = alarms.evaluate_all(&MetricStore::default(), T0 + MIN);
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].transition.new_state.value,
        StateValue::InsufficientData
    );

    // An update keeps the state.
    alarms
        .set_state(&scope, "db-cpu", StateValue::Ok, "manual", None, T0 + 2)
        .unwrap();
    let mut d = alarms.get(&scope, "db-cpu").unwrap().definition.clone();
    d.threshold = 99.0;
    alarms.put(&scope, d, T0 + 3).unwrap();
    let a = alarms.get(&scope, "db-cpu").unwrap();
    assert_eq!(
        (
            a.state.value,
            a.definition.threshold,
            a.configuration_updated_ms
        ),
        (StateValue::Ok, 99.0, T0 + 3)
    );

    // Round trip.
    let text = serde_json::to_string(&alarms).unwrap();
    let back: AlarmSet = serde_json::from_str(&text).unwrap();
    assert_eq!(back, alarms);

    // Delete: the existing ones go, the missing one is reported; history survives.
    let e = alarms
        .delete(&scope, &["api-errors".into(), "nope".into()], T0 + 4)
        .unwrap_err();
    assert_eq!(e.code(), "ResourceNotFound");
    assert!(alarms.get(&scope, "api-errors").is_none());
    let h = alarms.history(&scope, Some("api-errors"), None, 0, i64::MAX);
    assert_eq!(h[0].summary, "Alarm \"api-errors\" deleted");
    assert_eq!(alarms.len(), 3);
    alarms.expire_history(T0 + 15 * 24 * 3_600_000);
    assert!(alarms.history(&scope, None, None, 0, i64::MAX).is_empty());
}

#[test]
fn describe_pages_with_next_token() {
    let scope = scope();
    let mut alarms = AlarmSet::default();
    for i in 0..7 {
        let mut d = errors_alarm();
        d.alarm_name = format!("alarm-{i}");
        alarms.put(&scope, d, T0).unwrap();
    }
    let all = DescribeFilter::default();
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let (page, next) = alarms
            .describe_page(&scope, &all, Some(3), token.as_deref())
            .unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.iter().map(|a| a.definition.alarm_name.clone()));
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let want: Vec<String> = (0..7).map(|i| format!("alarm-{i}")).collect();
    assert_eq!(seen, want);
    // An exact fit has no next token.
    let (page, next) = alarms.describe_page(&scope, &all, Some(7), None).unwrap();
    assert_eq!((page.len(), next), (7, None));
    let e = alarms
        .describe_page(&scope, &all, Some(101), None)
        .unwrap_err();
    assert_eq!(e.code(), "InvalidParameterValue");
}
