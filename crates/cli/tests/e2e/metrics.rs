//! Metric filters publish metrics at ingest; the aws CLI reads them with CloudWatch's
//! GetMetricStatistics and ListMetrics (awsJson1.0). Counts survive SIGKILL exactly once.

use crate::support::{Server, now_ms};

const SSH: &str = "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]";

fn put_records(server: &Server, t: i64, n: usize, rejected_ssh: bool) {
    let events: Vec<String> = (0..n)
        .map(|i| {
            let (port, action) = if rejected_ssh { (22, "REJECT") } else { (443, "ACCEPT") };
            format!(
                r#"{{"timestamp":{},"message":"2 123456789010 eni-1a2b3c4d 203.0.113.{i} 10.0.1.7 {} {port} 6 3 180 1418530010 1418530070 {action} OK"}}"#,
                t + i as i64,
                40000 + i
            )
        })
        .collect();
    server.aws_ok(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        "flowlogs",
        "--log-stream-name",
        "eni-1a2b3c4d-all",
        "--log-events",
        &format!("[{}]", events.join(",")),
    ]);
}

fn ssh_sum(server: &Server, t: i64) -> f64 {
    let got = server.aws_ok(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "VPC/FlowLogs",
        "--metric-name",
        "SSHRejects",
        "--start-time",
        &((t / 1000) - 7200).to_string(),
        "--end-time",
        &((t / 1000) + 3600).to_string(),
        "--period",
        "3600",
        "--statistics",
        "Sum",
        "SampleCount",
    ]);
    assert_eq!(got["Label"], "SSHRejects");
    got["Datapoints"]
        .as_array()
        .expect("datapoints")
        .iter()
        .map(|d| d["Sum"].as_f64().expect("sum"))
        .sum()
}

#[test]
fn metric_filters_publish_metrics_exactly_once() {
    let mut server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "flowlogs"]);
    server.aws_ok(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "flowlogs",
        "--log-stream-name",
        "eni-1a2b3c4d-all",
    ]);
    server.aws_ok(&[
        "logs",
        "put-metric-filter",
        "--log-group-name",
        "flowlogs",
        "--filter-name",
        "ssh-rejects",
        "--filter-pattern",
        SSH,
        "--metric-transformations",
        "metricName=SSHRejects,metricNamespace=VPC/FlowLogs,metricValue=1",
    ]);
    let t = now_ms() - 5_000;
    put_records(&server, t, 6, true);
    put_records(&server, t + 100, 5, false);
    put_records(&server, t + 200, 4, true);
    assert_eq!(ssh_sum(&server, t), 10.0, "ten rejected SSH records");

    let listed = server.aws_ok(&["cloudwatch", "list-metrics", "--namespace", "VPC/FlowLogs"]);
    assert_eq!(listed["Metrics"][0]["MetricName"], "SSHRejects");

    // A crash replays the WAL into the metric filters without counting anything twice.
    let dir = server.data_dir.clone();
    server.kill();
    let server = Server::start_in(&dir, &[]);
    assert_eq!(
        ssh_sum(&server, t),
        10.0,
        "still ten after SIGKILL and replay"
    );
    put_records(&server, t + 300, 2, true);
    assert_eq!(ssh_sum(&server, t), 12.0);

    // CloudWatch's errors, with the query-compatible code the CLI reads.
    let err = server.aws_err(
        &[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "VPC/FlowLogs",
            "--metric-name",
            "SSHRejects",
            "--start-time",
            "2026-01-01T00:00:00Z",
            "--end-time",
            "2026-01-02T00:00:00Z",
            "--period",
            "90",
            "--statistics",
            "Sum",
        ],
        "InvalidParameterValue",
    );
    assert!(err.contains("Period"), "{err}");
    server.aws_err(
        &[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "VPC/FlowLogs",
            "--metric-name",
            "SSHRejects",
            "--start-time",
            "2026-01-01T00:00:00Z",
            "--end-time",
            "2026-01-02T00:00:00Z",
            "--period",
            "60",
            "--statistics",
            "Sum",
            "--extended-statistics",
            "p99",
        ],
        "InvalidParameterCombination",
    );
}
