//! Hostile input to every operation, in every protocol (awsJson, RPC v2 CBOR, awsQuery):
//! whatever arrives, the answer is an AWS-shaped 4xx in that protocol with a request id, never
//! a 5xx, a panic or a hang, and the server keeps serving.

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::support::Server;
use crate::support::SignExt;

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
            .body(op.1.to_string())
            .signed()
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
            .body(body.clone())
            .signed()
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
        .body("{}")
        .signed()
        .send()
        .await
        .expect("alive");
    assert_eq!(ok.status().as_u16(), 200);
}

/// A CBOR body: random bytes, or well-formed CBOR of every major type, length form and float
/// width, or CBOR broken in the ways a decoder must survive.
fn hostile_cbor(rng: &mut impl Rng) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    match rng.random_range(0..10) {
        0 => return Vec::new(),
        1 => return (0..rng.random_range(1..64)).map(|_| rng.random()).collect(),
        // Nesting far deeper than any input, definite and indefinite.
        2 => {
            let mut b = vec![0xa1, 0x61, b'a'];
            let open = if rng.random() { 0x81 } else { 0x9f };
            b.extend(std::iter::repeat_n(open, rng.random_range(60..20_000)));
            return b;
        }
        // A length no body could hold.
        3 => {
            return vec![
                0xa1, 0x61, b'a', 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ];
        }
        _ => {}
    }
    let _ = e.begin_map();
    for _ in 0..rng.random_range(0..6) {
        let _ = e.str(MEMBERS[rng.random_range(0..MEMBERS.len())]);
        hostile_cbor_value(&mut e, rng, 0);
    }
    let _ = e.end();
    let mut bytes = e.into_writer();
    match rng.random_range(0..6) {
        // Cut short, or with something after the map.
        0 if bytes.len() > 1 => bytes.truncate(rng.random_range(1..bytes.len())),
        1 => bytes.push(rng.random()),
        _ => {}
    }
    bytes
}

fn hostile_cbor_value(e: &mut minicbor::Encoder<Vec<u8>>, rng: &mut impl Rng, depth: u32) {
    let _ = match rng.random_range(0..20) {
        0 => e.null(),
        1 => e.undefined(),
        2 => e.bool(rng.random()),
        3 => e.u64(u64::MAX),
        4 => e.i64(i64::MIN),
        5 => e.int(minicbor::data::Int::try_from(-(1i128 << 64)).expect("int")),
        6 => e.f16(1.5),
        7 => e.f32(f32::NAN),
        8 => e.f64(f64::NEG_INFINITY),
        9 => e.f64(rng.random::<f64>() * 1e6),
        10 => e.str("*:?%[]{}\"\\\u{0}\u{feff}é<&>"),
        11 => e
            .begin_str()
            .and_then(|e| e.str("Sum"))
            .and_then(|e| e.str("mary"))
            .and_then(|e| e.end()),
        12 => e.bytes(&[0, 1, 2, 255]),
        13 => e
            .tag(minicbor::data::Tag::new(1))
            .and_then(|e| e.f64(rng.random::<f64>() * 2e9)),
        14 => e.tag(minicbor::data::Tag::new(1)).and_then(|e| e.str("x")),
        15 => e
            .tag(minicbor::data::Tag::new(rng.random_range(2..60_000)))
            .and_then(|e| e.u8(1)),
        16 => e.simple(rng.random_range(32..=255)),
        17 if depth < 4 => {
            let n = rng.random_range(0..4);
            let _ = e.array(n);
            for _ in 0..n {
                hostile_cbor_value(e, rng, depth + 1);
            }
            return;
        }
        18 if depth < 4 => {
            let _ = e.begin_map();
            for _ in 0..rng.random_range(0..4) {
                let _ = e.str(MEMBERS[rng.random_range(0..MEMBERS.len())]);
                hostile_cbor_value(e, rng, depth + 1);
            }
            let _ = e.end();
            return;
        }
        _ => e.u32(rng.random_range(0..100_000)),
    };
}

/// A form: a real or made-up action and version, and parameters with malformed indexes,
/// map entries, deep paths, bad percent-escapes and values of every type.
fn hostile_form(rng: &mut impl Rng) -> String {
    let mut pairs: Vec<String> = Vec::new();
    match rng.random_range(0..8) {
        0 => {}
        1 => pairs.push("Action=Frob%3Cnicate".to_owned()),
        _ => pairs.push(format!(
            "Action={}",
            CLOUDWATCH_OPS[rng.random_range(0..CLOUDWATCH_OPS.len())]
        )),
    }
    match rng.random_range(0..8) {
        0 => {}
        1 => pairs.push("Version=1999-01-01".to_owned()),
        _ => pairs.push("Version=2010-08-01".to_owned()),
    }
    const INDEXES: [&str; 7] = ["1", "2", "0", "-1", "99999999999", "x", ""];
    const VALUES: [&str; 12] = [
        "",
        "60",
        "-1",
        "1e400",
        "NaN",
        "true",
        "2024-01-01T00:00:00Z",
        "%zz",
        "%",
        "%00%FF",
        "%3Ca%3E%26",
        "a+b",
    ];
    for _ in 0..rng.random_range(0..8) {
        let member = MEMBERS[rng.random_range(0..MEMBERS.len())];
        let index = INDEXES[rng.random_range(0..INDEXES.len())];
        let key = match rng.random_range(0..7) {
            0 => format!("{member}.member.{index}"),
            1 => format!("{member}.member.{index}.Name"),
            2 => format!("{member}.entry.{index}.key"),
            3 => format!("{member}.{index}"),
            4 => vec![member; rng.random_range(2..50)].join("."),
            5 => format!("{member}..x"),
            _ => member.to_owned(),
        };
        let value = if rng.random_range(0..10) == 0 {
            "a".repeat(rng.random_range(1000..5000))
        } else {
            VALUES[rng.random_range(0..VALUES.len())].to_owned()
        };
        pairs.push(format!("{key}={value}"));
    }
    if pairs.is_empty() {
        pairs.push("Namespace=x".to_owned());
    }
    pairs.join("&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cbor_and_forms_get_aws_errors_never_5xx() {
    let server = Server::start();
    let http = reqwest::Client::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xc0b0);
    for i in 0..600 {
        let op = CLOUDWATCH_OPS[i % CLOUDWATCH_OPS.len()];
        let body = hostile_cbor(&mut rng);
        let response = http
            .post(format!(
                "{}/service/GraniteServiceVersion20100801/operation/{op}",
                server.endpoint
            ))
            .header("smithy-protocol", "rpc-v2-cbor")
            .header("content-type", "application/cbor")
            .body(body.clone())
            .signed()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{op} with {body:02x?}: no answer: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        assert!(
            headers.contains_key("x-amzn-requestid"),
            "{op}: no request id"
        );
        assert_eq!(headers["smithy-protocol"], "rpc-v2-cbor");
        let bytes = response.bytes().await.expect("body");
        assert!(status < 500, "{op} with {body:02x?} answered {status}");
        if status == 200 && bytes.is_empty() {
            continue; // an operation without output
        }
        let mut d = minicbor::Decoder::new(&bytes);
        let mut members = Vec::new();
        let n = d.map().expect("a CBOR map").expect("definite");
        for _ in 0..n {
            let key = d.str().expect("text key").to_owned();
            if key == "__type" || key == "message" {
                members.push((key, d.str().expect("text").to_owned()));
            } else {
                d.skip().expect("value");
            }
        }
        if status >= 400 {
            assert!(
                members
                    .iter()
                    .any(|(k, v)| k == "__type" && v.contains('#')),
                "{op} with {body:02x?}: no __type in {members:?}"
            );
            assert!(members.iter().any(|(k, _)| k == "message"));
            assert!(headers.contains_key("x-amzn-query-error"));
        }
    }
    for _ in 0..600 {
        let form = hostile_form(&mut rng);
        let request = if rng.random() {
            http.post(&server.endpoint)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone())
        } else {
            http.get(format!("{}/?{form}", server.endpoint))
        };
        let response = request
            .signed()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{form:.200}: no answer: {e}"));
        let status = response.status().as_u16();
        assert!(
            response.headers().contains_key("x-amzn-requestid"),
            "{form:.200}: no request id"
        );
        let text = response.text().await.expect("body");
        assert!(status < 500, "{form:.300} answered {status}: {text:.300}");
        // Well-formed XML, whatever the texts held.
        let mut reader = quick_xml::Reader::from_str(&text);
        let mut codes = 0;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(e)) if e.local_name().as_ref() == b"Code" => {
                    codes += 1;
                }
                Ok(_) => {}
                Err(e) => panic!("{form:.300}: not XML ({e}): {text:.300}"),
            }
        }
        if status >= 400 {
            assert!(
                text.starts_with("<ErrorResponse"),
                "{form:.300}: {text:.300}"
            );
            assert_eq!(codes, 1, "{text:.300}");
        }
    }
    // Still serving, in every protocol.
    let ok = http
        .get(format!(
            "{}/?Action=ListMetrics&Version=2010-08-01",
            server.endpoint
        ))
        .signed()
        .send()
        .await
        .expect("alive");
    assert_eq!(ok.status().as_u16(), 200);
}
