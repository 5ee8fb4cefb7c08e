//! SNS topics, subscriptions and delivery: what CloudWatch alarm actions publish to.
//!
//! - [`TopicSet`]: the topics of one (account, region) with their [`Subscription`]s; SNS's
//!   validation ([`MonitorError`] carries the AWS error code); serialisable whole for the engine
//!   to persist. Subscriptions start pending and are confirmed with the token of the
//!   confirmation message, or at once with [`TopicSet::with_auto_confirm`].
//! - [`message`]: the exact HTTP/S `Notification` and `SubscriptionConfirmation` JSON with
//!   their `x-amz-sns-*` headers, and the email forms (`email`: subject and message with SNS's
//!   unsubscribe footer; `email-json`: the notification JSON).
//! - [`Notifier`]: delivers a publish to every confirmed subscription in spawned tasks
//!   behind a bounded queue, HTTP/S with reqwest and email over SMTP with lettre, retried per a
//!   simplified SNS delivery policy ([`RetryPolicy`]); every outcome becomes a
//!   [`DeliveryRecord`].
//!
//! Messages are not signed: `SignatureVersion` is the topic's (`1` by default), `Signature` is
//! empty and `SigningCertURL` points at this server ([`MessageUrls`]).
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::Arc;
//! use flowwatch_model::SystemClock;
//! use flowwatch_monitor::notify::{Notifier, NotifierConfig, TopicSet};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let mut topics = TopicSet::new("123456789012", "us-east-1");
//! let arn = topics.create_topic("alerts", BTreeMap::new())?;
//! let sub = topics.subscribe(&arn, "email", "oncall@example.com", BTreeMap::new())?;
//! assert_eq!(sub.response_arn(), "pending confirmation");
//!
//! let notifier = Notifier::new(NotifierConfig::default(), Arc::new(SystemClock))?;
//! // Sends the confirmation email; its link (or the token) confirms the subscription.
//! notifier.confirm(topics.topic(&arn)?, &sub.subscription_arn)?;
//! let token = sub.token.clone().unwrap_or_default();
//! topics.confirm_subscription(&arn, &token)?;
//!
//! // Returns at once with the message ID; delivery happens in the background.
//! let message_id = notifier.publish(topics.topic(&arn)?, Some("ALARM"), "cpu high")?;
//! assert_eq!(message_id.len(), 36);
//! # Ok::<(), flowwatch_monitor::MonitorError>(())
//! # }).unwrap();
//! ```

mod deliver;
pub mod message;
mod notifier;
mod topics;
mod validate;

pub use deliver::{DeliveryOutcome, RetryPolicy, SmtpConfig};
pub use message::{EmailMessage, HttpMessage, MessageUrls, Publication};
pub use notifier::{
    DeliveryKind, DeliveryRecord, MAX_MESSAGE_BYTES, MAX_SUBJECT_CHARS, Notifier, NotifierConfig,
    validate_publish,
};
pub use topics::{
    MAX_ENDPOINT_LEN, MAX_SUBSCRIPTIONS_PER_TOPIC, MAX_TOPIC_NAME_LEN, MAX_TOPICS_PER_ACCOUNT,
    PENDING_CONFIRMATION, PENDING_CONFIRMATION_LISTED, Protocol, Subscribed, Subscription,
    SubscriptionState, Topic, TopicSet,
};
pub use validate::validate_topic_name;
