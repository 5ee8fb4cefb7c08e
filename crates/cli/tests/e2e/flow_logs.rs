//! EC2 flow-log resources over the ec2 query protocol with the real aws CLI: CreateFlowLogs,
//! DescribeFlowLogs and DeleteFlowLogs, their happy paths and every validation error.

use serde_json::Value;

use crate::support::Server;

const ROLE: &str = "arn:aws:iam::123456789012:role/flow-logs";
const ENI: &str = "eni-0123456789abcdef0";
const VPC: &str = "vpc-0a1b2c3d";

fn ids(out: &Value) -> Vec<String> {
    out["FlowLogIds"]
        .as_array()
        .expect("FlowLogIds")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn create(server: &Server, extra: &[&str]) -> Value {
    let mut args = vec!["ec2", "create-flow-logs"];
    args.extend_from_slice(extra);
    server.aws_ok(&args)
}

#[test]
fn flow_logs_create_describe_delete() {
    let server = Server::start();

    // To a log group by name, default format and interval, tagged.
    let out = create(
        &server,
        &[
            "--resource-type",
            "NetworkInterface",
            "--resource-ids",
            ENI,
            "--traffic-type",
            "ALL",
            "--log-group-name",
            "vpc-flow-logs",
            "--deliver-logs-permission-arn",
            ROLE,
            "--tag-specifications",
            "ResourceType=vpc-flow-log,Tags=[{Key=team,Value=net}]",
            "--client-token",
            "tok-1",
        ],
    );
    let cwl = ids(&out);
    assert_eq!(cwl.len(), 1);
    assert!(cwl[0].starts_with("fl-") && cwl[0].len() == 20, "{cwl:?}");
    assert_eq!(out["Unsuccessful"], Value::Array(vec![]));
    assert_eq!(out["ClientToken"], "tok-1");

    // The same token and parameters: the same answer, nothing new.
    let again = create(
        &server,
        &[
            "--resource-type",
            "NetworkInterface",
            "--resource-ids",
            ENI,
            "--traffic-type",
            "ALL",
            "--log-group-name",
            "vpc-flow-logs",
            "--deliver-logs-permission-arn",
            ROLE,
            "--tag-specifications",
            "ResourceType=vpc-flow-log,Tags=[{Key=team,Value=net}]",
            "--client-token",
            "tok-1",
        ],
    );
    assert_eq!(ids(&again), cwl);
    server.aws_err(
        &[
            "ec2",
            "create-flow-logs",
            "--resource-type",
            "NetworkInterface",
            "--resource-ids",
            ENI,
            "--traffic-type",
            "REJECT",
            "--log-group-name",
            "vpc-flow-logs",
            "--deliver-logs-permission-arn",
            ROLE,
            "--client-token",
            "tok-1",
        ],
        "IdempotentParameterMismatch",
    );

    // A duplicate is a per-resource failure; a second VPC in the same call succeeds.
    let out = create(
        &server,
        &[
            "--resource-type",
            "NetworkInterface",
            "--resource-ids",
            ENI,
            "eni-0123456789abcdef1",
            "--traffic-type",
            "ALL",
            "--log-destination",
            "arn:aws:logs:us-east-1:123456789012:log-group:vpc-flow-logs",
            "--deliver-logs-permission-arn",
            ROLE,
        ],
    );
    assert_eq!(ids(&out).len(), 1);
    assert_eq!(out["Unsuccessful"][0]["ResourceId"], ENI);
    assert_eq!(
        out["Unsuccessful"][0]["Error"]["Code"],
        "FlowLogAlreadyExists"
    );

    // To S3: REJECT-only plain text with a prefix; parquet, Hive, per hour with a custom format.
    let s3_text = ids(&create(
        &server,
        &[
            "--resource-type",
            "VPC",
            "--resource-ids",
            VPC,
            "--traffic-type",
            "REJECT",
            "--log-destination-type",
            "s3",
            "--log-destination",
            "arn:aws:s3:::flow-bucket/text/",
        ],
    ));
    let s3_parquet = ids(&create(
        &server,
        &[
            "--resource-type",
            "Subnet",
            "--resource-ids",
            "subnet-0123456789abcdef0",
            "--traffic-type",
            "ACCEPT",
            "--log-destination-type",
            "s3",
            "--log-destination",
            "arn:aws:s3:::flow-bucket",
            "--log-format",
            "${version} ${interface-id} ${srcaddr} ${dstaddr} ${action} ${flow-direction}",
            "--max-aggregation-interval",
            "60",
            "--destination-options",
            "FileFormat=parquet,HiveCompatiblePartitions=true,PerHourPartition=true",
        ],
    ));

    let all = server.aws_ok(&["ec2", "describe-flow-logs"]);
    let set = all["FlowLogs"].as_array().unwrap();
    assert_eq!(set.len(), 4);
    let first = &set[0];
    assert_eq!(first["FlowLogId"], cwl[0].as_str());
    assert_eq!(first["LogGroupName"], "vpc-flow-logs");
    assert_eq!(first["LogDestinationType"], "cloud-watch-logs");
    assert_eq!(
        first["LogDestination"],
        "arn:aws:logs:us-east-1:123456789012:log-group:vpc-flow-logs"
    );
    assert_eq!(first["DeliverLogsPermissionArn"], ROLE);
    assert_eq!(first["DeliverLogsStatus"], "SUCCESS");
    assert_eq!(first["FlowLogStatus"], "ACTIVE");
    assert_eq!(first["TrafficType"], "ALL");
    assert_eq!(first["ResourceId"], ENI);
    assert_eq!(first["MaxAggregationInterval"], 600);
    assert_eq!(
        first["LogFormat"],
        "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
    );
    assert_eq!(first["Tags"][0]["Key"], "team");
    assert_eq!(first["Tags"][0]["Value"], "net");
    assert!(first["CreationTime"].as_str().unwrap().ends_with('Z'));

    let by_id = server.aws_ok(&[
        "ec2",
        "describe-flow-logs",
        "--flow-log-ids",
        &s3_parquet[0],
    ]);
    let p = &by_id["FlowLogs"][0];
    assert_eq!(p["LogDestinationType"], "s3");
    assert_eq!(p["LogDestination"], "arn:aws:s3:::flow-bucket");
    assert_eq!(p["MaxAggregationInterval"], 60);
    assert_eq!(p["DestinationOptions"]["FileFormat"], "parquet");
    assert_eq!(p["DestinationOptions"]["HiveCompatiblePartitions"], true);
    assert_eq!(p["DestinationOptions"]["PerHourPartition"], true);
    assert!(p.get("LogGroupName").is_none());

    // Filters: values OR-ed, filters AND-ed, tags.
    let count = |filters: &[&str]| {
        let mut args = vec!["ec2", "describe-flow-logs", "--filter"];
        args.extend_from_slice(filters);
        server.aws_ok(&args)["FlowLogs"].as_array().unwrap().len()
    };
    assert_eq!(count(&["Name=log-destination-type,Values=s3"]), 2);
    assert_eq!(count(&["Name=traffic-type,Values=REJECT,ACCEPT"]), 2);
    assert_eq!(
        count(&[
            "Name=traffic-type,Values=ALL",
            "Name=log-group-name,Values=vpc-flow-logs"
        ]),
        2
    );
    assert_eq!(count(&[&format!("Name=resource-id,Values={VPC}")]), 1);
    assert_eq!(
        count(&[&format!("Name=flow-log-id,Values={}", s3_text[0])]),
        1
    );
    assert_eq!(count(&["Name=tag:team,Values=net"]), 1);
    assert_eq!(count(&["Name=tag-key,Values=team"]), 1);
    assert_eq!(count(&["Name=deliver-log-status,Values=FAILED"]), 0);
    server.aws_err(
        &[
            "ec2",
            "describe-flow-logs",
            "--filter",
            "Name=colour,Values=red",
        ],
        "InvalidParameterValue",
    );

    // Pages of MaxResults.
    let page = server.aws_ok(&[
        "ec2",
        "describe-flow-logs",
        "--no-paginate",
        "--max-results",
        "5",
    ]);
    assert_eq!(page["FlowLogs"].as_array().unwrap().len(), 4);
    assert!(page.get("NextToken").is_none());
    server.aws_err(
        &[
            "ec2",
            "describe-flow-logs",
            "--no-paginate",
            "--max-results",
            "4",
        ],
        "InvalidParameterValue",
    );
    server.aws_err(
        &[
            "ec2",
            "describe-flow-logs",
            "--no-paginate",
            "--max-results",
            "5",
            "--flow-log-ids",
            &cwl[0],
        ],
        "InvalidParameterCombination",
    );
    server.aws_err(
        &["ec2", "describe-flow-logs", "--dry-run"],
        "DryRunOperation",
    );

    // Delete: unknown ids are unsuccessful items, known ones go.
    server.aws_err(
        &[
            "ec2",
            "delete-flow-logs",
            "--flow-log-ids",
            &cwl[0],
            "--dry-run",
        ],
        "DryRunOperation",
    );
    let out = server.aws_ok(&[
        "ec2",
        "delete-flow-logs",
        "--flow-log-ids",
        &cwl[0],
        "fl-00000000000000000",
    ]);
    assert_eq!(out["Unsuccessful"][0]["ResourceId"], "fl-00000000000000000");
    assert_eq!(
        out["Unsuccessful"][0]["Error"]["Code"],
        "InvalidFlowLogId.NotFound"
    );
    let left = server.aws_ok(&["ec2", "describe-flow-logs"]);
    assert_eq!(left["FlowLogs"].as_array().unwrap().len(), 3);

    // Flow logs survive a restart.
    let mut server = server;
    server.stop();
    let restarted = Server::start_in(&server.data_dir, &[]);
    let left = restarted.aws_ok(&["ec2", "describe-flow-logs"]);
    assert_eq!(left["FlowLogs"].as_array().unwrap().len(), 3);
}

#[test]
fn flow_logs_validation_errors() {
    let server = Server::start();
    let err = |extra: &[&str], code: &str| {
        let mut args = vec!["ec2", "create-flow-logs"];
        args.extend_from_slice(extra);
        server.aws_err(&args, code)
    };
    let cwl = [
        "--log-group-name",
        "g",
        "--deliver-logs-permission-arn",
        ROLE,
    ];
    let with = |base: &[&str], more: &[&str]| -> Vec<String> {
        base.iter().chain(more).map(|s| (*s).to_owned()).collect()
    };
    let eni = ["--resource-type", "NetworkInterface", "--resource-ids", ENI];
    let run = |args: Vec<String>, code: &str| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        err(&refs, code)
    };
    let all = with(&eni, &["--traffic-type", "ALL"]);

    // Resource type and ids.
    let msg = run(
        with(
            &[
                "--resource-type",
                "TransitGateway",
                "--resource-ids",
                "tgw-0123abcd",
            ],
            &cwl,
        ),
        "UnsupportedOperation",
    );
    assert!(msg.contains("TransitGateway"), "{msg}");
    run(
        with(
            &[
                "--resource-type",
                "Router",
                "--resource-ids",
                ENI,
                "--traffic-type",
                "ALL",
            ],
            &cwl,
        ),
        "InvalidParameterValue",
    );
    run(
        with(
            &[
                "--resource-type",
                "VPC",
                "--resource-ids",
                ENI,
                "--traffic-type",
                "ALL",
            ],
            &cwl,
        ),
        "InvalidParameterValue",
    );
    let many: Vec<String> = (0..1001).map(|i| format!("eni-{i:017x}")).collect();
    let mut args = vec![
        "--resource-type".to_owned(),
        "NetworkInterface".into(),
        "--resource-ids".into(),
    ];
    args.extend(many);
    args.extend(with(&["--traffic-type", "ALL"], &cwl));
    run(args, "InvalidParameterValue");

    // Traffic type.
    run(with(&eni, &cwl), "MissingParameter");
    run(
        with(
            &eni,
            &with(&["--traffic-type", "SOME"], &cwl)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ),
        "InvalidParameterValue",
    );

    // CloudWatch Logs destination.
    let a: Vec<&str> = all.iter().map(String::as_str).collect();
    run(
        with(&a, &["--deliver-logs-permission-arn", ROLE]),
        "MissingParameter",
    );
    run(with(&a, &["--log-group-name", "g"]), "MissingParameter");
    run(
        with(
            &a,
            &[
                "--log-group-name",
                "g",
                "--deliver-logs-permission-arn",
                "not-a-role",
            ],
        ),
        "InvalidParameterValue",
    );
    run(
        with(
            &a,
            &[
                "--log-group-name",
                "g",
                "--deliver-logs-permission-arn",
                ROLE,
                "--log-destination",
                "arn:aws:logs:us-east-1:123456789012:log-group:g",
            ],
        ),
        "InvalidParameterCombination",
    );
    run(
        with(
            &a,
            &[
                "--deliver-logs-permission-arn",
                ROLE,
                "--log-destination",
                "arn:aws:logs:us-east-1:999999999999:log-group:g",
            ],
        ),
        "InvalidParameterValue",
    );
    run(
        with(
            &a,
            &[
                "--log-group-name",
                "bad name",
                "--deliver-logs-permission-arn",
                ROLE,
            ],
        ),
        "InvalidParameterValue",
    );
    run(
        with(
            &a,
            &with(&cwl, &["--destination-options", "FileFormat=parquet"])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ),
        "InvalidParameterCombination",
    );

    // S3 destination.
    let s3 = |more: &[&str]| {
        with(
            &a,
            &with(&["--log-destination-type", "s3"], more)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        )
    };
    run(s3(&[]), "MissingParameter");
    run(
        s3(&["--log-destination", "arn:aws:s3:::b"]),
        "InvalidParameterValue",
    );
    run(
        s3(&["--log-destination", "arn:aws:s3:::bucket/AWSLogs/"]),
        "InvalidParameterValue",
    );
    run(
        s3(&[
            "--log-destination",
            "arn:aws:logs:us-east-1:123456789012:log-group:g",
        ]),
        "InvalidParameterValue",
    );
    run(
        s3(&[
            "--log-destination",
            "arn:aws:s3:::bucket",
            "--log-group-name",
            "g",
        ]),
        "InvalidParameterCombination",
    );
    run(
        s3(&[
            "--log-destination",
            "arn:aws:s3:::bucket",
            "--deliver-logs-permission-arn",
            ROLE,
        ]),
        "InvalidParameterCombination",
    );
    run(
        s3(&[
            "--log-destination",
            "arn:aws:s3:::bucket",
            "--destination-options",
            "FileFormat=orc",
        ]),
        "InvalidParameterValue",
    );
    run(
        with(
            &a,
            &[
                "--log-destination-type",
                "kinesis-data-firehose",
                "--log-destination",
                "arn:aws:firehose:us-east-1:123456789012:deliverystream:s",
            ],
        ),
        "UnsupportedOperation",
    );
    run(
        with(
            &a,
            &["--log-destination-type", "ftp", "--log-destination", "x"],
        ),
        "InvalidParameterValue",
    );

    // Format, interval, tags, token, dry run.
    let base: Vec<String> = with(&a, &cwl);
    let b: Vec<&str> = base.iter().map(String::as_str).collect();
    run(
        with(&b, &["--log-format", "${version} ${nope}"]),
        "InvalidParameterValue",
    );
    run(
        with(&b, &["--log-format", "${version}  ${srcaddr}"]),
        "InvalidParameterValue",
    );
    run(
        with(&b, &["--log-format", "${version} ${resource-type}"]),
        "InvalidParameterValue",
    );
    run(
        with(&b, &["--max-aggregation-interval", "300"]),
        "InvalidParameterValue",
    );
    run(
        with(
            &b,
            &[
                "--tag-specifications",
                "ResourceType=vpc,Tags=[{Key=a,Value=b}]",
            ],
        ),
        "InvalidParameterValue",
    );
    run(
        with(
            &b,
            &[
                "--tag-specifications",
                "ResourceType=vpc-flow-log,Tags=[{Key=aws:x,Value=b}]",
            ],
        ),
        "InvalidParameterValue",
    );
    run(
        with(&b, &["--client-token", &"x".repeat(65)]),
        "InvalidParameterValue",
    );
    run(with(&b, &["--dry-run"]), "DryRunOperation");
    assert_eq!(
        server.aws_ok(&["ec2", "describe-flow-logs"])["FlowLogs"],
        Value::Array(vec![])
    );
    server.aws_err(
        &[
            "ec2",
            "delete-flow-logs",
            "--flow-log-ids",
            "fl-1",
            "--dry-run",
        ],
        "DryRunOperation",
    );
}

#[test]
fn flow_logs_check_resources_against_the_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory.toml");
    std::fs::write(
        &inventory,
        r#"
[[interface]]
eni = "eni-0123456789abcdef0"
name = "eth0"
vpc-id = "vpc-0a1b2c3d"
subnet-id = "subnet-0a1b2c3d"
instance-id = "i-0123456789abcdef0"
account = "123456789012"
region = "us-east-1"
az-id = "use1-az1"
"#,
    )
    .unwrap();
    let server = Server::start_in(
        &tmp.path().join("data"),
        &["--inventory", inventory.to_str().unwrap()],
    );
    let s3 = [
        "--traffic-type",
        "ALL",
        "--log-destination-type",
        "s3",
        "--log-destination",
        "arn:aws:s3:::flow-bucket",
    ];
    let create = |kind: &str, ids: &[&str]| {
        let mut args = vec![
            "ec2",
            "create-flow-logs",
            "--resource-type",
            kind,
            "--resource-ids",
        ];
        args.extend_from_slice(ids);
        args.extend_from_slice(&s3);
        server.aws_ok(&args)
    };
    let out = create("VPC", &["vpc-0a1b2c3d", "vpc-0a1b2c3e"]);
    assert_eq!(ids(&out).len(), 1);
    assert_eq!(out["Unsuccessful"][0]["ResourceId"], "vpc-0a1b2c3e");
    assert_eq!(
        out["Unsuccessful"][0]["Error"]["Code"],
        "InvalidVpcID.NotFound"
    );
    let out = create("Subnet", &["subnet-0a1b2c3e"]);
    assert_eq!(
        out["Unsuccessful"][0]["Error"]["Code"],
        "InvalidSubnetID.NotFound"
    );
    let out = create("NetworkInterface", &[ENI, "eni-0123456789abcdef9"]);
    assert_eq!(ids(&out).len(), 1);
    assert_eq!(
        out["Unsuccessful"][0]["Error"]["Code"],
        "InvalidNetworkInterfaceID.NotFound"
    );

    // A malformed inventory stops the server with an error.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[[interface]]\neni = \"eth0\"\n").unwrap();
    let status = std::process::Command::new(crate::support::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("data2"))
        .args(["--inventory", bad.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
}

#[test]
fn capture_records_reach_the_flow_logs_covering_the_interface() {
    let tmp = tempfile::tempdir().unwrap();
    let eni = "eni-0a1b2c3d4e5f67890";
    let inventory = tmp.path().join("inventory.toml");
    std::fs::write(
        &inventory,
        format!("[[interface]]\neni = \"{eni}\"\nvpc-id = \"{VPC}\"\naz-id = \"use1-az4\"\n"),
    )
    .unwrap();
    let server = Server::start_in(
        &tmp.path().join("data"),
        &["--inventory", inventory.to_str().unwrap()],
    );
    assert_eq!(server.flow_logs_role("flow-logs"), ROLE);
    let cwl = |kind: &str, id: &str, traffic: &str, group: &str, format: Option<&str>| {
        let mut args = vec![
            "ec2",
            "create-flow-logs",
            "--resource-type",
            kind,
            "--resource-ids",
            id,
            "--traffic-type",
            traffic,
            "--log-group-name",
            group,
            "--deliver-logs-permission-arn",
            ROLE,
        ];
        if let Some(f) = format {
            args.extend_from_slice(&["--log-format", f]);
        }
        ids(&server.aws_ok(&args))
    };
    let all = cwl("NetworkInterface", eni, "ALL", "flows", None);
    let reject = cwl("NetworkInterface", eni, "REJECT", "flows", None);
    let custom = cwl(
        "VPC",
        VPC,
        "ACCEPT",
        "flows-custom",
        Some(
            "${interface-id} ${srcaddr} ${dstport} ${action} ${flow-direction} ${vpc-id} ${subnet-id} ${az-id}",
        ),
    );

    let pcap = tmp.path().join("trace.pcap");
    crate::capture::write_pcap(&pcap);
    let out = std::process::Command::new(crate::support::binary())
        .args(["capture", "--flow-logs", "--pcap"])
        .arg(&pcap)
        .args(["--eni", eni, "--rebase-time", "--local-addr", "10.0.1.5"])
        .args(["--endpoint-url", &server.endpoint])
        .envs(crate::support::aws_env())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "capture failed: {stderr}");
    for id in [&all[0], &reject[0], &custom[0]] {
        assert!(stderr.contains(id.as_str()), "{id} missing: {stderr}");
    }

    let events = |group: &str| {
        let got = server.aws_ok(&[
            "logs",
            "get-log-events",
            "--log-group-name",
            group,
            "--log-stream-name",
            &format!("{eni}-all"),
            "--start-from-head",
        ]);
        got["events"].as_array().unwrap().clone()
    };
    // ALL and REJECT share the stream; the capture has only accepted traffic.
    let flows = events("flows");
    assert_eq!(flows.len(), 6, "{flows:?}");
    for e in &flows {
        let line = e["message"].as_str().unwrap();
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 14, "{line}");
        assert_eq!(fields[0], "2");
        assert_eq!(fields[2], eni);
        assert_eq!(fields[12], "ACCEPT");
        let start: i64 = fields[10].parse().unwrap();
        assert_eq!(e["timestamp"].as_i64().unwrap(), start * 1000);
    }
    // The VPC's flow log covers the interface through the inventory, in its own format.
    let custom_events = events("flows-custom");
    assert_eq!(custom_events.len(), 6);
    let ssh: Vec<&str> = custom_events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .filter(|m| m.contains(" 22 "))
        .collect();
    assert_eq!(ssh.len(), 5);
    // The inventory fills what it knows of the interface; the rest is `-`.
    assert_eq!(
        ssh[0],
        format!("{eni} 198.51.100.7 22 ACCEPT ingress {VPC} - use1-az4")
    );
    let described = server.aws_ok(&["ec2", "describe-flow-logs"]);
    for fl in described["FlowLogs"].as_array().unwrap() {
        assert_eq!(fl["DeliverLogsStatus"], "SUCCESS");
    }
}
