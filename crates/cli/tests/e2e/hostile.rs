//! Hostile input to every operation: whatever arrives, the answer is an AWS-shaped 4xx with a
//! request id, never a 5xx, a panic or a hang, and the server keeps serving.

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::support::Server;

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=abcd";

const LOGS_OPS: [&str; 22] = [
    "CreateLogGroup",
    "DeleteLogGroup",
    "DescribeLogGroups",
    "PutRetentionPolicy",
    "DeleteRetentionPolicy",
    "PutLogGroupDeletionProtection",
    "CreateLogStream",
    "DeleteLogStream",
    "DescribeLogStreams",
    "PutLogEvents",
    "GetLogEvents",
    "FilterLogEvents",
    "PutMetricFilter",
    "DescribeMetricFilters",
    "DeleteMetricFilter",
    "TestMetricFilter",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "TagLogGroup",
    "UntagLogGroup",
    "ListTagsLogGroup",
];

const CLOUDWATCH_OPS: [&str; 2] = ["GetMetricStatistics", "ListMetrics"];

const MEMBERS: [&str; 29] = [
    "Namespace",
    "MetricName",
    "Period",
    "StartTime",
    "EndTime",
    "Statistics",
    "Dimensions",
    "logGroupName",
    "logStreamName",
    "logGroupIdentifier",
    "logEvents",
    "limit",
    "nextToken",
    "startTime",
    "endTime",
    "filterPattern",
    "retentionInDays",
    "tags",
    "tagKeys",
    "resourceArn",
    "metricTransformations",
    "filterName",
    "logEventMessages",
    "orderBy",
    "descending",
    "logStreamNames",
    "logGroupNamePrefix",
    "logGroupIdentifiers",
    "deletionProtectionEnabled",
];

/// A value of a random JSON type, sometimes at the edges (huge, negative, deep, odd text).
fn hostile_value(rng: &mut impl Rng, depth: u32) -> Value {
    match rng.random_range(0..14) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(i64::MIN),
        3 => json!(u64::MAX),
        4 => json!(-1),
        5 => json!(1e308),
        6 => json!(""),
        7 => json!("*:?%[]{}\"\\\u{0}\u{feff}é"),
        8 => json!("a".repeat(rng.random_range(500..3000))),
        9 => json!(rng.random_range(0..20_000)),
        10 if depth < 4 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| hostile_value(rng, depth + 1))
                .collect(),
        ),
        11 if depth < 4 => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.random_range(0..4) {
                let k = MEMBERS[rng.random_range(0..MEMBERS.len())];
                m.insert(k.to_owned(), hostile_value(rng, depth + 1));
            }
            Value::Object(m)
        }
        12 => json!([{"timestamp": rng.random_range(-5i64..5), "message": ""}]),
        _ => json!("x"),
    }
}

fn hostile_body(rng: &mut impl Rng) -> String {
    match rng.random_range(0..8) {
        0 => String::new(),
        1 => "[]".to_owned(),
        2 => "null".to_owned(),
        3 => "{\"logGroupName\": ".to_owned(),
        4 => (0..rng.random_range(1..64))
            .map(|_| rng.random::<u8>() as char)
            .collect(),
        5 => format!("{}{}", "[".repeat(2000), "]".repeat(2000)),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.random_range(0..6) {
                let k = MEMBERS[rng.random_range(0..MEMBERS.len())];
                m.insert(k.to_owned(), hostile_value(rng, 0));
            }
            Value::Object(m).to_string()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_aws_errors_never_5xx() {
    let server = Server::start();
    let http = reqwest::Client::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    // Some real resources so requests reach deeper than "group not found".
    for op in [
        ("CreateLogGroup", json!({"logGroupName": "logGroupName"})),
        ("CreateLogGroup", json!({"logGroupName": "x"})),
        (
            "CreateLogStream",
            json!({"logGroupName": "x", "logStreamName": "x"}),
        ),
    ] {
        http.post(&server.endpoint)
            .header("x-amz-target", format!("Logs_20140328.{}", op.0))
            .header("authorization", AUTH)
            .body(op.1.to_string())
            .send()
            .await
            .expect("setup");
    }
    for i in 0..1500 {
        let op = if i % 10 == 9 {
            format!("GraniteServiceVersion20100801.{}", CLOUDWATCH_OPS[i % 2])
        } else {
            format!("Logs_20140328.{}", LOGS_OPS[i % LOGS_OPS.len()])
        };
        let body = hostile_body(&mut rng);
        let response = http
            .post(&server.endpoint)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", &op)
            .header("authorization", AUTH)
            .body(body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{op} with {body:.200}: no answer: {e}"));
        let status = response.status().as_u16();
        assert!(
            response.headers().contains_key("x-amzn-requestid"),
            "{op}: no request id"
        );
        let text = response.text().await.expect("body");
        assert!(
            status < 500,
            "{op} with {body:.300} answered {status}: {text:.300}"
        );
        if status >= 400 {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            assert!(
                v["__type"].is_string() && v["message"].is_string(),
                "{op}: not an AWS error: {text:.300}"
            );
        }
    }
    // Still serving.
    let ok = http
        .post(&server.endpoint)
        .header("x-amz-target", "Logs_20140328.DescribeLogGroups")
        .header("authorization", AUTH)
        .body("{}")
        .send()
        .await
        .expect("alive");
    assert_eq!(ok.status().as_u16(), 200);
}
