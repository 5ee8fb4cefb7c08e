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

fn metric_sum(server: &Server, name: &str, t: i64) -> f64 {
    let got = server.aws_ok(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "Shop",
        "--metric-name",
        name,
        "--start-time",
        &((t / 1000) - 3600).to_string(),
        "--end-time",
        &((t / 1000) + 3600).to_string(),
        "--period",
        "7200",
        "--statistics",
        "Sum",
    ]);
    got["Datapoints"]
        .as_array()
        .expect("datapoints")
        .iter()
        .map(|d| d["Sum"].as_f64().expect("sum"))
        .sum()
}

#[test]
fn put_metric_data_is_durable_exactly_once_and_get_metric_data_does_math() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let mut server = Server::start_in(&dir, &[]);
    let t = now_ms();
    for _ in 0..5 {
        server.aws_ok(&[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "Shop",
            "--metric-data",
            r#"[{"MetricName":"Orders","Value":1,"Unit":"Count"},{"MetricName":"Visits","Values":[3,4],"Counts":[2,1],"Unit":"Count"}]"#,
        ]);
    }
    assert_eq!(metric_sum(&server, "Orders", t), 5.0);
    assert_eq!(metric_sum(&server, "Visits", t), 50.0);

    // Acknowledged datapoints survive SIGKILL, counted once.
    server.kill();
    let server = Server::start_in(&dir, &[]);
    assert_eq!(metric_sum(&server, "Orders", t), 5.0);
    assert_eq!(metric_sum(&server, "Visits", t), 50.0);
    // The internal stream is not a user log group.
    let groups = server.aws_ok(&["logs", "describe-log-groups"]);
    assert_eq!(groups["logGroups"], serde_json::json!([]));

    // CloudWatch's validation.
    server.aws_err(
        &[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "AWS/EC2",
            "--metric-data",
            r#"[{"MetricName":"x","Value":1}]"#,
        ],
        "InvalidParameterValue",
    );
    server.aws_err(
        &[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "Shop",
            "--metric-data",
            r#"[{"MetricName":"x","Value":1,"Values":[1]}]"#,
        ],
        "InvalidParameterCombination",
    );
    server.aws_err(
        &[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "Shop",
            "--metric-data",
            r#"[{"MetricName":"x","Value":1,"Unit":"Parsecs"}]"#,
        ],
        "InvalidParameterValue",
    );

    // GetMetricData: a stat, an expression over a hidden one, paging by datapoints.
    let start = ((t / 1000) - 3600).to_string();
    let end = ((t / 1000) + 3600).to_string();
    let queries = r#"[
        {"Id":"orders","MetricStat":{"Metric":{"Namespace":"Shop","MetricName":"Orders"},"Period":60,"Stat":"Sum"}},
        {"Id":"visits","MetricStat":{"Metric":{"Namespace":"Shop","MetricName":"Visits"},"Period":60,"Stat":"Sum"},"ReturnData":false},
        {"Id":"conversion","Expression":"100 * orders / visits","Label":"Conversion %"}
    ]"#;
    let got = server.aws_ok(&[
        "cloudwatch",
        "get-metric-data",
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--metric-data-queries",
        queries,
    ]);
    let results = got["MetricDataResults"].as_array().expect("results");
    assert_eq!(results.len(), 2, "visits is not returned: {results:#?}");
    let total = |r: &serde_json::Value| -> f64 {
        r["Values"]
            .as_array()
            .expect("values")
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .sum()
    };
    assert_eq!(results[0]["Id"], "orders");
    assert_eq!(total(&results[0]), 5.0);
    assert_eq!(results[1]["Label"], "Conversion %");
    assert_eq!(results[1]["StatusCode"], "Complete");
    server.aws_err(
        &[
            "cloudwatch",
            "get-metric-data",
            "--start-time",
            &start,
            "--end-time",
            &end,
            "--metric-data-queries",
            r#"[{"Id":"x","Expression":"nope * 2"}]"#,
        ],
        "InvalidParameterValue",
    );
}
