//! `flowwatch logs ...` (the built-in client) against the real server.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Server, aws_env};

/// Runs `flowwatch logs <args>` against `endpoint`, feeding `stdin`.
fn logs(endpoint: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .arg("logs")
        .args(args)
        .env("FLOWWATCH_ENDPOINT", endpoint)
        .envs(aws_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowwatch logs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `flowwatch logs <args>` and fails the test unless it succeeds; returns stdout.
fn logs_ok(endpoint: &str, args: &[&str], stdin: &str) -> String {
    let out = logs(endpoint, args, stdin);
    assert!(
        out.status.success(),
        "flowwatch logs {args:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn put_from_stdin_tail_groups_streams_and_errors() {
    let server = Server::start();
    let ep = server.endpoint.as_str();

    // put --create makes the group and the stream; empty lines are skipped.
    let out = logs_ok(
        ep,
        &["put", "cli-app", "web", "--create"],
        "first line\nsecond line\n\nthird line\n",
    );
    assert!(
        out.contains("sent 3 events in 1 batch to cli-app/web"),
        "{out}"
    );
    logs_ok(ep, &["put", "cli-app", "web", "fourth line"], "");

    // tail prints `timestamp message` in order.
    let out = logs_ok(ep, &["tail", "cli-app", "web"], "");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (line, message) in
        lines
            .iter()
            .zip(["first line", "second line", "third line", "fourth line"])
    {
        let (timestamp, rest) = line.split_once(' ').expect("timestamp message");
        assert!(
            timestamp.ends_with('Z') && timestamp.contains('T'),
            "{line}"
        );
        assert_eq!(rest, message);
    }
    let out = logs_ok(
        ep,
        &[
            "tail", "cli-app", "web", "--lines", "2", "--since", "1h", "--json",
        ],
        "",
    );
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(events.len(), 2, "{out}");
    assert_eq!(events[0]["message"], "third line");
    assert_eq!(events[1]["message"], "fourth line");
    assert!(events[1]["timestamp"].is_i64());

    // groups, as JSON and as a table.
    logs_ok(ep, &["create-group", "other"], "");
    let groups: Value =
        serde_json::from_str(&logs_ok(ep, &["groups", "--json"], "")).expect("json");
    let names: Vec<&str> = groups["logGroups"]
        .as_array()
        .expect("logGroups")
        .iter()
        .map(|g| g["logGroupName"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["cli-app", "other"]);
    let groups: Value =
        serde_json::from_str(&logs_ok(ep, &["groups", "--prefix", "oth", "--json"], ""))
            .expect("json");
    assert_eq!(groups["logGroups"].as_array().map(Vec::len), Some(1));
    let table = logs_ok(ep, &["groups"], "");
    assert!(
        table.contains("cli-app") && table.contains("never expire"),
        "{table}"
    );

    // streams
    let out = logs(ep, &["streams", "cli-app", "--json"], "");
    assert!(
        out.status.success(),
        "logs streams failed: {}",
        text(&out.stderr)
    );
    let streams: Value = serde_json::from_slice(&out.stdout).expect("json");
    let stream = &streams["logStreams"][0];
    assert_eq!(stream["logStreamName"], "web");
    assert!(stream["lastEventTimestamp"].is_i64(), "{stream}");
    let table = logs_ok(ep, &["streams", "cli-app", "--order-by", "last-event"], "");
    assert!(table.contains("web"), "{table}");

    // Errors: the AWS code, a hint, a non-zero exit, no panic.
    let out = logs(ep, &["tail", "no-such-group", "web"], "");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ResourceNotFoundException"), "{stderr}");
    assert!(
        stderr.contains("hint:") && !stderr.contains("panicked"),
        "{stderr}"
    );
    let out = logs(ep, &["put", "cli-app", "missing-stream", "x"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("ResourceNotFoundException"));
    let out = logs("http://127.0.0.1:1", &["groups"], "");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("flowwatch serve"), "{stderr}");
}

#[test]
fn tail_follow_prints_new_events() {
    let server = Server::start();
    let ep = server.endpoint.as_str();
    logs_ok(ep, &["put", "app", "s", "--create", "before"], "");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .args(["logs", "tail", "app", "s", "--follow", "--lines", "1"])
        .env("FLOWWATCH_ENDPOINT", ep)
        .envs(aws_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run flowwatch logs tail --follow");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("backlog line");
    assert!(first.ends_with(" before"), "{first}");
    logs_ok(ep, &["put", "app", "s", "after"], "");
    let next = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("followed line");
    assert!(next.ends_with(" after"), "{next}");
    let _ = child.kill();
    let _ = child.wait();
}
