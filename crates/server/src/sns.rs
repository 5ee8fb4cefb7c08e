//! SNS: one operation's JSON input (the awsQuery form turned into JSON by the query codec,
//! member names as in the AWS model) to an engine method, and its JSON answer (turned back into
//! XML by the codec).

use flowwatch_engine::Engine;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};

use crate::json::{encode, parse};

/// Runs one SNS operation on a JSON body and returns the JSON response body.
pub(crate) async fn dispatch(
    engine: &Engine,
    caller: &Caller,
    op: &str,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    match op {
        "CreateTopic" => encode(&engine.create_topic(caller, parse(body)?).await?),
        "DeleteTopic" => encode(&engine.delete_topic(caller, parse(body)?).await?),
        "ListTopics" => encode(&engine.list_topics(caller, parse(body)?).await?),
        "GetTopicAttributes" => encode(&engine.get_topic_attributes(caller, parse(body)?).await?),
        "Subscribe" => encode(&engine.subscribe(caller, parse(body)?).await?),
        "ConfirmSubscription" => encode(&engine.confirm_subscription(parse(body)?).await?),
        "Unsubscribe" => encode(&engine.unsubscribe(caller, parse(body)?).await?),
        "ListSubscriptions" => encode(&engine.list_subscriptions(caller, parse(body)?).await?),
        "ListSubscriptionsByTopic" => encode(
            &engine
                .list_subscriptions_by_topic(caller, parse(body)?)
                .await?,
        ),
        "GetSubscriptionAttributes" => encode(
            &engine
                .get_subscription_attributes(caller, parse(body)?)
                .await?,
        ),
        "SetSubscriptionAttributes" => encode(
            &engine
                .set_subscription_attributes(caller, parse(body)?)
                .await?,
        ),
        "Publish" => encode(&engine.publish(caller, parse(body)?).await?),
        _ => Err(ApiError::new(
            ErrorCode::InvalidAction,
            format!("Could not find operation {op} for version 2010-03-31"),
        )),
    }
}
