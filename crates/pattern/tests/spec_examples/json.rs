//! Spec §4: JSON patterns, and JSON metric values (§7).

use flowwatch_pattern::ValueRef;

use crate::{check_rows, parse};

// ----------------------------------------------------------------------------------- §4 JSON

const EVENT_A: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c"}"#;

const EVENT_B: &str = r#"{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}"#;

#[test]
fn json_event_a() {
    check_rows(&[
        ("{ $.eventType = \"UpdateTrail\" }", EVENT_A, true),
        ("{ $.eventType = \"UpdateTrailX\" }", EVENT_A, false),
        ("{ $.sourceIPAddress != 123.123.* }", EVENT_A, true),
        ("{ $.sourceIPAddress != 111.111.* }", EVENT_A, false),
        ("{ $.arrayKey[0] = \"value\" }", EVENT_A, true),
        ("{ $.arrayKey[1] = \"value\" }", EVENT_A, false),
        ("{ $.objectList[1].id = 2 }", EVENT_A, true),
        ("{ $.objectList[0].id = 2 }", EVENT_A, false),
        ("{ $.eventType = %Trail% }", EVENT_A, true),
        ("{ $.eventType = %^Trail% }", EVENT_A, false),
        ("{ $.arrayKey[*] = %val.{2}% }", EVENT_A, true),
        ("{ $.arrayKey[*] = %^xyz% }", EVENT_A, false),
        ("{ $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }", EVENT_A, true),
        ("{ $.* = %112\\.111% }", EVENT_A, false),
        ("{ $.['cluster.name'] = \"c\" }", EVENT_A, true),
        ("{ $.['cluster.name'] = \"d\" }", EVENT_A, false),
        ("{ $.SomeObject IS NULL }", EVENT_A, true),
        ("{ $.eventType IS NULL }", EVENT_A, false),
        ("{ $.Missing IS NULL }", EVENT_A, false),
        ("{ $.SomeOtherObject NOT EXISTS }", EVENT_A, true),
        ("{ $.SomeObject NOT EXISTS }", EVENT_A, false),
        (
            "{ $.eventType = \"*\" && $.sourceIPAddress != 123.123.* }",
            EVENT_A,
            true,
        ),
        (
            "{ $.eventType = \"*\" && $.missing != 123.123.* }",
            EVENT_A,
            false,
        ),
        // A selector that resolves to an array or object never matches.
        ("{ $.arrayKey = \"value\" }", EVENT_A, false),
        ("{ $.objectList = * }", EVENT_A, false),
        ("{ $.eventType = UpdateTrail }", EVENT_A, true),
    ]);
}

#[test]
fn json_event_b() {
    check_rows(&[
        (
            "{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }",
            EVENT_B,
            true,
        ),
        (
            "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\" && $.actions[2] = \"nonmatch\" }",
            EVENT_B,
            true,
        ),
        (
            "{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\") && $.actions[2] = \"nonmatch\" }",
            EVENT_B,
            false,
        ),
        (
            "{ ($.user.id = 2 && $.users[0].email = \"nonmatch\") || $.actions[2] = \"GET\" }",
            EVENT_B,
            false,
        ),
        ("{ $.actions[2] = \"DELETE\" }", EVENT_B, true),
        ("{ $.coordinates[2][0] = 7 }", EVENT_B, true),
        ("{ $.coordinates[0][1] = 2 }", EVENT_B, false),
    ]);
}

#[test]
fn json_numeric_comparisons() {
    let ev = r#"{"bandwidth":80,"latency":40,"refreshRate":60,"responseTime":5,"errorCode":400,"number":[1000, 0.002]}"#;
    check_rows(&[
        ("{ $.bandwidth > 75 }", ev, true),
        ("{ $.bandwidth > 80 }", ev, false),
        ("{ $.latency < 50 }", ev, true),
        ("{ $.latency < 40 }", ev, false),
        ("{ $.refreshRate >= 60 }", ev, true),
        ("{ $.refreshRate >= 61 }", ev, false),
        ("{ $.responseTime <= 5 }", ev, true),
        ("{ $.responseTime <= 4.9 }", ev, false),
        ("{ $.errorCode = 400 }", ev, true),
        ("{ $.errorCode = 401 }", ev, false),
        ("{ $.errorCode != 500 }", ev, true),
        ("{ $.errorCode != 400 }", ev, false),
        ("{ $.number[0] = 1e+3 }", ev, true),
        ("{ $.number[0] != 1e-3 }", ev, true),
        ("{ $.number[1] = 2e-3 }", ev, true),
        ("{ $.number[1] != 2e-3 }", ev, false),
        ("{ $.latency = * }", ev, true),
        ("{ $.nothing = * }", ev, false),
        ("{ $.errorCode = -400 }", ev, false),
    ]);
}

#[test]
fn json_non_json_events_never_match() {
    let p = parse("{ $.a NOT EXISTS }");
    assert!(p.matches("{}"));
    for msg in ["", "not json", "[1,2]", "\"s\"", "{\"a\":", "12"] {
        assert!(!p.matches(msg), "{msg}");
    }
}

#[test]
fn json_booleans() {
    let ev = r#"{"ok":true,"bad":false}"#;
    check_rows(&[
        ("{ $.ok IS TRUE }", ev, true),
        ("{ $.ok IS FALSE }", ev, false),
        ("{ $.bad IS FALSE }", ev, true),
        ("{ $.bad is true }", ev, false),
    ]);
}

#[test]
fn json_metric_value() {
    let p = parse("{ $.latency = * }");
    let ev = r#"{"latency": 50, "requestType": "GET"}"#;
    let r = ValueRef::parse("$.latency").unwrap();
    p.check_ref(&r).unwrap();
    let e = p.extract(ev).unwrap();
    assert!(
        e.to_map().is_empty(),
        "JSON patterns report extractedValues {{}}"
    );
    assert_eq!(e.resolve_number(&r), Some(50.0));
    assert_eq!(
        e.resolve(&ValueRef::parse("$.requestType").unwrap())
            .as_deref(),
        Some("GET")
    );
    assert_eq!(e.resolve(&ValueRef::parse("$.missing").unwrap()), None);
}

#[test]
fn cloudtrail_alarm_patterns() {
    let login_failed = r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication"}"#;
    let login_ok = r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"Yes"}}"#;
    let login_no_mfa = r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}"#;
    let ingress = r#"{"eventName":"AuthorizeSecurityGroupIngress"}"#;
    let unauthorized = r#"{"errorCode":"Client.UnauthorizedOperation"}"#;
    let denied = r#"{"errorCode":"AccessDeniedException"}"#;
    let root = r#"{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}"#;
    let root_service = r#"{"userIdentity":{"type":"Root","invokedBy":"s3.amazonaws.com"},"eventType":"AwsApiCall"}"#;
    let failed = "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";
    let sg = "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) }";
    let unauth =
        "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }";
    let root_use = "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }";
    let mfa = "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }";
    check_rows(&[
        (failed, login_failed, true),
        (failed, login_ok, false),
        (sg, ingress, true),
        (sg, login_ok, false),
        (unauth, unauthorized, true),
        (unauth, denied, true),
        (unauth, login_ok, false),
        (root_use, root, true),
        (root_use, root_service, false),
        (mfa, login_no_mfa, true),
        (mfa, login_ok, false),
        (mfa, login_failed, false),
    ]);
}
