//! CloudWatch Logs over awsJson1.1: `X-Amz-Target: Logs_20140328.<Op>` to an engine method.

use flowwatch_engine::Engine;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};

use crate::json::{encode, parse};

pub(crate) const TARGET_PREFIX: &str = "Logs_20140328.";

/// Runs one Logs operation on a JSON body and returns the JSON response body.
pub(crate) async fn dispatch(
    engine: &Engine,
    caller: &Caller,
    op: &str,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    // CreateLogGroup refuses reserved names itself (InvalidParameterException).
    if op != "CreateLogGroup" {
        flowwatch_engine::logs::internal::refuse_internal_groups(body)?;
    }
    macro_rules! operations {
        ($($name:literal => $method:ident),* $(,)?) => {
            match op {
                $($name => encode(&engine.$method(caller, parse(body)?).await?),)*
                _ => Err(ApiError::new(
                    ErrorCode::UnknownOperationException,
                    format!("Unknown operation Logs_20140328.{op}."),
                )),
            }
        };
    }
    operations! {
        "CreateLogGroup" => create_log_group,
        "DeleteLogGroup" => delete_log_group,
        "DescribeLogGroups" => describe_log_groups,
        "PutRetentionPolicy" => put_retention_policy,
        "DeleteRetentionPolicy" => delete_retention_policy,
        "PutLogGroupDeletionProtection" => put_log_group_deletion_protection,
        "CreateLogStream" => create_log_stream,
        "DeleteLogStream" => delete_log_stream,
        "DescribeLogStreams" => describe_log_streams,
        "PutLogEvents" => put_log_events,
        "GetLogEvents" => get_log_events,
        "FilterLogEvents" => filter_log_events,
        "PutMetricFilter" => put_metric_filter,
        "DescribeMetricFilters" => describe_metric_filters,
        "DeleteMetricFilter" => delete_metric_filter,
        "TestMetricFilter" => test_metric_filter,
        "StartQuery" => start_query,
        "GetQueryResults" => get_query_results,
        "StopQuery" => stop_query,
        "DescribeQueries" => describe_queries,
        "PutQueryDefinition" => put_query_definition,
        "DescribeQueryDefinitions" => describe_query_definitions,
        "DeleteQueryDefinition" => delete_query_definition,
        "GetLogRecord" => get_log_record,
        "GetLogGroupFields" => get_log_group_fields,
        "TagResource" => tag_resource,
        "UntagResource" => untag_resource,
        "ListTagsForResource" => list_tags_for_resource,
        "TagLogGroup" => tag_log_group,
        "UntagLogGroup" => untag_log_group,
        "ListTagsLogGroup" => list_tags_log_group,
    }
}
