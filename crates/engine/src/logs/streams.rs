//! Log stream actions.

use flowwatch_model::logs::{LogStreamRequest, required};
use flowwatch_model::{ApiResult, Caller, LogGroupName, LogStreamName};

use crate::{Engine, storage_error};

impl Engine {
    pub async fn create_log_stream(&self, caller: &Caller, req: LogStreamRequest) -> ApiResult<()> {
        let group = LogGroupName::parse(
            "logGroupName",
            &required("logGroupName", req.log_group_name)?,
        )?;
        let stream = LogStreamName::parse(
            "logStreamName",
            &required("logStreamName", req.log_stream_name)?,
        )?;
        self.storage()
            .create_log_stream(&caller.scope, group.as_str(), stream.as_str())
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}
