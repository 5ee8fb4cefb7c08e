//! The unmodified aws CLI against flowwatch.

use crate::support::{Server, now_ms};

#[test]
fn create_put_get_and_restart_after_sigkill() {
    let mut server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "app"]);
    server.aws_ok(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "app",
        "--log-stream-name",
        "web-1",
    ]);
    let t = now_ms();
    let events = format!(
        r#"[{{"timestamp":{t},"message":"GET /index.html 200"}},{{"timestamp":{},"message":"GET /missing 404"}}]"#,
        t + 1
    );
    let put = server.aws_ok(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        "app",
        "--log-stream-name",
        "web-1",
        "--log-events",
        &events,
    ]);
    assert!(put["nextSequenceToken"].is_string());
    assert!(put.get("rejectedLogEventsInfo").is_none());

    // SIGKILL: the acknowledged events must come back from the WAL.
    let dir = server.data_dir.clone();
    server.kill();
    let server = Server::start_in(&dir, &[]);
    let got = server.aws_ok(&[
        "logs",
        "get-log-events",
        "--log-group-name",
        "app",
        "--log-stream-name",
        "web-1",
        "--start-from-head",
    ]);
    let events = got["events"].as_array().expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["message"], "GET /index.html 200");
    assert_eq!(events[0]["timestamp"], t);
    assert_eq!(events[1]["message"], "GET /missing 404");
    assert!(events[0]["ingestionTime"].as_i64().unwrap() >= t - 1000);

    server.aws_err(
        &["logs", "create-log-group", "--log-group-name", "app"],
        "ResourceAlreadyExistsException",
    );
}
