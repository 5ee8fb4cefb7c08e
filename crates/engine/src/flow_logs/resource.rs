//! A flow log as flowwatch keeps it, and the validation of CreateFlowLogs' parameters into one
//! (`spec/flowlogs.md` §5–§9).

use flowwatch_flowlog::LogFormat;
use flowwatch_model::ec2::{CreateFlowLogsInput, Tag};
use flowwatch_model::{ApiError, ApiResult, ErrorCode};
use serde::{Deserialize, Serialize};

/// Most resources one CreateFlowLogs call takes.
pub(crate) const MAX_RESOURCE_IDS: usize = 1000;
/// Most tags on one flow log.
const MAX_TAGS: usize = 50;
/// The longest ClientToken EC2 takes.
const MAX_CLIENT_TOKEN: usize = 64;

/// What a flow log watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ResourceType {
    Vpc,
    Subnet,
    NetworkInterface,
}

impl ResourceType {
    pub(crate) fn id_prefix(self) -> &'static str {
        match self {
            Self::Vpc => "vpc-",
            Self::Subnet => "subnet-",
            Self::NetworkInterface => "eni-",
        }
    }
}

/// Which records a flow log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum TrafficType {
    Accept,
    Reject,
    All,
}

impl TrafficType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "ACCEPT",
            Self::Reject => "REJECT",
            Self::All => "ALL",
        }
    }
}

/// Where a flow log delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Destination {
    CloudWatchLogs {
        group: String,
    },
    S3 {
        bucket: String,
        /// The key prefix before `AWSLogs/`, without slashes at either end; may be empty.
        prefix: String,
        parquet: bool,
        hive: bool,
        per_hour: bool,
    },
}

impl Destination {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::CloudWatchLogs { .. } => "cloud-watch-logs",
            Self::S3 { .. } => "s3",
        }
    }
}

/// One flow log on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FlowLog {
    pub id: String,
    pub account: String,
    pub region: String,
    /// Milliseconds since the epoch.
    pub creation_time: i64,
    pub resource_type: ResourceType,
    pub resource_id: String,
    pub traffic_type: TrafficType,
    pub destination: Destination,
    /// The LogDestination ARN as DescribeFlowLogs shows it.
    pub log_destination: String,
    pub deliver_logs_permission_arn: Option<String>,
    pub deliver_cross_account_role: Option<String>,
    /// The `${field}` list (the default format when none was given).
    pub log_format: String,
    pub max_aggregation_interval: i64,
    pub tags: Vec<(String, String)>,
    /// The last delivery failure (`Access error`, `Rate limited`, `Unknown error`); `None`
    /// while deliveries succeed.
    pub delivery_error: Option<String>,
}

/// The validated parameters of a CreateFlowLogs call, before ids are given out.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub resource_type: ResourceType,
    pub resource_ids: Vec<String>,
    pub traffic_type: TrafficType,
    pub destination: Destination,
    pub log_destination: String,
    pub deliver_logs_permission_arn: Option<String>,
    pub deliver_cross_account_role: Option<String>,
    pub log_format: String,
    pub max_aggregation_interval: i64,
    pub tags: Vec<(String, String)>,
}

pub(crate) fn missing(member: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MissingRequiredParameterException,
        format!("The request must contain the parameter {member}"),
    )
}

pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterValueException, message)
}

fn combination(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterCombinationException, message)
}

fn unsupported(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::UnsupportedOperation, message)
}

/// Whether `id` is `prefix` followed by 8 or 17 lowercase hex digits.
pub(crate) fn is_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Checks CreateFlowLogs' parameters, in the order EC2 reports them. `account` and `region`
/// are the caller's: a log group ARN must name them.
pub(crate) fn validate(
    input: &CreateFlowLogsInput,
    account: &str,
    region: &str,
) -> ApiResult<Request> {
    if let Some(token) = &input.client_token
        && (token.is_empty() || token.len() > MAX_CLIENT_TOKEN || !token.is_ascii())
    {
        return Err(invalid(format!(
            "ClientToken must be 1 to {MAX_CLIENT_TOKEN} ASCII characters"
        )));
    }
    let resource_type = match input.resource_type.as_deref() {
        None => return Err(missing("ResourceType")),
        Some("VPC") => ResourceType::Vpc,
        Some("Subnet") => ResourceType::Subnet,
        Some("NetworkInterface") => ResourceType::NetworkInterface,
        Some(t @ ("TransitGateway" | "TransitGatewayAttachment" | "RegionalNatGateway")) => {
            return Err(unsupported(format!(
                "flowwatch does not support flow logs for ResourceType {t}; use VPC, Subnet or NetworkInterface"
            )));
        }
        Some(other) => {
            return Err(invalid(format!(
                "Invalid ResourceType '{other}': expected VPC, Subnet or NetworkInterface"
            )));
        }
    };
    let resource_ids = input.resource_id.clone().unwrap_or_default();
    if resource_ids.is_empty() {
        return Err(missing("ResourceId"));
    }
    if resource_ids.len() > MAX_RESOURCE_IDS {
        return Err(invalid(format!(
            "At most {MAX_RESOURCE_IDS} ResourceIds may be given, not {}",
            resource_ids.len()
        )));
    }
    let prefix = resource_type.id_prefix();
    if let Some(bad) = resource_ids.iter().find(|id| !is_id(id, prefix)) {
        return Err(invalid(format!(
            "Invalid id '{bad}' for ResourceType {}: expected {prefix} followed by 8 or 17 hex digits",
            input.resource_type.as_deref().unwrap_or_default()
        )));
    }
    let traffic_type = match input.traffic_type.as_deref() {
        None => return Err(missing("TrafficType")),
        Some("ACCEPT") => TrafficType::Accept,
        Some("REJECT") => TrafficType::Reject,
        Some("ALL") => TrafficType::All,
        Some(other) => {
            return Err(invalid(format!(
                "Invalid TrafficType '{other}': expected ACCEPT, REJECT or ALL"
            )));
        }
    };
    let (destination, log_destination) = destination(input, account, region)?;
    let deliver_logs_permission_arn = input.deliver_logs_permission_arn.clone();
    match (&destination, &deliver_logs_permission_arn) {
        (Destination::CloudWatchLogs { .. }, None) => {
            return Err(missing("DeliverLogsPermissionArn"));
        }
        (Destination::CloudWatchLogs { .. }, Some(role)) if !is_role_arn(role) => {
            return Err(invalid(format!(
                "DeliverLogsPermissionArn '{role}' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
            )));
        }
        (Destination::S3 { .. }, Some(_)) => {
            return Err(combination(
                "DeliverLogsPermissionArn is not applicable for s3 delivery",
            ));
        }
        _ => {}
    }
    if input.deliver_cross_account_role.is_some() {
        return Err(combination(
            "DeliverCrossAccountRole is only applicable for kinesis-data-firehose delivery",
        ));
    }
    let log_format = match input.log_format.as_deref() {
        None => LogFormat::default_vpc(),
        Some(text) => {
            let format =
                LogFormat::parse(text).map_err(|e| invalid(format!("Invalid LogFormat: {e}")))?;
            if format.is_transit_gateway() {
                return Err(invalid(
                    "Invalid LogFormat: Transit Gateway fields are not available for VPC, Subnet or NetworkInterface flow logs",
                ));
            }
            format
        }
    };
    let max_aggregation_interval = match input.max_aggregation_interval {
        None => 600,
        Some(v @ (60 | 600)) => v,
        Some(other) => {
            return Err(invalid(format!(
                "Invalid MaxAggregationInterval {other}: expected 60 or 600"
            )));
        }
    };
    Ok(Request {
        resource_type,
        resource_ids,
        traffic_type,
        destination,
        log_destination,
        deliver_logs_permission_arn,
        deliver_cross_account_role: None,
        log_format: log_format.to_string(),
        max_aggregation_interval,
        tags: tags(input)?,
    })
}

fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", acct, resource]
        if partition.starts_with("aws")
            && acct.len() == 12
            && acct.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty()))
}

/// LogDestinationType, LogDestination, LogGroupName and DestinationOptions.
fn destination(
    input: &CreateFlowLogsInput,
    account: &str,
    region: &str,
) -> ApiResult<(Destination, String)> {
    let options = input.destination_options.as_ref();
    match input.log_destination_type.as_deref() {
        None | Some("cloud-watch-logs") => {
            if options.is_some() {
                return Err(combination(
                    "DestinationOptions is only applicable for s3 delivery",
                ));
            }
            let group = match (&input.log_group_name, &input.log_destination) {
                (Some(_), Some(_)) => {
                    return Err(combination(
                        "Please only provide LogGroupName or only provide LogDestination.",
                    ));
                }
                (None, None) => return Err(missing("LogGroupName or LogDestination")),
                (Some(name), None) => name.clone(),
                (None, Some(arn)) => log_group_from_arn(arn, account, region)?,
            };
            flowwatch_model::LogGroupName::parse("LogGroupName", &group)
                .map_err(|e| invalid(e.message))?;
            let arn = format!("arn:aws:logs:{region}:{account}:log-group:{group}");
            Ok((Destination::CloudWatchLogs { group }, arn))
        }
        Some("s3") => {
            if input.log_group_name.is_some() {
                return Err(combination(
                    "LogGroupName is only applicable for cloud-watch-logs delivery",
                ));
            }
            let arn = input
                .log_destination
                .as_deref()
                .ok_or_else(|| missing("LogDestination"))?;
            let (bucket, prefix) = bucket_from_arn(arn)?;
            let options = options.cloned().unwrap_or_default();
            let parquet = match options.file_format.as_deref() {
                None | Some("plain-text") => false,
                Some("parquet") => true,
                Some(other) => {
                    return Err(invalid(format!(
                        "Invalid DestinationOptions.FileFormat '{other}': expected plain-text or parquet"
                    )));
                }
            };
            Ok((
                Destination::S3 {
                    bucket,
                    prefix,
                    parquet,
                    hive: options.hive_compatible_partitions.unwrap_or(false),
                    per_hour: options.per_hour_partition.unwrap_or(false),
                },
                arn.to_owned(),
            ))
        }
        Some("kinesis-data-firehose") => Err(unsupported(
            "flowwatch does not support delivery to kinesis-data-firehose; use cloud-watch-logs or s3",
        )),
        Some(other) => Err(invalid(format!(
            "Invalid LogDestinationType '{other}': expected cloud-watch-logs, s3 or kinesis-data-firehose"
        ))),
    }
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>[:*]` in the caller's account and region.
fn log_group_from_arn(arn: &str, account: &str, region: &str) -> ApiResult<String> {
    let bad = || {
        invalid(format!(
            "LogDestination '{arn}' is not a log group ARN (arn:aws:logs:{region}:{account}:log-group:<name>)"
        ))
    };
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let ["arn", partition, "logs", r, a, "log-group", name] = parts.as_slice() else {
        return Err(bad());
    };
    if !partition.starts_with("aws") || *r != region || *a != account {
        return Err(bad());
    }
    let name = name.strip_suffix(":*").unwrap_or(name);
    if name.is_empty() {
        return Err(bad());
    }
    Ok(name.to_owned())
}

/// `arn:aws:s3:::<bucket>[/<prefix>[/]]`: the bucket and the prefix without slashes at its ends.
fn bucket_from_arn(arn: &str) -> ApiResult<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:s3:::").ok_or_else(|| {
        invalid(format!(
            "LogDestination '{arn}' is not an S3 bucket ARN (arn:aws:s3:::<bucket>[/<prefix>/])"
        ))
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if !flowwatch_model::names::valid_bucket_name(bucket) {
        return Err(invalid(format!("Invalid S3 bucket name '{bucket}'")));
    }
    let prefix = prefix.trim_matches('/');
    if prefix.split('/').next() == Some("AWSLogs") {
        return Err(invalid(
            "The S3 prefix must not start with AWSLogs: the name is reserved",
        ));
    }
    if !flowwatch_model::names::valid_key_prefix(prefix) {
        return Err(invalid(format!("Invalid S3 prefix '{prefix}'")));
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

/// TagSpecification: one specification for `vpc-flow-log`, keys without `aws:`.
fn tags(input: &CreateFlowLogsInput) -> ApiResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for spec in input.tag_specification.iter().flatten() {
        match spec.resource_type.as_deref() {
            Some("vpc-flow-log") => {}
            None => return Err(missing("TagSpecification.N.ResourceType")),
            Some(other) => {
                return Err(invalid(format!(
                    "'{other}' is not a valid taggable resource type for this operation (expected vpc-flow-log)"
                )));
            }
        }
        for Tag { key, value } in spec.tag.iter().flatten() {
            let key = key
                .clone()
                .ok_or_else(|| missing("TagSpecification.N.Tag.N.Key"))?;
            let value = value.clone().unwrap_or_default();
            if key.is_empty() || key.chars().count() > 127 {
                return Err(invalid(format!(
                    "Tag key '{key}' must be 1 to 127 characters"
                )));
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                return Err(invalid(format!(
                    "Tag key '{key}': keys starting with aws: are reserved"
                )));
            }
            if value.chars().count() > 256 {
                return Err(invalid(format!(
                    "The value of tag '{key}' is longer than 256 characters"
                )));
            }
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some(_) => return Err(invalid(format!("Duplicate tag key '{key}'"))),
                None => out.push((key, value)),
            }
        }
    }
    if out.len() > MAX_TAGS {
        return Err(invalid(format!(
            "A flow log can have at most {MAX_TAGS} tags"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_arns() {
        assert!(is_id("vpc-0123abcd", "vpc-"));
        assert!(is_id("eni-0123456789abcdef0", "eni-"));
        assert!(!is_id("eni-0123456789ABCDEF0", "eni-"));
        assert!(!is_id("vpc-123", "vpc-"));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/flow"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/flow"));
        assert_eq!(
            log_group_from_arn(
                "arn:aws:logs:us-east-1:123456789012:log-group:g:*",
                "123456789012",
                "us-east-1"
            )
            .unwrap(),
            "g"
        );
        assert!(
            log_group_from_arn(
                "arn:aws:logs:eu-west-1:123456789012:log-group:g",
                "123456789012",
                "us-east-1"
            )
            .is_err()
        );
        assert_eq!(
            bucket_from_arn("arn:aws:s3:::my-bucket/a/b/").unwrap(),
            ("my-bucket".to_owned(), "a/b".to_owned())
        );
        assert!(bucket_from_arn("arn:aws:s3:::my-bucket/AWSLogs/").is_err());
        assert!(bucket_from_arn("arn:aws:s3:::B").is_err());
    }
}
