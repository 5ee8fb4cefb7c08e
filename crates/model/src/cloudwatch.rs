//! Request and response shapes of the CloudWatch API (metrics), member names as in the AWS
//! model (PascalCase). Timestamps are epoch seconds, as awsJson1.0 carries them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    pub name: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricStatisticsInput {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Option<Vec<Dimension>>,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub period: Option<i64>,
    pub statistics: Option<Vec<String>>,
    pub extended_statistics: Option<Vec<String>>,
    pub unit: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Datapoint {
    /// Epoch seconds.
    pub timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    pub unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_statistics: Option<std::collections::BTreeMap<String, f64>>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricStatisticsOutput {
    pub label: String,
    pub datapoints: Vec<Datapoint>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricsInput {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Option<Vec<Dimension>>,
    pub next_token: Option<String>,
    pub recently_active: Option<String>,
    pub include_linked_accounts: Option<bool>,
    pub owning_account: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<Dimension>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricsOutput {
    pub metrics: Vec<Metric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ----- alarms -------------------------------------------------------------------------------

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// PutMetricAlarm (single-metric form; the math and PromQL forms are refused).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricAlarmInput {
    pub alarm_name: Option<String>,
    pub alarm_description: Option<String>,
    pub actions_enabled: Option<bool>,
    #[serde(rename = "OKActions")]
    pub ok_actions: Option<Vec<String>>,
    pub alarm_actions: Option<Vec<String>>,
    pub insufficient_data_actions: Option<Vec<String>>,
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub dimensions: Option<Vec<Dimension>>,
    pub period: Option<i64>,
    pub unit: Option<String>,
    pub evaluation_periods: Option<i64>,
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: Option<f64>,
    pub comparison_operator: Option<String>,
    pub treat_missing_data: Option<String>,
    pub evaluate_low_sample_count_percentile: Option<String>,
    pub metrics: Option<Vec<serde_json::Value>>,
    pub threshold_metric_id: Option<String>,
    pub evaluation_criteria: Option<serde_json::Value>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsInput {
    pub alarm_names: Option<Vec<String>>,
    pub alarm_name_prefix: Option<String>,
    pub alarm_types: Option<Vec<String>>,
    pub children_of_alarm_name: Option<String>,
    pub parents_of_alarm_name: Option<String>,
    pub state_value: Option<String>,
    pub action_prefix: Option<String>,
    pub max_records: Option<i64>,
    pub next_token: Option<String>,
}

/// DescribeAlarms' `MetricAlarm`.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricAlarm {
    pub alarm_name: String,
    pub alarm_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_description: Option<String>,
    /// Epoch seconds.
    pub alarm_configuration_updated_timestamp: f64,
    pub actions_enabled: bool,
    #[serde(rename = "OKActions")]
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub state_value: String,
    pub state_reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason_data: Option<String>,
    pub state_updated_timestamp: f64,
    pub metric_name: String,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    pub dimensions: Vec<Dimension>,
    pub period: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub evaluation_periods: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: f64,
    pub comparison_operator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluate_low_sample_count_percentile: Option<String>,
    pub state_transitioned_timestamp: f64,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsOutput {
    pub metric_alarms: Vec<MetricAlarm>,
    pub composite_alarms: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsForMetricInput {
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub dimensions: Option<Vec<Dimension>>,
    pub period: Option<i64>,
    pub unit: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsForMetricOutput {
    pub metric_alarms: Vec<MetricAlarm>,
}

/// DeleteAlarms, EnableAlarmActions and DisableAlarmActions.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmNamesInput {
    pub alarm_names: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetAlarmStateInput {
    pub alarm_name: Option<String>,
    pub state_value: Option<String>,
    pub state_reason: Option<String>,
    pub state_reason_data: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmHistoryInput {
    pub alarm_name: Option<String>,
    pub alarm_contributor_id: Option<String>,
    pub alarm_types: Option<Vec<String>>,
    pub history_item_type: Option<String>,
    pub start_date: Option<f64>,
    pub end_date: Option<f64>,
    pub max_records: Option<i64>,
    pub next_token: Option<String>,
    pub scan_by: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmHistoryItem {
    pub alarm_name: String,
    pub alarm_type: String,
    /// Epoch seconds.
    pub timestamp: f64,
    pub history_item_type: String,
    pub history_summary: String,
    pub history_data: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmHistoryOutput {
    pub alarm_history_items: Vec<AlarmHistoryItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ----- metric data --------------------------------------------------------------------------

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatisticSet {
    pub sample_count: Option<f64>,
    pub sum: Option<f64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDatum {
    pub metric_name: Option<String>,
    pub dimensions: Option<Vec<Dimension>>,
    /// Epoch seconds.
    pub timestamp: Option<f64>,
    pub value: Option<f64>,
    pub statistic_values: Option<StatisticSet>,
    pub values: Option<Vec<f64>>,
    pub counts: Option<Vec<f64>>,
    pub unit: Option<String>,
    pub storage_resolution: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricDataInput {
    pub namespace: Option<String>,
    pub metric_data: Option<Vec<MetricDatum>>,
    pub entity_metric_data: Option<Vec<serde_json::Value>>,
    pub strict_entity_validation: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricRef {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Option<Vec<Dimension>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    pub metric: Option<MetricRef>,
    pub period: Option<i64>,
    pub stat: Option<String>,
    pub unit: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataQuery {
    pub id: Option<String>,
    pub metric_stat: Option<MetricStat>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub return_data: Option<bool>,
    pub period: Option<i64>,
    pub account_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricDataInput {
    pub metric_data_queries: Option<Vec<MetricDataQuery>>,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub next_token: Option<String>,
    pub scan_by: Option<String>,
    pub max_datapoints: Option<i64>,
    pub label_options: Option<serde_json::Value>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageData {
    pub code: String,
    pub value: String,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataResult {
    pub id: String,
    pub label: String,
    /// Epoch seconds.
    pub timestamps: Vec<f64>,
    pub values: Vec<f64>,
    pub status_code: String,
    pub messages: Vec<MessageData>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricDataOutput {
    pub metric_data_results: Vec<MetricDataResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub messages: Vec<MessageData>,
}
