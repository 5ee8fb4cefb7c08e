//! EC2 (the flow-log operations): one operation's JSON input (the ec2Query form turned into
//! JSON by the query codec) to an engine method, and its JSON answer (turned back into XML).

use flowwatch_engine::Engine;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};

use crate::json::{encode, parse};

/// Runs one EC2 operation on a JSON body and returns the JSON response body.
pub(crate) async fn dispatch(
    engine: &Engine,
    caller: &Caller,
    op: &str,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    match op {
        "CreateFlowLogs" => encode(&engine.create_flow_logs(caller, parse(body)?).await?),
        "DescribeFlowLogs" => encode(&engine.describe_flow_logs(caller, parse(body)?).await?),
        "DeleteFlowLogs" => encode(&engine.delete_flow_logs(caller, parse(body)?).await?),
        _ => Err(ApiError::new(
            ErrorCode::InvalidAction,
            format!("The action {op} is not valid for this web service."),
        )),
    }
}
