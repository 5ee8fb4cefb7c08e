use super::*;

fn set() -> TopicSet {
    TopicSet::new("123456789012", "us-east-1")
}

fn none() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn create_is_idempotent_by_name_and_rejects_other_attributes() {
    let mut s = set();
    let arn = s.create_topic("alerts", none()).unwrap();
    assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:alerts");
    assert_eq!(s.create_topic("alerts", none()).unwrap(), arn);
    assert_eq!(s.list_topics().count(), 1);
    let e = s
        .create_topic("alerts", attrs(&[("DisplayName", "x")]))
        .unwrap_err();
    assert_eq!(e.code(), "InvalidParameter");
}

#[test]
fn topic_names_follow_sns_rules() {
    let mut s = set();
    for good in ["a", "A-b_9", &"x".repeat(256)] {
        assert!(s.create_topic(good, none()).is_ok(), "{good}");
    }
    for bad in ["", "a.b", "a b", "é", "a:b", &"x".repeat(257), "t.fifo"] {
        let e = s.create_topic(bad, none()).unwrap_err();
        assert!(
            matches!(
                e,
                MonitorError::InvalidParameter {
                    parameter: "Name",
                    ..
                }
            ),
            "{bad}"
        );
    }
    let e = s.create_topic("t", attrs(&[("Nope", "1")])).unwrap_err();
    assert_eq!(e.code(), "InvalidParameter");
    let e = s
        .create_topic("t", attrs(&[("SignatureVersion", "3")]))
        .unwrap_err();
    assert_eq!(e.code(), "InvalidParameter");
}

#[test]
fn delete_removes_the_topic_and_is_quiet_when_absent() {
    let mut s = set();
    let arn = s.create_topic("alerts", none()).unwrap();
    assert!(s.delete_topic(&arn).unwrap());
    assert!(!s.delete_topic(&arn).unwrap());
    assert_eq!(s.topic(&arn).unwrap_err().code(), "NotFound");
    assert_eq!(s.list_topics().count(), 0);
}

#[test]
fn subscriptions_start_pending_and_confirm_with_their_token() {
    let mut s = set();
    let arn = s.create_topic("alerts", none()).unwrap();
    let sub = s
        .subscribe(&arn, "http", "http://127.0.0.1:9/hook", none())
        .unwrap();
    assert_eq!(sub.response_arn(), PENDING_CONFIRMATION);
    assert!(sub.subscription_arn.starts_with(&format!("{arn}:")));
    let token = sub.token.clone().unwrap();
    assert_eq!(token.len(), 64);
    let listed = s.list_subscriptions_by_topic(&arn).unwrap();
    assert_eq!(listed[0].listed_arn(), PENDING_CONFIRMATION_LISTED);
    assert_eq!(s.topic(&arn).unwrap().confirmed_subscriptions().count(), 0);

    assert_eq!(
        s.confirm_subscription(&arn, "wrong").unwrap_err().code(),
        "InvalidParameter"
    );
    assert_eq!(
        s.confirm_subscription(&arn, &token).unwrap(),
        sub.subscription_arn
    );
    let listed = s.list_subscriptions_by_topic(&arn).unwrap();
    assert_eq!(listed[0].listed_arn(), sub.subscription_arn);
    assert_eq!(s.topic(&arn).unwrap().confirmed_subscriptions().count(), 1);
    // The token is spent.
    assert!(s.confirm_subscription(&arn, &token).is_err());
}

#[test]
fn auto_confirm_confirms_at_once_and_subscribe_is_idempotent() {
    let mut s = set().with_auto_confirm(true);
    let arn = s.create_topic("alerts", none()).unwrap();
    let a = s
        .subscribe(&arn, "email", "ops@example.com", none())
        .unwrap();
    assert_eq!(a.token, None);
    assert_eq!(a.response_arn(), a.subscription_arn);
    let b = s
        .subscribe(&arn, "email", "ops@example.com", none())
        .unwrap();
    assert_eq!(a, b);
    let c = s
        .subscribe(&arn, "email-json", "ops@example.com", none())
        .unwrap();
    assert_ne!(a.subscription_arn, c.subscription_arn);
    assert_eq!(s.list_subscriptions().count(), 2);
}

#[test]
fn subscribe_validates_protocol_endpoint_topic_and_attributes() {
    let mut s = set();
    let arn = s.create_topic("alerts", none()).unwrap();
    let cases = [
        ("sms", "+15555550100"),
        ("http", "https://example.com/"),
        ("https", "http://example.com/"),
        ("http", "http://"),
        ("http", "http://exa mple.com/"),
        ("email", "nobody"),
        ("email", "@example.com"),
        ("email-json", "a@b@c"),
    ];
    for (protocol, endpoint) in cases {
        let e = s.subscribe(&arn, protocol, endpoint, none()).unwrap_err();
        assert_eq!(e.code(), "InvalidParameter", "{protocol} {endpoint}");
    }
    let missing = "arn:aws:sns:us-east-1:123456789012:missing";
    let e = s
        .subscribe(missing, "http", "http://example.com/", none())
        .unwrap_err();
    assert_eq!(
        e,
        MonitorError::NotFound {
            what: "topic",
            arn: missing.into()
        }
    );
    let other_region = "arn:aws:sns:eu-west-1:123456789012:alerts";
    assert_eq!(s.topic(other_region).unwrap_err().code(), "NotFound");

    let raw = attrs(&[("RawMessageDelivery", "true")]);
    assert!(s.subscribe(&arn, "email", "a@b.c", raw.clone()).is_err());
    assert!(
        s.subscribe(
            &arn,
            "http",
            "http://h/",
            attrs(&[("RawMessageDelivery", "yes")])
        )
        .is_err()
    );
    assert!(
        s.subscribe(&arn, "http", "http://h/", attrs(&[("Colour", "red")]))
            .is_err()
    );
    let sub = s.subscribe(&arn, "http", "http://h/", raw).unwrap();
    let stored = s.subscription(&sub.subscription_arn).unwrap();
    assert!(stored.raw_message_delivery());
}

#[test]
fn unsubscribe_removes_only_that_subscription() {
    let mut s = set().with_auto_confirm(true);
    let arn = s.create_topic("alerts", none()).unwrap();
    let other = s.create_topic("other", none()).unwrap();
    let a = s.subscribe(&arn, "http", "http://a/", none()).unwrap();
    let b = s.subscribe(&arn, "http", "http://b/", none()).unwrap();
    let c = s.subscribe(&other, "http", "http://a/", none()).unwrap();
    let removed = s.unsubscribe(&a.subscription_arn).unwrap();
    assert_eq!(removed.endpoint, "http://a/");
    let left: Vec<&str> = s.list_subscriptions().map(|s| s.arn.as_str()).collect();
    assert_eq!(
        left,
        [b.subscription_arn.as_str(), c.subscription_arn.as_str()]
    );
    assert_eq!(
        s.unsubscribe(&a.subscription_arn).unwrap_err().code(),
        "NotFound"
    );
    assert_eq!(s.unsubscribe("garbage").unwrap_err().code(), "NotFound");
    assert_eq!(s.list_subscriptions_by_topic(&other).unwrap().len(), 1);
}

#[test]
fn set_subscription_attribute_validates_and_applies() {
    let mut s = set().with_auto_confirm(true);
    let arn = s.create_topic("alerts", none()).unwrap();
    let sub = s.subscribe(&arn, "https", "https://h/", none()).unwrap();
    let sarn = sub.subscription_arn;
    assert!(!s.subscription(&sarn).unwrap().raw_message_delivery());
    s.set_subscription_attribute(&sarn, "RawMessageDelivery", "TRUE")
        .unwrap();
    assert!(s.subscription(&sarn).unwrap().raw_message_delivery());
    assert!(s.set_subscription_attribute(&sarn, "Bogus", "1").is_err());
    let missing = format!("{arn}:{}", uuid::Uuid::new_v4());
    assert_eq!(
        s.set_subscription_attribute(&missing, "RawMessageDelivery", "true")
            .unwrap_err()
            .code(),
        "NotFound"
    );
}

#[test]
fn serde_round_trip_keeps_everything() {
    let mut s = set();
    let arn = s
        .create_topic("alerts", attrs(&[("DisplayName", "Ops")]))
        .unwrap();
    s.subscribe(
        &arn,
        "http",
        "http://a/",
        attrs(&[("RawMessageDelivery", "true")]),
    )
    .unwrap();
    s.auto_confirm = true;
    s.subscribe(&arn, "email-json", "a@b.c", none()).unwrap();
    let json = serde_json::to_string(&s).unwrap();
    let back: TopicSet = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert!(json.contains("\"protocol\":\"email-json\""), "{json}");
    assert!(
        json.contains("\"state\":\"pending_confirmation\""),
        "{json}"
    );
}

#[test]
fn protocols_parse_and_print() {
    for p in [
        Protocol::Http,
        Protocol::Https,
        Protocol::Email,
        Protocol::EmailJson,
    ] {
        assert_eq!(p.as_str().parse::<Protocol>().unwrap(), p);
    }
    assert!("HTTP".parse::<Protocol>().is_err());
}
