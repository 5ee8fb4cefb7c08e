//! Flow logs delivered to S3: `aws ec2 create-flow-logs --log-destination-type s3`, records
//! from `flowwatch capture --flow-logs`, and the files read back from `<data_dir>/s3/<bucket>/`
//! with Python's gzip and pyarrow (an independent Parquet reader).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Server, aws_env, binary};

pub(crate) const ENI: &str = "eni-0a1b2c3d4e5f67890";
const PARQUET_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} \
     ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} \
     ${log-status} ${tcp-flags} ${flow-direction}";

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The files under `root` whose name ends in `suffix`, waiting up to 30 s for `n` of them.
fn wait_for(root: &Path, suffix: &str, n: usize) -> Vec<PathBuf> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<PathBuf> = files_under(root)
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .collect();
        if found.len() >= n || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs a Python script with the file as its argument; it prints JSON.
pub(crate) fn python(script: &str, file: &Path) -> Value {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(file)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python")
}

pub(crate) const GUNZIP: &str = r#"
import gzip, json, sys
with gzip.open(sys.argv[1], "rt") as f:
    print(json.dumps(f.read().split("\n")))
"#;

/// Column names and types, the column chunks' compression and the rows, read by pyarrow.
const PYARROW: &str = r#"
import json, sys
import pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
table = f.read()
print(json.dumps({
    "columns": [[field.name, str(field.type)] for field in table.schema],
    "physical": [f.schema.column(i).physical_type for i in range(len(f.schema))],
    "compression": sorted({f.metadata.row_group(0).column(i).compression
                           for i in range(f.metadata.num_columns)}),
    "rows": table.to_pylist(),
}))
"#;

/// An S3 flow log of all of [`ENI`]'s traffic to `destination`; its id.
fn s3_flow_log(server: &Server, destination: &str) -> String {
    server.aws_ok(&[
        "ec2",
        "create-flow-logs",
        "--resource-type",
        "NetworkInterface",
        "--resource-ids",
        ENI,
        "--traffic-type",
        "ALL",
        "--log-destination-type",
        "s3",
        "--log-destination",
        destination,
    ])["FlowLogIds"][0]
        .as_str()
        .expect("a flow log")
        .to_owned()
}

/// Waits until the current 5-minute S3 window has run for `secs` seconds, so that records of
/// the last `secs` seconds (a capture rebased to now) fall in one window.
fn clear_of_window_start(secs: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let into = now % 300;
    if into < secs {
        std::thread::sleep(Duration::from_secs(secs - into + 1));
    }
}

pub(crate) fn capture(server: &Server, pcap: &Path, rebase: bool) {
    let mut cmd = Command::new(binary());
    cmd.args(["capture", "--flow-logs", "--pcap"])
        .arg(pcap)
        .args(["--eni", ENI, "--account", "123456789012"])
        .args(["--local-addr", "10.0.1.5"])
        .args(["--endpoint-url", &server.endpoint])
        .envs(aws_env());
    if rebase {
        cmd.arg("--rebase-time");
    }
    let out = cmd.output().expect("flowwatch capture");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "capture failed: {stderr}");
}

#[test]
fn s3_flow_logs_write_gzip_text_and_parquet_files_as_aws_does() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start_in(&tmp.path().join("data"), &[]);
    let create = |extra: &[&str]| {
        let mut args = vec![
            "ec2",
            "create-flow-logs",
            "--resource-type",
            "NetworkInterface",
            "--resource-ids",
            ENI,
            "--traffic-type",
            "ALL",
            "--log-destination-type",
            "s3",
        ];
        args.extend_from_slice(extra);
        let out = server.aws_ok(&args);
        out["FlowLogIds"][0]
            .as_str()
            .expect("a flow log")
            .to_owned()
    };
    let parquet = create(&[
        "--log-destination",
        "arn:aws:s3:::my-bucket/prefix",
        "--log-format",
        PARQUET_FORMAT,
        "--destination-options",
        "FileFormat=parquet,HiveCompatiblePartitions=true,PerHourPartition=true",
    ]);
    let text = create(&["--log-destination", "arn:aws:s3:::my-bucket"]);

    // Records of 2023-11-14 22:13:20-32 UTC: their window closed long ago, so the background
    // task writes them within seconds.
    let pcap = tmp.path().join("trace.pcap");
    crate::capture::write_pcap(&pcap);
    capture(&server, &pcap, false);
    let bucket = tmp.path().join("data/s3/my-bucket");
    let parquet_files = wait_for(&bucket, ".log.parquet", 1);
    let text_files = wait_for(&bucket, ".log.gz", 1);
    assert_eq!(parquet_files.len(), 1, "{parquet_files:?}");
    assert_eq!(text_files.len(), 1, "{text_files:?}");

    // Hive partitions with the hour, under the prefix.
    let key = parquet_files[0]
        .strip_prefix(&bucket)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let dir = "prefix/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/\
               aws-region=us-east-1/year=2023/month=11/day=14/hour=22/";
    let name = format!("123456789012_vpcflowlogs_us-east-1_{parquet}_20231114T2210Z_");
    assert!(key.starts_with(&format!("{dir}{name}")), "{key}");
    let hash = &key[dir.len() + name.len()..key.len() - ".log.parquet".len()];
    assert!(
        hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{key}"
    );
    // The default layout: no prefix, no Hive, no hour.
    let key = text_files[0]
        .strip_prefix(&bucket)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        key.starts_with(&format!(
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/\
             123456789012_vpcflowlogs_us-east-1_{text}_20231114T2210Z_"
        )) && key.ends_with(".log.gz"),
        "{key}"
    );

    // Plain text: gzip, the header of field names, one record per line.
    let lines = python(GUNZIP, &text_files[0]);
    let lines: Vec<&str> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        lines[0],
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
    );
    assert_eq!(lines.len(), 1 + 6 + 1, "header, 6 records, final newline");
    assert_eq!(lines[7], "");
    assert!(lines.contains(
        &"2 123456789012 eni-0a1b2c3d4e5f67890 198.51.100.7 10.0.1.5 50000 22 6 1 40 1700000000 1700000000 ACCEPT OK"
    ), "{lines:?}");

    // Parquet: AWS's column names and types, GZIP pages, the values.
    let got = python(PYARROW, &parquet_files[0]);
    let columns: Vec<(String, String)> = got["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_str().unwrap().into(), c[1].as_str().unwrap().into()))
        .collect();
    let expected = [
        ("version", "int32"),
        ("account_id", "string"),
        ("interface_id", "string"),
        ("srcaddr", "string"),
        ("dstaddr", "string"),
        ("srcport", "int32"),
        ("dstport", "int32"),
        ("protocol", "int32"),
        ("packets", "int64"),
        ("bytes", "int64"),
        ("start", "int64"),
        ("end", "int64"),
        ("action", "string"),
        ("log_status", "string"),
        ("tcp_flags", "int32"),
        ("flow_direction", "string"),
    ];
    assert_eq!(
        columns,
        expected.map(|(n, t)| (n.to_owned(), t.to_owned())).to_vec()
    );
    assert_eq!(got["compression"], serde_json::json!(["GZIP"]));
    let rows = got["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let ssh: Vec<&Value> = rows.iter().filter(|r| r["dstport"] == 22).collect();
    assert_eq!(ssh.len(), 5);
    let first = ssh.iter().find(|r| r["srcport"] == 50000).unwrap();
    assert_eq!(
        **first,
        serde_json::json!({
            "version": 5, "account_id": "123456789012", "interface_id": ENI,
            "srcaddr": "198.51.100.7", "dstaddr": "10.0.1.5", "srcport": 50000, "dstport": 22,
            "protocol": 6, "packets": 1, "bytes": 40, "start": 1_700_000_000i64,
            "end": 1_700_000_000i64, "action": "ACCEPT", "log_status": "OK", "tcp_flags": 2,
            "flow_direction": "ingress"
        })
    );
    let https = rows.iter().find(|r| r["dstport"] == 443).unwrap();
    assert_eq!(https["packets"], 3);
    assert_eq!(https["flow_direction"], "egress");

    let described = server.aws_ok(&["ec2", "describe-flow-logs"]);
    for fl in described["FlowLogs"].as_array().unwrap() {
        assert_eq!(fl["DeliverLogsStatus"], "SUCCESS", "{fl}");
    }

    // Records of now stay buffered in their open window until the graceful stop writes them.
    // (The capture's records span 12 s: they must not straddle a window's start.)
    clear_of_window_start(15);
    capture(&server, &pcap, true);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(files_under(&bucket).len(), 2, "the window is still open");
    server.stop();
    let text_files = wait_for(&bucket, ".log.gz", 2);
    assert_eq!(text_files.len(), 2, "{text_files:?}");
    assert_eq!(wait_for(&bucket, ".log.parquet", 2).len(), 2);
    let records: usize = text_files
        .iter()
        .map(|f| python(GUNZIP, f).as_array().unwrap().len() - 2)
        .sum();
    assert_eq!(records, 12, "every record of both captures, once");
}

/// The records of a window not written yet survive a crash: after SIGKILL and a restart, a
/// graceful stop writes them, once; a later restart writes nothing again.
#[test]
fn s3_buffered_records_survive_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start_in(&data, &[]);
    let id = s3_flow_log(&server, "arn:aws:s3:::crash-bucket");
    // Rebased to now: their window is still open, so nothing is written before the kill.
    let pcap = tmp.path().join("trace.pcap");
    crate::capture::write_pcap(&pcap);
    capture(&server, &pcap, true);
    let bucket = data.join("s3/crash-bucket");
    assert!(files_under(&bucket).is_empty());
    server.kill();

    let mut server = Server::start_in(&data, &[]);
    server.stop();
    // One file per 5-minute window: two when the capture's records straddle a boundary.
    let files = files_under(&bucket);
    assert!((1..=2).contains(&files.len()), "{files:?}");
    let mut records = 0;
    for file in &files {
        assert!(file.to_string_lossy().contains(&id), "{files:?}");
        let lines = python(GUNZIP, file);
        let lines = lines.as_array().expect("lines");
        // A header line, the records, the final newline.
        records += lines.len() - 2;
    }
    assert_eq!(records, 6, "the 6 records, each once: {files:?}");

    // Written and marked: another restart does not write them again.
    let mut server = Server::start_in(&data, &[]);
    server.stop();
    assert_eq!(files_under(&bucket).len(), files.len());
}

/// `--s3-window-secs 5 --s3-grace-secs 0`: records whose interval just closed are in a file
/// within seconds, not minutes; its name follows AWS's layout.
#[test]
fn short_s3_windows_write_files_within_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start_in(&data, &["--s3-window-secs", "5", "--s3-grace-secs", "0"]);
    s3_flow_log(&server, "arn:aws:s3:::fresh-bucket");
    let pcap = tmp.path().join("trace.pcap");
    crate::capture::write_pcap(&pcap);
    // Rebased: the last record ends now, so its 5-second window closes within 5 seconds.
    let sent = Instant::now();
    capture(&server, &pcap, true);
    let bucket = data.join("s3/fresh-bucket");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut records = 0;
    while records < 6 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        records = files_under(&bucket)
            .iter()
            .map(|f| python(GUNZIP, f).as_array().map_or(0, |l| l.len() - 2))
            .sum();
    }
    let elapsed = sent.elapsed();
    assert_eq!(records, 6, "every record in the files");
    assert!(
        elapsed < Duration::from_secs(15),
        "files took {elapsed:?} (window 5 s, grace 0, checked every second)"
    );
    for file in files_under(&bucket) {
        let name = file.to_string_lossy().into_owned();
        assert!(
            name.contains("/AWSLogs/123456789012/vpcflowlogs/us-east-1/")
                && name.ends_with(".log.gz"),
            "{name}"
        );
    }
    // Bad values are refused with a message.
    let out = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("refused"))
        .args(["--s3-window-secs", "301"])
        .output()
        .expect("flowwatch serve");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 to 300 seconds"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
