//! SNS actions (the subset CloudWatch alarm actions need) over the persisted topics:
//! CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes, Subscribe, ConfirmSubscription,
//! Unsubscribe, ListSubscriptions, ListSubscriptionsByTopic, Get/SetSubscriptionAttributes and
//! Publish. Deliveries go through the engine's [`Notifier`](flowwatch_monitor::notify::Notifier).

use std::collections::BTreeMap;

use flowwatch_model::sns::{
    AttributesOutput, ConfirmSubscriptionInput, CreateTopicInput, CreateTopicOutput,
    ListSubscriptionsByTopicInput, ListSubscriptionsOutput, ListTopicsOutput, NextTokenInput,
    PublishInput, PublishOutput, SetSubscriptionAttributesInput, SubscribeInput,
    SubscriptionArnInput, SubscriptionArnOutput, SubscriptionEntry, TopicArnInput, TopicEntry,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, Scope};
use flowwatch_monitor::notify::Subscription;

use crate::error::monitor_error;
use crate::{Engine, token};

/// Topics and subscriptions per List* page (SNS: 100).
const PAGE: usize = 100;
/// Most tags CreateTopic takes.
const MAX_TAGS: usize = 50;

fn missing(member: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidParameter,
        format!("Invalid parameter: {member}: the parameter is required"),
    )
}

fn no_topic() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "Topic does not exist")
}

fn page_after(op: &str, next_token: Option<&str>) -> ApiResult<Option<String>> {
    next_token
        .map(|t| {
            token::decode_after(op, t).map_err(|_| {
                ApiError::new(ErrorCode::InvalidParameter, "Invalid parameter: NextToken")
            })
        })
        .transpose()
}

fn entry(scope: &Scope, s: &Subscription) -> SubscriptionEntry {
    SubscriptionEntry {
        subscription_arn: s.listed_arn().to_owned(),
        owner: scope.account.clone(),
        protocol: s.protocol.as_str().to_owned(),
        endpoint: s.endpoint.clone(),
        topic_arn: s.topic_arn.clone(),
    }
}

/// One page of `items` (sorted by `key`) after `after`, and the token of the next page.
fn paged<T>(
    op: &str,
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    after: Option<&str>,
) -> (Vec<T>, Option<String>) {
    let mut rest = items
        .into_iter()
        .filter(|i| after.is_none_or(|a| key(i).as_str() > a))
        .peekable();
    let page: Vec<T> = rest.by_ref().take(PAGE).collect();
    let next = match (page.last(), rest.peek()) {
        (Some(last), Some(_)) => Some(token::encode_after(op, &key(last))),
        _ => None,
    };
    (page, next)
}

impl Engine {
    pub async fn create_topic(
        &self,
        caller: &Caller,
        req: CreateTopicInput,
    ) -> ApiResult<CreateTopicOutput> {
        let name = req.name.ok_or_else(|| missing("Name"))?;
        if req.tags.as_ref().is_some_and(|t| t.len() > MAX_TAGS) {
            return Err(ApiError::new(
                ErrorCode::InvalidParameter,
                format!("Invalid parameter: Tags: a topic has at most {MAX_TAGS} tags"),
            ));
        }
        let attributes = req.attributes.unwrap_or_default();
        let auto_confirm = self.config.sns_auto_confirm;
        let topic_arn = self
            .topics()
            .update(|topics| {
                topics
                    .get_mut(&caller.scope, auto_confirm)
                    .create_topic(&name, attributes)
                    .map_err(monitor_error)
            })
            .await?;
        Ok(CreateTopicOutput { topic_arn })
    }

    pub async fn delete_topic(
        &self,
        caller: &Caller,
        req: TopicArnInput,
    ) -> ApiResult<serde_json::Value> {
        let arn = req.topic_arn.ok_or_else(|| missing("TopicArn"))?;
        let auto_confirm = self.config.sns_auto_confirm;
        self.topics()
            .update_when(|topics| {
                let deleted = topics
                    .get_mut(&caller.scope, auto_confirm)
                    .delete_topic(&arn)
                    .map_err(monitor_error)?;
                Ok(((), deleted))
            })
            .await?;
        Ok(serde_json::json!({}))
    }

    pub async fn list_topics(
        &self,
        caller: &Caller,
        req: NextTokenInput,
    ) -> ApiResult<ListTopicsOutput> {
        let after = page_after("ListTopics", req.next_token.as_deref())?;
        let arns: Vec<String> = self
            .topics()
            .read(|topics| {
                let mut arns: Vec<String> = topics
                    .get(&caller.scope)
                    .map(|set| set.list_topics().map(|t| t.arn.clone()).collect())
                    .unwrap_or_default();
                arns.sort();
                arns
            })
            .await;
        let (page, next_token) = paged("ListTopics", arns, Clone::clone, after.as_deref());
        Ok(ListTopicsOutput {
            topics: page
                .into_iter()
                .map(|topic_arn| TopicEntry { topic_arn })
                .collect(),
            next_token,
        })
    }

    pub async fn get_topic_attributes(
        &self,
        caller: &Caller,
        req: TopicArnInput,
    ) -> ApiResult<AttributesOutput> {
        let arn = req.topic_arn.ok_or_else(|| missing("TopicArn"))?;
        self.topics()
            .read(|topics| {
                let set = topics.get(&caller.scope).ok_or_else(no_topic)?;
                let topic = set.topic(&arn).map_err(monitor_error)?;
                let mut attributes: BTreeMap<String, String> = topic.attributes.clone();
                let confirmed = topic.confirmed_subscriptions().count();
                let pending = topic.subscriptions.len() - confirmed;
                for (key, value) in [
                    ("TopicArn", topic.arn.clone()),
                    ("Owner", caller.scope.account.clone()),
                    ("SubscriptionsConfirmed", confirmed.to_string()),
                    ("SubscriptionsPending", pending.to_string()),
                    ("SubscriptionsDeleted", "0".to_owned()),
                ] {
                    attributes.insert(key.to_owned(), value);
                }
                Ok(AttributesOutput { attributes })
            })
            .await
    }

    pub async fn subscribe(
        &self,
        caller: &Caller,
        req: SubscribeInput,
    ) -> ApiResult<SubscriptionArnOutput> {
        let arn = req.topic_arn.ok_or_else(|| missing("TopicArn"))?;
        let protocol = req.protocol.ok_or_else(|| missing("Protocol"))?;
        let endpoint = req.endpoint.ok_or_else(|| missing("Endpoint"))?;
        let attributes = req.attributes.unwrap_or_default();
        let auto_confirm = self.config.sns_auto_confirm;
        let subscribed = self
            .topics()
            .update(|topics| {
                topics
                    .get_mut(&caller.scope, auto_confirm)
                    .subscribe(&arn, &protocol, &endpoint, attributes)
                    .map_err(monitor_error)
            })
            .await?;
        if subscribed.token.is_some() {
            // The endpoint proves it wants the messages: a SubscriptionConfirmation is sent.
            self.topics()
                .read(|topics| {
                    let set = topics.get(&caller.scope).ok_or_else(no_topic)?;
                    let topic = set.topic(&arn).map_err(monitor_error)?;
                    self.notifier()
                        .confirm(topic, &subscribed.subscription_arn)
                        .map_err(monitor_error)
                })
                .await?;
        }
        let subscription_arn = if req.return_subscription_arn.unwrap_or(false) {
            subscribed.subscription_arn.clone()
        } else {
            subscribed.response_arn().to_owned()
        };
        Ok(SubscriptionArnOutput { subscription_arn })
    }

    /// ConfirmSubscription. The topic's ARN names its account and region, so the link in a
    /// confirmation message works without credentials, as in SNS.
    pub async fn confirm_subscription(
        &self,
        req: ConfirmSubscriptionInput,
    ) -> ApiResult<SubscriptionArnOutput> {
        let arn = req.topic_arn.ok_or_else(|| missing("TopicArn"))?;
        let token = req.token.ok_or_else(|| missing("Token"))?;
        let subscription_arn = self
            .topics()
            .update(|topics| {
                let scope = topics
                    .for_arn(&arn)
                    .map(|set| Scope {
                        account: set.account.clone(),
                        region: set.region.clone(),
                    })
                    .ok_or_else(no_topic)?;
                topics
                    .get_mut(&scope, false)
                    .confirm_subscription(&arn, &token)
                    .map_err(monitor_error)
            })
            .await?;
        Ok(SubscriptionArnOutput { subscription_arn })
    }

    pub async fn unsubscribe(
        &self,
        caller: &Caller,
        req: SubscriptionArnInput,
    ) -> ApiResult<serde_json::Value> {
        let arn = req
            .subscription_arn
            .ok_or_else(|| missing("SubscriptionArn"))?;
        let auto_confirm = self.config.sns_auto_confirm;
        self.topics()
            .update(|topics| {
                topics
                    .get_mut(&caller.scope, auto_confirm)
                    .unsubscribe(&arn)
                    .map_err(monitor_error)
            })
            .await?;
        Ok(serde_json::json!({}))
    }

    pub async fn list_subscriptions(
        &self,
        caller: &Caller,
        req: NextTokenInput,
    ) -> ApiResult<ListSubscriptionsOutput> {
        let after = page_after("ListSubscriptions", req.next_token.as_deref())?;
        let all: Vec<SubscriptionEntry> = self
            .topics()
            .read(|topics| {
                topics
                    .get(&caller.scope)
                    .map(|set| {
                        set.list_subscriptions()
                            .map(|s| (s.arn.clone(), entry(&caller.scope, s)))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .await
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        Ok(self.subscription_page("ListSubscriptions", all, after))
    }

    pub async fn list_subscriptions_by_topic(
        &self,
        caller: &Caller,
        req: ListSubscriptionsByTopicInput,
    ) -> ApiResult<ListSubscriptionsOutput> {
        let arn = req.topic_arn.ok_or_else(|| missing("TopicArn"))?;
        let after = page_after("ListSubscriptionsByTopic", req.next_token.as_deref())?;
        let all = self
            .topics()
            .read(|topics| {
                let set = topics.get(&caller.scope).ok_or_else(no_topic)?;
                let subs = set
                    .list_subscriptions_by_topic(&arn)
                    .map_err(monitor_error)?;
                Ok::<_, ApiError>(subs.iter().map(|s| entry(&caller.scope, s)).collect())
            })
            .await?;
        Ok(self.subscription_page("ListSubscriptionsByTopic", all, after))
    }

    /// A page of subscriptions in subscription order; the token is the index to go on from.
    fn subscription_page(
        &self,
        op: &str,
        all: Vec<SubscriptionEntry>,
        after: Option<String>,
    ) -> ListSubscriptionsOutput {
        let from = after.and_then(|a| a.parse::<usize>().ok()).unwrap_or(0);
        let total = all.len();
        let subscriptions: Vec<SubscriptionEntry> = all.into_iter().skip(from).take(PAGE).collect();
        let next = from + subscriptions.len();
        ListSubscriptionsOutput {
            subscriptions,
            next_token: (next < total).then(|| token::encode_after(op, &next.to_string())),
        }
    }

    pub async fn get_subscription_attributes(
        &self,
        caller: &Caller,
        req: SubscriptionArnInput,
    ) -> ApiResult<AttributesOutput> {
        let arn = req
            .subscription_arn
            .ok_or_else(|| missing("SubscriptionArn"))?;
        self.topics()
            .read(|topics| {
                let set = topics.get(&caller.scope).ok_or_else(|| {
                    ApiError::new(ErrorCode::NotFound, "Subscription does not exist")
                })?;
                let s = set.subscription(&arn).map_err(monitor_error)?;
                let mut attributes = s.attributes.clone();
                for (key, value) in [
                    ("SubscriptionArn", s.arn.clone()),
                    ("TopicArn", s.topic_arn.clone()),
                    ("Owner", caller.scope.account.clone()),
                    ("Protocol", s.protocol.as_str().to_owned()),
                    ("Endpoint", s.endpoint.clone()),
                    ("PendingConfirmation", (!s.is_confirmed()).to_string()),
                    ("ConfirmationWasAuthenticated", "false".to_owned()),
                    ("RawMessageDelivery", s.raw_message_delivery().to_string()),
                ] {
                    attributes.insert(key.to_owned(), value);
                }
                Ok(AttributesOutput { attributes })
            })
            .await
    }

    pub async fn set_subscription_attributes(
        &self,
        caller: &Caller,
        req: SetSubscriptionAttributesInput,
    ) -> ApiResult<serde_json::Value> {
        let arn = req
            .subscription_arn
            .ok_or_else(|| missing("SubscriptionArn"))?;
        let name = req.attribute_name.ok_or_else(|| missing("AttributeName"))?;
        let value = req.attribute_value.unwrap_or_default();
        let auto_confirm = self.config.sns_auto_confirm;
        self.topics()
            .update(|topics| {
                topics
                    .get_mut(&caller.scope, auto_confirm)
                    .set_subscription_attribute(&arn, &name, &value)
                    .map_err(monitor_error)
            })
            .await?;
        Ok(serde_json::json!({}))
    }

    pub async fn publish(&self, caller: &Caller, req: PublishInput) -> ApiResult<PublishOutput> {
        if req.phone_number.is_some() {
            return Err(ApiError::new(
                ErrorCode::InvalidParameter,
                "Invalid parameter: PhoneNumber: SMS is not supported; publish to a topic",
            ));
        }
        let arn = req
            .topic_arn
            .or(req.target_arn)
            .ok_or_else(|| missing("TopicArn or TargetArn"))?;
        let mut message = req.message.ok_or_else(|| missing("Message"))?;
        match req.message_structure.as_deref() {
            None => {}
            Some("json") => {
                // One message for every protocol: the `default` one.
                let parsed: serde_json::Value = serde_json::from_str(&message).map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidParameter,
                        "Invalid parameter: Message Structure - JSON message body failed to parse",
                    )
                })?;
                message = parsed
                    .get("default")
                    .and_then(|d| d.as_str())
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::InvalidParameter,
                            "Invalid parameter: Message Structure - No default entry in JSON message body",
                        )
                    })?
                    .to_owned();
            }
            Some(other) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("Invalid parameter: MessageStructure: {other} (only json is valid)"),
                ));
            }
        }
        let message_id = self
            .topics()
            .read(|topics| {
                let set = topics.get(&caller.scope).ok_or_else(no_topic)?;
                let topic = set.topic(&arn).map_err(monitor_error)?;
                self.notifier()
                    .publish(topic, req.subject.as_deref(), &message)
                    .map_err(monitor_error)
            })
            .await?;
        Ok(PublishOutput { message_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowwatch_monitor::MonitorError;

    #[test]
    fn not_found_reads_like_sns() {
        let e = monitor_error(MonitorError::NotFound {
            what: "topic",
            arn: "arn:aws:sns:us-east-1:123456789012:x".into(),
        });
        assert_eq!(e.code, ErrorCode::NotFound);
        assert_eq!(e.message, "Topic does not exist");
    }
}
