//! Log group control plane: DescribeLogGroups selections and pages, retention, deletion
//! protection and DeleteLogGroup, through the aws CLI and boto3.

use serde_json::Value;

use crate::support::Server;

const ACCOUNT: &str = "123456789012";

fn arn(name: &str) -> String {
    format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{name}")
}

fn names(out: &Value) -> Vec<String> {
    out["logGroups"]
        .as_array()
        .expect("logGroups")
        .iter()
        .map(|g| g["logGroupName"].as_str().expect("name").to_owned())
        .collect()
}

fn describe(server: &Server, extra: &[&str]) -> Value {
    let mut args = vec!["logs", "describe-log-groups"];
    args.extend_from_slice(extra);
    server.aws_ok(&args)
}

#[test]
fn describe_log_groups_selections_and_errors() {
    let server = Server::start();
    server.aws_ok(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "app/web",
        "--tags",
        "team=web",
    ]);
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "app/api"]);
    server.aws_ok(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "other",
        "--log-group-class",
        "INFREQUENT_ACCESS",
    ]);

    let all = describe(&server, &[]);
    assert_eq!(names(&all), ["app/api", "app/web", "other"]);
    assert!(all.get("nextToken").is_none());
    let web = &all["logGroups"][1];
    assert_eq!(web["arn"], format!("{}:*", arn("app/web")));
    assert_eq!(web["logGroupArn"], arn("app/web"));
    assert_eq!(web["logGroupClass"], "STANDARD");
    assert_eq!(web["deletionProtectionEnabled"], false);
    assert!(web.get("retentionInDays").is_none(), "{web}");
    assert!(web["creationTime"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(all["logGroups"][2]["logGroupClass"], "INFREQUENT_ACCESS");

    // Prefix; pattern is a case-sensitive substring with a reduced shape.
    assert_eq!(
        names(&describe(&server, &["--log-group-name-prefix", "app/"])),
        ["app/api", "app/web"]
    );
    let pattern = describe(&server, &["--log-group-name-pattern", "web"]);
    assert_eq!(names(&pattern), ["app/web"]);
    let mut keys: Vec<&str> = pattern["logGroups"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["arn", "creationTime", "logGroupName"]);
    assert_eq!(
        names(&describe(&server, &["--log-group-name-pattern", "p/"])),
        ["app/api", "app/web"]
    );
    assert!(names(&describe(&server, &["--log-group-name-pattern", "WEB"])).is_empty());
    server.aws_err(
        &[
            "logs",
            "describe-log-groups",
            "--log-group-name-prefix",
            "app",
            "--log-group-name-pattern",
            "web",
        ],
        "InvalidParameterException",
    );

    // Identifiers: names and ARNs in both forms; unknown ones select nothing.
    let ids = describe(
        &server,
        &[
            "--log-group-identifiers",
            "other",
            &arn("app/web"),
            &format!("{}:*", arn("app/api")),
            "missing",
            "arn:aws:logs:us-east-1:999999999999:log-group:other",
        ],
    );
    assert_eq!(names(&ids), ["app/api", "app/web", "other"]);
    assert_eq!(ids["logGroups"][1]["logGroupArn"], arn("app/web"));
    describe(
        &server,
        &[
            "--log-group-identifiers",
            "other",
            "--include-linked-accounts",
        ],
    );
    let msg = server.aws_err(
        &[
            "logs",
            "describe-log-groups",
            "--log-group-identifiers",
            "other",
            "--log-group-name-prefix",
            "o",
        ],
        "InvalidParameterException",
    );
    assert!(msg.contains("includeLinkedAccounts"), "{msg}");

    // Class filter, account identifiers, limits and tokens.
    assert_eq!(
        names(&describe(
            &server,
            &["--log-group-class", "INFREQUENT_ACCESS"]
        )),
        ["other"]
    );
    server.aws_err(
        &["logs", "describe-log-groups", "--log-group-class", "COLD"],
        "InvalidParameterException",
    );
    describe(&server, &["--account-identifiers", ACCOUNT]);
    server.aws_err(
        &[
            "logs",
            "describe-log-groups",
            "--account-identifiers",
            "12345678901x",
        ],
        "InvalidParameterException",
    );
    let msg = server.aws_err(
        &["logs", "describe-log-groups", "--limit", "51"],
        "InvalidParameterException",
    );
    assert!(
        msg.contains("Member must have value between 1 and 50"),
        "{msg}"
    );
    server.aws_err(
        &[
            "logs",
            "describe-log-groups",
            "--log-group-name-prefix",
            "bad prefix",
        ],
        "InvalidParameterException",
    );
}

#[test]
fn retention_deletion_protection_and_delete() {
    let server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "keep"]);
    server.aws_ok(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "keep",
        "--log-stream-name",
        "s",
    ]);

    // Retention: only AWS's day counts; shown in DescribeLogGroups; removable.
    server.aws_ok(&[
        "logs",
        "put-retention-policy",
        "--log-group-name",
        "keep",
        "--retention-in-days",
        "30",
    ]);
    assert_eq!(
        describe(&server, &[])["logGroups"][0]["retentionInDays"],
        30
    );
    server.aws_ok(&[
        "logs",
        "put-retention-policy",
        "--log-group-name",
        "keep",
        "--retention-in-days",
        "3653",
    ]);
    assert_eq!(
        describe(&server, &[])["logGroups"][0]["retentionInDays"],
        3653
    );
    let msg = server.aws_err(
        &[
            "logs",
            "put-retention-policy",
            "--log-group-name",
            "keep",
            "--retention-in-days",
            "2",
        ],
        "InvalidParameterException",
    );
    assert!(msg.contains("Member must satisfy enum value set"), "{msg}");
    server.aws_err(
        &[
            "logs",
            "put-retention-policy",
            "--log-group-name",
            "nope",
            "--retention-in-days",
            "1",
        ],
        "ResourceNotFoundException",
    );
    server.aws_ok(&[
        "logs",
        "delete-retention-policy",
        "--log-group-name",
        "keep",
    ]);
    assert!(
        describe(&server, &[])["logGroups"][0]
            .get("retentionInDays")
            .is_none()
    );
    server.aws_err(
        &[
            "logs",
            "delete-retention-policy",
            "--log-group-name",
            "nope",
        ],
        "ResourceNotFoundException",
    );

    // Deletion protection blocks deleting the group and its streams until turned off.
    server.aws_ok(&[
        "logs",
        "put-log-group-deletion-protection",
        "--log-group-identifier",
        "keep",
        "--deletion-protection-enabled",
    ]);
    assert_eq!(
        describe(&server, &[])["logGroups"][0]["deletionProtectionEnabled"],
        true
    );
    let msg = server.aws_err(
        &["logs", "delete-log-group", "--log-group-name", "keep"],
        "ValidationException",
    );
    assert!(msg.contains("deletion protection"), "{msg}");
    server.aws_err(
        &[
            "logs",
            "delete-log-stream",
            "--log-group-name",
            "keep",
            "--log-stream-name",
            "s",
        ],
        "ValidationException",
    );
    server.aws_err(
        &[
            "logs",
            "put-log-group-deletion-protection",
            "--log-group-identifier",
            "nope",
            "--deletion-protection-enabled",
        ],
        "ResourceNotFoundException",
    );
    server.aws_ok(&[
        "logs",
        "put-log-group-deletion-protection",
        "--log-group-identifier",
        &arn("keep"),
        "--no-deletion-protection-enabled",
    ]);
    assert_eq!(
        describe(&server, &[])["logGroups"][0]["deletionProtectionEnabled"],
        false
    );
    server.aws_ok(&["logs", "delete-log-group", "--log-group-name", "keep"]);
    assert!(names(&describe(&server, &[])).is_empty());
    server.aws_err(
        &["logs", "delete-log-group", "--log-group-name", "keep"],
        "ResourceNotFoundException",
    );
    server.aws_err(
        &["logs", "delete-log-group", "--log-group-name", "bad name"],
        "InvalidParameterException",
    );

    // Protection given at creation; a recreated group starts empty and unprotected.
    server.aws_ok(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "guarded",
        "--deletion-protection-enabled",
    ]);
    assert_eq!(
        describe(&server, &[])["logGroups"][0]["deletionProtectionEnabled"],
        true
    );
    server.aws_err(
        &["logs", "delete-log-group", "--log-group-name", "guarded"],
        "ValidationException",
    );
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "keep"]);
    let streams = server.aws_ok(&["logs", "describe-log-streams", "--log-group-name", "keep"]);
    assert_eq!(streams["logStreams"], Value::Array(vec![]));
}

#[test]
fn describe_log_groups_pagination() {
    let server = Server::start();
    server.python(
        r##"
import os, boto3
logs = boto3.client("logs", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"])
names = [f"g-{i:03}" for i in range(120)] + ["B", "a", "_x", "#h", ".d"]
for n in names:
    logs.create_log_group(logGroupName=n)
expected = sorted(names)  # ASCII order: '#' < '.' < digits < 'B' < '_' < 'a' < 'g'
assert expected[:5] == ["#h", ".d", "B", "_x", "a"], expected[:5]

# By hand: limit 7, follow nextToken until it is absent.
seen, token, pages = [], None, 0
while True:
    kw = {"limit": 7}
    if token:
        kw["nextToken"] = token
    r = logs.describe_log_groups(**kw)
    assert len(r["logGroups"]) <= 7
    seen += [g["logGroupName"] for g in r["logGroups"]]
    pages += 1
    token = r.get("nextToken")
    if not token:
        break
assert seen == expected, seen
assert pages == (len(expected) + 6) // 7, pages

# Default page size is 50.
r = logs.describe_log_groups()
assert len(r["logGroups"]) == 50 and "nextToken" in r

# boto3's paginator, with and without a prefix.
p = logs.get_paginator("describe_log_groups")
pages = list(p.paginate(PaginationConfig={"PageSize": 50}))
assert [len(x["logGroups"]) for x in pages] == [50, 50, 25], [len(x["logGroups"]) for x in pages]
assert [g["logGroupName"] for x in pages for g in x["logGroups"]] == expected
got = [g["logGroupName"] for x in p.paginate(logGroupNamePrefix="g-1", PaginationConfig={"PageSize": 6}) for g in x["logGroups"]]
assert got == [f"g-{i}" for i in range(100, 120)], got
got = [g["logGroupName"] for x in p.paginate(logGroupNamePattern="-01", PaginationConfig={"PageSize": 3}) for g in x["logGroups"]]
assert got == [f"g-01{i}" for i in range(10)], got

try:
    logs.describe_log_groups(nextToken="garbage")
    raise SystemExit("a garbage token was accepted")
except logs.exceptions.InvalidParameterException:
    pass

# A token of DescribeLogStreams is not a DescribeLogGroups token.
logs.create_log_stream(logGroupName="a", logStreamName="s1")
logs.create_log_stream(logGroupName="a", logStreamName="s2")
t = logs.describe_log_streams(logGroupName="a", limit=1)["nextToken"]
try:
    logs.describe_log_groups(nextToken=t)
    raise SystemExit("a foreign token was accepted")
except logs.exceptions.InvalidParameterException:
    pass
"##,
    );

    // The aws CLI's own auto-pagination, with several page sizes and --max-items.
    let all = server.aws_ok(&["logs", "describe-log-groups"]);
    assert_eq!(names(&all).len(), 125);
    let small = server.aws_ok(&["logs", "describe-log-groups", "--page-size", "9"]);
    assert_eq!(names(&small), names(&all));
    let first = server.aws_ok(&["logs", "describe-log-groups", "--max-items", "10"]);
    assert_eq!(names(&first), names(&all)[..10]);
    let token = first["NextToken"].as_str().expect("CLI NextToken");
    let rest = server.aws_ok(&["logs", "describe-log-groups", "--starting-token", token]);
    assert_eq!(names(&rest), names(&all)[10..]);
    let prefixed = server.aws_ok(&[
        "logs",
        "describe-log-groups",
        "--log-group-name-prefix",
        "g-0",
        "--page-size",
        "11",
    ]);
    assert_eq!(names(&prefixed).len(), 100);
}
