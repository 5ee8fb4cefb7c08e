//! FilterLogEvents through the aws CLI and boto3: patterns, streams, time bounds, paging.

use crate::support::{Server, now_ms};

#[test]
fn filter_log_events_with_patterns_and_pages() {
    let server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "vpc"]);
    let t = now_ms() - 60_000;
    for (stream, offset) in [
        ("eni-0a1b2c3d4e5f67890-all", 0),
        ("eni-0fedcba9876543210-all", 1),
    ] {
        server.aws_ok(&[
            "logs",
            "create-log-stream",
            "--log-group-name",
            "vpc",
            "--log-stream-name",
            stream,
        ]);
        let events: Vec<String> = (0..30)
            .map(|i| {
                let (port, action) = if i % 3 == 0 { (22, "REJECT") } else { (443, "ACCEPT") };
                format!(
                    r#"{{"timestamp":{},"message":"2 123456789010 {stream} 172.31.16.139 172.31.16.21 20641 {port} 6 20 4249 1418530010 1418530070 {action} OK"}}"#,
                    t + i * 2 + offset
                )
            })
            .collect();
        let events = format!("[{}]", events.join(","));
        server.aws_ok(&[
            "logs",
            "put-log-events",
            "--log-group-name",
            "vpc",
            "--log-stream-name",
            stream,
            "--log-events",
            &events,
        ]);
    }
    let ssh = "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]";
    let got = server.aws_ok(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "vpc",
        "--filter-pattern",
        ssh,
    ]);
    let events = got["events"].as_array().expect("events");
    assert_eq!(events.len(), 20, "10 rejected SSH records per stream");
    assert!(
        events
            .iter()
            .all(|e| e["message"].as_str().unwrap().contains(" 22 6 "))
    );
    // Interleaved by time across the two streams.
    let ts: Vec<i64> = events
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));
    assert!(
        events
            .iter()
            .any(|e| e["logStreamName"] == "eni-0fedcba9876543210-all")
    );
    assert_eq!(got["searchedLogStreams"], serde_json::json!([]));

    // Terms, a stream prefix, an inclusive end time.
    let got = server.aws_ok(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "vpc",
        "--filter-pattern",
        "ACCEPT -443",
    ]);
    assert_eq!(got["events"].as_array().map(Vec::len), Some(0));
    let got = server.aws_ok(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "vpc",
        "--log-stream-name-prefix",
        "eni-0a",
        "--start-time",
        &t.to_string(),
        "--end-time",
        &(t + 10).to_string(),
    ]);
    let n = got["events"].as_array().map(Vec::len);
    assert_eq!(n, Some(6), "t, t+2 .. t+10 inclusive");

    // Pages of 7 via boto3's paginator visit all 60 events once.
    server.python(
        r#"
import os, boto3
logs = boto3.client("logs", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"])
pages = list(logs.get_paginator("filter_log_events").paginate(logGroupName="vpc", PaginationConfig={"PageSize": 7}))
ids = [e["eventId"] for p in pages for e in p["events"]]
assert len(ids) == 60 and len(set(ids)) == 60, (len(ids), len(set(ids)))
assert len(pages) >= 9, len(pages)
"#,
    );

    server.aws_err(
        &[
            "logs",
            "filter-log-events",
            "--log-group-name",
            "vpc",
            "--filter-pattern",
            "{ $.a = ",
        ],
        "InvalidParameterException",
    );
    server.aws_err(
        &[
            "logs",
            "filter-log-events",
            "--log-group-name",
            "vpc",
            "--log-stream-names",
            "a",
            "--log-stream-name-prefix",
            "b",
        ],
        "InvalidParameterException",
    );
    server.aws_err(
        &["logs", "filter-log-events", "--log-group-name", "nope"],
        "ResourceNotFoundException",
    );
}
