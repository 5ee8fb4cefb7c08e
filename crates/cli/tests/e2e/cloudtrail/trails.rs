//! Trails: CreateTrail's validation, logging only between StartLogging and StopLogging, and
//! delivery of management events to the trail's log group, where filter patterns find them.

use serde_json::Value;

use super::{Env, as_with};
use crate::support::Server;

#[test]
fn a_trail_delivers_management_events_to_its_log_group() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut server = Server::start_in(&dir, &[]);
    let account = server.aws_ok(&["sts", "get-caller-identity"])["Account"]
        .as_str()
        .unwrap()
        .to_owned();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "trail-logs"]);
    let group_arn = format!("arn:aws:logs:us-east-1:{account}:log-group:trail-logs:*");
    let role_arn = format!("arn:aws:iam::{account}:role/CloudTrail_CloudWatchLogs_Role");
    let create = |name: &str, group: &str, role: &str| {
        let mut args = vec![
            "cloudtrail",
            "create-trail",
            "--name",
            name,
            "--s3-bucket-name",
            "audit-bucket",
        ];
        if !group.is_empty() {
            args.extend(["--cloud-watch-logs-log-group-arn", group]);
        }
        if !role.is_empty() {
            args.extend(["--cloud-watch-logs-role-arn", role]);
        }
        server.aws(&args)
    };

    // AWS's validation.
    let out = create("a", &group_arn, &role_arn);
    assert!(
        out.stderr.contains("(InvalidTrailNameException)"),
        "{}",
        out.stderr
    );
    let out = create("main", &group_arn, "");
    assert!(
        out.stderr
            .contains("(InvalidCloudWatchLogsRoleArnException)"),
        "{}",
        out.stderr
    );
    let missing = format!("arn:aws:logs:us-east-1:{account}:log-group:nope:*");
    let out = create("main", &missing, &role_arn);
    assert!(
        out.stderr
            .contains("(InvalidCloudWatchLogsLogGroupArnException)"),
        "{}",
        out.stderr
    );
    server.aws_err(
        &["cloudtrail", "get-trail-status", "--name", "main"],
        "TrailNotFoundException",
    );

    let out = create("main", &group_arn, &role_arn);
    assert!(out.success, "{}", out.stderr);
    let trail_arn = format!("arn:aws:cloudtrail:us-east-1:{account}:trail/main");
    assert_eq!(out.json["TrailARN"], trail_arn.as_str());
    assert_eq!(out.json["CloudWatchLogsLogGroupArn"], group_arn.as_str());
    let out = create("main", &group_arn, &role_arn);
    assert!(
        out.stderr.contains("(TrailAlreadyExistsException)"),
        "{}",
        out.stderr
    );
    // Not logging until StartLogging, as in CloudTrail.
    let status = server.aws_ok(&["cloudtrail", "get-trail-status", "--name", "main"]);
    assert_eq!(status["IsLogging"], false);
    server.aws_ok(&["cloudtrail", "start-logging", "--name", &trail_arn]);

    // A user with no policy is denied; the trail's group gets the record.
    server.aws_ok(&["iam", "create-user", "--user-name", "mallory"]);
    let key = server.aws_ok(&["iam", "create-access-key", "--user-name", "mallory"]);
    let mallory: Env = vec![
        (
            "AWS_ACCESS_KEY_ID",
            key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            key["AccessKey"]["SecretAccessKey"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
    ];
    let out = as_with(
        &server,
        &mallory,
        &["logs", "delete-log-group", "--log-group-name", "trail-logs"],
    );
    assert!(
        out.stderr.contains("(AccessDeniedException)"),
        "{}",
        out.stderr
    );
    let denials = |server: &Server| {
        server.aws_ok(&[
            "logs",
            "filter-log-events",
            "--log-group-name",
            "trail-logs",
            "--filter-pattern",
            r#"{ $.errorCode = "AccessDenied*" }"#,
        ])["events"]
            .as_array()
            .unwrap()
            .clone()
    };
    let events = denials(&server);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0]["logStreamName"],
        format!("{account}_CloudTrail_us-east-1")
    );
    let record: Value = serde_json::from_str(events[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(record["eventName"], "DeleteLogGroup");
    assert_eq!(record["userIdentity"]["userName"], "mallory");
    // Insights reads the records' JSON fields.
    let results = crate::insights::query(
        &server,
        "trail-logs",
        "filter errorCode like /AccessDenied/ | stats count(*) as n by userIdentity.userName, eventName",
    );
    assert_eq!(
        crate::insights::rows(&results),
        ["userIdentity.userName=mallory | eventName=DeleteLogGroup | n=1"]
    );
    // Management events only: the group holds no data event.
    let all = server.aws_ok(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "trail-logs",
    ]);
    assert!(
        all["events"].as_array().unwrap().iter().all(|e| {
            let r: Value = serde_json::from_str(e["message"].as_str().unwrap()).unwrap();
            r["managementEvent"] == true
        }),
        "{all}"
    );

    let trails = server.aws_ok(&["cloudtrail", "describe-trails"]);
    assert_eq!(trails["trailList"][0]["Name"], "main");
    assert_eq!(trails["trailList"][0]["HomeRegion"], "us-east-1");
    let status = server.aws_ok(&["cloudtrail", "get-trail-status", "--name", "main"]);
    assert_eq!(status["IsLogging"], true);
    assert!(
        status["LatestCloudWatchLogsDeliveryTime"].is_number()
            || status["LatestCloudWatchLogsDeliveryTime"].is_string(),
        "{status}"
    );

    // The trail survives a restart, still logging; stopped, it delivers nothing more.
    server.stop();
    let server = Server::start_in(&dir, &[]);
    let status = server.aws_ok(&["cloudtrail", "get-trail-status", "--name", "main"]);
    assert_eq!(status["IsLogging"], true);
    server.aws_ok(&["cloudtrail", "stop-logging", "--name", "main"]);
    let out = as_with(
        &server,
        &mallory,
        &["logs", "delete-log-group", "--log-group-name", "trail-logs"],
    );
    assert!(
        out.stderr.contains("(AccessDeniedException)"),
        "{}",
        out.stderr
    );
    assert_eq!(denials(&server).len(), 1);
    server.aws_ok(&["cloudtrail", "delete-trail", "--name", "main"]);
    let trails = server.aws_ok(&["cloudtrail", "describe-trails"]);
    assert_eq!(trails["trailList"].as_array().unwrap().len(), 0);
}

/// UpdateTrail and event selectors through the aws CLI: a trail moved to a log group by
/// UpdateTrail logs there; with write-only selectors it delivers CreateLogGroup but not
/// DescribeLogGroups; advanced selectors excluding a source and refusing data events; the
/// selectors survive a restart.
#[test]
fn update_trail_and_event_selectors_choose_what_a_trail_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut server = Server::start_in(&dir, &[]);
    let account = server.aws_ok(&["sts", "get-caller-identity"])["Account"]
        .as_str()
        .unwrap()
        .to_owned();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "audit"]);
    let group_arn = format!("arn:aws:logs:us-east-1:{account}:log-group:audit:*");
    let role_arn = format!("arn:aws:iam::{account}:role/CloudTrail_CloudWatchLogs_Role");
    server.aws_ok(&[
        "cloudtrail",
        "create-trail",
        "--name",
        "main",
        "--s3-bucket-name",
        "audit-bucket",
    ]);
    let defaults = server.aws_ok(&["cloudtrail", "get-event-selectors", "--trail-name", "main"]);
    assert_eq!(defaults["EventSelectors"][0]["ReadWriteType"], "All");
    assert_eq!(
        defaults["EventSelectors"][0]["IncludeManagementEvents"],
        true
    );
    server.aws_err(
        &[
            "cloudtrail",
            "update-trail",
            "--name",
            "main",
            "--cloud-watch-logs-log-group-arn",
            &group_arn,
        ],
        "InvalidCloudWatchLogsRoleArnException",
    );
    let updated = server.aws_ok(&[
        "cloudtrail",
        "update-trail",
        "--name",
        "main",
        "--cloud-watch-logs-log-group-arn",
        &group_arn,
        "--cloud-watch-logs-role-arn",
        &role_arn,
        "--s3-key-prefix",
        "trails",
    ]);
    assert_eq!(updated["CloudWatchLogsLogGroupArn"], group_arn.as_str());
    assert_eq!(updated["S3KeyPrefix"], "trails");
    assert_eq!(updated["S3BucketName"], "audit-bucket");

    server.aws_err(
        &[
            "cloudtrail",
            "put-event-selectors",
            "--trail-name",
            "main",
            "--event-selectors",
            r#"[{"ReadWriteType":"Sometimes"}]"#,
        ],
        "InvalidEventSelectorsException",
    );
    let put = server.aws_ok(&[
        "cloudtrail",
        "put-event-selectors",
        "--trail-name",
        "main",
        "--event-selectors",
        r#"[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true}]"#,
    ]);
    assert_eq!(
        put["TrailARN"],
        format!("arn:aws:cloudtrail:us-east-1:{account}:trail/main")
    );
    assert_eq!(put["EventSelectors"][0]["ReadWriteType"], "WriteOnly");
    let trails = server.aws_ok(&["cloudtrail", "describe-trails"]);
    assert_eq!(trails["trailList"][0]["HasCustomEventSelectors"], true);
    server.aws_ok(&["cloudtrail", "start-logging", "--name", "main"]);

    server.aws_ok(&["logs", "describe-log-groups"]);
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "written"]);
    let names = |server: &Server| -> Vec<String> {
        server.aws_ok(&["logs", "filter-log-events", "--log-group-name", "audit"])["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let r: Value = serde_json::from_str(e["message"].as_str().unwrap()).unwrap();
                assert_eq!(r["readOnly"], false, "{r}");
                r["eventName"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    let logged = names(&server);
    assert!(logged.contains(&"CreateLogGroup".to_owned()), "{logged:?}");
    assert!(
        !logged.contains(&"DescribeLogGroups".to_owned()),
        "{logged:?}"
    );

    // Advanced selectors: writes except those of CloudWatch Logs; data events are refused.
    server.aws_err(
        &[
            "cloudtrail",
            "put-event-selectors",
            "--trail-name",
            "main",
            "--advanced-event-selectors",
            r#"[{"Name":"puts","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]}]}]"#,
        ],
        "InvalidEventSelectorsException",
    );
    server.aws_ok(&[
        "cloudtrail",
        "put-event-selectors",
        "--trail-name",
        "main",
        "--advanced-event-selectors",
        r#"[{"Name":"writes, not logs","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"readOnly","Equals":["false"]},{"Field":"eventSource","NotEquals":["logs.amazonaws.com"]}]}]"#,
    ]);
    server.stop();
    let server = Server::start_in(&dir, &[]);
    let got = server.aws_ok(&["cloudtrail", "get-event-selectors", "--trail-name", "main"]);
    assert_eq!(got["AdvancedEventSelectors"][0]["Name"], "writes, not logs");
    assert!(got.get("EventSelectors").is_none(), "{got}");
    let before = names(&server).len();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "unlogged"]);
    server.aws_ok(&["iam", "create-user", "--user-name", "logged"]);
    let after = names(&server);
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert_eq!(after.last().map(String::as_str), Some("CreateUser"));
}
