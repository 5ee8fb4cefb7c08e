//! Topics and their subscriptions for one (account, region), with SNS's validation.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::validate::{
    validate_endpoint, validate_subscription_attribute, validate_topic_attribute,
    validate_topic_name,
};
use crate::MonitorError;

/// SNS: a topic name is 1–256 letters, digits, `-` and `_`.
pub const MAX_TOPIC_NAME_LEN: usize = 256;
/// SNS: standard topics per account.
pub const MAX_TOPICS_PER_ACCOUNT: usize = 100_000;
/// SNS: subscriptions per standard topic.
pub const MAX_SUBSCRIPTIONS_PER_TOPIC: usize = 12_500_000;
/// Ours: the longest endpoint (URL or address) we store.
pub const MAX_ENDPOINT_LEN: usize = 2048;
/// What `Subscribe` and `ListSubscriptions` show for a subscription awaiting confirmation.
pub const PENDING_CONFIRMATION: &str = "pending confirmation";
/// The `SubscriptionArn` listed for a subscription awaiting confirmation.
pub const PENDING_CONFIRMATION_LISTED: &str = "PendingConfirmation";

/// The delivery protocols this emulation supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    Http,
    Https,
    Email,
    EmailJson,
}

impl Protocol {
    /// The protocol's name as SNS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::Email => "email",
            Self::EmailJson => "email-json",
        }
    }

    /// Whether deliveries go over SMTP.
    pub fn is_email(self) -> bool {
        matches!(self, Self::Email | Self::EmailJson)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = MonitorError;

    fn from_str(s: &str) -> Result<Self, MonitorError> {
        match s {
            "http" => Ok(Self::Http),
            "https" => Ok(Self::Https),
            "email" => Ok(Self::Email),
            "email-json" => Ok(Self::EmailJson),
            other => Err(MonitorError::invalid(
                "Protocol",
                format!("amazon sns does not support this protocol string: {other}"),
            )),
        }
    }
}

/// Whether a subscription may receive notifications yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum SubscriptionState {
    /// Waiting for `ConfirmSubscription` with this token.
    PendingConfirmation {
        token: String,
    },
    Confirmed,
}

/// One endpoint subscribed to a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// `<topic arn>:<uuid>`, assigned at subscribe time even while pending.
    pub arn: String,
    pub topic_arn: String,
    pub protocol: Protocol,
    pub endpoint: String,
    pub state: SubscriptionState,
    /// `RawMessageDelivery`, `DeliveryPolicy`, `FilterPolicy`... (stored; only
    /// `RawMessageDelivery` changes what is delivered).
    pub attributes: BTreeMap<String, String>,
}

impl Subscription {
    pub fn is_confirmed(&self) -> bool {
        self.state == SubscriptionState::Confirmed
    }

    /// The confirmation token while pending.
    pub fn token(&self) -> Option<&str> {
        match &self.state {
            SubscriptionState::PendingConfirmation { token } => Some(token),
            SubscriptionState::Confirmed => None,
        }
    }

    /// `RawMessageDelivery=true`: HTTP/S endpoints receive the bare message.
    pub fn raw_message_delivery(&self) -> bool {
        self.attributes
            .get("RawMessageDelivery")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The `SubscriptionArn` that `ListSubscriptions` shows: `PendingConfirmation` while pending.
    pub fn listed_arn(&self) -> &str {
        if self.is_confirmed() {
            &self.arn
        } else {
            PENDING_CONFIRMATION_LISTED
        }
    }
}

/// A topic: its ARN, name, attributes and subscriptions (in subscription order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub arn: String,
    pub name: String,
    pub attributes: BTreeMap<String, String>,
    pub subscriptions: Vec<Subscription>,
}

impl Topic {
    /// The subscriptions that receive notifications.
    pub fn confirmed_subscriptions(&self) -> impl Iterator<Item = &Subscription> {
        self.subscriptions.iter().filter(|s| s.is_confirmed())
    }

    /// `DisplayName`, used as the sender's name of emails.
    pub fn display_name(&self) -> Option<&str> {
        self.attributes
            .get("DisplayName")
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// What `Subscribe` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    /// The subscription's real ARN (what `ReturnSubscriptionArn=true` shows).
    pub subscription_arn: String,
    /// The confirmation token when the subscription awaits confirmation: the caller sends the
    /// confirmation message ([`Notifier::confirm`](super::Notifier::confirm)).
    pub token: Option<String>,
}

impl Subscribed {
    /// The `SubscriptionArn` of the `Subscribe` response: `pending confirmation` while pending.
    pub fn response_arn(&self) -> &str {
        if self.token.is_some() {
            PENDING_CONFIRMATION
        } else {
            &self.subscription_arn
        }
    }
}

/// The topics of one (account, region). Serialisable whole so the engine can persist it.
///
/// Subscriptions start pending, as in SNS, and become confirmed by
/// [`TopicSet::confirm_subscription`] with the token of the confirmation message; with
/// `auto_confirm` (a deployment choice for closed networks and tests) they are confirmed at
/// once and no confirmation message is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicSet {
    pub account: String,
    pub region: String,
    #[serde(default)]
    pub auto_confirm: bool,
    /// By topic name.
    topics: BTreeMap<String, Topic>,
}

impl TopicSet {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            account: account.into(),
            region: region.into(),
            auto_confirm: false,
            topics: BTreeMap::new(),
        }
    }

    /// Confirm new subscriptions at once instead of waiting for `ConfirmSubscription`.
    pub fn with_auto_confirm(mut self, auto_confirm: bool) -> Self {
        self.auto_confirm = auto_confirm;
        self
    }

    /// The ARN a topic of this set has.
    pub fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{name}", self.region, self.account)
    }

    /// `CreateTopic`: idempotent by name; the same name with other attributes is an error.
    pub fn create_topic(
        &mut self,
        name: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<String, MonitorError> {
        validate_topic_name(name)?;
        for (key, value) in &attributes {
            validate_topic_attribute(key, value)?;
        }
        if let Some(topic) = self.topics.get(name) {
            if !attributes.is_empty() && attributes != topic.attributes {
                return Err(MonitorError::invalid(
                    "Attributes",
                    "topic already exists with different attributes",
                ));
            }
            return Ok(topic.arn.clone());
        }
        if self.topics.len() >= MAX_TOPICS_PER_ACCOUNT {
            return Err(MonitorError::TopicLimitExceeded {
                max: MAX_TOPICS_PER_ACCOUNT,
            });
        }
        let arn = self.topic_arn(name);
        let topic = Topic {
            arn: arn.clone(),
            name: name.to_owned(),
            attributes,
            subscriptions: Vec::new(),
        };
        self.topics.insert(name.to_owned(), topic);
        Ok(arn)
    }

    /// `DeleteTopic` with its subscriptions; deleting a topic that does not exist is not an
    /// error in SNS, so this answers whether one was deleted.
    pub fn delete_topic(&mut self, topic_arn: &str) -> Result<bool, MonitorError> {
        let name = self.name_of(topic_arn)?;
        Ok(self.topics.remove(name).is_some())
    }

    /// A topic by ARN.
    pub fn topic(&self, topic_arn: &str) -> Result<&Topic, MonitorError> {
        self.name_of(topic_arn)
            .ok()
            .and_then(|name| self.topics.get(name))
            .ok_or_else(|| not_found("topic", topic_arn))
    }

    /// `ListTopics`: every topic, by name.
    pub fn list_topics(&self) -> impl Iterator<Item = &Topic> {
        self.topics.values()
    }

    /// `Subscribe`: idempotent for the same protocol and endpoint on a topic.
    pub fn subscribe(
        &mut self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<Subscribed, MonitorError> {
        let protocol: Protocol = protocol.parse()?;
        validate_endpoint(protocol, endpoint)?;
        for (key, value) in &attributes {
            validate_subscription_attribute(protocol, key, value)?;
        }
        let auto_confirm = self.auto_confirm;
        let topic = self.topic_mut(topic_arn)?;
        if let Some(existing) = topic
            .subscriptions
            .iter()
            .find(|s| s.protocol == protocol && s.endpoint == endpoint)
        {
            return Ok(Subscribed {
                subscription_arn: existing.arn.clone(),
                token: existing.token().map(str::to_owned),
            });
        }
        if topic.subscriptions.len() >= MAX_SUBSCRIPTIONS_PER_TOPIC {
            return Err(MonitorError::SubscriptionLimitExceeded {
                max: MAX_SUBSCRIPTIONS_PER_TOPIC,
            });
        }
        let state = if auto_confirm {
            SubscriptionState::Confirmed
        } else {
            SubscriptionState::PendingConfirmation { token: new_token() }
        };
        let subscription = Subscription {
            arn: format!("{}:{}", topic.arn, uuid::Uuid::new_v4()),
            topic_arn: topic.arn.clone(),
            protocol,
            endpoint: endpoint.to_owned(),
            state,
            attributes,
        };
        let subscribed = Subscribed {
            subscription_arn: subscription.arn.clone(),
            token: subscription.token().map(str::to_owned),
        };
        topic.subscriptions.push(subscription);
        Ok(subscribed)
    }

    /// `ConfirmSubscription`: the pending subscription of the topic with this token becomes
    /// confirmed; confirming again with the same token of a confirmed one is not possible, as
    /// the token is spent.
    pub fn confirm_subscription(
        &mut self,
        topic_arn: &str,
        token: &str,
    ) -> Result<String, MonitorError> {
        let topic = self.topic_mut(topic_arn)?;
        let subscription = topic
            .subscriptions
            .iter_mut()
            .find(|s| s.token() == Some(token))
            .ok_or_else(|| MonitorError::invalid("Token", "invalid token"))?;
        subscription.state = SubscriptionState::Confirmed;
        Ok(subscription.arn.clone())
    }

    /// `Unsubscribe`.
    pub fn unsubscribe(&mut self, subscription_arn: &str) -> Result<Subscription, MonitorError> {
        let topic_arn = topic_arn_of_subscription(subscription_arn)
            .ok_or_else(|| not_found("subscription", subscription_arn))?;
        let topic = self
            .topic_mut(topic_arn)
            .map_err(|_| not_found("subscription", subscription_arn))?;
        let index = topic
            .subscriptions
            .iter()
            .position(|s| s.arn == subscription_arn)
            .ok_or_else(|| not_found("subscription", subscription_arn))?;
        Ok(topic.subscriptions.remove(index))
    }

    /// A subscription by ARN.
    pub fn subscription(&self, subscription_arn: &str) -> Result<&Subscription, MonitorError> {
        topic_arn_of_subscription(subscription_arn)
            .and_then(|topic_arn| self.topic(topic_arn).ok())
            .and_then(|topic| {
                topic
                    .subscriptions
                    .iter()
                    .find(|s| s.arn == subscription_arn)
            })
            .ok_or_else(|| not_found("subscription", subscription_arn))
    }

    /// `SetSubscriptionAttributes`.
    pub fn set_subscription_attribute(
        &mut self,
        subscription_arn: &str,
        name: &str,
        value: &str,
    ) -> Result<(), MonitorError> {
        let protocol = self.subscription(subscription_arn)?.protocol;
        validate_subscription_attribute(protocol, name, value)?;
        let topic_arn = topic_arn_of_subscription(subscription_arn)
            .ok_or_else(|| not_found("subscription", subscription_arn))?;
        let topic = self.topic_mut(topic_arn)?;
        if let Some(s) = topic
            .subscriptions
            .iter_mut()
            .find(|s| s.arn == subscription_arn)
        {
            s.attributes.insert(name.to_owned(), value.to_owned());
        }
        Ok(())
    }

    /// `ListSubscriptions`: every subscription, by topic name then subscription order.
    pub fn list_subscriptions(&self) -> impl Iterator<Item = &Subscription> {
        self.topics.values().flat_map(|t| t.subscriptions.iter())
    }

    /// `ListSubscriptionsByTopic`.
    pub fn list_subscriptions_by_topic(
        &self,
        topic_arn: &str,
    ) -> Result<&[Subscription], MonitorError> {
        Ok(&self.topic(topic_arn)?.subscriptions)
    }

    fn topic_mut(&mut self, topic_arn: &str) -> Result<&mut Topic, MonitorError> {
        let name = self.name_of(topic_arn)?.to_owned();
        self.topics
            .get_mut(&name)
            .ok_or_else(|| not_found("topic", topic_arn))
    }

    /// The topic name of an ARN of this set; an ARN of another account or region is not found.
    fn name_of<'a>(&self, topic_arn: &'a str) -> Result<&'a str, MonitorError> {
        let prefix = format!("arn:aws:sns:{}:{}:", self.region, self.account);
        let name = topic_arn
            .strip_prefix(prefix.as_str())
            .ok_or_else(|| not_found("topic", topic_arn))?;
        validate_topic_name(name).map_err(|_| not_found("topic", topic_arn))?;
        Ok(name)
    }
}

/// `arn:aws:sns:<region>:<account>:<topic>:<uuid>` → the topic's ARN.
fn topic_arn_of_subscription(subscription_arn: &str) -> Option<&str> {
    let (topic_arn, id) = subscription_arn.rsplit_once(':')?;
    uuid::Uuid::parse_str(id).ok()?;
    Some(topic_arn)
}

fn not_found(what: &'static str, arn: &str) -> MonitorError {
    MonitorError::NotFound {
        what,
        arn: arn.to_owned(),
    }
}

/// A confirmation token: 64 hex digits, unguessable.
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
#[path = "topics_tests.rs"]
mod tests;
