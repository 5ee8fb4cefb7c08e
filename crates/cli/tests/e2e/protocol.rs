//! The awsJson1.1 wire contract as raw HTTP: what Fluent Bit relies on (every answer carries
//! `x-amzn-RequestId`), required members, malformed bodies, authentication and unknown targets.

use serde_json::{Value, json};

use crate::support::SignExt;
use crate::support::{Server, now_ms};

struct Answer {
    status: u16,
    request_id: String,
    body: Value,
}

async fn call(
    http: &reqwest::Client,
    server: &Server,
    target: &str,
    body: &str,
    auth: bool,
) -> Answer {
    let mut request = http
        .post(&server.endpoint)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(body.to_owned());
    if auth {
        request = request.signed();
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    Answer {
        status,
        request_id,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

async fn logs(http: &reqwest::Client, server: &Server, op: &str, body: Value) -> Answer {
    call(
        http,
        server,
        &format!("Logs_20140328.{op}"),
        &body.to_string(),
        true,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_contract() {
    let server = Server::start();
    let http = reqwest::Client::new();
    let arn = "arn:aws:logs:us-east-1:123456789012:log-group:fb";

    // Every successful call of every operation answers 200 with a request id and a JSON body.
    let t = now_ms();
    let calls = [
        ("CreateLogGroup", json!({"logGroupName": "fb"})),
        (
            "CreateLogStream",
            json!({"logGroupName": "fb", "logStreamName": "s"}),
        ),
        (
            "PutLogEvents",
            json!({"logGroupName": "fb", "logStreamName": "s",
                   "logEvents": [{"timestamp": t, "message": "hello"}]}),
        ),
        (
            "GetLogEvents",
            json!({"logGroupName": "fb", "logStreamName": "s"}),
        ),
        ("DescribeLogGroups", json!({})),
        (
            "DescribeLogStreams",
            json!({"logGroupName": "fb", "logStreamNamePrefix": "s"}),
        ),
        (
            "PutRetentionPolicy",
            json!({"logGroupName": "fb", "retentionInDays": 7}),
        ),
        ("DeleteRetentionPolicy", json!({"logGroupName": "fb"})),
        (
            "PutLogGroupDeletionProtection",
            json!({"logGroupIdentifier": "fb", "deletionProtectionEnabled": false}),
        ),
        (
            "TagResource",
            json!({"resourceArn": arn, "tags": {"a": "1"}}),
        ),
        ("ListTagsForResource", json!({"resourceArn": arn})),
        (
            "UntagResource",
            json!({"resourceArn": arn, "tagKeys": ["a"]}),
        ),
        (
            "TagLogGroup",
            json!({"logGroupName": "fb", "tags": {"b": "2"}}),
        ),
        ("ListTagsLogGroup", json!({"logGroupName": "fb"})),
        (
            "UntagLogGroup",
            json!({"logGroupName": "fb", "tags": ["b"]}),
        ),
        (
            "DeleteLogStream",
            json!({"logGroupName": "fb", "logStreamName": "s"}),
        ),
        ("DeleteLogGroup", json!({"logGroupName": "fb"})),
    ];
    for (op, body) in calls {
        let answer = logs(&http, &server, op, body).await;
        assert_eq!(answer.status, 200, "{op}: {}", answer.body);
        assert_eq!(
            answer.request_id.len(),
            36,
            "{op}: request id {:?}",
            answer.request_id
        );
        assert!(answer.body.is_object(), "{op}: {}", answer.body);
    }

    // A missing required member is AWS's "must not be null" validation error.
    let missing = [
        ("CreateLogGroup", json!({}), "logGroupName"),
        ("DeleteLogGroup", json!({}), "logGroupName"),
        (
            "CreateLogStream",
            json!({"logGroupName": "g"}),
            "logStreamName",
        ),
        (
            "DeleteLogStream",
            json!({"logStreamName": "s"}),
            "logGroupName",
        ),
        (
            "DeleteLogStream",
            json!({"logGroupName": "g"}),
            "logStreamName",
        ),
        (
            "PutRetentionPolicy",
            json!({"logGroupName": "g"}),
            "retentionInDays",
        ),
        (
            "PutRetentionPolicy",
            json!({"retentionInDays": 1}),
            "logGroupName",
        ),
        ("DeleteRetentionPolicy", json!({}), "logGroupName"),
        (
            "PutLogGroupDeletionProtection",
            json!({"deletionProtectionEnabled": true}),
            "logGroupIdentifier",
        ),
        (
            "PutLogGroupDeletionProtection",
            json!({"logGroupIdentifier": "g"}),
            "deletionProtectionEnabled",
        ),
        ("TagResource", json!({"tags": {"a": "1"}}), "resourceArn"),
        ("TagResource", json!({"resourceArn": arn}), "tags"),
        ("UntagResource", json!({"resourceArn": arn}), "tagKeys"),
        ("UntagResource", json!({"tagKeys": []}), "resourceArn"),
        ("ListTagsForResource", json!({}), "resourceArn"),
        ("TagLogGroup", json!({"logGroupName": "g"}), "tags"),
        ("UntagLogGroup", json!({"tags": ["a"]}), "logGroupName"),
        ("ListTagsLogGroup", json!({}), "logGroupName"),
    ];
    for (op, body, member) in missing {
        let answer = logs(&http, &server, op, body).await;
        assert_eq!(answer.status, 400, "{op}");
        assert_eq!(answer.body["__type"], "InvalidParameterException", "{op}");
        assert_eq!(
            answer.body["message"],
            format!(
                "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ),
            "{op}"
        );
        assert_eq!(answer.request_id.len(), 36, "{op}");
    }

    // Out-of-range values.
    for (op, body) in [
        ("DescribeLogGroups", json!({"limit": 0})),
        ("DescribeLogGroups", json!({"limit": 51})),
        ("DescribeLogGroups", json!({"logGroupIdentifiers": []})),
        (
            "DescribeLogStreams",
            json!({"logGroupName": "g", "limit": 0}),
        ),
        (
            "DescribeLogStreams",
            json!({"logGroupName": "g", "descending": true, "orderBy": "x"}),
        ),
        (
            "PutRetentionPolicy",
            json!({"logGroupName": "g", "retentionInDays": 0}),
        ),
        (
            "PutRetentionPolicy",
            json!({"logGroupName": "g", "retentionInDays": 4000}),
        ),
        ("UntagLogGroup", json!({"logGroupName": "g", "tags": []})),
        ("TagResource", json!({"resourceArn": arn, "tags": {}})),
    ] {
        let answer = logs(&http, &server, op, body.clone()).await;
        assert_eq!(answer.status, 400, "{op} {body}");
        assert_eq!(
            answer.body["__type"], "InvalidParameterException",
            "{op} {body}: {}",
            answer.body
        );
    }

    // Malformed JSON and wrong JSON types are SerializationException (400).
    for body in [
        "{not json",
        r#"{"limit": "x"}"#,
        "[1, 2]",
        r#"{"logGroupNamePrefix": 5}"#,
    ] {
        let answer = call(
            &http,
            &server,
            "Logs_20140328.DescribeLogGroups",
            body,
            true,
        )
        .await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.body["__type"], "SerializationException", "{body}");
        assert_eq!(answer.request_id.len(), 36);
    }
    // An empty body is `{}`.
    let answer = call(&http, &server, "Logs_20140328.DescribeLogGroups", "", true).await;
    assert_eq!(answer.status, 200);

    // No Authorization: 403 MissingAuthenticationToken.
    let answer = call(
        &http,
        &server,
        "Logs_20140328.DescribeLogGroups",
        "{}",
        false,
    )
    .await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.body["__type"], "MissingAuthenticationToken");
    assert_eq!(answer.request_id.len(), 36);

    // Unknown operations and targets.
    for target in ["Logs_20140328.NoSuchOperation", "Other_2020.Thing", ""] {
        let answer = call(&http, &server, target, "{}", true).await;
        assert_eq!(answer.status, 400, "{target:?}");
        assert_eq!(
            answer.body["__type"], "UnknownOperationException",
            "{target:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_and_batches_are_refused_whole() {
    let server = Server::start();
    let http = reqwest::Client::new();
    // Past the server's body bound: 413, an AWS error shape, a request id.
    let huge = format!(r#"{{"logGroupName":"{}"}}"#, "a".repeat(9 * 1024 * 1024));
    let answer = call(&http, &server, "Logs_20140328.CreateLogGroup", &huge, true).await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.body["__type"], "RequestEntityTooLargeException");
    assert!(!answer.request_id.is_empty());
    // A batch over 1,048,576 bytes (message + 26 each) is refused and nothing is stored.
    logs(
        &http,
        &server,
        "CreateLogGroup",
        json!({"logGroupName": "big"}),
    )
    .await;
    logs(
        &http,
        &server,
        "CreateLogStream",
        json!({"logGroupName": "big", "logStreamName": "s"}),
    )
    .await;
    let t = now_ms();
    let message = "x".repeat(1_048_576 / 2 - 26 + 1);
    let answer = logs(
        &http,
        &server,
        "PutLogEvents",
        json!({"logGroupName": "big", "logStreamName": "s", "logEvents": [
            {"timestamp": t, "message": message}, {"timestamp": t, "message": message}]}),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["__type"], "InvalidParameterException");
    let got = logs(
        &http,
        &server,
        "GetLogEvents",
        json!({"logGroupName": "big", "logStreamName": "s", "startFromHead": true}),
    )
    .await;
    assert_eq!(got.body["events"], json!([]));
}
