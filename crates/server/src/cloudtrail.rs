//! CloudTrail over awsJson1.1:
//! `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>` to an engine
//! method. Served: LookupEvents; CreateTrail, UpdateTrail, DescribeTrails, GetTrailStatus,
//! StartLogging, StopLogging, DeleteTrail, PutEventSelectors, GetEventSelectors; ListPublicKeys.

use flowwatch_engine::Engine;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};

use crate::json::{encode, parse};

pub(crate) const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

/// Runs one CloudTrail operation on a JSON body and returns the JSON response body.
pub(crate) async fn dispatch(
    engine: &Engine,
    caller: &Caller,
    op: &str,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    match op {
        "LookupEvents" => encode(&engine.lookup_events(caller, parse(body)?).await?),
        "CreateTrail" => encode(&engine.create_trail(caller, parse(body)?).await?),
        "DescribeTrails" => encode(&engine.describe_trails(caller, parse(body)?).await?),
        "GetTrailStatus" => encode(&engine.get_trail_status(caller, parse(body)?).await?),
        "StartLogging" => encode(&engine.set_trail_logging(caller, parse(body)?, true).await?),
        "StopLogging" => encode(
            &engine
                .set_trail_logging(caller, parse(body)?, false)
                .await?,
        ),
        "UpdateTrail" => encode(&engine.update_trail(caller, parse(body)?).await?),
        "PutEventSelectors" => encode(&engine.put_event_selectors(caller, parse(body)?).await?),
        "GetEventSelectors" => encode(&engine.get_event_selectors(caller, parse(body)?).await?),
        "DeleteTrail" => encode(&engine.delete_trail(caller, parse(body)?).await?),
        "ListPublicKeys" => encode(&engine.list_public_keys(caller, parse(body)?).await?),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation CloudTrail_20131101.{op}."),
        )),
    }
}
