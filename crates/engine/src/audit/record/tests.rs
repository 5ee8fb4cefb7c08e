use flowwatch_model::{ApiError, ErrorCode};
use flowwatch_security::policy::Principal;
use serde_json::{Value, json};

use super::*;

const ACCOUNT: &str = "123456789012";

fn call<'a>(
    service: &'a str,
    op: &'a str,
    identity: Identity<'a>,
    input: &'a [u8],
    outcome: Result<&'a [u8], &'a ApiError>,
) -> ApiCall<'a> {
    ApiCall {
        service,
        op,
        account: ACCOUNT,
        region: "eu-west-1",
        identity,
        source_ip: Some("127.0.0.1"),
        user_agent: Some("aws-cli/1.0"),
        request_id: "req-1",
        input: Some(input),
        members: None,
        outcome,
    }
}

fn built(call: &ApiCall<'_>) -> (Value, bool) {
    let b = build(call, 1_700_000_000_123, "ev-1");
    (serde_json::from_str(&b.json).unwrap(), b.management)
}

#[test]
fn a_roots_call_is_a_management_event_with_its_identity() {
    let root = Principal::root(ACCOUNT);
    let identity = Identity::Known {
        principal: &root,
        access_key_id: "AKIAROOT",
        session_created_ms: None,
    };
    let c = call(
        "logs",
        "CreateLogGroup",
        identity,
        br#"{"logGroupName":"app"}"#,
        Ok(b"{}"),
    );
    let (r, management) = built(&c);
    assert!(management);
    assert_eq!(r["eventVersion"], "1.11");
    assert_eq!(r["eventTime"], "2023-11-14T22:13:20Z");
    assert_eq!(r["eventSource"], "logs.amazonaws.com");
    assert_eq!(r["eventName"], "CreateLogGroup");
    assert_eq!(r["awsRegion"], "eu-west-1");
    assert_eq!(r["sourceIPAddress"], "127.0.0.1");
    assert_eq!(r["userAgent"], "aws-cli/1.0");
    assert_eq!(r["requestParameters"], json!({"logGroupName": "app"}));
    assert_eq!(r["responseElements"], Value::Null);
    assert_eq!(r["requestID"], "req-1");
    assert_eq!(r["eventID"], "ev-1");
    assert_eq!(r["readOnly"], false);
    assert_eq!(r["eventType"], "AwsApiCall");
    assert_eq!(r["apiVersion"], "20140328");
    assert_eq!(r["managementEvent"], true);
    assert_eq!(r["eventCategory"], "Management");
    assert_eq!(r["recipientAccountId"], ACCOUNT);
    assert!(r.get("errorCode").is_none());
    assert_eq!(
        r["userIdentity"],
        json!({"type": "Root", "principalId": ACCOUNT,
               "arn": format!("arn:aws:iam::{ACCOUNT}:root"),
               "accountId": ACCOUNT, "accessKeyId": "AKIAROOT"})
    );
    assert_eq!(
        r["resources"],
        json!([{"ARN": format!("arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:app"),
                "accountId": ACCOUNT, "type": "AWS::Logs::LogGroup"}])
    );
}

#[test]
fn a_denied_call_records_the_user_and_the_error() {
    let alice = Principal::user(ACCOUNT, "/", "alice", "AIDAALICE");
    let identity = Identity::Known {
        principal: &alice,
        access_key_id: "AKIAALICE",
        session_created_ms: None,
    };
    let error = ApiError::new(
        ErrorCode::AccessDeniedException,
        "User: x is not authorized",
    );
    let c = call(
        "logs",
        "CreateLogGroup",
        identity,
        br#"{"logGroupName":"x"}"#,
        Err(&error),
    );
    let (r, _) = built(&c);
    assert_eq!(r["errorCode"], "AccessDeniedException");
    assert_eq!(r["errorMessage"], "User: x is not authorized");
    assert_eq!(r["responseElements"], Value::Null);
    assert_eq!(r["userIdentity"]["type"], "IAMUser");
    assert_eq!(r["userIdentity"]["userName"], "alice");
    assert_eq!(r["userIdentity"]["principalId"], "AIDAALICE");
    assert_eq!(r["userIdentity"]["accessKeyId"], "AKIAALICE");
    // The query services record their awsQuery codes; EC2 with its Client. prefix.
    let c = call("iam", "CreateUser", identity, b"{}", Err(&error));
    assert_eq!(built(&c).0["errorCode"], "AccessDenied");
    let denied = ApiError::new(ErrorCode::UnauthorizedOperation, "no");
    let c = call("ec2", "CreateFlowLogs", identity, b"{}", Err(&denied));
    assert_eq!(built(&c).0["errorCode"], "Client.UnauthorizedOperation");
}

#[test]
fn secrets_never_reach_the_record() {
    let root = Principal::root(ACCOUNT);
    let identity = Identity::Known {
        principal: &root,
        access_key_id: "AKIAROOT",
        session_created_ms: None,
    };
    let output = br#"{"AccessKey":{"UserName":"alice","AccessKeyId":"AKIANEW","Status":"Active","SecretAccessKey":"s3cr3t"}}"#;
    let c = call(
        "iam",
        "CreateAccessKey",
        identity,
        br#"{"UserName":"alice"}"#,
        Ok(output),
    );
    let b = build(&c, 0, "e");
    assert!(!b.json.contains("s3cr3t"), "{}", b.json);
    let r: Value = serde_json::from_str(&b.json).unwrap();
    assert_eq!(
        r["responseElements"]["AccessKey"]["SecretAccessKey"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    assert_eq!(r["responseElements"]["AccessKey"]["AccessKeyId"], "AKIANEW");
    let output = br#"{"Credentials":{"AccessKeyId":"ASIA1","SecretAccessKey":"k","SessionToken":"tok","Expiration":1.0}}"#;
    let c = call(
        "sts",
        "AssumeRole",
        identity,
        br#"{"RoleArn":"arn:aws:iam::1:role/r","RoleSessionName":"s"}"#,
        Ok(output),
    );
    let b = build(&c, 0, "e");
    assert!(
        !b.json.contains("\"tok\"") && !b.json.contains("\"k\""),
        "{}",
        b.json
    );
    // A secret in a request is hidden too.
    let c = call(
        "iam",
        "ChangePassword",
        identity,
        br#"{"OldPassword":"old","NewPassword":"new"}"#,
        Ok(b"{}"),
    );
    let b = build(&c, 0, "e");
    assert!(
        !b.json.contains("old") && !b.json.contains("new\""),
        "{}",
        b.json
    );
}

#[test]
fn data_events_skip_their_payload_and_reads_have_no_response() {
    let root = Principal::root(ACCOUNT);
    let identity = Identity::Known {
        principal: &root,
        access_key_id: "AKIAROOT",
        session_created_ms: None,
    };
    let input = br#"{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"secret payload"}]}"#;
    let c = call(
        "logs",
        "PutLogEvents",
        identity,
        input,
        Ok(br#"{"nextSequenceToken":"1"}"#),
    );
    let (r, management) = built(&c);
    assert!(!management);
    assert_eq!(r["eventCategory"], "Data");
    assert_eq!(r["managementEvent"], false);
    assert_eq!(
        r["requestParameters"],
        json!({"logGroupName": "g", "logStreamName": "s"})
    );
    assert_eq!(r["responseElements"], json!({"nextSequenceToken": "1"}));
    let c = call(
        "logs",
        "DescribeLogGroups",
        identity,
        b"{}",
        Ok(br#"{"logGroups":[]}"#),
    );
    let (r, management) = built(&c);
    assert!(management);
    assert_eq!(r["readOnly"], true);
    assert_eq!(r["requestParameters"], Value::Null);
    assert_eq!(r["responseElements"], Value::Null);
}

#[test]
fn a_role_session_names_its_issuer_and_an_unknown_caller_its_key() {
    let session = Principal::assumed_role(ACCOUNT, "/", "reader", "me", "AROAREADER");
    let identity = Identity::Known {
        principal: &session,
        access_key_id: "ASIAX",
        session_created_ms: Some(1_700_000_000_000),
    };
    let c = call("logs", "DescribeLogGroups", identity, b"", Ok(b"{}"));
    let (r, _) = built(&c);
    let id = &r["userIdentity"];
    assert_eq!(id["type"], "AssumedRole");
    assert_eq!(id["principalId"], "AROAREADER:me");
    assert_eq!(
        id["arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/me")
    );
    assert_eq!(
        id["sessionContext"]["sessionIssuer"],
        json!({"type": "Role", "principalId": "AROAREADER",
               "arn": format!("arn:aws:iam::{ACCOUNT}:role/reader"),
               "accountId": ACCOUNT, "userName": "reader"})
    );
    assert_eq!(
        id["sessionContext"]["attributes"],
        json!({"creationDate": "2023-11-14T22:13:20Z", "mfaAuthenticated": "false"})
    );
    let error = ApiError::new(ErrorCode::InvalidSignatureException, "bad");
    let identity = Identity::Unknown {
        access_key_id: Some("AKIABAD"),
    };
    let mut c = call("logs", "CreateLogGroup", identity, b"{}", Err(&error));
    c.input = None;
    c.user_agent = Some("x");
    let (r, _) = built(&c);
    assert_eq!(
        r["userIdentity"],
        json!({"type": "Unknown", "accessKeyId": "AKIABAD"})
    );
    assert_eq!(r["requestParameters"], Value::Null);
    assert_eq!(r["errorCode"], "InvalidSignatureException");
}

#[test]
fn long_texts_are_cut() {
    let root = Principal::root(ACCOUNT);
    let identity = Identity::Known {
        principal: &root,
        access_key_id: "AKIAROOT",
        session_created_ms: None,
    };
    let agent = "é".repeat(1000);
    let mut c = call("logs", "DescribeLogGroups", identity, b"{}", Ok(b"{}"));
    c.user_agent = Some(&agent);
    let (r, _) = built(&c);
    assert_eq!(r["userAgent"].as_str().unwrap().len(), 1024);
    let big = format!(r#"{{"logGroupName":"{}"}}"#, "a".repeat(200 * 1024));
    let c = call(
        "logs",
        "CreateLogGroup",
        identity,
        big.as_bytes(),
        Ok(b"{}"),
    );
    let (r, _) = built(&c);
    assert_eq!(r["requestParameters"], Value::Null);
    assert_eq!(
        r["additionalEventData"],
        json!({"requestParametersTruncated": true})
    );
}
