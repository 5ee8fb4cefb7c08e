use std::collections::BTreeMap;

use super::*;
use crate::notify::TopicSet;

fn fixture(protocol: &str, endpoint: &str, raw: bool) -> (Topic, Subscription) {
    let mut set = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
    let arn = set
        .create_topic(
            "alerts",
            [("DisplayName".to_owned(), "Ops".to_owned())].into(),
        )
        .unwrap();
    let mut attributes = BTreeMap::new();
    if raw {
        attributes.insert("RawMessageDelivery".to_owned(), "true".to_owned());
    }
    let sub = set.subscribe(&arn, protocol, endpoint, attributes).unwrap();
    let topic = set.topic(&arn).unwrap().clone();
    let sub = set.subscription(&sub.subscription_arn).unwrap().clone();
    (topic, sub)
}

fn publication(topic: &Topic, subject: Option<&str>) -> Publication {
    Publication {
        message_id: "da41e39f-ea4d-435a-b922-c6aae3915ebe".into(),
        topic_arn: topic.arn.clone(),
        subject: subject.map(str::to_owned),
        message: "hello \"world\"\nline 2".into(),
        timestamp_ms: 1_335_920_046_655,
        signature_version: "1".into(),
    }
}

fn urls() -> MessageUrls {
    MessageUrls {
        service_url: "http://sns.test/".into(),
        signing_cert_url: "http://sns.test/cert.pem".into(),
    }
}

#[test]
fn timestamps_are_iso8601_utc_with_milliseconds() {
    assert_eq!(
        format_timestamp(1_335_920_046_655),
        "2012-05-02T00:54:06.655Z"
    );
    assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000Z");
}

#[test]
fn notification_json_is_exactly_snss_shape_in_order() {
    let (topic, sub) = fixture("http", "http://h/", false);
    let p = publication(&topic, Some("Alarm"));
    let json = notification_json(&p, &sub.arn, &urls());
    let expected = format!(
        concat!(
            r#"{{"Type":"Notification","MessageId":"da41e39f-ea4d-435a-b922-c6aae3915ebe","#,
            r#""TopicArn":"arn:aws:sns:us-east-1:123456789012:alerts","Subject":"Alarm","#,
            r#""Message":"hello \"world\"\nline 2","Timestamp":"2012-05-02T00:54:06.655Z","#,
            r#""SignatureVersion":"1","Signature":"","SigningCertURL":"http://sns.test/cert.pem","#,
            r#""UnsubscribeURL":"http://sns.test/?Action=Unsubscribe&Version=2010-03-31&SubscriptionArn={}"}}"#
        ),
        sub.arn
    );
    assert_eq!(json, expected);
    let without = notification_json(&publication(&topic, None), &sub.arn, &urls());
    assert!(!without.contains("Subject"), "{without}");
}

#[test]
fn http_notification_headers_and_raw_delivery() {
    let (topic, sub) = fixture("http", "http://h/", false);
    let p = publication(&topic, None);
    let m = http_notification(&p, &sub, &urls());
    let header = |name: &str| {
        m.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-amz-sns-message-type"), Some("Notification"));
    assert_eq!(header("x-amz-sns-message-id"), Some(p.message_id.as_str()));
    assert_eq!(header("x-amz-sns-topic-arn"), Some(topic.arn.as_str()));
    assert_eq!(header("x-amz-sns-subscription-arn"), Some(sub.arn.as_str()));
    assert_eq!(header("x-amz-sns-rawdelivery"), None);
    assert_eq!(header("content-type"), Some("text/plain; charset=UTF-8"));
    assert_eq!(m.body, notification_json(&p, &sub.arn, &urls()));

    let (topic, sub) = fixture("https", "https://h/", true);
    let m = http_notification(&publication(&topic, None), &sub, &urls());
    assert_eq!(m.body, "hello \"world\"\nline 2");
    assert!(
        m.headers
            .contains(&("x-amz-sns-rawdelivery", "true".to_owned()))
    );
}

#[test]
fn confirmation_carries_token_and_subscribe_url_without_subscription_header() {
    let (topic, _) = fixture("http", "http://h/", false);
    let m = http_confirmation(&topic, "tok123", "mid", 0, &urls());
    let v: serde_json::Value = serde_json::from_str(&m.body).unwrap();
    assert_eq!(v["Type"], "SubscriptionConfirmation");
    assert_eq!(v["MessageId"], "mid");
    assert_eq!(v["Token"], "tok123");
    assert_eq!(v["TopicArn"], topic.arn.as_str());
    assert_eq!(
        v["SubscribeURL"],
        format!(
            "http://sns.test/?Action=ConfirmSubscription&Version=2010-03-31&TopicArn={}&Token=tok123",
            topic.arn
        )
    );
    assert_eq!(v["Timestamp"], "1970-01-01T00:00:00.000Z");
    assert!(v["Message"].as_str().unwrap().contains(&topic.arn));
    assert!(
        m.headers
            .contains(&("x-amz-sns-message-type", "SubscriptionConfirmation".into()))
    );
    assert!(
        !m.headers
            .iter()
            .any(|(n, _)| *n == "x-amz-sns-subscription-arn")
    );
}

#[test]
fn email_forms() {
    let (topic, sub) = fixture("email", "ops@example.com", false);
    let p = publication(&topic, None);
    let e = email_notification(&p, &topic, &sub, &urls());
    assert_eq!(e.to, "ops@example.com");
    assert_eq!(e.subject, DEFAULT_EMAIL_SUBJECT);
    assert_eq!(e.from_name.as_deref(), Some("Ops"));
    assert!(
        e.body.starts_with("hello \"world\"\nline 2\n\n--\n"),
        "{}",
        e.body
    );
    assert!(e.body.contains(&urls().unsubscribe_url(&sub.arn)));

    let (topic, sub) = fixture("email-json", "ops@example.com", false);
    let p = publication(&topic, Some("Alarm"));
    let e = email_notification(&p, &topic, &sub, &urls());
    assert_eq!(e.subject, "Alarm");
    assert_eq!(e.body, notification_json(&p, &sub.arn, &urls()));

    let c = email_confirmation(&topic, &sub, "tok", "mid", 0, &urls());
    assert_eq!(c.subject, CONFIRMATION_EMAIL_SUBJECT);
    assert!(c.body.contains("\"Token\":\"tok\""));
}
