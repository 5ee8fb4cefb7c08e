//! DescribeFlowLogs' selection: FlowLogId, Filter (names and values case-sensitive; values of
//! one filter OR-ed, filters AND-ed) and pages (MaxResults 5–1000, NextToken).

use flowwatch_model::ec2::{
    DescribeFlowLogsInput, DescribeFlowLogsOutput, DestinationOptionsResponse, FlowLogOut, TagOut,
};
use flowwatch_model::{ApiError, ApiResult, ErrorCode};

use super::resource::{Destination, FlowLog, MAX_RESOURCE_IDS, invalid};
use crate::token;

const TOKEN_OP: &str = "dfl";
const MIN_RESULTS: i64 = 5;
const MAX_RESULTS: i64 = 1000;

/// A filter name DescribeFlowLogs knows.
#[derive(Debug)]
enum FilterName {
    DeliverLogStatus,
    LogDestinationType,
    FlowLogId,
    LogGroupName,
    ResourceId,
    TrafficType,
    /// `tag:<key>`: the tag's value is one of the values.
    Tag(String),
    /// `tag-key`: a tag with one of the values as its key.
    TagKey,
}

#[derive(Debug)]
pub(super) struct Query {
    ids: Option<Vec<String>>,
    filters: Vec<(FilterName, Vec<String>)>,
    limit: usize,
    after: Option<String>,
}

impl Query {
    pub(super) fn new(input: &DescribeFlowLogsInput) -> ApiResult<Self> {
        let ids = input.flow_log_id.clone().filter(|ids| !ids.is_empty());
        if let Some(ids) = &ids
            && ids.len() > MAX_RESOURCE_IDS
        {
            return Err(invalid(format!(
                "At most {MAX_RESOURCE_IDS} FlowLogIds may be given, not {}",
                ids.len()
            )));
        }
        let limit = match input.max_results {
            None => MAX_RESULTS,
            Some(_) if ids.is_some() => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameterCombinationException,
                    "The parameter FlowLogIds cannot be used with the parameter MaxResults",
                ));
            }
            Some(n) if (MIN_RESULTS..=MAX_RESULTS).contains(&n) => n,
            Some(n) => {
                return Err(invalid(format!(
                    "Value ( {n} ) for parameter maxResults is invalid. Expecting a value between {MIN_RESULTS} and {MAX_RESULTS}."
                )));
            }
        };
        let mut filters = Vec::new();
        for filter in input.filter.iter().flatten() {
            let name = filter
                .name
                .as_deref()
                .ok_or_else(|| super::missing("Filter.N.Name"))?;
            let parsed = match name {
                "deliver-log-status" => FilterName::DeliverLogStatus,
                "log-destination-type" => FilterName::LogDestinationType,
                "flow-log-id" => FilterName::FlowLogId,
                "log-group-name" => FilterName::LogGroupName,
                "resource-id" => FilterName::ResourceId,
                "traffic-type" => FilterName::TrafficType,
                "tag-key" => FilterName::TagKey,
                n if n.starts_with("tag:") && n.len() > 4 => FilterName::Tag(n[4..].to_owned()),
                other => {
                    return Err(invalid(format!(
                        "The filter '{other}' is invalid (valid: deliver-log-status, log-destination-type, flow-log-id, log-group-name, resource-id, traffic-type, tag:<key>, tag-key)"
                    )));
                }
            };
            filters.push((parsed, filter.value.clone().unwrap_or_default()));
        }
        let after = input
            .next_token
            .as_deref()
            .map(|t| {
                token::decode_after(TOKEN_OP, t).map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidNextToken,
                        format!("The token '{t}' is invalid"),
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            ids,
            filters,
            limit: limit as usize,
            after,
        })
    }

    pub(super) fn matches(&self, log: &FlowLog) -> bool {
        if let Some(ids) = &self.ids
            && !ids.contains(&log.id)
        {
            return false;
        }
        self.filters.iter().all(|(name, values)| {
            let any = |actual: &str| values.iter().any(|v| v == actual);
            match name {
                FilterName::DeliverLogStatus => any(status(log)),
                FilterName::LogDestinationType => any(log.destination.type_name()),
                FilterName::FlowLogId => any(&log.id),
                FilterName::LogGroupName => match &log.destination {
                    Destination::CloudWatchLogs { group } => any(group),
                    Destination::S3 { .. } => false,
                },
                FilterName::ResourceId => any(&log.resource_id),
                FilterName::TrafficType => any(log.traffic_type.as_str()),
                FilterName::Tag(key) => log.tags.iter().any(|(k, v)| k == key && any(v)),
                FilterName::TagKey => log.tags.iter().any(|(k, _)| any(k)),
            }
        })
    }

    /// The page after the token, in creation order.
    pub(super) fn page(&self, logs: &[&FlowLog]) -> ApiResult<DescribeFlowLogsOutput> {
        let start = match &self.after {
            None => 0,
            Some(after) => logs
                .iter()
                .position(|l| l.id == *after)
                .map(|i| i + 1)
                .unwrap_or(logs.len()),
        };
        let page: Vec<&FlowLog> = logs.iter().skip(start).take(self.limit).copied().collect();
        let next_token = (start + page.len() < logs.len())
            .then(|| page.last().map(|l| token::encode_after(TOKEN_OP, &l.id)))
            .flatten();
        Ok(DescribeFlowLogsOutput {
            flow_log_set: page.into_iter().map(describe).collect(),
            next_token,
        })
    }
}

fn status(log: &FlowLog) -> &'static str {
    if log.delivery_error.is_some() {
        "FAILED"
    } else {
        "SUCCESS"
    }
}

fn describe(log: &FlowLog) -> FlowLogOut {
    let (log_group_name, destination_options) = match &log.destination {
        Destination::CloudWatchLogs { group } => (Some(group.clone()), None),
        Destination::S3 {
            parquet,
            hive,
            per_hour,
            ..
        } => (
            None,
            Some(DestinationOptionsResponse {
                file_format: if *parquet { "parquet" } else { "plain-text" }.to_owned(),
                hive_compatible_partitions: *hive,
                per_hour_partition: *per_hour,
            }),
        ),
    };
    FlowLogOut {
        creation_time: log.creation_time as f64 / 1000.0,
        deliver_logs_error_message: log.delivery_error.clone(),
        deliver_logs_permission_arn: log.deliver_logs_permission_arn.clone(),
        deliver_cross_account_role: log.deliver_cross_account_role.clone(),
        deliver_logs_status: status(log).to_owned(),
        flow_log_id: log.id.clone(),
        flow_log_status: "ACTIVE".to_owned(),
        log_group_name,
        resource_id: log.resource_id.clone(),
        traffic_type: log.traffic_type.as_str().to_owned(),
        log_destination_type: log.destination.type_name().to_owned(),
        log_destination: log.log_destination.clone(),
        log_format: log.log_format.clone(),
        tag_set: log
            .tags
            .iter()
            .map(|(key, value)| TagOut {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        max_aggregation_interval: log.max_aggregation_interval,
        destination_options,
    }
}
