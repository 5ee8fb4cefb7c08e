//! flowwatch's internal log groups (names starting `aws/`: PutMetricData's datums, the audit
//! trail) belong to flowwatch, not to users: no Logs operation may name one, so the audit
//! trail cannot be read around LookupEvents, written to or deleted through the Logs API.

use flowwatch_model::{ApiError, ApiResult};
use serde_json::Value;

use crate::audit::members::object_members;
use crate::is_internal_group;

/// Members of Logs requests that name log groups, by name or ARN.
const GROUP_MEMBERS: &[&str] = &[
    "logGroupName",
    "logGroupIdentifier",
    "logGroupNames",
    "logGroupIdentifiers",
    "resourceArn",
];

/// Whether a group name or ARN names an internal group.
fn internal(name: &str) -> bool {
    match name.split_once(":log-group:") {
        Some((_, group)) => is_internal_group(group),
        None => is_internal_group(name),
    }
}

/// Refuses a Logs request (its JSON body) that names an internal log group, as if the group
/// did not exist. Bodies without `aws/` anywhere (nearly all) are not parsed.
pub fn refuse_internal_groups(body: &[u8]) -> ApiResult<()> {
    if memchr::memmem::find(body, b"aws/").is_none() {
        return Ok(());
    }
    // A body that does not parse is the operation's to refuse.
    let Some(members) = object_members(body, &["logEvents"]) else {
        return Ok(());
    };
    let named = GROUP_MEMBERS
        .iter()
        .filter_map(|m| members.get(*m))
        .flat_map(|v| match v {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        })
        .any(internal);
    if named {
        Err(ApiError::log_group_not_found())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_groups_cannot_be_named() {
        for body in [
            r#"{"logGroupName":"aws/cloudtrail/events","logStreamName":"management"}"#,
            r#"{"logGroupIdentifier":"arn:aws:logs:us-east-1:1:log-group:aws/cloudwatch/metric-data"}"#,
            r#"{"logGroupNames":["app","aws/cloudtrail/events"],"queryString":"x"}"#,
        ] {
            assert!(refuse_internal_groups(body.as_bytes()).is_err(), "{body}");
        }
        for body in [
            r#"{"logGroupName":"app","logEvents":[{"timestamp":1,"message":"aws/x"}]}"#,
            r#"{"logGroupName":"/aws/lambda/f"}"#,
            r#"{"logGroupNamePrefix":"aws/"}"#,
            "not json aws/",
            "",
        ] {
            assert!(refuse_internal_groups(body.as_bytes()).is_ok(), "{body}");
        }
    }
}
