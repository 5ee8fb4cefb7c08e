//! CloudWatch over awsJson1.0 (what the aws CLI and boto3 send, with `x-amzn-query-mode:
//! true`): `X-Amz-Target: GraniteServiceVersion20100801.<Op>` to an engine method. Errors carry
//! `x-amzn-query-error` with the awsQuery code.

use flowwatch_engine::Engine;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};

use crate::json::{encode, parse};

pub(crate) const TARGET_PREFIX: &str = "GraniteServiceVersion20100801.";

/// Runs one CloudWatch operation on a JSON body and returns the JSON response body.
pub(crate) async fn dispatch(
    engine: &Engine,
    caller: &Caller,
    op: &str,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    match op {
        "GetMetricStatistics" => encode(&engine.get_metric_statistics(caller, parse(body)?).await?),
        "ListMetrics" => encode(&engine.list_metrics(caller, parse(body)?).await?),
        "PutMetricData" => encode(&engine.put_metric_data(caller, parse(body)?).await?),
        "GetMetricData" => encode(&engine.get_metric_data(caller, parse(body)?).await?),
        "PutMetricAlarm" => encode(&engine.put_metric_alarm(caller, parse(body)?).await?),
        "DescribeAlarms" => encode(&engine.describe_alarms(caller, parse(body)?).await?),
        "DescribeAlarmsForMetric" => encode(
            &engine
                .describe_alarms_for_metric(caller, parse(body)?)
                .await?,
        ),
        "DeleteAlarms" => encode(&engine.delete_alarms(caller, parse(body)?).await?),
        "SetAlarmState" => encode(&engine.set_alarm_state(caller, parse(body)?).await?),
        "DescribeAlarmHistory" => {
            encode(&engine.describe_alarm_history(caller, parse(body)?).await?)
        }
        "EnableAlarmActions" => encode(&engine.enable_alarm_actions(caller, parse(body)?).await?),
        "DisableAlarmActions" => encode(&engine.disable_alarm_actions(caller, parse(body)?).await?),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation {TARGET_PREFIX}{op}."),
        )),
    }
}
