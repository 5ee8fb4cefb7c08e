//! What SNS delivers: the HTTP/S notification and confirmation JSON with their headers, and the
//! email forms. Pure functions of their inputs; nothing here does I/O.

use serde::Serialize;

use super::topics::{Protocol, Subscription, Topic};

/// The subject of emails of a publish without `Subject`.
pub const DEFAULT_EMAIL_SUBJECT: &str = "AWS Notification Message";
/// The subject of confirmation emails.
pub const CONFIRMATION_EMAIL_SUBJECT: &str = "AWS Notification - Subscription Confirmation";
/// The `User-Agent` of HTTP/S deliveries.
pub const USER_AGENT: &str = "Amazon Simple Notification Service Agent";

/// Where the links in messages point and what signs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageUrls {
    /// The SNS endpoint of this server; `UnsubscribeURL` and `SubscribeURL` are query-API links
    /// on it (`?Action=Unsubscribe&Version=2010-03-31&SubscriptionArn=...`: the version names
    /// the service, as one port serves several).
    pub service_url: String,
    /// `SigningCertURL`. Messages are not signed (no AWS key exists here): `Signature` is empty.
    pub signing_cert_url: String,
}

impl Default for MessageUrls {
    fn default() -> Self {
        Self {
            service_url: "http://127.0.0.1:4580/".into(),
            signing_cert_url: "http://127.0.0.1:4580/SimpleNotificationService.pem".into(),
        }
    }
}

impl MessageUrls {
    pub fn unsubscribe_url(&self, subscription_arn: &str) -> String {
        format!(
            "{}?Action=Unsubscribe&Version=2010-03-31&SubscriptionArn={subscription_arn}",
            self.service_url
        )
    }

    pub fn subscribe_url(&self, topic_arn: &str, token: &str) -> String {
        format!(
            "{}?Action=ConfirmSubscription&Version=2010-03-31&TopicArn={topic_arn}&Token={token}",
            self.service_url
        )
    }
}

/// One `Publish` to a topic, as every subscription receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// A UUID, the same for every subscription.
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    pub message: String,
    pub timestamp_ms: i64,
    /// The topic's `SignatureVersion` (`1` unless set).
    pub signature_version: String,
}

impl Publication {
    pub fn new(topic: &Topic, subject: Option<String>, message: String, timestamp_ms: i64) -> Self {
        Self {
            message_id: uuid::Uuid::new_v4().to_string(),
            topic_arn: topic.arn.clone(),
            subject,
            message,
            timestamp_ms,
            signature_version: signature_version(topic),
        }
    }
}

/// An HTTP/S POST: headers (without `Host` and `Content-Length`) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMessage {
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// An email: recipient, subject, plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub to: String,
    /// The sender's display name (the topic's `DisplayName`).
    pub from_name: Option<String>,
    pub subject: String,
    pub body: String,
}

/// The `Notification` JSON, fields in SNS's order; `Subject` only when published with one.
#[derive(Serialize)]
struct NotificationJson<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "MessageId")]
    message_id: &'a str,
    #[serde(rename = "TopicArn")]
    topic_arn: &'a str,
    #[serde(rename = "Subject", skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(rename = "Message")]
    message: &'a str,
    #[serde(rename = "Timestamp")]
    timestamp: String,
    #[serde(rename = "SignatureVersion")]
    signature_version: &'a str,
    #[serde(rename = "Signature")]
    signature: &'static str,
    #[serde(rename = "SigningCertURL")]
    signing_cert_url: &'a str,
    #[serde(rename = "UnsubscribeURL")]
    unsubscribe_url: String,
}

/// The `SubscriptionConfirmation` JSON, fields in SNS's order.
#[derive(Serialize)]
struct ConfirmationJson<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "MessageId")]
    message_id: &'a str,
    #[serde(rename = "Token")]
    token: &'a str,
    #[serde(rename = "TopicArn")]
    topic_arn: &'a str,
    #[serde(rename = "Message")]
    message: String,
    #[serde(rename = "SubscribeURL")]
    subscribe_url: String,
    #[serde(rename = "Timestamp")]
    timestamp: String,
    #[serde(rename = "SignatureVersion")]
    signature_version: &'a str,
    #[serde(rename = "Signature")]
    signature: &'static str,
    #[serde(rename = "SigningCertURL")]
    signing_cert_url: &'a str,
}

/// `2012-05-02T00:54:06.655Z`: ISO 8601, UTC, milliseconds.
pub fn format_timestamp(timestamp_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(timestamp_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The JSON body of a notification to `subscription_arn`.
pub fn notification_json(p: &Publication, subscription_arn: &str, urls: &MessageUrls) -> String {
    let json = NotificationJson {
        kind: "Notification",
        message_id: &p.message_id,
        topic_arn: &p.topic_arn,
        subject: p.subject.as_deref(),
        message: &p.message,
        timestamp: format_timestamp(p.timestamp_ms),
        signature_version: &p.signature_version,
        signature: "",
        signing_cert_url: &urls.signing_cert_url,
        unsubscribe_url: urls.unsubscribe_url(subscription_arn),
    };
    to_json(&json)
}

/// The JSON body of the confirmation message of a pending subscription.
pub fn confirmation_json(
    topic: &Topic,
    token: &str,
    message_id: &str,
    timestamp_ms: i64,
    urls: &MessageUrls,
) -> String {
    let json = ConfirmationJson {
        kind: "SubscriptionConfirmation",
        message_id,
        token,
        topic_arn: &topic.arn,
        message: format!(
            "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            topic.arn
        ),
        subscribe_url: urls.subscribe_url(&topic.arn, token),
        timestamp: format_timestamp(timestamp_ms),
        signature_version: &signature_version(topic),
        signature: "",
        signing_cert_url: &urls.signing_cert_url,
    };
    to_json(&json)
}

/// The POST of a notification: the JSON (or the bare message with `RawMessageDelivery`) and the
/// `x-amz-sns-*` headers.
pub fn http_notification(p: &Publication, sub: &Subscription, urls: &MessageUrls) -> HttpMessage {
    let raw = sub.raw_message_delivery();
    let mut headers = vec![
        ("x-amz-sns-message-type", "Notification".to_owned()),
        ("x-amz-sns-message-id", p.message_id.clone()),
        ("x-amz-sns-topic-arn", p.topic_arn.clone()),
        ("x-amz-sns-subscription-arn", sub.arn.clone()),
    ];
    if raw {
        headers.push(("x-amz-sns-rawdelivery", "true".to_owned()));
    }
    headers.extend(common_headers());
    let body = if raw {
        p.message.clone()
    } else {
        notification_json(p, &sub.arn, urls)
    };
    HttpMessage { headers, body }
}

/// The POST of a confirmation message (no subscription ARN header: it is pending).
pub fn http_confirmation(
    topic: &Topic,
    token: &str,
    message_id: &str,
    timestamp_ms: i64,
    urls: &MessageUrls,
) -> HttpMessage {
    let mut headers = vec![
        (
            "x-amz-sns-message-type",
            "SubscriptionConfirmation".to_owned(),
        ),
        ("x-amz-sns-message-id", message_id.to_owned()),
        ("x-amz-sns-topic-arn", topic.arn.clone()),
    ];
    headers.extend(common_headers());
    let body = confirmation_json(topic, token, message_id, timestamp_ms, urls);
    HttpMessage { headers, body }
}

/// The email of a notification: `email` sends the message with SNS's unsubscribe footer,
/// `email-json` the notification JSON.
pub fn email_notification(
    p: &Publication,
    topic: &Topic,
    sub: &Subscription,
    urls: &MessageUrls,
) -> EmailMessage {
    let body = match sub.protocol {
        Protocol::EmailJson => notification_json(p, &sub.arn, urls),
        _ => format!(
            "{}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n{}\n\nPlease do not reply directly to this email.\n",
            p.message,
            urls.unsubscribe_url(&sub.arn)
        ),
    };
    EmailMessage {
        to: sub.endpoint.clone(),
        from_name: topic.display_name().map(str::to_owned),
        subject: p
            .subject
            .clone()
            .unwrap_or_else(|| DEFAULT_EMAIL_SUBJECT.to_owned()),
        body,
    }
}

/// The confirmation email of a pending subscription.
pub fn email_confirmation(
    topic: &Topic,
    sub: &Subscription,
    token: &str,
    message_id: &str,
    timestamp_ms: i64,
    urls: &MessageUrls,
) -> EmailMessage {
    let body = match sub.protocol {
        Protocol::EmailJson => confirmation_json(topic, token, message_id, timestamp_ms, urls),
        _ => format!(
            "You have chosen to subscribe to the topic:\n{}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary):\n{}\n\nPlease do not reply directly to this email.\n",
            topic.arn,
            urls.subscribe_url(&topic.arn, token)
        ),
    };
    EmailMessage {
        to: sub.endpoint.clone(),
        from_name: topic.display_name().map(str::to_owned),
        subject: CONFIRMATION_EMAIL_SUBJECT.to_owned(),
        body,
    }
}

fn common_headers() -> [(&'static str, String); 2] {
    [
        ("content-type", "text/plain; charset=UTF-8".to_owned()),
        ("user-agent", USER_AGENT.to_owned()),
    ]
}

fn signature_version(topic: &Topic) -> String {
    topic
        .attributes
        .get("SignatureVersion")
        .cloned()
        .unwrap_or_else(|| "1".to_owned())
}

fn to_json(value: &impl Serialize) -> String {
    // Serialising a struct of strings cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
