//! boto3 against flowwatch.

use crate::support::Server;

#[test]
fn boto3_round_trip_survives_graceful_restart() {
    let mut server = Server::start();
    server.python(
        r#"
import os, time, boto3
logs = boto3.client("logs", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"])
logs.create_log_group(logGroupName="svc")
logs.create_log_stream(logGroupName="svc", logStreamName="a")
now = int(time.time() * 1000)
r = logs.put_log_events(logGroupName="svc", logStreamName="a",
    logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(100)])
assert "rejectedLogEventsInfo" not in r, r
assert r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
"#,
    );
    // SIGTERM flushes memory into a Parquet segment; reads come from it after restart.
    let dir = server.data_dir.clone();
    server.stop();
    let segments = walk(&dir.join("segments"));
    assert!(
        segments.iter().any(|p| p.ends_with(".parquet")),
        "no segment after graceful shutdown: {segments:?}"
    );
    let server = Server::start_in(&dir, &[]);
    server.python(
        r#"
import os, boto3
logs = boto3.client("logs", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"])
r = logs.get_log_events(logGroupName="svc", logStreamName="a", startFromHead=True)
msgs = [e["message"] for e in r["events"]]
assert msgs == [f"line {i}" for i in range(100)], msgs[:5]
"#,
    );
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}
