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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_aws_describe_log_streams_and_groups_output() {
        // As AWS answers (members this client does not use are ignored).
        let page: LogStreamsPage = serde_json::from_str(
            r#"{"logStreams":[{"logStreamName":"web-1","creationTime":1700000000000,
                "firstEventTimestamp":1700000000001,"lastEventTimestamp":1700000000002,
                "lastIngestionTime":1700000000003,"uploadSequenceToken":"4960",
                "arn":"arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:web-1",
                "storedBytes":0}],"nextToken":"t"}"#,
        )
        .expect("streams");
        assert_eq!(page.log_streams[0].log_stream_name, "web-1");
        assert_eq!(
            page.log_streams[0].last_ingestion_time,
            Some(1_700_000_000_003)
        );
        assert_eq!(page.next_token.as_deref(), Some("t"));

        let page: LogGroupsPage = serde_json::from_str(
            r#"{"logGroups":[{"logGroupName":"app","creationTime":1,"retentionInDays":7,
                "metricFilterCount":0,"arn":"arn:aws:logs:us-east-1:123456789012:log-group:app:*",
                "storedBytes":2048,"logGroupClass":"STANDARD",
                "logGroupArn":"arn:aws:logs:us-east-1:123456789012:log-group:app",
                "deletionProtectionEnabled":false}]}"#,
        )
        .expect("groups");
        assert_eq!(page.log_groups[0].retention_in_days, Some(7));
        assert_eq!(page.log_groups[0].stored_bytes, Some(2048));
        assert!(page.next_token.is_none());

        let empty: LogStreamsPage = serde_json::from_str("{}").expect("empty");
        assert!(empty.log_streams.is_empty());
    }
}
