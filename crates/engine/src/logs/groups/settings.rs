//! Retention policies and deletion protection of a log group.

use flowwatch_model::logs::{
    LogGroupNameRequest, PutLogGroupDeletionProtectionRequest, PutRetentionPolicyRequest, required,
};
use flowwatch_model::{ApiResult, Caller, LogGroupName, RetentionDays, arn};

use crate::{Engine, storage_error};

impl Engine {
    pub async fn put_retention_policy(
        &self,
        caller: &Caller,
        req: PutRetentionPolicyRequest,
    ) -> ApiResult<()> {
        let name = LogGroupName::required("logGroupName", req.log_group_name)?;
        let days = RetentionDays::parse(required("retentionInDays", req.retention_in_days)?)?;
        self.storage()
            .update_log_group(&caller.scope, name.as_str(), move |g| {
                g.retention = Some(days);
                Ok(())
            })
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    pub async fn delete_retention_policy(
        &self,
        caller: &Caller,
        req: LogGroupNameRequest,
    ) -> ApiResult<()> {
        let name = LogGroupName::required("logGroupName", req.log_group_name)?;
        self.storage()
            .update_log_group(&caller.scope, name.as_str(), |g| {
                g.retention = None;
                Ok(())
            })
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    pub async fn put_log_group_deletion_protection(
        &self,
        caller: &Caller,
        req: PutLogGroupDeletionProtectionRequest,
    ) -> ApiResult<()> {
        let identifier = required("logGroupIdentifier", req.log_group_identifier)?;
        let enabled = required("deletionProtectionEnabled", req.deletion_protection_enabled)?;
        let name =
            arn::resolve_log_group_identifier(&caller.scope, "logGroupIdentifier", &identifier)?;
        self.storage()
            .update_log_group(&caller.scope, name.as_str(), move |g| {
                g.deletion_protection = enabled;
                Ok(())
            })
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}
