//! Golden tests: queries over small fixed data whose answers were computed by hand
//! (`tests/golden/*.txt`; the comments in each file show the arithmetic).
//!
//! File format: `query: <text>` starts a case, each following non-empty line is one expected
//! row written `field=value | field=value`, `error: <message>` expects a failure, `#` lines
//! are comments, and a blank line ends the case.

use flowwatch_query::{Compiled, Event, Params, QueryError, run};

/// 2023-11-14 22:10:00 UTC, on a 5-minute boundary.
const T0: i64 = 1_699_999_800_000;
const A: &str = "eni-0e7ae111222111000-all";
const B: &str = "eni-0bbb222333444555-all";

/// (stream, seconds after T0, srcAddr, dstAddr, srcPort, dstPort, protocol, packets, bytes, action)
type Flow = (
    &'static str,
    i64,
    &'static str,
    &'static str,
    u16,
    u16,
    u8,
    u32,
    u32,
    &'static str,
);

const FLOWS: [Flow; 10] = [
    (
        A,
        0,
        "10.0.1.10",
        "10.0.2.15",
        50001,
        22,
        6,
        2,
        120,
        "REJECT",
    ),
    (
        A,
        30,
        "10.0.1.10",
        "10.0.2.15",
        50002,
        22,
        6,
        3,
        180,
        "REJECT",
    ),
    (
        A,
        60,
        "10.0.1.10",
        "10.0.2.15",
        50003,
        443,
        6,
        10,
        5000,
        "ACCEPT",
    ),
    (
        A,
        120,
        "10.0.1.11",
        "10.0.2.15",
        50004,
        22,
        6,
        1,
        60,
        "REJECT",
    ),
    (
        A,
        200,
        "10.0.1.10",
        "10.0.2.16",
        50005,
        22,
        6,
        1,
        60,
        "REJECT",
    ),
    (
        B,
        310,
        "10.0.1.10",
        "10.0.2.15",
        50006,
        22,
        6,
        1,
        60,
        "REJECT",
    ),
    (
        B,
        400,
        "10.0.3.5",
        "10.0.2.15",
        40000,
        3389,
        6,
        4,
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
        4,
        240,
        "REJECT",
    ),
    (
        B,
        620,
        "10.0.3.5",
        "10.0.2.20",
        53,
        53,
        17,
        1,
        100,
        "ACCEPT",
    ),
    (
        A,
        900,
        "10.0.1.10",
        "10.0.2.15",
        50007,
        22,
        6,
        5,
        300,
        "REJECT",
    ),
];

fn flow_events() -> Vec<(String, i64, String)> {
    FLOWS
        .iter()
        .map(|&(stream, secs, src, dst, sp, dp, proto, packets, bytes, action)| {
            let eni = stream.trim_end_matches("-all");
            let ts = T0 / 1000 + secs;
            let line = format!(
                "2 123456789012 {eni} {src} {dst} {sp} {dp} {proto} {packets} {bytes} {ts} {} {action} OK",
                ts + 60
            );
            (stream.to_owned(), T0 + secs * 1000, line)
        })
        .collect()
}

fn trail_events() -> Vec<(String, i64, String)> {
    let event = |name: &str, user: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventName":"{name}","userIdentity":{{"type":"IAMUser","userName":"{user}"}},"requestParameters":{{"items":[{{"instanceId":"i-1"}},{{"instanceId":"i-2"}}]}},"awsRegion":"us-east-1"}}"#
        )
    };
    [
        ("ConsoleLogin", "alice"),
        ("ConsoleLogin", "bob"),
        ("CreateUser", "alice"),
        ("ConsoleLogin", "alice"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, user))| ("trail".to_owned(), T0 + i as i64 * 1000, event(name, user)))
    .collect()
}

fn run_query(
    text: &str,
    events: &[(String, i64, String)],
    flow_types: bool,
) -> Result<Vec<String>, QueryError> {
    let query = Compiled::new(text)?;
    let mut input = query.input_with(1 << 24, flow_types);
    for (i, (stream, ts, message)) in events.iter().enumerate() {
        let ptr = format!("ptr-{i}");
        input.push(&Event {
            timestamp: *ts,
            ingestion_time: *ts + 5,
            seq: i as u64,
            log_stream: stream,
            log: "123456789012:golden",
            ptr: &ptr,
            message,
        })?;
    }
    let params = Params {
        start_ms: T0,
        end_ms: T0 + 3_600_000,
        now_ms: T0 + 3_600_000,
        default_limit: 10_000,
        stable_ties: false,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = runtime.block_on(run(&query, input.finish()?, params, 64 << 20))?;
    Ok(out
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|(f, v)| format!("{f}={v}"))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect())
}

/// Runs every case of golden file `name` over `events`; with `flow_types`, over an input whose
/// flow-log numbers are integers (as for segments of flow-log records): the answers must be the
/// same.
fn check_file(name: &str, events: &[(String, i64, String)], flow_types: bool) {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .collect();
        let Some(first) = lines.first() else { continue };
        let query = first
            .strip_prefix("query: ")
            .expect("a case starts with `query: `");
        cases += 1;
        let expected: Vec<String> = lines[1..].iter().map(|l| l.to_string()).collect();
        let got = match run_query(query, events, flow_types) {
            Ok(rows) => rows,
            Err(e) => vec![format!("error: {}", e.message())],
        };
        if got != expected {
            failures.push(format!(
                "query: {query}\nexpected:\n  {}\ngot:\n  {}",
                expected.join("\n  "),
                got.join("\n  ")
            ));
        }
    }
    assert!(cases > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn vpc_flow_logs() {
    check_file("vpc.txt", &flow_events(), false);
}

#[test]
fn vpc_flow_logs_with_integer_columns() {
    check_file("vpc.txt", &flow_events(), true);
}

#[test]
fn cloudtrail_json() {
    check_file("cloudtrail.txt", &trail_events(), false);
}

#[test]
fn unsupported_constructs_name_themselves_with_a_location() {
    let err = Compiled::new("pattern @message | diff").unwrap_err();
    assert_eq!(err.message(), "command `diff` is not supported yet");
    let loc = err.compile_location().unwrap();
    assert_eq!((loc.start, loc.end), (19, 23));
    let err = Compiled::new("stats count(*) by bin(2mo)").unwrap_err();
    assert!(err.message().contains("bin()"), "{}", err.message());
    assert!(err.compile_location().is_some());
    let err = Compiled::new("fields formatDate(@timestamp, 'yyyy', 'UTC')").unwrap_err();
    assert!(err.message().contains("formatDate"), "{}", err.message());
    let err = Compiled::new("filter x = ").unwrap_err();
    assert!(err.compile_location().is_some());
}

#[test]
fn the_input_is_bounded() {
    let query = Compiled::new("fields @message").unwrap();
    let mut input = query.input(1000);
    let message = "x".repeat(600);
    let event = Event {
        timestamp: 0,
        ingestion_time: 0,
        seq: 0,
        log_stream: "s",
        log: "l",
        ptr: "p",
        message: &message,
    };
    input.push(&event).unwrap();
    assert!(matches!(
        input.push(&event),
        Err(QueryError::MemoryExceeded { limit: 1000 })
    ));
}

#[test]
fn sql_over_one_table_per_group() {
    let events = flow_events();
    let fields: Vec<String> = flowwatch_query::discover::flow_log_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut input = flowwatch_query::InputBuilder::new(fields, 1 << 24);
    for (i, (stream, ts, message)) in events.iter().enumerate() {
        input
            .push(&Event {
                timestamp: *ts,
                ingestion_time: *ts,
                seq: i as u64,
                log_stream: stream,
                log: "123456789012:vpc",
                ptr: "p",
                message,
            })
            .unwrap();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = runtime
        .block_on(flowwatch_query::run_sql(
            r#"SELECT "srcAddr", count(*) AS n FROM vpc WHERE action = 'REJECT' GROUP BY "srcAddr" ORDER BY n DESC"#,
            vec![("vpc".to_owned(), input.finish().unwrap())],
            64 << 20,
        ))
        .unwrap();
    let pair = |a: &str, b: &str| {
        vec![
            ("srcAddr".to_owned(), a.to_owned()),
            ("n".to_owned(), b.to_owned()),
        ]
    };
    assert_eq!(
        out.rows,
        vec![
            pair("10.0.1.10", "5"),
            pair("10.0.3.5", "2"),
            pair("10.0.1.11", "1")
        ]
    );
    assert_eq!(out.records_scanned, 10);
}
