//! Alarm history items (DescribeAlarmHistory) and the message CloudWatch sends to SNS when an
//! alarm changes state (`spec/cloudwatch-api.md` §3–4).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::definition::AlarmDefinition;
use super::evaluate::{AlarmState, Transition};
use super::format::iso_millis;

/// `HistoryItemType` of the items an alarm produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistoryItemType {
    ConfigurationUpdate,
    StateUpdate,
    Action,
}

impl HistoryItemType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigurationUpdate => "ConfigurationUpdate",
            Self::StateUpdate => "StateUpdate",
            Self::Action => "Action",
        }
    }
}

/// What a configuration update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigurationChange {
    Create,
    Update,
    Delete,
}

/// One `AlarmHistoryItem`; `history_data` is the JSON text AWS returns in `HistoryData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmHistoryItem {
    pub alarm_name: String,
    pub timestamp_ms: i64,
    pub history_item_type: HistoryItemType,
    pub summary: String,
    pub history_data: String,
}

fn state_json(state: &AlarmState) -> Value {
    let mut v = json!({
        "stateValue": state.value.as_str(),
        "stateReason": state.reason,
    });
    if let Ok(data @ Value::Object(_)) = serde_json::from_str::<Value>(&state.reason_data) {
        v["stateReasonData"] = data;
    }
    v
}

/// The alarm as configuration-update history shows it (DescribeAlarms' member names).
pub fn alarm_json(def: &AlarmDefinition) -> Value {
    let mut v = json!({
        "alarmName": def.alarm_name,
        "actionsEnabled": def.actions_enabled,
        "oKActions": def.ok_actions,
        "alarmActions": def.alarm_actions,
        "insufficientDataActions": def.insufficient_data_actions,
        "metricName": def.metric_name,
        "namespace": def.namespace,
        "dimensions": def.dimensions.iter().map(|d| json!({"name": d.name, "value": d.value})).collect::<Vec<_>>(),
        "period": def.period,
        "evaluationPeriods": def.evaluation_periods,
        "threshold": def.threshold,
        "comparisonOperator": def.comparison_operator.as_str(),
    });
    let optional = [
        (
            "alarmDescription",
            def.alarm_description.clone().map(Value::from),
        ),
        ("statistic", def.statistic.clone().map(Value::from)),
        (
            "extendedStatistic",
            def.extended_statistic.clone().map(Value::from),
        ),
        ("unit", def.unit.clone().map(Value::from)),
        (
            "datapointsToAlarm",
            def.datapoints_to_alarm.map(Value::from),
        ),
        (
            "treatMissingData",
            def.treat_missing_data.map(|t| Value::from(t.as_str())),
        ),
        (
            "evaluateLowSampleCountPercentile",
            def.evaluate_low_sample_count_percentile
                .map(|t| Value::from(t.as_str())),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            v[name] = value;
        }
    }
    v
}

impl AlarmHistoryItem {
    /// `StateUpdate`: `Alarm updated from OK to ALARM`, data
    /// `{"version":"1.0","oldState":{...},"newState":{...}}`.
    pub fn state_update(transition: &Transition) -> Self {
        let data = json!({
            "version": "1.0",
            "oldState": state_json(&transition.old_state),
            "newState": state_json(&transition.new_state),
        });
        Self {
            alarm_name: transition.alarm_name.clone(),
            timestamp_ms: transition.timestamp_ms(),
            history_item_type: HistoryItemType::StateUpdate,
            summary: format!(
                "Alarm updated from {} to {}",
                transition.old_state.value, transition.new_state.value
            ),
            history_data: data.to_string(),
        }
    }

    /// `ConfigurationUpdate`: `Alarm "name" created|updated|deleted`, data
    /// `{"version":"1.0","type":"Create","createdAlarm":{...}}` (an update also carries
    /// `originalAlarm`).
    pub fn configuration_update(
        change: ConfigurationChange,
        def: &AlarmDefinition,
        original: Option<&AlarmDefinition>,
        timestamp_ms: i64,
    ) -> Self {
        let (kind, verb, member) = match change {
            ConfigurationChange::Create => ("Create", "created", "createdAlarm"),
            ConfigurationChange::Update => ("Update", "updated", "updatedAlarm"),
            ConfigurationChange::Delete => ("Delete", "deleted", "deletedAlarm"),
        };
        let mut data = json!({ "version": "1.0", "type": kind });
        data[member] = alarm_json(def);
        if let Some(original) = original {
            data["originalAlarm"] = alarm_json(original);
        }
        Self {
            alarm_name: def.alarm_name.clone(),
            timestamp_ms,
            history_item_type: HistoryItemType::ConfigurationUpdate,
            summary: format!("Alarm \"{}\" {verb}", def.alarm_name),
            history_data: data.to_string(),
        }
    }

    /// `Action`: `Successfully executed action <arn>` or `Failed to execute action <arn>`.
    pub fn action(
        alarm_name: &str,
        timestamp_ms: i64,
        action_arn: &str,
        succeeded: bool,
        detail: &str,
    ) -> Self {
        let summary = if succeeded {
            format!("Successfully executed action {action_arn}")
        } else {
            format!("Failed to execute action {action_arn}")
        };
        let data = json!({
            "actionState": if succeeded { "Succeeded" } else { "Failed" },
            "stateUpdateTimestamp": timestamp_ms,
            "notificationResource": action_arn,
            "error": if succeeded { Value::Null } else { Value::from(detail) },
        });
        Self {
            alarm_name: alarm_name.to_owned(),
            timestamp_ms,
            history_item_type: HistoryItemType::Action,
            summary,
            history_data: data.to_string(),
        }
    }
}

/// The long name CloudWatch writes for a region (`US East (N. Virginia)`); unknown regions are
/// written as given.
pub fn region_long_name(region: &str) -> &str {
    match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-south-2" => "Asia Pacific (Hyderabad)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-southeast-3" => "Asia Pacific (Jakarta)",
        "ap-southeast-4" => "Asia Pacific (Melbourne)",
        "ca-central-1" => "Canada (Central)",
        "ca-west-1" => "Canada West (Calgary)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-central-2" => "EU (Zurich)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "eu-south-2" => "EU (Spain)",
        "il-central-1" => "Israel (Tel Aviv)",
        "me-south-1" => "Middle East (Bahrain)",
        "me-central-1" => "Middle East (UAE)",
        "sa-east-1" => "South America (Sao Paulo)",
        other => other,
    }
}

/// The alarm's ARN, `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`.
pub fn alarm_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

/// Longest SNS subject.
pub const MAX_SUBJECT_CHARS: usize = 100;

/// The SNS subject: `ALARM: "<name>" in US East (N. Virginia)`, cut to SNS's 100 characters.
pub fn alarm_notification_subject(
    def: &AlarmDefinition,
    region: &str,
    transition: &Transition,
) -> String {
    let subject = format!(
        "{}: \"{}\" in {}",
        transition.new_state.value,
        def.alarm_name,
        region_long_name(region)
    );
    subject.chars().take(MAX_SUBJECT_CHARS).collect()
}

/// The JSON message CloudWatch publishes to an SNS topic for a transition.
pub fn alarm_notification_message(
    def: &AlarmDefinition,
    account: &str,
    region: &str,
    configuration_updated_ms: i64,
    transition: &Transition,
) -> Value {
    let mut trigger = json!({
        "MetricName": def.metric_name,
        "Namespace": def.namespace,
        "StatisticType": if def.extended_statistic.is_some() { "ExtendedStatistic" } else { "Statistic" },
        "Unit": def.unit,
        "Dimensions": def.dimensions.iter().map(|d| json!({"value": d.value, "name": d.name})).collect::<Vec<_>>(),
        "Period": def.period,
        "EvaluationPeriods": def.evaluation_periods,
        "DatapointsToAlarm": def.datapoints_to_alarm(),
        "ComparisonOperator": def.comparison_operator.as_str(),
        "Threshold": def.threshold,
        "TreatMissingData": def.treat_missing_data().as_str(),
        "EvaluateLowSampleCountPercentile": def.evaluate_low_sample_count_percentile.map_or("", |e| e.as_str()),
    });
    match (&def.statistic, &def.extended_statistic) {
        (_, Some(extended)) => trigger["ExtendedStatistic"] = Value::from(extended.as_str()),
        (Some(s), None) => trigger["Statistic"] = Value::from(s.to_uppercase()),
        (None, None) => {}
    }
    json!({
        "AlarmName": def.alarm_name,
        "AlarmDescription": def.alarm_description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": iso_millis(configuration_updated_ms),
        "NewStateValue": transition.new_state.value.as_str(),
        "NewStateReason": transition.new_state.reason,
        "StateChangeTime": iso_millis(transition.timestamp_ms()),
        "Region": region_long_name(region),
        "AlarmArn": alarm_arn(account, region, &def.alarm_name),
        "OldStateValue": transition.old_state.value.as_str(),
        "OKActions": def.ok_actions,
        "AlarmActions": def.alarm_actions,
        "InsufficientDataActions": def.insufficient_data_actions,
        "Trigger": trigger,
    })
}
