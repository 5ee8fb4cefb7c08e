use super::super::*;
use super::{context, holds};

fn ctx() -> RequestContext {
    context("logs:PutLogEvents", "*")
}

#[test]
fn string_operators() {
    let c = ctx()
        .with("aws:SourceAccount", "123456789012")
        .with("logs:tag", "Blue");
    assert!(holds(
        r#"{"StringEquals":{"aws:SourceAccount":"123456789012"}}"#,
        &c
    ));
    assert!(
        holds(
            r#"{"StringEquals":{"AWS:SOURCEACCOUNT":["1","123456789012"]}}"#,
            &c
        ),
        "keys ignore case; values OR-ed"
    );
    assert!(
        !holds(r#"{"StringEquals":{"logs:tag":"blue"}}"#, &c),
        "values are case-sensitive"
    );
    assert!(
        !holds(r#"{"StringEquals":{"logs:tag":"B*"}}"#, &c),
        "no wildcards in StringEquals"
    );
    assert!(holds(
        r#"{"StringEqualsIgnoreCase":{"logs:tag":"BLUE"}}"#,
        &c
    ));
    assert!(!holds(
        r#"{"StringNotEqualsIgnoreCase":{"logs:tag":["red","BLUE"]}}"#,
        &c
    ));
    assert!(holds(
        r#"{"StringNotEqualsIgnoreCase":{"logs:tag":["red","green"]}}"#,
        &c
    ));
    assert!(holds(r#"{"StringLike":{"logs:tag":["R*","B?ue"]}}"#, &c));
    assert!(!holds(r#"{"StringLike":{"logs:tag":"b*"}}"#, &c));
    assert!(holds(r#"{"StringNotLike":{"logs:tag":["R*","G*"]}}"#, &c));
    assert!(
        !holds(r#"{"StringNotLike":{"logs:tag":["R*","B*"]}}"#, &c),
        "negated: must match none"
    );
    assert!(holds(
        r#"{"StringNotEquals":{"logs:tag":["Red","Green"]}}"#,
        &c
    ));
    assert!(!holds(
        r#"{"StringNotEquals":{"logs:tag":["Red","Blue"]}}"#,
        &c
    ));
    // Variables in condition values.
    assert!(holds(
        r#"{"StringEquals":{"logs:owner":"${aws:username}"}}"#,
        &ctx().with("logs:owner", "alice")
    ));
    assert!(holds(
        r#"{"StringLike":{"logs:path":"home/${aws:username}/*"}}"#,
        &ctx().with("logs:path", "home/alice/x")
    ));
    assert!(!holds(
        r#"{"StringLike":{"logs:path":"home/${aws:username}/*"}}"#,
        &ctx().with("logs:path", "home/bob/x")
    ));
}

#[test]
fn numeric_operators() {
    let c = ctx().with("s3:max-keys", "10");
    let cases = [
        ("NumericEquals", "10", true),
        ("NumericEquals", "10.0", true),
        ("NumericEquals", "9", false),
        ("NumericNotEquals", "9", true),
        ("NumericNotEquals", "10", false),
        ("NumericLessThan", "11", true),
        ("NumericLessThan", "10", false),
        ("NumericLessThanEquals", "10", true),
        ("NumericLessThanEquals", "9", false),
        ("NumericGreaterThan", "9.5", true),
        ("NumericGreaterThan", "10", false),
        ("NumericGreaterThanEquals", "10", true),
        ("NumericGreaterThanEquals", "-3", true),
        ("NumericGreaterThanEquals", "11", false),
        ("NumericEquals", "ten", false),
    ];
    for (op, value, expected) in cases {
        assert_eq!(
            holds(&format!(r#"{{"{op}":{{"s3:max-keys":"{value}"}}}}"#), &c),
            expected,
            "{op} {value}"
        );
    }
    assert!(
        holds(r#"{"NumericLessThan":{"s3:max-keys":[5, 20]}}"#, &c),
        "JSON numbers, OR-ed"
    );
    assert!(!holds(
        r#"{"NumericLessThan":{"s3:max-keys":"20"}}"#,
        &ctx().with("s3:max-keys", "NaN")
    ));
}

#[test]
fn date_operators_take_iso_and_epoch() {
    let c = ctx().at(1_704_067_200); // 2024-01-01T00:00:00Z
    let cases = [
        ("DateEquals", "2024-01-01T00:00:00Z", true),
        ("DateEquals", "2024-01-01", true),
        ("DateEquals", "1704067200", true),
        ("DateEquals", "2024-01-01T01:00:00+01:00", true),
        ("DateNotEquals", "2024-01-02", true),
        ("DateNotEquals", "2024-01-01T00:00:00.000Z", false),
        ("DateLessThan", "2024-01-01T00:00:01Z", true),
        ("DateLessThan", "2024-01-01T00:00:00Z", false),
        ("DateLessThanEquals", "2024-01-01T00:00:00Z", true),
        ("DateGreaterThan", "2023-12-31T23:59:59Z", true),
        ("DateGreaterThan", "2024-01-01", false),
        ("DateGreaterThanEquals", "2024-01-01", true),
        ("DateGreaterThanEquals", "garbage", false),
    ];
    for (op, value, expected) in cases {
        assert_eq!(
            holds(
                &format!(r#"{{"{op}":{{"aws:CurrentTime":"{value}"}}}}"#),
                &c
            ),
            expected,
            "{op} {value}"
        );
    }
    assert!(
        holds(
            r#"{"DateLessThan":{"aws:EpochTime":"2025-01-01T00:00:00Z"}}"#,
            &c
        ),
        "epoch request value"
    );
    assert!(holds(
        r#"{"NumericLessThan":{"aws:EpochTime":1704067201}}"#,
        &c
    ));
}

#[test]
fn bool_and_binary() {
    let c = ctx().with("aws:SecureTransport", "true");
    assert!(holds(r#"{"Bool":{"aws:SecureTransport":"true"}}"#, &c));
    assert!(holds(r#"{"Bool":{"aws:SecureTransport":true}}"#, &c));
    assert!(holds(r#"{"Bool":{"aws:SecureTransport":"TRUE"}}"#, &c));
    assert!(!holds(r#"{"Bool":{"aws:SecureTransport":"false"}}"#, &c));
    // A deny on plain HTTP: absent key → Bool false, so the deny does not apply.
    assert!(!holds(
        r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
        &ctx()
    ));
    assert!(holds(
        r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
        &ctx()
    ));
    let c = ctx().with("s3:blob", "aGVsbG8=");
    assert!(
        holds(r#"{"BinaryEquals":{"s3:blob":"aGVsbG8"}}"#, &c),
        "padding optional"
    );
    assert!(!holds(r#"{"BinaryEquals":{"s3:blob":"aGVsbG8h"}}"#, &c));
}

#[test]
fn ip_addresses_v4_and_v6() {
    let v4 = ctx().with("aws:SourceIp", "203.0.113.7");
    assert!(holds(
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &v4
    ));
    assert!(
        holds(
            r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.7"]}}"#,
            &v4
        ),
        "bare address = /32"
    );
    assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#, &v4));
    assert!(!holds(
        r#"{"IpAddress":{"aws:SourceIp":"203.0.112.0/24"}}"#,
        &v4
    ));
    assert!(
        !holds(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/33"}}"#, &v4),
        "invalid prefix"
    );
    assert!(holds(
        r#"{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#,
        &v4
    ));
    assert!(!holds(
        r#"{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/25"]}}"#,
        &v4
    ));
    let v6 = ctx().with("aws:SourceIp", "2001:db8:1234::1");
    assert!(holds(
        r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
        &v6
    ));
    assert!(!holds(
        r#"{"IpAddress":{"aws:SourceIp":"2001:db9::/32"}}"#,
        &v6
    ));
    assert!(!holds(
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &v6
    ));
    assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"::/0"}}"#, &v6));
    let mapped = ctx().with("aws:SourceIp", "::ffff:203.0.113.7");
    assert!(holds(
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &mapped
    ));
    assert!(!holds(
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &ctx().with("aws:SourceIp", "not-an-ip")
    ));
}

#[test]
fn arn_operators() {
    let c = ctx().with(
        "aws:SourceArn",
        "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/fl-1234",
    );
    assert!(holds(
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:*:123456789012:vpc-flow-log/*"}}"#,
        &c
    ));
    assert!(holds(
        r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*"}}"#,
        &c
    ));
    assert!(!holds(
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:*:111122223333:*"}}"#,
        &c
    ));
    assert!(!holds(
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:*:*"}}"#,
        &ctx().with("aws:SourceArn", "garbage")
    ));
    assert!(holds(
        r#"{"ArnNotLike":{"aws:SourceArn":["arn:aws:logs:*:*:*","arn:aws:s3:::*"]}}"#,
        &c
    ));
    assert!(!holds(
        r#"{"ArnNotEquals":{"aws:SourceArn":["arn:aws:logs:*:*:*","arn:aws:ec2:*:*:*"]}}"#,
        &c
    ));
    // `*` does not cross segments.
    assert!(!holds(
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:us-*:vpc-flow-log/fl-1234:*"}}"#,
        &c
    ));
}

#[test]
fn missing_keys() {
    let c = ctx();
    for op in [
        "StringEquals",
        "StringLike",
        "StringEqualsIgnoreCase",
        "NumericEquals",
        "DateEquals",
        "Bool",
        "IpAddress",
        "ArnLike",
        "BinaryEquals",
    ] {
        assert!(
            !holds(&format!(r#"{{"{op}":{{"aws:absent":"x"}}}}"#), &c),
            "{op}: absent → false"
        );
        assert!(
            holds(&format!(r#"{{"{op}IfExists":{{"aws:absent":"x"}}}}"#), &c),
            "{op}IfExists: absent → true"
        );
    }
    for op in [
        "StringNotEquals",
        "StringNotLike",
        "StringNotEqualsIgnoreCase",
        "NumericNotEquals",
        "DateNotEquals",
        "NotIpAddress",
        "ArnNotEquals",
        "ArnNotLike",
    ] {
        assert!(
            holds(&format!(r#"{{"{op}":{{"aws:absent":"x"}}}}"#), &c),
            "{op}: absent → true"
        );
        assert!(
            holds(&format!(r#"{{"{op}IfExists":{{"aws:absent":"x"}}}}"#), &c),
            "{op}IfExists: absent → true"
        );
    }
    // IfExists still tests a present key.
    let present = ctx().with("aws:SourceIp", "10.1.2.3");
    assert!(!holds(
        r#"{"IpAddressIfExists":{"aws:SourceIp":"192.168.0.0/16"}}"#,
        &present
    ));
    assert!(holds(
        r#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &present
    ));
}

#[test]
fn null_tests_presence() {
    let c = ctx().with("aws:TokenIssueTime", "2024-01-01T00:00:00Z");
    assert!(holds(r#"{"Null":{"aws:TokenIssueTime":"false"}}"#, &c));
    assert!(!holds(r#"{"Null":{"aws:TokenIssueTime":"true"}}"#, &c));
    assert!(holds(r#"{"Null":{"aws:TokenIssueTime":"true"}}"#, &ctx()));
    assert!(holds(r#"{"Null":{"aws:TokenIssueTime":true}}"#, &ctx()));
    assert!(
        holds(
            r#"{"Null":{"aws:TagKeys":"true"}}"#,
            &ctx().with_values("aws:TagKeys", Vec::<String>::new())
        ),
        "empty set counts as absent"
    );
    // The principal's keys are in the context: a user has aws:username.
    assert!(holds(r#"{"Null":{"aws:username":"false"}}"#, &ctx()));
}

#[test]
fn several_operators_and_keys_are_anded() {
    let c = ctx()
        .with("aws:SourceIp", "10.0.0.1")
        .with("aws:SecureTransport", "true");
    assert!(holds(
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"}}"#,
        &c
    ));
    assert!(!holds(
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:SecureTransport":"false"}}"#,
        &c
    ));
    assert!(!holds(
        r#"{"StringEquals":{"aws:username":"alice","aws:PrincipalAccount":"999999999999"}}"#,
        &c
    ));
    assert!(holds(
        r#"{"StringEquals":{"aws:username":"alice","aws:PrincipalAccount":"123456789012"}}"#,
        &c
    ));
}

#[test]
fn set_qualifiers() {
    let tags = ctx().with_values("aws:TagKeys", ["env", "team"]);
    let empty = ctx().with_values("aws:TagKeys", Vec::<String>::new());
    let absent = ctx();
    // ForAllValues: every request value in the policy set; vacuously true when empty/absent.
    assert!(holds(
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team","cost"]}}"#,
        &tags
    ));
    assert!(!holds(
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}"#,
        &tags
    ));
    assert!(holds(
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}"#,
        &empty
    ));
    assert!(holds(
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}"#,
        &absent
    ));
    // ForAnyValue: at least one; false when empty/absent.
    assert!(holds(
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["team","cost"]}}"#,
        &tags
    ));
    assert!(!holds(
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["cost"]}}"#,
        &tags
    ));
    assert!(!holds(
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}"#,
        &empty
    ));
    assert!(!holds(
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}"#,
        &absent
    ));
    assert!(holds(
        r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["env"]}}"#,
        &absent
    ));
    // Negated with qualifiers: each request value against all policy values.
    assert!(holds(
        r#"{"ForAllValues:StringNotLike":{"aws:TagKeys":["secret*"]}}"#,
        &tags
    ));
    assert!(!holds(
        r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["team"]}}"#,
        &tags
    ));
    assert!(holds(
        r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["team"]}}"#,
        &tags
    ));
    assert!(!holds(
        r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}"#,
        &tags
    ));
    assert!(!holds(
        r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["x"]}}"#,
        &absent
    ));
    assert!(holds(
        r#"{"ForAllValues:StringLike":{"aws:TagKeys":["e*","t*"]}}"#,
        &tags
    ));
    // Without a qualifier a multivalued key matches on any value; negated on none.
    assert!(holds(r#"{"StringEquals":{"aws:TagKeys":"team"}}"#, &tags));
    assert!(!holds(
        r#"{"StringNotEquals":{"aws:TagKeys":"team"}}"#,
        &tags
    ));
    // A single-valued key behaves as a one-element set.
    let one = ctx().with("aws:RequestTag/env", "prod");
    assert!(holds(
        r#"{"ForAllValues:StringEquals":{"aws:RequestTag/env":["prod","dev"]}}"#,
        &one
    ));
    assert!(holds(
        r#"{"ForAnyValue:StringEquals":{"aws:RequestTag/env":["prod"]}}"#,
        &one
    ));
}
