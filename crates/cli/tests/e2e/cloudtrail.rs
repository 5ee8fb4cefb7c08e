//! CloudTrail (issue #6): every call is recorded, allowed or denied, and LookupEvents finds
//! them by attribute, time range and page, through the aws CLI and boto3; secrets never
//! reach a record, data events are not listed, and records survive a restart.

use serde_json::Value;

use crate::support::{Server, now_ms};

mod trails;

type Env = Vec<(&'static str, String)>;

fn as_with(server: &Server, env: &Env, args: &[&str]) -> crate::support::AwsOutput {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    server.aws_with(&env, args)
}

/// `aws cloudtrail lookup-events` with `args`, and its events' records parsed.
fn lookup(server: &Server, args: &[&str]) -> (Value, Vec<Value>) {
    let mut all = vec!["cloudtrail", "lookup-events"];
    all.extend_from_slice(args);
    let out = server.aws_ok(&all);
    let records = out["Events"]
        .as_array()
        .expect("Events")
        .iter()
        .map(|e| {
            serde_json::from_str(e["CloudTrailEvent"].as_str().expect("CloudTrailEvent"))
                .expect("a JSON record")
        })
        .collect();
    (out, records)
}

fn by_name(name: &str) -> String {
    format!("AttributeKey=EventName,AttributeValue={name}")
}

#[test]
fn lookup_events_shows_who_was_allowed_and_who_was_denied() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut server = Server::start_in(&dir, &[]);
    let account = server.aws_ok(&["sts", "get-caller-identity"])["Account"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = now_ms() / 1000;

    // Root makes a user who may only put events into `app`.
    server.aws_ok(&["iam", "create-user", "--user-name", "writer"]);
    let key = server.aws_ok(&["iam", "create-access-key", "--user-name", "writer"]);
    let key_id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let writer: Env = vec![
        ("AWS_ACCESS_KEY_ID", key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", secret.clone()),
    ];
    server.aws_ok(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "writer",
        "--policy-name",
        "put",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents",
            "Resource":"arn:aws:logs:*:*:log-group:app:*"}]}"#,
    ]);

    // The user may not create the group; root may.
    let out = as_with(
        &server,
        &writer,
        &["logs", "create-log-group", "--log-group-name", "app"],
    );
    assert!(
        out.stderr.contains("(AccessDeniedException)"),
        "{}",
        out.stderr
    );
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "app"]);
    server.aws_ok(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "app",
        "--log-stream-name",
        "s",
    ]);
    let event = format!("timestamp={},message=hello", now_ms());
    let out = as_with(
        &server,
        &writer,
        &[
            "logs",
            "put-log-events",
            "--log-group-name",
            "app",
            "--log-stream-name",
            "s",
            "--log-events",
            &event,
        ],
    );
    assert!(out.success, "{}", out.stderr);

    // Both CreateLogGroup calls, newest first: root's success, then the user's denial.
    let (out, records) = lookup(
        &server,
        &["--lookup-attributes", &by_name("CreateLogGroup")],
    );
    assert_eq!(records.len(), 2, "{out}");
    let (root, denied) = (&records[0], &records[1]);
    assert_eq!(root["userIdentity"]["type"], "Root");
    assert_eq!(
        root["userIdentity"]["accessKeyId"],
        crate::support::ACCESS_KEY_ID
    );
    assert!(root.get("errorCode").is_none(), "{root}");
    assert_eq!(root["eventSource"], "logs.amazonaws.com");
    assert_eq!(root["requestParameters"]["logGroupName"], "app");
    assert_eq!(root["eventVersion"], "1.11");
    assert_eq!(root["recipientAccountId"], account.as_str());
    assert_eq!(root["sourceIPAddress"], "127.0.0.1");
    assert!(root["userAgent"].as_str().unwrap().starts_with("aws-cli/"));
    assert_eq!(
        root["resources"][0]["ARN"],
        format!("arn:aws:logs:us-east-1:{account}:log-group:app")
    );
    assert_eq!(denied["userIdentity"]["type"], "IAMUser");
    assert_eq!(denied["userIdentity"]["userName"], "writer");
    assert_eq!(denied["userIdentity"]["accessKeyId"], key_id.as_str());
    assert_eq!(
        denied["userIdentity"]["arn"],
        format!("arn:aws:iam::{account}:user/writer")
    );
    assert_eq!(denied["errorCode"], "AccessDeniedException");
    assert!(
        denied["errorMessage"]
            .as_str()
            .unwrap()
            .contains("logs:CreateLogGroup"),
        "{denied}"
    );
    assert_eq!(denied["responseElements"], Value::Null);
    let listed = &out["Events"][1];
    assert_eq!(listed["EventName"], "CreateLogGroup");
    assert_eq!(listed["Username"], "writer");
    assert_eq!(listed["AccessKeyId"], key_id.as_str());
    assert_eq!(listed["ReadOnly"], "false");
    assert_eq!(listed["EventSource"], "logs.amazonaws.com");
    assert_eq!(listed["Resources"][0]["ResourceName"], "app");
    assert_eq!(listed["EventId"], denied["eventID"]);
    // The request id a client saw is the record's.
    assert!(!denied["requestID"].as_str().unwrap().is_empty());

    // By user: the denial and nothing of root's; the PutLogEvents data event is not listed.
    let (_, records) = lookup(
        &server,
        &[
            "--lookup-attributes",
            "AttributeKey=Username,AttributeValue=writer",
        ],
    );
    assert!(!records.is_empty());
    assert!(
        records
            .iter()
            .all(|r| r["userIdentity"]["userName"] == "writer")
    );
    assert!(records.iter().any(|r| r["eventName"] == "CreateLogGroup"));
    assert!(records.iter().all(|r| r["eventName"] != "PutLogEvents"));
    let (_, records) = lookup(&server, &["--lookup-attributes", &by_name("PutLogEvents")]);
    assert!(
        records.is_empty(),
        "data events are not listed: {records:?}"
    );

    // CreateAccessKey's record holds the key id, never the secret.
    let (out, records) = lookup(
        &server,
        &["--lookup-attributes", &by_name("CreateAccessKey")],
    );
    assert_eq!(records.len(), 1);
    assert!(
        !out.to_string().contains(&secret),
        "the secret leaked: {out}"
    );
    let elements = &records[0]["responseElements"]["AccessKey"];
    assert_eq!(elements["AccessKeyId"], key_id.as_str());
    assert_eq!(
        elements["SecretAccessKey"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );

    // Time ranges are inclusive epoch seconds; a range before the calls finds none of them.
    let (now, before) = ((now_ms() / 1000).to_string(), (started - 3600).to_string());
    let long_ago = (started - 7200).to_string();
    let (_, records) = lookup(
        &server,
        &[
            "--lookup-attributes",
            &by_name("CreateLogGroup"),
            "--start-time",
            &started.to_string(),
            "--end-time",
            &now,
        ],
    );
    assert_eq!(records.len(), 2);
    let (_, records) = lookup(&server, &["--start-time", &long_ago, "--end-time", &before]);
    assert!(records.is_empty());
    let out = server.aws(&[
        "cloudtrail",
        "lookup-events",
        "--start-time",
        &now,
        "--end-time",
        &before,
    ]);
    assert!(
        out.stderr.contains("(InvalidTimeRangeException)"),
        "{}",
        out.stderr
    );
    let out = server.aws(&[
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        &by_name("A"),
        "AttributeKey=Username,AttributeValue=b",
    ]);
    assert!(
        out.stderr.contains("(InvalidLookupAttributesException)"),
        "{}",
        out.stderr
    );

    // Pages: two at a time, one per request, then the rest from the CLI's token.
    let (out, first) = lookup(&server, &["--max-items", "2", "--page-size", "1"]);
    assert_eq!(first.len(), 2);
    let token = out["NextToken"].as_str().expect("a NextToken").to_owned();
    let (_, rest) = lookup(
        &server,
        &[
            "--starting-token",
            &token,
            "--page-size",
            "1",
            "--max-items",
            "2",
        ],
    );
    assert_eq!(rest.len(), 2);
    assert!(
        rest.iter()
            .all(|r| r["eventID"] != first[0]["eventID"] && r["eventID"] != first[1]["eventID"])
    );
    assert!(first[1]["eventTime"].as_str() >= rest[0]["eventTime"].as_str());
    server.python(
        r#"
import os, boto3
ct = boto3.client("cloudtrail", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"])
pages = ct.get_paginator("lookup_events").paginate(
    LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}],
    PaginationConfig={"PageSize": 1})
names = [e["EventName"] for p in pages for e in p["Events"]]
assert names == ["PutUserPolicy", "CreateAccessKey", "CreateUser"], names
"#,
    );

    // The user may not look events up without cloudtrail:LookupEvents.
    let out = as_with(&server, &writer, &["cloudtrail", "lookup-events"]);
    assert!(
        out.stderr.contains("(AccessDeniedException)"),
        "{}",
        out.stderr
    );

    // The trail's group is flowwatch's: hidden, and no Logs operation may name it.
    let groups = server.aws_ok(&["logs", "describe-log-groups"]);
    assert_eq!(groups["logGroups"].as_array().unwrap().len(), 1, "{groups}");
    server.aws_err(
        &[
            "logs",
            "delete-log-group",
            "--log-group-name",
            "aws/cloudtrail/events",
        ],
        "ResourceNotFoundException",
    );
    server.aws_err(
        &[
            "logs",
            "get-log-events",
            "--log-group-name",
            "aws/cloudtrail/events",
            "--log-stream-name",
            "management",
        ],
        "ResourceNotFoundException",
    );

    // The records survive a crash: each was durable before its call was answered.
    server.kill();
    let server = Server::start_in(&dir, &[]);
    let (_, records) = lookup(
        &server,
        &["--lookup-attributes", &by_name("CreateLogGroup")],
    );
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["userIdentity"]["userName"], "writer");
}

#[test]
fn a_refused_signature_is_recorded_with_the_key_it_claimed() {
    let server = Server::start();
    let out = server.aws_with(
        &[
            ("AWS_ACCESS_KEY_ID", "AKIANOBODY"),
            ("AWS_SECRET_ACCESS_KEY", "wrong"),
        ],
        &["logs", "describe-log-groups"],
    );
    assert!(
        out.stderr.contains("(UnrecognizedClientException)"),
        "{}",
        out.stderr
    );
    let (_, records) = lookup(
        &server,
        &[
            "--lookup-attributes",
            "AttributeKey=AccessKeyId,AttributeValue=AKIANOBODY",
        ],
    );
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["userIdentity"]["type"], "Unknown");
    assert_eq!(records[0]["errorCode"], "UnrecognizedClientException");
    assert_eq!(records[0]["eventName"], "DescribeLogGroups");
    assert_eq!(records[0]["requestParameters"], Value::Null);
}

#[test]
fn a_role_sessions_calls_name_the_role_that_issued_it() {
    let server = Server::start();
    let account = server.aws_ok(&["sts", "get-caller-identity"])["Account"]
        .as_str()
        .unwrap()
        .to_owned();
    server.aws_ok(&["iam", "create-user", "--user-name", "alice"]);
    let key = server.aws_ok(&["iam", "create-access-key", "--user-name", "alice"]);
    let alice: Env = vec![
        (
            "AWS_ACCESS_KEY_ID",
            key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            key["AccessKey"]["SecretAccessKey"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
    ];
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
            "Principal":{{"AWS":"arn:aws:iam::{account}:user/alice"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    server.aws_ok(&[
        "iam",
        "create-role",
        "--role-name",
        "reader",
        "--assume-role-policy-document",
        &trust,
    ]);
    let out = as_with(
        &server,
        &alice,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &format!("arn:aws:iam::{account}:role/reader"),
            "--role-session-name",
            "night-shift",
        ],
    );
    assert!(out.success, "{}", out.stderr);
    let credentials = &out.json["Credentials"];
    let token = credentials["SessionToken"].as_str().unwrap().to_owned();
    let session: Env = vec![
        (
            "AWS_ACCESS_KEY_ID",
            credentials["AccessKeyId"].as_str().unwrap().to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            credentials["SecretAccessKey"].as_str().unwrap().to_owned(),
        ),
        ("AWS_SESSION_TOKEN", token.clone()),
    ];
    // The role has no policy: the call is denied, and recorded.
    let out = as_with(&server, &session, &["logs", "describe-log-groups"]);
    assert!(
        out.stderr.contains("(AccessDeniedException)"),
        "{}",
        out.stderr
    );

    let (_, records) = lookup(
        &server,
        &[
            "--lookup-attributes",
            "AttributeKey=Username,AttributeValue=night-shift",
        ],
    );
    assert_eq!(records.len(), 1, "{records:?}");
    let identity = &records[0]["userIdentity"];
    assert_eq!(identity["type"], "AssumedRole");
    assert_eq!(
        identity["arn"],
        format!("arn:aws:sts::{account}:assumed-role/reader/night-shift")
    );
    let issuer = &identity["sessionContext"]["sessionIssuer"];
    assert_eq!(issuer["type"], "Role");
    assert_eq!(issuer["userName"], "reader");
    assert_eq!(issuer["arn"], format!("arn:aws:iam::{account}:role/reader"));
    assert!(issuer["principalId"].as_str().unwrap().starts_with("AROA"));
    let created = identity["sessionContext"]["attributes"]["creationDate"]
        .as_str()
        .unwrap();
    assert!(created.ends_with('Z') && created > "2026", "{created}");

    // AssumeRole's answer is recorded without the session's secrets.
    let (out, records) = lookup(&server, &["--lookup-attributes", &by_name("AssumeRole")]);
    assert_eq!(records.len(), 1);
    assert!(
        !out.to_string().contains(&token),
        "the session token leaked"
    );
    let credentials = &records[0]["responseElements"]["Credentials"];
    assert_eq!(
        credentials["SessionToken"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    assert_eq!(
        credentials["SecretAccessKey"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
}
