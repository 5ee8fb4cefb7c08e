//! flowwatch's own operations (awsJson 1.1, `X-Amz-Target: Flowwatch_20261123.<Op>`): what
//! capture processes call (`docs/flow-records.md`).

use flowwatch_engine::Engine;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};

use crate::json::{encode, parse};

pub(crate) const TARGET_PREFIX: &str = "Flowwatch_20261123.";

/// Runs one flowwatch operation on a JSON body and returns the JSON response body.
pub(crate) async fn dispatch(
    engine: &Engine,
    caller: &Caller,
    op: &str,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    match op {
        "PutFlowRecords" => encode(&engine.put_flow_records(caller, parse(body)?).await?),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation {op}."),
        )),
    }
}
