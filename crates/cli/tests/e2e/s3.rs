//! Segments on an S3-compatible object store (moto's server on 127.0.0.1), and resources scoped
//! by account and region.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Server, aws_env, now_ms};

pub(crate) struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub(crate) fn start_moto() -> (Moto, String) {
    let port = free_port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server (pip install 'moto[server]')");
    let moto = Moto(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (moto, format!("http://127.0.0.1:{port}"))
}

pub(crate) fn s3api(endpoint: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("aws")
        .args(["s3api"])
        .args(args)
        .args(["--endpoint-url", endpoint, "--output", "json"])
        .envs(aws_env())
        .output()
        .expect("aws s3api");
    assert!(
        out.status.success(),
        "s3api {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

#[test]
fn segments_live_in_an_s3_bucket() {
    let (_moto, s3) = start_moto();
    s3api(&s3, &["create-bucket", "--bucket", "fw-segments"]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = tmp.path().join("flowwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[s3]\nbucket = \"fw-segments\"\nprefix = \"cluster-1\"\nendpoint = \"{s3}\"\nregion = \"us-east-1\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\nallow_http = true\n"
        ),
    )
    .expect("config");
    let config = config.display().to_string();
    let dir = tmp.path().join("data");
    let mut server = Server::start_in(&dir, &["--config", &config]);
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "s3-backed"]);
    server.aws_ok(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "s3-backed",
        "--log-stream-name",
        "s",
    ]);
    let t = now_ms();
    let events = format!(r#"[{{"timestamp":{t},"message":"stored in S3"}}]"#);
    server.aws_ok(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        "s3-backed",
        "--log-stream-name",
        "s",
        "--log-events",
        &events,
    ]);
    server.stop();
    let listing = s3api(&s3, &["list-objects-v2", "--bucket", "fw-segments"]);
    let keys: Vec<&str> = listing["Contents"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["Key"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        keys.iter()
            .any(|k| k.starts_with("cluster-1/") && k.ends_with(".parquet")),
        "no segment in the bucket: {keys:?}"
    );
    assert!(
        !dir.join("segments").exists()
            || std::fs::read_dir(dir.join("segments"))
                .map(|d| d.count())
                .unwrap_or(0)
                == 0
    );
    let server = Server::start_in(&dir, &["--config", &config]);
    let got = server.aws_ok(&[
        "logs",
        "get-log-events",
        "--log-group-name",
        "s3-backed",
        "--log-stream-name",
        "s",
        "--start-from-head",
    ]);
    assert_eq!(got["events"][0]["message"], "stored in S3");
}

#[test]
fn resources_are_scoped_by_region() {
    let server = Server::start();
    server.aws_ok(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "shared-name",
        "--region",
        "eu-west-1",
    ]);
    // The same name in another region is another group.
    server.aws_ok(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "shared-name",
        "--region",
        "us-west-2",
    ]);
    let eu = server.aws_ok(&["logs", "describe-log-groups", "--region", "eu-west-1"]);
    assert_eq!(eu["logGroups"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        eu["logGroups"][0]["logGroupArn"],
        "arn:aws:logs:eu-west-1:123456789012:log-group:shared-name"
    );
    let us = server.aws_ok(&["logs", "describe-log-groups", "--region", "us-east-1"]);
    assert_eq!(us["logGroups"].as_array().map(Vec::len), Some(0));
    server.aws_err(
        &[
            "logs",
            "create-log-stream",
            "--log-group-name",
            "shared-name",
            "--log-stream-name",
            "x",
            "--region",
            "ap-south-1",
        ],
        "ResourceNotFoundException",
    );
}

/// Flow logs to S3 write their files to a real S3-compatible service (moto's server) when the
/// config file names one in `[flow_log_buckets]`; a bucket that does not exist makes the flow
/// log's delivery FAILED.
#[test]
fn s3_flow_logs_deliver_to_an_s3_compatible_service() {
    use crate::s3_delivery::{ENI, GUNZIP, capture, python};
    let (_moto, s3) = start_moto();
    s3api(&s3, &["create-bucket", "--bucket", "flow-log-bucket"]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = tmp.path().join("flowwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[flow_log_buckets]\nendpoint = \"{s3}\"\nregion = \"us-east-1\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\nallow_http = true\n"
        ),
    )
    .expect("config");
    let server = Server::start_in(
        &tmp.path().join("data"),
        &["--config", &config.display().to_string()],
    );
    let create = |destination: &str| {
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
    };
    let good = create("arn:aws:s3:::flow-log-bucket/vpc");
    let missing = create("arn:aws:s3:::no-such-bucket");
    let pcap = tmp.path().join("trace.pcap");
    crate::capture::write_pcap(&pcap);
    // Records of 2023: their window closed long ago, so they are written within seconds.
    capture(&server, &pcap, false);

    let deadline = Instant::now() + Duration::from_secs(60);
    let key = loop {
        let listing = s3api(&s3, &["list-objects-v2", "--bucket", "flow-log-bucket"]);
        let keys: Vec<String> = listing["Contents"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|o| o["Key"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(key) = keys.into_iter().find(|k| k.ends_with(".log.gz")) {
            break key;
        }
        assert!(Instant::now() < deadline, "no flow-log file in the bucket");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        key.starts_with(&format!(
            "vpc/AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/123456789012_vpcflowlogs_us-east-1_{good}_20231114T2210Z_"
        )),
        "{key}"
    );
    let file = tmp.path().join("downloaded.log.gz");
    s3api(
        &s3,
        &[
            "get-object",
            "--bucket",
            "flow-log-bucket",
            "--key",
            &key,
            &file.display().to_string(),
        ],
    );
    let lines = python(GUNZIP, &file);
    let lines: Vec<&str> = lines
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l.as_str().expect("line"))
        .collect();
    assert!(
        lines[0].starts_with("version account-id interface-id"),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 1 + 6 + 1, "header, 6 records, final newline");

    // The flow log of the missing bucket failed; the other delivered.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let described = server.aws_ok(&["ec2", "describe-flow-logs"]);
        let status = |id: &str| {
            described["FlowLogs"]
                .as_array()
                .expect("flow logs")
                .iter()
                .find(|f| f["FlowLogId"] == id)
                .map(|f| {
                    (
                        f["DeliverLogsStatus"].clone(),
                        f["DeliverLogsErrorMessage"].clone(),
                    )
                })
                .expect("described")
        };
        let (failed, message) = status(&missing);
        if failed == "FAILED" {
            assert!(message.as_str().is_some_and(|m| !m.is_empty()), "{message}");
            assert_eq!(status(&good).0, "SUCCESS");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no failure for the missing bucket: {described}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
