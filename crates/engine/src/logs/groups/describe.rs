//! DescribeLogGroups: prefix or pattern or identifiers, class filter, pages of at most 50.

use std::collections::BTreeSet;

use flowwatch_model::logs::{
    DescribeLogGroupsRequest, DescribeLogGroupsResponse, LogGroup, page_limit,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, LogGroupName, arn, limits};
use flowwatch_storage::LogGroupInfo;

use super::{check_class, log_group_shape};
use crate::{Engine, token};

const TOKEN_OP: &str = "DescribeLogGroups";
/// Most `accountIdentifiers` one call may name.
const MAX_ACCOUNT_IDENTIFIERS: usize = 20;

/// Which groups a call selects by name.
enum Selection {
    Prefix(String),
    /// Case-sensitive substring; only `arn`, `creationTime` and `logGroupName` are returned.
    Pattern(String),
    Identifiers(BTreeSet<String>),
}

impl Selection {
    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Prefix(prefix) => name.starts_with(prefix.as_str()),
            Self::Pattern(pattern) => name.contains(pattern.as_str()),
            Self::Identifiers(names) => names.contains(name),
        }
    }
}

fn check_pattern(pattern: &str) -> ApiResult<()> {
    let valid_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#');
    if pattern.len() > limits::MAX_NAME_LEN {
        return Err(ApiError::constraint(
            "logGroupNamePattern",
            pattern,
            "Member must have length less than or equal to 512",
        ));
    }
    if !pattern.chars().all(valid_char) {
        return Err(ApiError::constraint(
            "logGroupNamePattern",
            pattern,
            "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]*",
        ));
    }
    Ok(())
}

fn check_accounts(accounts: &[String]) -> ApiResult<()> {
    if accounts.len() > MAX_ACCOUNT_IDENTIFIERS {
        return Err(ApiError::constraint(
            "accountIdentifiers",
            &format!("{} entries", accounts.len()),
            "Member must have length less than or equal to 20",
        ));
    }
    for account in accounts {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::constraint(
                "accountIdentifiers",
                account,
                "Member must satisfy regular expression pattern: ^\\d{12}$",
            ));
        }
    }
    Ok(())
}

/// Resolves `logGroupIdentifiers` to names. An ARN of another account or region names no group
/// of this caller, so it selects nothing rather than failing the call.
fn identifier_names(caller: &Caller, identifiers: &[String]) -> ApiResult<BTreeSet<String>> {
    if identifiers.is_empty() || identifiers.len() > limits::MAX_LOG_GROUP_IDENTIFIERS {
        return Err(ApiError::constraint(
            "logGroupIdentifiers",
            &format!("{} entries", identifiers.len()),
            "Member must have length less than or equal to 50 and greater than or equal to 1",
        ));
    }
    let mut names = BTreeSet::new();
    for id in identifiers {
        match arn::resolve_log_group_identifier(&caller.scope, "logGroupIdentifiers", id) {
            Ok(name) => {
                names.insert(name.as_str().to_owned());
            }
            Err(e) if e.code == ErrorCode::ResourceNotFoundException => {}
            Err(e) => return Err(e),
        }
    }
    Ok(names)
}

fn selection(caller: &Caller, req: &DescribeLogGroupsRequest) -> ApiResult<Selection> {
    if let Some(identifiers) = &req.log_group_identifiers {
        let others = req.log_group_name_prefix.is_some()
            || req.log_group_name_pattern.is_some()
            || req.log_group_class.is_some()
            || req.account_identifiers.is_some()
            || req.limit.is_some()
            || req.next_token.is_some();
        if others {
            return Err(ApiError::invalid_parameter(
                "If you specify logGroupIdentifiers, the only other parameter you can specify is includeLinkedAccounts.",
            ));
        }
        return identifier_names(caller, identifiers).map(Selection::Identifiers);
    }
    match (&req.log_group_name_prefix, &req.log_group_name_pattern) {
        (Some(_), Some(_)) => Err(ApiError::invalid_parameter(
            "LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters; specify only one.",
        )),
        (Some(prefix), None) => {
            LogGroupName::parse("logGroupNamePrefix", prefix)?;
            Ok(Selection::Prefix(prefix.clone()))
        }
        (None, Some(pattern)) => {
            check_pattern(pattern)?;
            Ok(Selection::Pattern(pattern.clone()))
        }
        (None, None) => Ok(Selection::Prefix(String::new())),
    }
}

impl Engine {
    pub async fn describe_log_groups(
        &self,
        caller: &Caller,
        req: DescribeLogGroupsRequest,
    ) -> ApiResult<DescribeLogGroupsResponse> {
        let selection = selection(caller, &req)?;
        let limit = page_limit(
            "limit",
            req.limit,
            limits::DESCRIBE_LIMIT_MAX,
            limits::DESCRIBE_LIMIT_MAX,
        )?;
        if let Some(class) = &req.log_group_class {
            check_class(class)?;
        }
        if let Some(accounts) = &req.account_identifiers {
            check_accounts(accounts)?;
        }
        let after = req
            .next_token
            .as_deref()
            .map(|t| token::decode_after(TOKEN_OP, t))
            .transpose()?;
        let groups = self.storage().log_groups(&caller.scope);
        let mut matching = groups
            .iter()
            .filter(|g| !crate::is_internal_group(&g.name))
            .filter(|g| selection.matches(&g.name))
            .filter(|g| req.log_group_class.as_ref().is_none_or(|c| &g.class == c))
            .filter(|g| after.as_ref().is_none_or(|a| g.name.as_str() > a.as_str()));
        let page: Vec<&LogGroupInfo> = matching.by_ref().take(limit).collect();
        let next_token = match (page.last(), matching.next()) {
            (Some(last), Some(_)) => Some(token::encode_after(TOKEN_OP, &last.name)),
            _ => None,
        };
        let shape = |info: &LogGroupInfo| match selection {
            Selection::Pattern(_) => LogGroup {
                log_group_name: info.name.clone(),
                creation_time: info.creation_time,
                arn: format!("{}:*", arn::log_group_arn(&info.scope, &info.name)),
                ..LogGroup::default()
            },
            _ => log_group_shape(info),
        };
        Ok(DescribeLogGroupsResponse {
            log_groups: page.into_iter().map(shape).collect(),
            next_token,
        })
    }
}
