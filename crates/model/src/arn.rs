//! ARNs of the resources flowwatch serves.

use crate::caller::Scope;
use crate::error::{ApiError, ApiResult};
use crate::names::LogGroupName;

/// `arn:aws:logs:<region>:<account>:log-group:<name>` (the `logGroupArn` form, without `:*`).
pub fn log_group_arn(scope: &Scope, group: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{group}",
        scope.region, scope.account
    )
}

/// `arn:aws:logs:<region>:<account>:log-group:<group>:log-stream:<stream>`.
pub fn log_stream_arn(scope: &Scope, group: &str, stream: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{group}:log-stream:{stream}",
        scope.region, scope.account
    )
}

/// Resolves a `logGroupIdentifier` (a name, or a log-group ARN with or without `:*`) to a name.
/// An ARN must name the caller's account and region.
pub fn resolve_log_group_identifier(
    scope: &Scope,
    member: &str,
    identifier: &str,
) -> ApiResult<LogGroupName> {
    // The `arn` field of DescribeLogGroups ends in `:*`; accept it as the same group.
    let unstarred = identifier.strip_suffix(":*").unwrap_or(identifier);
    crate::names::check_identifier(member, unstarred)?;
    if !identifier.starts_with("arn:") {
        return LogGroupName::parse(member, identifier);
    }
    let name = parse_log_group_arn(scope, identifier, true)?;
    LogGroupName::parse(member, name)
}

/// Takes the log group name out of a log-group ARN. `allow_star` accepts a trailing `:*`.
pub fn parse_log_group_arn<'a>(
    scope: &Scope,
    arn: &'a str,
    allow_star: bool,
) -> ApiResult<&'a str> {
    let invalid = || ApiError::invalid_parameter(format!("Invalid log group ARN: {arn}"));
    let rest = arn.strip_prefix("arn:").ok_or_else(invalid)?;
    let mut parts = rest.splitn(5, ':');
    let (partition, service, region, account, resource) = (
        parts.next().ok_or_else(invalid)?,
        parts.next().ok_or_else(invalid)?,
        parts.next().ok_or_else(invalid)?,
        parts.next().ok_or_else(invalid)?,
        parts.next().ok_or_else(invalid)?,
    );
    if !partition.starts_with("aws") || service != "logs" {
        return Err(invalid());
    }
    let name = resource.strip_prefix("log-group:").ok_or_else(invalid)?;
    let name = match name.strip_suffix(":*") {
        Some(stripped) if allow_star => stripped,
        Some(_) => return Err(invalid()),
        None => name,
    };
    if region != scope.region || account != scope.account {
        return Err(ApiError::log_group_not_found());
    }
    if name.is_empty() || name.contains(':') {
        return Err(invalid());
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn arn_forms() {
        let s = scope();
        assert_eq!(
            log_group_arn(&s, "a/b"),
            "arn:aws:logs:us-east-1:123456789012:log-group:a/b"
        );
        let name = resolve_log_group_identifier(
            &s,
            "logGroupIdentifier",
            "arn:aws:logs:us-east-1:123456789012:log-group:a/b:*",
        )
        .unwrap();
        assert_eq!(name.as_str(), "a/b");
        assert_eq!(
            resolve_log_group_identifier(&s, "logGroupIdentifier", "app")
                .unwrap()
                .as_str(),
            "app"
        );
        assert!(
            parse_log_group_arn(
                &s,
                "arn:aws:logs:us-east-1:123456789012:log-group:a:*",
                false
            )
            .is_err()
        );
        assert!(parse_log_group_arn(&s, "arn:aws:s3:::bucket", true).is_err());
    }
}
