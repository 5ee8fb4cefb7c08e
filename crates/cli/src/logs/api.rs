//! The client side of the CloudWatch Logs shapes this CLI uses (member names as in the AWS
//! model; unknown response members are ignored, every response member is optional).

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogGroups<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log_group_name_prefix: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogGroupsPage {
    #[serde(default)]
    pub(crate) log_groups: Vec<LogGroup>,
    pub(crate) next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogGroup {
    pub(crate) log_group_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) creation_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retention_in_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stored_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metric_filter_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log_group_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log_group_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) arn: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogStreams<'a> {
    pub(crate) log_group_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log_stream_name_prefix: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) order_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) descending: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogStreamsPage {
    #[serde(default)]
    pub(crate) log_streams: Vec<LogStream>,
    pub(crate) next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogStream {
    pub(crate) log_stream_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) creation_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) first_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_ingestion_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateLogGroup<'a> {
    pub(crate) log_group_name: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateLogStream<'a> {
    pub(crate) log_group_name: &'a str,
    pub(crate) log_stream_name: &'a str,
}

/// An output without members (CreateLogGroup, CreateLogStream).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Empty {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InputLogEvent<'a> {
    pub(crate) timestamp: i64,
    pub(crate) message: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutLogEvents<'a> {
    pub(crate) log_group_name: &'a str,
    pub(crate) log_stream_name: &'a str,
    pub(crate) log_events: &'a [InputLogEvent<'a>],
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutLogEventsOutput {
    pub(crate) rejected_log_events_info: Option<RejectedLogEventsInfo>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RejectedLogEventsInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) too_new_log_event_start_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) too_old_log_event_end_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expired_log_event_end_index: Option<usize>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetLogEvents<'a> {
    pub(crate) log_group_name: &'a str,
    pub(crate) log_stream_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) limit: Option<usize>,
    pub(crate) start_from_head: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogEventsPage {
    #[serde(default)]
    pub(crate) events: Vec<OutputLogEvent>,
    pub(crate) next_forward_token: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutputLogEvent {
    pub(crate) timestamp: i64,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ingestion_time: Option<i64>,
}
