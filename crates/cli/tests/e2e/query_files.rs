//! `flowwatch query --file`: Logs Insights straight over S3-layout flow-log exports (gzip text
//! with a custom format, Parquet written by pyarrow, an independent writer) and CloudTrail
//! files, with no server.

use std::path::Path;
use std::process::Command;

fn query(root: &Path, text: &str, format: &str) -> String {
    query_in(root, "CWLI", text, format)
}

fn query_in(root: &Path, language: &str, text: &str, format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .args(["query", "--file"])
        .arg(root)
        .args(["--language", language, "--format", format, text])
        .output()
        .expect("run flowwatch query");
    assert!(
        out.status.success(),
        "flowwatch query failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn gzip(path: &Path, text: &str) {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).expect("create"),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes()).expect("write");
    enc.finish().expect("finish");
}

#[test]
fn vpc_queries_run_over_text_and_parquet_exports_and_cloudtrail_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let day = tmp
        .path()
        .join("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24");
    std::fs::create_dir_all(&day).expect("mkdir");
    // A custom format (v5 fields): the header names the fields.
    gzip(
        &day.join("123456789012_vpcflowlogs_us-east-1_fl-1_20261124T0100Z_0a1b2c3d.log.gz"),
        "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction\n\
         5 eni-1 10.0.1.10 10.0.2.15 40000 22 6 1 60 1795482000 1795482060 REJECT OK ingress\n\
         5 eni-1 10.0.1.10 10.0.2.15 40001 22 6 1 60 1795482010 1795482070 REJECT OK ingress\n\
         5 eni-1 10.0.1.11 10.0.2.15 40002 22 6 1 60 1795482400 1795482460 REJECT OK ingress\n\
         5 eni-1 10.0.2.15 10.0.1.10 443 40003 6 10 5000 1795482400 1795482460 ACCEPT OK egress\n",
    );
    // The default format in Parquet, written by pyarrow with AWS's column names and types.
    let parquet =
        day.join("123456789012_vpcflowlogs_us-east-1_fl-2_20261124T0100Z_0a1b2c3e.log.parquet");
    let script = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
t = pa.table({
  "version": pa.array([2, 2], pa.int32()),
  "account_id": ["123456789012", "123456789012"],
  "interface_id": ["eni-2", "eni-2"],
  "srcaddr": ["10.0.1.10", "10.0.3.3"],
  "dstaddr": ["10.0.2.15", "10.0.2.15"],
  "srcport": pa.array([40010, 40011], pa.int32()),
  "dstport": pa.array([22, 80], pa.int32()),
  "protocol": pa.array([6, 6], pa.int32()),
  "packets": pa.array([1, 4], pa.int64()),
  "bytes": pa.array([60, 1000], pa.int64()),
  "start": pa.array([1795482020, 1795482030], pa.int64()),
  "end": pa.array([1795482080, 1795482090], pa.int64()),
  "action": ["REJECT", "ACCEPT"],
  "log_status": ["OK", "OK"],
})
pq.write_table(t, sys.argv[1], compression="gzip")
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&parquet)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "pyarrow: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The second query of issue #5, verbatim.
    let json = query(
        tmp.path(),
        r#"filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20"#,
        "json",
    );
    let rows: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        rows,
        serde_json::json!([
            {"srcAddr": "10.0.1.10", "numRejections": "3"},
            {"srcAddr": "10.0.1.11", "numRejections": "1"}
        ])
    );

    // The same in SQL: the files are the table `logs`, every field a column.
    let json = query_in(
        tmp.path(),
        "SQL",
        r#"SELECT "srcAddr", count(*) AS n FROM logs WHERE action = 'REJECT' GROUP BY "srcAddr" ORDER BY n DESC"#,
        "json",
    );
    let rows: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        rows,
        serde_json::json!([
            {"srcAddr": "10.0.1.10", "n": "3"},
            {"srcAddr": "10.0.1.11", "n": "1"}
        ])
    );

    // The third, as a table with its bar chart.
    let table = query(
        tmp.path(),
        "stats sum(bytes) as bytesTransferred by bin(5m)",
        "table",
    );
    assert!(table.contains("bytesTransferred by bin(5m)"), "{table}");
    let bars: Vec<&str> = table.lines().filter(|l| l.contains('│')).collect();
    assert_eq!(bars.len(), 2, "{table}");
    // 01:00 holds 60+60+60+1000 bytes, 01:05 holds 60+5000: the larger gets the full bar.
    assert!(
        bars[0].starts_with("2026-11-24 01:00:00.000") && bars[0].ends_with(" 1180"),
        "{table}"
    );
    assert!(
        bars[1].starts_with("2026-11-24 01:05:00.000") && bars[1].ends_with(" 5060"),
        "{table}"
    );
    assert_eq!(bars[1].matches('█').count(), 50, "{table}");

    // CloudTrail next to them: JSON fields are discovered and flattened.
    gzip(
        &tmp.path().join("trail.json.gz"),
        r#"{"Records":[
          {"eventVersion":"1.08","eventTime":"2026-11-24T01:02:03Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser","userName":"alice"},"errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"}},
          {"eventVersion":"1.08","eventTime":"2026-11-24T01:03:00Z","eventSource":"logs.amazonaws.com","eventName":"DescribeLogGroups","userIdentity":{"type":"IAMUser","userName":"bob"}}]}"#,
    );
    let csv = query(
        tmp.path(),
        "filter eventSource = 'signin.amazonaws.com' and responseElements.ConsoleLogin = 'Failure' | stats count(*) as failures by userIdentity.userName",
        "csv",
    );
    assert_eq!(csv, "userIdentity.userName,failures\nalice,1\n");
    // SQL sees the CloudTrail fields too (discovered across the files).
    let csv = query_in(
        tmp.path(),
        "SQL",
        "SELECT \"userIdentity.userName\" AS who FROM logs WHERE \"eventName\" = 'ConsoleLogin'",
        "csv",
    );
    assert_eq!(csv, "who\nalice\n");
}

#[test]
fn unreadable_files_and_bad_queries_are_clear_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("broken.log"), "this is not a header\n").expect("write");
    let run = |query: &str| {
        Command::new(env!("CARGO_BIN_EXE_flowwatch"))
            .args(["query", "--file"])
            .arg(tmp.path())
            .arg(query)
            .output()
            .expect("run")
    };
    let out = run("fields @message");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.log") && err.contains("header"),
        "{err}"
    );
    let out = run("stats count(* by");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("MalformedQueryException"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
