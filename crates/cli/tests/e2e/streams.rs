//! Log stream control plane: CreateLogStream, DeleteLogStream, DescribeLogStreams (shape,
//! prefix, both orders, pages) and what Vector relies on.

use serde_json::Value;

use crate::support::{Server, now_ms};

fn stream_names(out: &Value) -> Vec<String> {
    out["logStreams"]
        .as_array()
        .expect("logStreams")
        .iter()
        .map(|s| s["logStreamName"].as_str().expect("name").to_owned())
        .collect()
}

#[test]
fn log_streams_lifecycle_shape_and_errors() {
    let server = Server::start();
    let aws = |args: &[&str]| {
        let mut all = vec!["logs"];
        all.extend_from_slice(args);
        server.aws_ok(&all)
    };
    let err = |args: &[&str], code: &str| {
        let mut all = vec!["logs"];
        all.extend_from_slice(args);
        server.aws_err(&all, code)
    };
    aws(&["create-log-group", "--log-group-name", "svc"]);
    for s in ["vector-1", "vector-10", "idle"] {
        aws(&[
            "create-log-stream",
            "--log-group-name",
            "svc",
            "--log-stream-name",
            s,
        ]);
    }
    // Vector: creating an existing stream is ResourceAlreadyExists, which it treats as success.
    let msg = err(
        &[
            "create-log-stream",
            "--log-group-name",
            "svc",
            "--log-stream-name",
            "vector-1",
        ],
        "ResourceAlreadyExistsException",
    );
    assert!(
        msg.contains("The specified log stream already exists"),
        "{msg}"
    );
    err(
        &[
            "create-log-stream",
            "--log-group-name",
            "nope",
            "--log-stream-name",
            "s",
        ],
        "ResourceNotFoundException",
    );
    err(
        &[
            "create-log-stream",
            "--log-group-name",
            "svc",
            "--log-stream-name",
            "a:b",
        ],
        "InvalidParameterException",
    );

    // A stream without events: no event times, storedBytes 0, the stream ARN.
    let idle = aws(&[
        "describe-log-streams",
        "--log-group-name",
        "svc",
        "--log-stream-name-prefix",
        "idle",
    ]);
    assert_eq!(stream_names(&idle), ["idle"]);
    let s = &idle["logStreams"][0];
    assert_eq!(
        s["arn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:svc:log-stream:idle"
    );
    assert_eq!(s["storedBytes"], 0);
    assert!(s["uploadSequenceToken"].is_string());
    assert!(s["creationTime"].as_i64().unwrap() > 1_600_000_000_000);
    for absent in [
        "firstEventTimestamp",
        "lastEventTimestamp",
        "lastIngestionTime",
    ] {
        assert!(s.get(absent).is_none(), "{absent} in {s}");
    }

    // With events: first/last event timestamps and the ingestion time.
    let t = now_ms() - 60_000;
    let events = format!(
        r#"[{{"timestamp":{t},"message":"a"}},{{"timestamp":{},"message":"b"}}]"#,
        t + 5
    );
    aws(&[
        "put-log-events",
        "--log-group-name",
        "svc",
        "--log-stream-name",
        "vector-10",
        "--log-events",
        &events,
    ]);
    // Vector looks its stream up with the exact name as the prefix.
    let found = aws(&[
        "describe-log-streams",
        "--log-group-name",
        "svc",
        "--log-stream-name-prefix",
        "vector-1",
    ]);
    assert_eq!(stream_names(&found), ["vector-1", "vector-10"]);
    let s = &found["logStreams"][1];
    assert_eq!(s["firstEventTimestamp"], t);
    assert_eq!(s["lastEventTimestamp"], t + 5);
    assert!(s["lastIngestionTime"].as_i64().unwrap() >= t);
    let exact = aws(&[
        "describe-log-streams",
        "--log-group-name",
        "svc",
        "--log-stream-name-prefix",
        "vector-10",
    ]);
    assert_eq!(stream_names(&exact), ["vector-10"]);

    // Orders: by name (default, ascending or descending) and by last event time.
    let all = aws(&["describe-log-streams", "--log-group-name", "svc"]);
    assert_eq!(stream_names(&all), ["idle", "vector-1", "vector-10"]);
    let desc = aws(&[
        "describe-log-streams",
        "--log-group-name",
        "svc",
        "--descending",
    ]);
    assert_eq!(stream_names(&desc), ["vector-10", "vector-1", "idle"]);
    let latest = aws(&[
        "describe-log-streams",
        "--log-group-name",
        "svc",
        "--order-by",
        "LastEventTime",
        "--descending",
        "--max-items",
        "1",
    ]);
    assert_eq!(stream_names(&latest), ["vector-10"]);
    let msg = err(
        &[
            "describe-log-streams",
            "--log-group-name",
            "svc",
            "--order-by",
            "LastEventTime",
            "--log-stream-name-prefix",
            "v",
        ],
        "InvalidParameterException",
    );
    assert!(msg.contains("LastEventTime"), "{msg}");
    err(
        &[
            "describe-log-streams",
            "--log-group-name",
            "svc",
            "--order-by",
            "Size",
        ],
        "InvalidParameterException",
    );

    // Exactly one of logGroupName / logGroupIdentifier (a name or either ARN form).
    let arn = "arn:aws:logs:us-east-1:123456789012:log-group:svc";
    for id in ["svc", arn, &format!("{arn}:*")] {
        let by_id = aws(&["describe-log-streams", "--log-group-identifier", id]);
        assert_eq!(
            stream_names(&by_id),
            ["idle", "vector-1", "vector-10"],
            "{id}"
        );
    }
    err(
        &[
            "describe-log-streams",
            "--log-group-name",
            "svc",
            "--log-group-identifier",
            "svc",
        ],
        "InvalidParameterException",
    );
    err(&["describe-log-streams"], "InvalidParameterException");
    err(
        &["describe-log-streams", "--log-group-name", "nope"],
        "ResourceNotFoundException",
    );
    err(
        &[
            "describe-log-streams",
            "--log-group-identifier",
            "arn:aws:logs:eu-west-1:123456789012:log-group:svc",
        ],
        "ResourceNotFoundException",
    );
    err(
        &[
            "describe-log-streams",
            "--log-group-name",
            "svc",
            "--limit",
            "51",
        ],
        "InvalidParameterException",
    );

    // DeleteLogStream: gone from Describe and from reads; unknown stream or group.
    aws(&[
        "delete-log-stream",
        "--log-group-name",
        "svc",
        "--log-stream-name",
        "vector-10",
    ]);
    assert_eq!(
        stream_names(&aws(&["describe-log-streams", "--log-group-name", "svc"])),
        ["idle", "vector-1"]
    );
    err(
        &[
            "get-log-events",
            "--log-group-name",
            "svc",
            "--log-stream-name",
            "vector-10",
        ],
        "ResourceNotFoundException",
    );
    let msg = err(
        &[
            "delete-log-stream",
            "--log-group-name",
            "svc",
            "--log-stream-name",
            "vector-10",
        ],
        "ResourceNotFoundException",
    );
    assert!(
        msg.contains("The specified log stream does not exist."),
        "{msg}"
    );
    let msg = err(
        &[
            "delete-log-stream",
            "--log-group-name",
            "nope",
            "--log-stream-name",
            "idle",
        ],
        "ResourceNotFoundException",
    );
    assert!(
        msg.contains("The specified log group does not exist."),
        "{msg}"
    );
    // A recreated stream starts empty.
    aws(&[
        "create-log-stream",
        "--log-group-name",
        "svc",
        "--log-stream-name",
        "vector-10",
    ]);
    let got = aws(&[
        "get-log-events",
        "--log-group-name",
        "svc",
        "--log-stream-name",
        "vector-10",
    ]);
    assert_eq!(got["events"], Value::Array(vec![]));
}

#[test]
fn describe_log_streams_pagination_in_both_orders() {
    let server = Server::start();
    server.python(
        r##"
import os, time, random, boto3
logs = boto3.client("logs", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"])
logs.create_log_group(logGroupName="many")
names = [f"s-{i:03}" for i in range(120)]
random.seed(7)
order = names[:]
random.shuffle(order)
now = int(time.time() * 1000) - 3_600_000
last = {}
for rank, n in enumerate(order):
    logs.create_log_stream(logGroupName="many", logStreamName=n)
    if rank < 100:
        # Groups of three streams share a last event time: tokens must still be exact.
        ts = now + (rank // 3) * 1000
        logs.put_log_events(logGroupName="many", logStreamName=n,
                            logEvents=[{"timestamp": ts - 10, "message": "x"}, {"timestamp": ts, "message": "y"}])
        last[n] = ts

def pages(**kw):
    seen, token = [], None
    while True:
        args = dict(kw, logGroupName="many", limit=7)
        if token:
            args["nextToken"] = token
        r = logs.describe_log_streams(**args)
        assert len(r["logStreams"]) <= 7
        seen += r["logStreams"]
        token = r.get("nextToken")
        if not token:
            return seen

by_name = [s["logStreamName"] for s in pages()]
assert by_name == sorted(names), by_name
by_name_desc = [s["logStreamName"] for s in pages(descending=True)]
assert by_name_desc == sorted(names, reverse=True), by_name_desc

key = lambda n: (n in last, last.get(n, 0), n)
by_time = pages(orderBy="LastEventTime")
got = [s["logStreamName"] for s in by_time]
assert got == sorted(names, key=key), got
assert all(s["lastEventTimestamp"] == last[s["logStreamName"]] for s in by_time if s["logStreamName"] in last)
assert all("lastEventTimestamp" not in s for s in by_time[:20]), by_time[:20]
got = [s["logStreamName"] for s in pages(orderBy="LastEventTime", descending=True)]
assert got == sorted(names, key=key, reverse=True), got

# A token belongs to its order: reusing it with another order is refused.
t = logs.describe_log_streams(logGroupName="many", limit=5, orderBy="LastEventTime")["nextToken"]
try:
    logs.describe_log_streams(logGroupName="many", nextToken=t)
    raise SystemExit("token accepted for another order")
except logs.exceptions.InvalidParameterException:
    pass

# boto3's paginator with a prefix.
p = logs.get_paginator("describe_log_streams")
got = [s["logStreamName"] for page in p.paginate(logGroupName="many", logStreamNamePrefix="s-1",
                                                PaginationConfig={"PageSize": 4}) for s in page["logStreams"]]
assert got == [f"s-{i}" for i in range(100, 120)], got
"##,
    );
    // The aws CLI's auto-pagination in last-event order.
    let out = server.aws_ok(&[
        "logs",
        "describe-log-streams",
        "--log-group-name",
        "many",
        "--order-by",
        "LastEventTime",
        "--descending",
        "--page-size",
        "9",
    ]);
    let streams = out["logStreams"].as_array().expect("logStreams");
    assert_eq!(streams.len(), 120);
    let times: Vec<i64> = streams
        .iter()
        .map(|s| s["lastEventTimestamp"].as_i64().unwrap_or(-1))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let all = server.aws_ok(&["logs", "describe-log-streams", "--log-group-name", "many"]);
    assert_eq!(stream_names(&all).len(), 120);
}
