//! Log group actions.

mod describe;
mod settings;

use flowwatch_model::logs::{
    CreateLogGroupRequest, LOG_GROUP_CLASSES, LogGroup, LogGroupNameRequest,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, LogGroupName, arn, limits, tags};
use flowwatch_storage::{LogGroupInfo, NewLogGroup};

use crate::{Engine, storage_error};

/// The `LogGroup` shape of a group.
pub(crate) fn log_group_shape(info: &LogGroupInfo) -> LogGroup {
    let group_arn = arn::log_group_arn(&info.scope, &info.name);
    LogGroup {
        log_group_name: info.name.clone(),
        creation_time: info.creation_time,
        retention_in_days: info.retention.map(|r| r.days()),
        metric_filter_count: Some(info.metric_filter_count as u64),
        arn: format!("{group_arn}:*"),
        stored_bytes: Some(info.stored_bytes),
        kms_key_id: info.kms_key_id.clone(),
        log_group_class: Some(info.class.clone()),
        log_group_arn: Some(group_arn),
        deletion_protection_enabled: Some(info.deletion_protection),
    }
}

/// Checks a `logGroupClass` value against the enum.
pub(crate) fn check_class(class: &str) -> ApiResult<()> {
    if LOG_GROUP_CLASSES.contains(&class) {
        return Ok(());
    }
    Err(ApiError::constraint(
        "logGroupClass",
        class,
        "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
    ))
}

impl Engine {
    pub async fn create_log_group(
        &self,
        caller: &Caller,
        req: CreateLogGroupRequest,
    ) -> ApiResult<()> {
        let name = LogGroupName::required("logGroupName", req.log_group_name)?;
        if name.as_str().starts_with("aws/") {
            return Err(ApiError::invalid_parameter(
                "Log group names starting with 'aws/' are reserved.",
            ));
        }
        if let Some(key) = &req.kms_key_id
            && key.len() > limits::MAX_KMS_KEY_ID_LEN
        {
            return Err(ApiError::constraint(
                "kmsKeyId",
                key,
                "Member must have length less than or equal to 256",
            ));
        }
        let class = req.log_group_class.unwrap_or_else(|| "STANDARD".to_owned());
        check_class(&class)?;
        let group_tags = req.tags.unwrap_or_default();
        if !group_tags.is_empty() {
            tags::check_tags(&group_tags)?;
        }
        let spec = NewLogGroup {
            kms_key_id: req.kms_key_id,
            tags: group_tags,
            class,
            deletion_protection: req.deletion_protection_enabled.unwrap_or(false),
        };
        self.storage()
            .create_log_group(&caller.scope, name.as_str(), spec)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    pub async fn delete_log_group(
        &self,
        caller: &Caller,
        req: LogGroupNameRequest,
    ) -> ApiResult<()> {
        let name = LogGroupName::required("logGroupName", req.log_group_name)?;
        self.storage()
            .delete_log_group_if(&caller.scope, name.as_str(), |g| {
                if g.deletion_protection {
                    Err(deletion_protected())
                } else {
                    Ok(())
                }
            })
            .await
            .map_err(storage_error)
    }
}

/// AWS's answer to deleting a log group (or one of its streams) while deletion protection is on.
pub(crate) fn deletion_protected() -> ApiError {
    ApiError::new(
        ErrorCode::ValidationException,
        "Cannot delete log group with deletion protection enabled. Disable deletion protection first.",
    )
}

/// Resolves the exactly-one-of `logGroupName` / `logGroupIdentifier` pair some actions take.
pub(crate) fn group_name_or_identifier(
    caller: &Caller,
    name: Option<String>,
    identifier: Option<String>,
) -> ApiResult<LogGroupName> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(ApiError::invalid_parameter(
            "LogGroupName and LogGroupIdentifier are mutually exclusive parameters; specify only one.",
        )),
        (None, None) => Err(ApiError::invalid_parameter(
            "Either logGroupName or logGroupIdentifier must be specified.",
        )),
        (Some(name), None) => LogGroupName::parse("logGroupName", &name),
        (None, Some(id)) => {
            arn::resolve_log_group_identifier(&caller.scope, "logGroupIdentifier", &id)
        }
    }
}
