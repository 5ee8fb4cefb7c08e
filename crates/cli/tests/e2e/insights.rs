//! Logs Insights through the aws CLI: the three VPC queries of issue #5 verbatim over
//! flow-log records put with PutLogEvents, a CloudTrail-shaped JSON query, GetLogRecord on
//! an `@ptr`, DescribeQueries, StopQuery and MalformedQueryException.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Server, now_ms};

const A: &str = "eni-0e7ae111222111000-all";
const B: &str = "eni-0bbb222333444555-all";

/// (stream, seconds after the base, srcAddr, dstAddr, srcPort, dstPort, protocol, bytes, action)
type Flow = (
    &'static str,
    i64,
    &'static str,
    &'static str,
    u16,
    u16,
    u8,
    u32,
    &'static str,
);

const FLOWS: [Flow; 10] = [
    (A, 0, "10.0.1.10", "10.0.2.15", 50001, 22, 6, 120, "REJECT"),
    (A, 30, "10.0.1.10", "10.0.2.15", 50002, 22, 6, 180, "REJECT"),
    (
        A,
        60,
        "10.0.1.10",
        "10.0.2.15",
        50003,
        443,
        6,
        5000,
        "ACCEPT",
    ),
    (A, 120, "10.0.1.11", "10.0.2.15", 50004, 22, 6, 60, "REJECT"),
    (A, 200, "10.0.1.10", "10.0.2.16", 50005, 22, 6, 60, "REJECT"),
    (B, 310, "10.0.1.10", "10.0.2.15", 50006, 22, 6, 60, "REJECT"),
    (
        B,
        400,
        "10.0.3.5",
        "10.0.2.15",
        40000,
        3389,
        6,
        240,
        "REJECT",
    ),
    (
        B,
        610,
        "10.0.3.5",
        "10.0.2.15",
        40001,
        3389,
        6,
        240,
        "REJECT",
    ),
    (B, 620, "10.0.3.5", "10.0.2.20", 53, 53, 17, 100, "ACCEPT"),
    (
        A,
        900,
        "10.0.1.10",
        "10.0.2.15",
        50007,
        22,
        6,
        300,
        "REJECT",
    ),
];

fn put(server: &Server, group: &str, stream: &str, events: &[(i64, String)]) {
    server.aws_ok(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        group,
        "--log-stream-name",
        stream,
    ]);
    let events: Vec<Value> = events
        .iter()
        .map(|(ts, message)| serde_json::json!({"timestamp": ts, "message": message}))
        .collect();
    server.aws_ok(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        group,
        "--log-stream-name",
        stream,
        "--log-events",
        &Value::Array(events).to_string(),
    ]);
}

/// Runs a query over the last hour and waits for it to complete; returns the
/// GetQueryResults response.
pub(crate) fn query(server: &Server, group: &str, text: &str) -> Value {
    query_in(server, Some(group), text)
}

/// [`query`] with no log group (a query with `SOURCE` names its own).
fn query_in(server: &Server, group: Option<&str>, text: &str) -> Value {
    let now = now_ms() / 1000;
    let (start, end) = ((now - 3600).to_string(), (now + 60).to_string());
    let mut args = vec!["logs", "start-query"];
    if let Some(group) = group {
        args.extend(["--log-group-name", group]);
    }
    args.extend([
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--query-string",
        text,
    ]);
    let started = server.aws_ok(&args);
    let id = started["queryId"].as_str().expect("queryId").to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = server.aws_ok(&["logs", "get-query-results", "--query-id", &id]);
        match got["status"].as_str() {
            Some("Complete") => return got,
            Some("Scheduled" | "Running") if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            other => panic!("query {text}: status {other:?}: {got}"),
        }
    }
}

/// Rows as `field=value | …`, `@ptr` left out.
pub(crate) fn rows(results: &Value) -> Vec<String> {
    results["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .filter(|f| f["field"] != "@ptr")
                .map(|f| {
                    format!(
                        "{}={}",
                        f["field"].as_str().unwrap(),
                        f["value"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

#[test]
fn vpc_flow_log_queries_of_the_issue() {
    let mut server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "vpc"]);
    // On a 5-minute boundary 30 minutes ago, so the bins are known.
    let base = (now_ms() - 1_800_000) / 300_000 * 300_000;
    for stream in [A, B] {
        let events: Vec<(i64, String)> = FLOWS
            .iter()
            .filter(|f| f.0 == stream)
            .map(|&(_, secs, src, dst, sp, dp, proto, bytes, action)| {
                let eni = stream.trim_end_matches("-all");
                let start = base / 1000 + secs;
                (
                    base + secs * 1000,
                    format!(
                        "2 123456789012 {eni} {src} {dst} {sp} {dp} {proto} 1 {bytes} {start} {} {action} OK",
                        start + 60
                    ),
                )
            })
            .collect();
        put(&server, "vpc", stream, &events);
    }

    let in_memory = issue_queries(&server, base);
    let fields = server.aws_ok(&[
        "logs",
        "get-log-group-fields",
        "--log-group-name",
        "vpc",
        "--time",
        &((base + 300_000) / 1000).to_string(),
    ]);
    let names: Vec<&str> = fields["logGroupFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for name in [
        "@timestamp",
        "@message",
        "srcAddr",
        "dstPort",
        "action",
        "logStatus",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }

    let described = server.aws_ok(&["logs", "describe-queries", "--log-group-name", "vpc"]);
    let queries = described["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 6);
    assert!(queries.iter().all(|q| q["status"] == "Complete"));

    // A graceful stop flushes the events into a segment, which stores the records' values as
    // typed columns: the same queries read those instead of the messages, with the same answers.
    server.stop();
    let segments = walk(&server.data_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .count();
    assert!(segments > 0, "the stop wrote a segment");
    let again = Server::start_in(&server.data_dir, &[]);
    let from_segment = issue_queries(&again, base);
    assert_eq!(
        from_segment, in_memory,
        "the same statistics (bytesScanned...)"
    );
}

/// The files under `dir`, recursively.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The queries of issue #5 (and a raw one resolved with GetLogRecord) over [`FLOWS`] put at
/// `base`; the first query's statistics.
fn issue_queries(server: &Server, base: i64) -> Value {
    let got = query(
        server,
        "vpc",
        "filter @logStream = 'eni-0e7ae111222111000-all' | filter action='REJECT' | filter srcAddr = '10.0.1.10' | filter dstAddr = '10.0.2.15' | filter dstPort = '22' | stats count(*) as num by srcAddr, dstAddr, dstPort",
    );
    assert_eq!(
        rows(&got),
        ["srcAddr=10.0.1.10 | dstAddr=10.0.2.15 | dstPort=22 | num=3"]
    );
    assert_eq!(got["statistics"]["recordsScanned"], 10.0);
    assert_eq!(got["statistics"]["recordsMatched"], 3.0);
    let statistics = got["statistics"].clone();

    let got = query(
        server,
        "vpc",
        r#"filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20"#,
    );
    assert_eq!(
        rows(&got),
        [
            "srcAddr=10.0.1.10 | numRejections=5",
            "srcAddr=10.0.3.5 | numRejections=2",
            "srcAddr=10.0.1.11 | numRejections=1",
        ]
    );

    let got = query(
        server,
        "vpc",
        "stats sum(bytes) as bytesTransferred by bin(5m)",
    );
    let expected: Vec<String> = [(0, 5420), (1, 300), (2, 340), (3, 300)]
        .iter()
        .map(|(bin, bytes)| {
            format!(
                "bin(5m)={} | bytesTransferred={bytes}",
                utc(base + bin * 300_000)
            )
        })
        .collect();
    assert_eq!(rows(&got), expected);

    // The time-series functions and histogram per bin: rate per minute is the bin's sum / 5.
    let got = query(
        server,
        "vpc",
        "stats count_over_time(bytes) as c, sumOverTime(bytes) as s, rate(bytes, 1m) as r, histogram(bytes, 2) as h by bin(5m)",
    );
    let expected: Vec<String> = [
        (0, 5, 5420, 1084, r#"{"[60, 2530)":4,"[2530, 5000]":1}"#),
        (1, 2, 300, 60, r#"{"[60, 150)":1,"[150, 240]":1}"#),
        (2, 2, 340, 68, r#"{"[100, 170)":1,"[170, 240]":1}"#),
        (3, 1, 300, 60, r#"{"[300, 300]":1}"#),
    ]
    .iter()
    .map(|(bin, c, s, r, h)| {
        format!(
            "bin(5m)={} | c={c} | s={s} | r={r} | h={h}",
            utc(base + bin * 300_000)
        )
    })
    .collect();
    assert_eq!(rows(&got), expected);

    // Raw rows carry @ptr, which GetLogRecord resolves.
    let got = query(
        server,
        "vpc",
        "filter protocol = 17 | fields srcAddr, dstPort",
    );
    assert_eq!(rows(&got), ["srcAddr=10.0.3.5 | dstPort=53"]);
    let ptr = got["results"][0]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "@ptr")
        .expect("@ptr in a raw row")["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = server.aws_ok(&["logs", "get-log-record", "--log-record-pointer", &ptr]);
    assert_eq!(record["logRecord"]["@logStream"], B);
    assert_eq!(record["logRecord"]["srcAddr"], "10.0.3.5");
    assert_eq!(record["logRecord"]["protocol"], "17");

    // System fields and the message itself (a typed read reads `message` only when asked).
    let got = query(
        server,
        "vpc",
        "filter dstPort = 3389 | fields @logStream, @message, @log | sort @timestamp asc",
    );
    let shown = rows(&got);
    assert_eq!(shown.len(), 2, "{shown:?}");
    for row in &shown {
        assert!(row.contains(&format!("@logStream={B}")), "{row}");
        assert!(row.contains(" 3389 6 1 240 "), "{row}");
        assert!(row.contains(":vpc"), "{row}");
    }

    statistics
}

#[test]
fn cloudtrail_json_and_malformed_queries() {
    let server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "trail"]);
    let t = now_ms() - 120_000;
    let events: Vec<(i64, String)> = [
        ("ConsoleLogin", "alice"),
        ("ConsoleLogin", "bob"),
        ("CreateUser", "alice"),
        ("ConsoleLogin", "alice"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, user))| {
        (
            t + i as i64 * 1000,
            format!(
                r#"{{"eventVersion":"1.08","eventName":"{name}","userIdentity":{{"type":"IAMUser","userName":"{user}"}},"awsRegion":"us-east-1"}}"#
            ),
        )
    })
    .collect();
    put(
        &server,
        "trail",
        "123456789012_CloudTrail_us-east-1",
        &events,
    );
    let got = query(
        &server,
        "trail",
        r#"filter eventName = "ConsoleLogin" | stats count(*) by userIdentity.userName"#,
    );
    assert_eq!(
        rows(&got),
        [
            "userIdentity.userName=alice | count(*)=2",
            "userIdentity.userName=bob | count(*)=1",
        ]
    );
    // jsonParse, a path into it, split and unnest, through StartQuery.
    let got = query(
        &server,
        "trail",
        r#"filter eventName = "CreateUser" | fields jsonParse(@message) as j, split("a,b", ",") as parts | unnest parts into part | stats count(*) as n by j.userIdentity.userName, part"#,
    );
    assert_eq!(
        rows(&got),
        [
            "j.userIdentity.userName=alice | part=a | n=1",
            "j.userIdentity.userName=alice | part=b | n=1",
        ]
    );

    let now = (now_ms() / 1000).to_string();
    let malformed = server.aws(&[
        "logs",
        "start-query",
        "--log-group-name",
        "trail",
        "--start-time",
        "0",
        "--end-time",
        &now,
        "--query-string",
        "pattern @message | diff",
    ]);
    assert!(!malformed.success);
    assert!(
        malformed.stderr.contains("(MalformedQueryException)") && malformed.stderr.contains("diff"),
        "{}",
        malformed.stderr
    );
    server.aws_err(
        &[
            "logs",
            "start-query",
            "--log-group-name",
            "nosuch",
            "--start-time",
            "0",
            "--end-time",
            &now,
            "--query-string",
            "fields @message",
        ],
        "ResourceNotFoundException",
    );
    server.aws_err(
        &["logs", "get-query-results", "--query-id", "nosuch"],
        "ResourceNotFoundException",
    );
    // A finished query cannot be stopped.
    let started = server.aws_ok(&[
        "logs",
        "start-query",
        "--log-group-name",
        "trail",
        "--start-time",
        "0",
        "--end-time",
        &now,
        "--query-string",
        "stats count(*)",
    ]);
    let id = started["queryId"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.aws_ok(&["logs", "get-query-results", "--query-id", id])["status"] != "Complete" {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(100));
    }
    server.aws_err(
        &["logs", "stop-query", "--query-id", id],
        "InvalidParameterException",
    );
}

/// Saved queries through the aws CLI: created, found by name prefix, replaced whole, paged,
/// kept across a restart, deleted; bad input is refused with AWS's errors.
#[test]
fn query_definitions_are_saved_updated_and_deleted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let mut server = Server::start_in(&data, &[]);
    let put = |server: &Server, extra: &[&str]| -> String {
        let mut args = vec!["logs", "put-query-definition"];
        args.extend_from_slice(extra);
        server.aws_ok(&args)["queryDefinitionId"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let rejects = put(
        &server,
        &[
            "--name",
            "vpc/rejected-ssh",
            "--query-string",
            "filter action = \"REJECT\" and dstPort = 22 | stats count(*) by srcAddr",
            "--log-group-names",
            "vpc-flow-logs",
            "other-flows",
        ],
    );
    let sql = put(
        &server,
        &[
            "--name",
            "vpc/top-talkers",
            "--query-language",
            "SQL",
            "--query-string",
            "SELECT srcAddr, count(*) FROM `vpc-flow-logs` GROUP BY srcAddr",
        ],
    );
    put(
        &server,
        &[
            "--name",
            "app/errors",
            "--query-string",
            "filter @message like /ERROR/",
        ],
    );
    // The same client token twice makes one definition.
    let token = "0123456789abcdef0123456789abcdef0123";
    let once = put(
        &server,
        &[
            "--name",
            "app/x",
            "--query-string",
            "fields @message",
            "--client-token",
            token,
        ],
    );
    let again = put(
        &server,
        &[
            "--name",
            "app/x",
            "--query-string",
            "fields @message",
            "--client-token",
            token,
        ],
    );
    assert_eq!(once, again);

    let described = server.aws_ok(&[
        "logs",
        "describe-query-definitions",
        "--query-definition-name-prefix",
        "vpc/",
    ]);
    let defs = described["queryDefinitions"]
        .as_array()
        .expect("definitions");
    let names: Vec<&str> = defs.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["vpc/rejected-ssh", "vpc/top-talkers"]);
    assert_eq!(defs[0]["queryDefinitionId"], rejects.as_str());
    assert_eq!(defs[0]["queryLanguage"], "CWLI");
    assert_eq!(
        defs[0]["logGroupNames"],
        serde_json::json!(["vpc-flow-logs", "other-flows"])
    );
    assert!(defs[0]["lastModified"].as_i64().expect("lastModified") > 0);
    assert_eq!(defs[1]["queryLanguage"], "SQL");
    let only_sql = server.aws_ok(&[
        "logs",
        "describe-query-definitions",
        "--query-language",
        "SQL",
    ]);
    assert_eq!(
        only_sql["queryDefinitions"][0]["queryDefinitionId"],
        sql.as_str()
    );

    // An update replaces the definition whole: no log groups given, none kept.
    put(
        &server,
        &[
            "--name",
            "vpc/rejected-ssh",
            "--query-definition-id",
            &rejects,
            "--query-string",
            "filter action = \"REJECT\" | stats count(*)",
        ],
    );
    // Pages of one, by name.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut args = vec!["logs", "describe-query-definitions", "--max-results", "1"];
        if let Some(t) = &token {
            args.extend_from_slice(&["--next-token", t]);
        }
        let page = server.aws_ok(&args);
        let defs = page["queryDefinitions"].as_array().expect("page");
        assert_eq!(defs.len(), 1);
        seen.push(defs[0]["name"].as_str().expect("name").to_owned());
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["app/errors", "app/x", "vpc/rejected-ssh", "vpc/top-talkers"]
    );

    server.stop();
    let server = Server::start_in(&data, &[]);
    let described = server.aws_ok(&[
        "logs",
        "describe-query-definitions",
        "--query-definition-name-prefix",
        "vpc/rejected",
    ]);
    let def = &described["queryDefinitions"][0];
    assert_eq!(
        def["queryString"],
        "filter action = \"REJECT\" | stats count(*)"
    );
    assert!(def.get("logGroupNames").is_none(), "{def}");

    let deleted = server.aws_ok(&[
        "logs",
        "delete-query-definition",
        "--query-definition-id",
        &rejects,
    ]);
    assert_eq!(deleted["success"], true);
    server.aws_err(
        &[
            "logs",
            "delete-query-definition",
            "--query-definition-id",
            &rejects,
        ],
        "ResourceNotFoundException",
    );
    server.aws_err(
        &[
            "logs",
            "put-query-definition",
            "--name",
            "x",
            "--query-definition-id",
            &rejects,
            "--query-string",
            "fields @message",
        ],
        "ResourceNotFoundException",
    );
    let long = "n".repeat(256);
    server.aws_err(
        &[
            "logs",
            "put-query-definition",
            "--name",
            &long,
            "--query-string",
            "fields a",
        ],
        "InvalidParameterException",
    );
    server.aws_err(
        &[
            "logs",
            "put-query-definition",
            "--name",
            "x",
            "--query-string",
            "fields a",
            "--log-group-names",
            "bad name!",
        ],
        "InvalidParameterException",
    );
    drop(server);
}

/// `SOURCE` picks the groups: by name prefix, and by data source (the groups VPC flow logs
/// deliver to); StartQuery then names none.
#[test]
fn source_selects_log_groups_by_prefix_and_data_source() {
    let server = Server::start();
    let t = now_ms() - 60_000;
    for group in ["vpc-a", "vpc-b", "app"] {
        server.aws_ok(&["logs", "create-log-group", "--log-group-name", group]);
        put(&server, group, "s", &[(t, format!("event of {group}"))]);
    }
    let got = query_in(
        &server,
        None,
        "SOURCE logGroups(namePrefix: ['vpc-']) | stats count(*) as n by @log | sort @log asc",
    );
    assert_eq!(
        rows(&got),
        [
            "@log=123456789012:vpc-a | n=1",
            "@log=123456789012:vpc-b | n=1"
        ]
    );
    let role = server.flow_logs_role("flow-logs");
    server.aws_ok(&[
        "ec2",
        "create-flow-logs",
        "--resource-type",
        "NetworkInterface",
        "--resource-ids",
        "eni-0a1b2c3d4e5f67890",
        "--traffic-type",
        "ALL",
        "--log-group-name",
        "app",
        "--deliver-logs-permission-arn",
        &role,
    ]);
    let got = query_in(
        &server,
        None,
        "SOURCE dataSource(['amazon_vpc.flow']) | stats count(*) as n by @log",
    );
    assert_eq!(rows(&got), ["@log=123456789012:app | n=1"]);
    let now = (now_ms() / 1000).to_string();
    let start = |extra: &[&str], text: &str| {
        let mut args = vec![
            "logs",
            "start-query",
            "--start-time",
            "0",
            "--end-time",
            &now,
        ];
        args.extend_from_slice(extra);
        args.extend(["--query-string", text]);
        server.aws(&args)
    };
    let both = start(
        &["--log-group-name", "app"],
        "SOURCE logGroups(namePrefix: ['vpc-']) | fields @message",
    );
    assert!(
        both.stderr.contains("(InvalidParameterException)"),
        "{}",
        both.stderr
    );
    let none = start(
        &[],
        "SOURCE logGroups(namePrefix: ['nothing-']) | fields @message",
    );
    assert!(
        none.stderr.contains("(ResourceNotFoundException)"),
        "{}",
        none.stderr
    );
    let unknown = start(&[], "SOURCE dataSource(['aws_waf.logs']) | fields @message");
    assert!(
        unknown.stderr.contains("(InvalidParameterException)")
            && unknown.stderr.contains("amazon_vpc.flow"),
        "{}",
        unknown.stderr
    );
}

/// `pattern` through `aws logs start-query`: application lines cluster into patterns with
/// typed dynamic tokens, ratios and severity labels, and the documented combination with
/// `filter`, `parse` and `sort @sampleCount` works.
#[test]
fn pattern_clusters_messages_through_the_aws_cli() {
    let server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "app"]);
    let t = now_ms() - 60_000;
    let mut events = Vec::new();
    for i in 0..6 {
        events.push((t + i, format!("[INFO] Request time: {} ms", 10 + i * 7)));
    }
    for (i, user) in ["alice", "bob"].iter().enumerate() {
        events.push((
            t + 10 + i as i64,
            format!("[ERROR] Failed to do: connect to 10.0.0.{i}:5432 for {user}"),
        ));
    }
    put(&server, "app", "s", &events);
    let got = query(&server, "app", "pattern @message");
    assert_eq!(
        rows(&got),
        [
            "@pattern=[INFO] Request time: <Time-1> ms | @ratio=0.75 | @sampleCount=6 | @severityLabel=Info",
            "@pattern=[ERROR] Failed to do: connect to <IPAddress-1> for <Token-2> | @ratio=0.25 | @sampleCount=2 | @severityLabel=Error",
        ]
    );
    let got = query(
        &server,
        "app",
        "filter @message like /ERROR/ | parse @message 'Failed to do: *' as cause | pattern cause | sort @sampleCount asc",
    );
    assert_eq!(
        rows(&got),
        [
            "@pattern=connect to <IPAddress-1> for <Token-2> | @ratio=1 | @sampleCount=2 | @severityLabel=Unknown"
        ]
    );
}
