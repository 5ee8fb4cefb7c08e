//! Tagging actions: TagResource, UntagResource, ListTagsForResource (by ARN) and the older
//! TagLogGroup, UntagLogGroup, ListTagsLogGroup (by name).

use flowwatch_storage::StorageError;

use flowwatch_model::logs::{
    ListTagsForResourceRequest, ListTagsForResourceResponse, ListTagsLogGroupResponse,
    LogGroupNameRequest, TagLogGroupRequest, TagResourceRequest, UntagLogGroupRequest,
    UntagResourceRequest, required,
};
use flowwatch_model::tags::{check_tag_key, check_tags, merge_tags};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, LogGroupName, Scope, Tags, arn};

use crate::{Engine, storage_error};

/// Longest `resourceArn` (the model's `AmazonResourceName`).
const MAX_RESOURCE_ARN_LEN: usize = 1011;
/// Most keys one UntagResource / UntagLogGroup call may name.
const MAX_UNTAG_KEYS: usize = 50;

/// Resolves a taggable `resourceArn` to the log group it names.
fn tagged_group(scope: &Scope, resource_arn: &str) -> ApiResult<LogGroupName> {
    let valid_char = |c: char| {
        c.is_alphanumeric() || matches!(c, '_' | '+' | '=' | '/' | ':' | ',' | '.' | '@' | '-')
    };
    if resource_arn.is_empty() || resource_arn.len() > MAX_RESOURCE_ARN_LEN {
        return Err(ApiError::constraint(
            "resourceArn",
            resource_arn,
            "Member must have length between 1 and 1011",
        ));
    }
    if !resource_arn.chars().all(valid_char) {
        return Err(ApiError::constraint(
            "resourceArn",
            resource_arn,
            "Member must satisfy regular expression pattern: [\\w+=/:,.@-]*",
        ));
    }
    if resource_arn.ends_with(":*") {
        return Err(ApiError::invalid_parameter(format!(
            "The resource ARN {resource_arn} ends with ':*'. Tag a log group by its ARN without ':*' (the logGroupArn field of DescribeLogGroups)."
        )));
    }
    let is_logs_arn = resource_arn.starts_with("arn:aws") && resource_arn.contains(":logs:");
    if is_logs_arn && resource_arn.contains(":destination:") {
        return Err(ApiError::not_found(
            "The specified destination does not exist.",
        ));
    }
    if !is_logs_arn || !resource_arn.contains(":log-group:") {
        return Err(ApiError::invalid_parameter(format!(
            "The resource ARN {resource_arn} does not name a log group or a destination; only those can be tagged."
        )));
    }
    let name = arn::parse_log_group_arn(scope, resource_arn, false)?;
    LogGroupName::parse("resourceArn", name)
}

fn check_untag_keys(member: &str, keys: &[String]) -> ApiResult<()> {
    if keys.len() > MAX_UNTAG_KEYS {
        return Err(ApiError::constraint(
            member,
            &format!("{} entries", keys.len()),
            "Member must have length less than or equal to 50",
        ));
    }
    keys.iter().try_for_each(|k| check_tag_key(k))
}

impl Engine {
    /// Merges `new` into a group's tags in one catalog update, so concurrent calls cannot
    /// together exceed the limit.
    async fn add_tags(&self, scope: &Scope, group: &LogGroupName, new: Tags) -> ApiResult<()> {
        check_tags(&new)?;
        let resource = group.as_str().to_owned();
        self.storage()
            .update_log_group(scope, group.as_str(), move |g| {
                // A refusal leaves the group as it was.
                g.tags = merge_tags(&g.tags, &new, &resource).map_err(StorageError::Refused)?;
                Ok(())
            })
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn remove_tags(
        &self,
        scope: &Scope,
        group: &LogGroupName,
        keys: Vec<String>,
    ) -> ApiResult<()> {
        self.storage()
            .update_log_group(scope, group.as_str(), move |g| {
                for key in &keys {
                    g.tags.remove(key);
                }
                Ok(())
            })
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    fn group_tags(&self, scope: &Scope, group: &LogGroupName) -> ApiResult<Tags> {
        self.storage()
            .log_group(scope, group.as_str())
            .map(|g| g.tags)
            .ok_or_else(ApiError::log_group_not_found)
    }

    pub async fn tag_resource(&self, caller: &Caller, req: TagResourceRequest) -> ApiResult<()> {
        let resource_arn = required("resourceArn", req.resource_arn)?;
        let new = required("tags", req.tags)?;
        let group = tagged_group(&caller.scope, &resource_arn)?;
        self.add_tags(&caller.scope, &group, new)
            .await
            .map_err(|e| {
                if e.code == ErrorCode::TooManyTagsException {
                    ApiError {
                        members: vec![("resourceName", resource_arn.clone().into())],
                        ..e
                    }
                } else {
                    e
                }
            })
    }

    pub async fn untag_resource(
        &self,
        caller: &Caller,
        req: UntagResourceRequest,
    ) -> ApiResult<()> {
        let resource_arn = required("resourceArn", req.resource_arn)?;
        let keys = required("tagKeys", req.tag_keys)?;
        let group = tagged_group(&caller.scope, &resource_arn)?;
        check_untag_keys("tagKeys", &keys)?;
        self.remove_tags(&caller.scope, &group, keys).await
    }

    pub async fn list_tags_for_resource(
        &self,
        caller: &Caller,
        req: ListTagsForResourceRequest,
    ) -> ApiResult<ListTagsForResourceResponse> {
        let resource_arn = required("resourceArn", req.resource_arn)?;
        let group = tagged_group(&caller.scope, &resource_arn)?;
        Ok(ListTagsForResourceResponse {
            tags: self.group_tags(&caller.scope, &group)?,
        })
    }

    pub async fn tag_log_group(&self, caller: &Caller, req: TagLogGroupRequest) -> ApiResult<()> {
        let group = LogGroupName::required("logGroupName", req.log_group_name)?;
        let new = required("tags", req.tags)?;
        // The older API models no TooManyTagsException: the limit is a parameter error there.
        self.add_tags(&caller.scope, &group, new)
            .await
            .map_err(|e| {
                if e.code == ErrorCode::TooManyTagsException {
                    ApiError::invalid_parameter(e.message)
                } else {
                    e
                }
            })
    }

    pub async fn untag_log_group(
        &self,
        caller: &Caller,
        req: UntagLogGroupRequest,
    ) -> ApiResult<()> {
        let group = LogGroupName::required("logGroupName", req.log_group_name)?;
        let keys = required("tags", req.tags)?;
        if keys.is_empty() {
            return Err(ApiError::constraint(
                "tags",
                "[]",
                "Member must have length greater than or equal to 1",
            ));
        }
        check_untag_keys("tags", &keys)?;
        self.remove_tags(&caller.scope, &group, keys).await
    }

    pub async fn list_tags_log_group(
        &self,
        caller: &Caller,
        req: LogGroupNameRequest,
    ) -> ApiResult<ListTagsLogGroupResponse> {
        let group = LogGroupName::required("logGroupName", req.log_group_name)?;
        Ok(ListTagsLogGroupResponse {
            tags: self.group_tags(&caller.scope, &group)?,
        })
    }
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
    fn only_log_group_arns_without_star_are_taggable() {
        let s = scope();
        let ok = tagged_group(&s, "arn:aws:logs:us-east-1:123456789012:log-group:app/web").unwrap();
        assert_eq!(ok.as_str(), "app/web");
        let star =
            tagged_group(&s, "arn:aws:logs:us-east-1:123456789012:log-group:app:*").unwrap_err();
        assert_eq!(star.code, ErrorCode::InvalidParameterException);
        let other = tagged_group(&s, "arn:aws:s3:::bucket").unwrap_err();
        assert_eq!(other.code, ErrorCode::InvalidParameterException);
        let account =
            tagged_group(&s, "arn:aws:logs:us-east-1:999999999999:log-group:app").unwrap_err();
        assert_eq!(account.code, ErrorCode::ResourceNotFoundException);
        let region =
            tagged_group(&s, "arn:aws:logs:eu-west-1:123456789012:log-group:app").unwrap_err();
        assert_eq!(region.code, ErrorCode::ResourceNotFoundException);
    }
}
