//! Metric filters through the aws CLI: the VPC Flow Logs user guide's SSH-reject filter.

use serde_json::json;

use crate::support::Server;

const SSH: &str = "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]";

#[test]
fn put_test_describe_delete_metric_filters() {
    let server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "flowlogs"]);
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
    let described = server.aws_ok(&[
        "logs",
        "describe-metric-filters",
        "--log-group-name",
        "flowlogs",
    ]);
    let f = &described["metricFilters"][0];
    assert_eq!(f["filterName"], "ssh-rejects");
    assert_eq!(f["filterPattern"], SSH);
    assert_eq!(f["metricTransformations"][0]["metricValue"], "1");
    assert_eq!(f["logGroupName"], "flowlogs");
    assert!(f["creationTime"].as_i64().unwrap() > 0);
    let groups = server.aws_ok(&["logs", "describe-log-groups"]);
    assert_eq!(groups["logGroups"][0]["metricFilterCount"], 1);

    let tested = server.aws_ok(&[
        "logs", "test-metric-filter", "--filter-pattern", SSH, "--log-event-messages",
        "2 123456789010 eni-1a2b3c4d 10.0.0.5 10.0.1.7 49152 22 6 20 4249 1418530010 1418530070 REJECT OK",
        "2 123456789010 eni-1a2b3c4d 10.0.0.5 10.0.1.7 49152 443 6 20 4249 1418530010 1418530070 ACCEPT OK",
        "2 123456789010 eni-1a2b3c4d 10.0.0.9 10.0.1.7 50000 22 6 1 40 1418530010 1418530070 REJECT OK",
    ]);
    let matches = tested["matches"].as_array().expect("matches");
    assert_eq!(matches.len(), 2);
    assert_eq!(matches[0]["eventNumber"], 1, "numbered from 1");
    assert_eq!(matches[1]["eventNumber"], 3);
    assert_eq!(matches[0]["extractedValues"]["$destport"], "22");
    assert_eq!(matches[1]["extractedValues"]["$source"], "10.0.0.9");

    // Replace in place, with a dimension from a field.
    server.aws_ok(&[
        "logs", "put-metric-filter", "--log-group-name", "flowlogs", "--filter-name", "ssh-rejects",
        "--filter-pattern", SSH, "--metric-transformations",
        &json!([{"metricName": "SSHRejects", "metricNamespace": "VPC/FlowLogs", "metricValue": "$packets", "dimensions": {"Source": "$source"}, "unit": "Count"}]).to_string(),
    ]);
    let described = server.aws_ok(&[
        "logs",
        "describe-metric-filters",
        "--metric-name",
        "SSHRejects",
        "--metric-namespace",
        "VPC/FlowLogs",
    ]);
    assert_eq!(described["metricFilters"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        described["metricFilters"][0]["metricTransformations"][0]["dimensions"]["Source"],
        "$source"
    );

    // AWS's validation errors.
    let err = server.aws_err(
        &["logs", "put-metric-filter", "--log-group-name", "flowlogs", "--filter-name", "x", "--filter-pattern", "ERROR",
          "--metric-transformations", &json!([{"metricName": "E", "metricNamespace": "N", "metricValue": "1", "dimensions": {"D": "$d"}}]).to_string()],
        "InvalidParameterException",
    );
    assert!(err.contains("does not support dimensions"), "{err}");
    let err = server.aws_err(
        &["logs", "put-metric-filter", "--log-group-name", "flowlogs", "--filter-name", "x", "--filter-pattern", SSH,
          "--metric-transformations", &json!([{"metricName": "E", "metricNamespace": "N", "metricValue": "1", "defaultValue": 0, "dimensions": {"S": "$source"}}]).to_string()],
        "InvalidParameterException",
    );
    assert!(err.contains("mutually exclusive"), "{err}");
    server.aws_err(
        &[
            "logs",
            "put-metric-filter",
            "--log-group-name",
            "flowlogs",
            "--filter-name",
            "x",
            "--filter-pattern",
            SSH,
            "--metric-transformations",
            "metricName=E,metricNamespace=N,metricValue=$nosuchfield",
        ],
        "InvalidParameterException",
    );
    server.aws_err(
        &[
            "logs",
            "put-metric-filter",
            "--log-group-name",
            "flowlogs",
            "--filter-name",
            "x",
            "--filter-pattern",
            "{ $.a = ",
            "--metric-transformations",
            "metricName=E,metricNamespace=N,metricValue=1",
        ],
        "InvalidParameterException",
    );
    server.aws_err(
        &[
            "logs",
            "put-metric-filter",
            "--log-group-name",
            "nope",
            "--filter-name",
            "x",
            "--filter-pattern",
            "",
            "--metric-transformations",
            "metricName=E,metricNamespace=N,metricValue=1",
        ],
        "ResourceNotFoundException",
    );
    // At most five filters with regular expressions per group.
    for i in 0..5 {
        server.aws_ok(&[
            "logs",
            "put-metric-filter",
            "--log-group-name",
            "flowlogs",
            "--filter-name",
            &format!("re{i}"),
            "--filter-pattern",
            "%ERR[0-9]%",
            "--metric-transformations",
            "metricName=E,metricNamespace=N,metricValue=1",
        ]);
    }
    server.aws_err(
        &[
            "logs",
            "put-metric-filter",
            "--log-group-name",
            "flowlogs",
            "--filter-name",
            "re5",
            "--filter-pattern",
            "%ERR[0-9]%",
            "--metric-transformations",
            "metricName=E,metricNamespace=N,metricValue=1",
        ],
        "LimitExceededException",
    );

    // Pages of two, in name order.
    let page = server.aws_ok(&[
        "logs",
        "describe-metric-filters",
        "--log-group-name",
        "flowlogs",
        "--max-items",
        "2",
    ]);
    let names: Vec<&str> = page["metricFilters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filterName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["re0", "re1"]);
    let all = server.aws_ok(&[
        "logs",
        "describe-metric-filters",
        "--log-group-name",
        "flowlogs",
        "--page-size",
        "2",
    ]);
    assert_eq!(all["metricFilters"].as_array().map(Vec::len), Some(6));

    server.aws_ok(&[
        "logs",
        "delete-metric-filter",
        "--log-group-name",
        "flowlogs",
        "--filter-name",
        "ssh-rejects",
    ]);
    server.aws_err(
        &[
            "logs",
            "delete-metric-filter",
            "--log-group-name",
            "flowlogs",
            "--filter-name",
            "ssh-rejects",
        ],
        "ResourceNotFoundException",
    );
    let err = server.aws_err(
        &[
            "logs",
            "test-metric-filter",
            "--filter-pattern",
            "{ $.a = ",
            "--log-event-messages",
            "x",
        ],
        "InvalidParameterException",
    );
    assert!(err.contains("filter pattern"), "{err}");
}
