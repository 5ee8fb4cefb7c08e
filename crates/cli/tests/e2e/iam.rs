//! IAM users, keys and policies, STS, and policy enforcement on every service (issue #6),
//! through the aws CLI: the root key creates a user, the user's key is allowed what its
//! policies allow and refused the rest with each protocol's access-denied error.

use serde_json::Value;

use crate::support::Server;

/// Credentials for the aws CLI: `(key id, secret)`, plus a session token for a role session.
fn creds(key: &Value, token: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        (
            "AWS_ACCESS_KEY_ID",
            key["AccessKeyId"].as_str().unwrap().to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            key["SecretAccessKey"].as_str().unwrap().to_owned(),
        ),
    ];
    if let Some(token) = token {
        env.push(("AWS_SESSION_TOKEN", token.to_owned()));
    }
    env
}

fn as_with(
    server: &Server,
    env: &[(&'static str, String)],
    args: &[&str],
) -> crate::support::AwsOutput {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    server.aws_with(&env, args)
}

fn ok(server: &Server, env: &[(&'static str, String)], args: &[&str]) -> Value {
    let out = as_with(server, env, args);
    assert!(out.success, "aws {args:?} failed: {}", out.stderr);
    out.json
}

fn denied(server: &Server, env: &[(&'static str, String)], args: &[&str], code: &str) -> String {
    let out = as_with(server, env, args);
    assert!(!out.success, "aws {args:?} should have been denied");
    assert!(
        out.stderr.contains(&format!("({code})")),
        "aws {args:?}: expected {code}, got {}",
        out.stderr
    );
    out.stderr
}

fn new_user(server: &Server, name: &str) -> (String, Vec<(&'static str, String)>) {
    let user = server.aws_ok(&["iam", "create-user", "--user-name", name]);
    let arn = user["User"]["Arn"].as_str().unwrap().to_owned();
    let key = server.aws_ok(&["iam", "create-access-key", "--user-name", name]);
    (arn, creds(&key["AccessKey"], None))
}

fn put(server: &Server, env: &[(&'static str, String)], group: &str) -> crate::support::AwsOutput {
    let event = format!("timestamp={},message=hello", crate::support::now_ms());
    as_with(
        server,
        env,
        &[
            "logs",
            "put-log-events",
            "--log-group-name",
            group,
            "--log-stream-name",
            "s",
            "--log-events",
            &event,
        ],
    )
}

#[test]
fn a_users_policies_decide_what_its_key_may_do() {
    let server = Server::start();
    let account = server.aws_ok(&["sts", "get-caller-identity"])["Account"]
        .as_str()
        .unwrap()
        .to_owned();
    for group in ["allowed", "other"] {
        server.aws_ok(&["logs", "create-log-group", "--log-group-name", group]);
        server.aws_ok(&[
            "logs",
            "create-log-stream",
            "--log-group-name",
            group,
            "--log-stream-name",
            "s",
        ]);
    }
    let (arn, alice) = new_user(&server, "alice");
    assert_eq!(arn, format!("arn:aws:iam::{account}:user/alice"));
    let allow = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"logs:Describe*","Resource":"*"}},
            {{"Effect":"Allow","Action":"logs:PutLogEvents",
              "Resource":"arn:aws:logs:us-east-1:{account}:log-group:allowed:*"}}]}}"#
    );
    server.aws_ok(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "alice",
        "--policy-name",
        "logs",
        "--policy-document",
        &allow,
    ]);
    let got = server.aws_ok(&[
        "iam",
        "get-user-policy",
        "--user-name",
        "alice",
        "--policy-name",
        "logs",
    ]);
    assert_eq!(
        got["PolicyDocument"]["Statement"][1]["Action"],
        "logs:PutLogEvents"
    );

    let identity = ok(&server, &alice, &["sts", "get-caller-identity"]);
    assert_eq!(identity["Arn"], arn.as_str());
    assert!(identity["UserId"].as_str().unwrap().starts_with("AIDA"));
    ok(&server, &alice, &["logs", "describe-log-groups"]);
    let out = put(&server, &alice, "allowed");
    assert!(out.success, "{}", out.stderr);
    let out = put(&server, &alice, "other");
    assert!(
        out.stderr.contains("(AccessDeniedException)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "User: {arn} is not authorized to perform: logs:PutLogEvents on resource: \
             arn:aws:logs:us-east-1:{account}:log-group:other:log-stream:s because no \
             identity-based policy allows the logs:PutLogEvents action"
        )),
        "{}",
        out.stderr
    );
    // The user cannot manage IAM, and other services answer with their own error shapes.
    denied(
        &server,
        &alice,
        &["iam", "create-user", "--user-name", "mallory"],
        "AccessDenied",
    );
    let stderr = denied(
        &server,
        &alice,
        &[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "a",
            "--namespace",
            "N",
            "--metric-name",
            "M",
            "--statistic",
            "Sum",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--threshold",
            "1",
            "--comparison-operator",
            "GreaterThanThreshold",
        ],
        "AccessDenied",
    );
    assert!(stderr.contains(":alarm:a"), "{stderr}");
    denied(
        &server,
        &alice,
        &["sns", "create-topic", "--name", "t"],
        "AuthorizationError",
    );

    denied(
        &server,
        &alice,
        &["ec2", "describe-flow-logs"],
        "UnauthorizedOperation",
    );

    // A Deny overrides the Allow (here for callers from 127.0.0.0/8: `aws:SourceIp` is the
    // TCP peer).
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"logs:PutLogEvents",
        "Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}"#;
    server.aws_ok(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "alice",
        "--policy-name",
        "deny",
        "--policy-document",
        deny,
    ]);
    let out = put(&server, &alice, "allowed");
    assert!(
        out.stderr
            .contains("with an explicit deny in an identity-based policy"),
        "{}",
        out.stderr
    );
    // Without its policies the user may do nothing.
    for name in ["deny", "logs"] {
        server.aws_ok(&[
            "iam",
            "delete-user-policy",
            "--user-name",
            "alice",
            "--policy-name",
            name,
        ]);
    }
    denied(
        &server,
        &alice,
        &["logs", "describe-log-groups"],
        "AccessDeniedException",
    );
    // IAM refuses to delete a user with keys.
    let out = server.aws(&["iam", "delete-user", "--user-name", "alice"]);
    assert!(out.stderr.contains("(DeleteConflict)"), "{}", out.stderr);
}

#[test]
fn assume_role_gives_temporary_credentials_with_the_roles_permissions() {
    let server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "app"]);
    let (alice_arn, alice) = new_user(&server, "alice");
    let (_, bob) = new_user(&server, "bob");
    let may_assume = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    for user in ["alice", "bob"] {
        server.aws_ok(&[
            "iam",
            "put-user-policy",
            "--user-name",
            user,
            "--policy-name",
            "assume",
            "--policy-document",
            may_assume,
        ]);
    }
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{alice_arn}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role = server.aws_ok(&[
        "iam",
        "create-role",
        "--role-name",
        "reader",
        "--assume-role-policy-document",
        &trust,
    ]);
    let role_arn = role["Role"]["Arn"].as_str().unwrap().to_owned();
    let read = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:DescribeLogGroups","Resource":"*"}]}"#;
    let policy = server.aws_ok(&[
        "iam",
        "create-policy",
        "--policy-name",
        "read",
        "--policy-document",
        read,
    ]);
    let policy_arn = policy["Policy"]["Arn"].as_str().unwrap().to_owned();
    server.aws_ok(&[
        "iam",
        "attach-role-policy",
        "--role-name",
        "reader",
        "--policy-arn",
        &policy_arn,
    ]);
    let attached = server.aws_ok(&[
        "iam",
        "list-attached-role-policies",
        "--role-name",
        "reader",
    ]);
    assert_eq!(
        attached["AttachedPolicies"][0]["PolicyArn"],
        policy_arn.as_str()
    );

    let assumed = ok(
        &server,
        &alice,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role_arn,
            "--role-session-name",
            "s1",
        ],
    );
    let credentials = &assumed["Credentials"];
    assert!(
        credentials["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );
    let session_arn = assumed["AssumedRoleUser"]["Arn"].as_str().unwrap();
    assert!(
        session_arn.ends_with(":assumed-role/reader/s1"),
        "{session_arn}"
    );
    let token = credentials["SessionToken"].as_str().unwrap();
    let session = creds(credentials, Some(token));
    let identity = ok(&server, &session, &["sts", "get-caller-identity"]);
    assert_eq!(identity["Arn"], session_arn);
    ok(&server, &session, &["logs", "describe-log-groups"]);
    let stderr = denied(
        &server,
        &session,
        &["logs", "create-log-group", "--log-group-name", "x"],
        "AccessDeniedException",
    );
    assert!(
        stderr.contains(&format!("User: {session_arn} is not authorized")),
        "{stderr}"
    );
    // The key without its token, or with another, is not a key at all.
    let no_token = creds(credentials, None);
    denied(
        &server,
        &no_token,
        &["logs", "describe-log-groups"],
        "UnrecognizedClientException",
    );
    let wrong = creds(credentials, Some("forged"));
    denied(
        &server,
        &wrong,
        &["logs", "describe-log-groups"],
        "UnrecognizedClientException",
    );
    // A user the trust policy does not name cannot assume the role.
    let stderr = denied(
        &server,
        &bob,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role_arn,
            "--role-session-name",
            "s2",
        ],
        "AccessDenied",
    );
    assert!(stderr.contains("sts:AssumeRole"), "{stderr}");
}

#[test]
fn users_and_keys_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut server = Server::start_in(&dir, &[]);
    let (arn, alice) = new_user(&server, "alice");
    server.stop();
    let server = Server::start_in(&dir, &[]);
    let identity = ok(&server, &alice, &["sts", "get-caller-identity"]);
    assert_eq!(identity["Arn"], arn.as_str());
    let users = server.aws_ok(&["iam", "list-users"]);
    assert_eq!(users["Users"][0]["UserName"], "alice");
}

/// CreateFlowLogs passes its delivery role to the flow-logs service: a user allowed
/// `ec2:CreateFlowLogs` but not `iam:PassRole` on that role is refused; the user guide's
/// PassRole statement (with `iam:PassedToService`) lets the call through.
#[test]
fn create_flow_logs_needs_pass_role_on_the_delivery_role() {
    let server = Server::start();
    let account = server.aws_ok(&["sts", "get-caller-identity"])["Account"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, netops) = new_user(&server, "netops");
    let put_policy = |name: &str, document: &str| {
        server.aws_ok(&[
            "iam",
            "put-user-policy",
            "--user-name",
            "netops",
            "--policy-name",
            name,
            "--policy-document",
            document,
        ]);
    };
    put_policy(
        "flow-logs",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Action":["ec2:CreateFlowLogs","ec2:DescribeFlowLogs"],"Resource":"*"}]}"#,
    );
    let role = format!("arn:aws:iam::{account}:role/flow-logs-role");
    let create = [
        "ec2",
        "create-flow-logs",
        "--resource-type",
        "NetworkInterface",
        "--resource-ids",
        "eni-0a1b2c3d4e5f67890",
        "--traffic-type",
        "REJECT",
        "--log-group-name",
        "flows",
        "--deliver-logs-permission-arn",
        &role,
    ];
    let message = denied(&server, &netops, &create, "UnauthorizedOperation");
    assert!(
        message.contains("iam:PassRole") && message.contains(&role),
        "{message}"
    );
    // Passing the role to another service is not what it allows.
    put_policy(
        "pass-role",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:PassRole",
               "Resource":"{role}","Condition":{{"StringEquals":{{"iam:PassedToService":"ec2.amazonaws.com"}}}}}}]}}"#
        ),
    );
    denied(&server, &netops, &create, "UnauthorizedOperation");
    put_policy(
        "pass-role",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:PassRole",
               "Resource":"{role}","Condition":{{"StringEquals":{{"iam:PassedToService":"vpc-flow-logs.amazonaws.com"}}}}}}]}}"#
        ),
    );
    let created = ok(&server, &netops, &create);
    assert_eq!(created["FlowLogIds"].as_array().map(Vec::len), Some(1));
}

/// The flow-log role of the user guide, from denied to working: deliveries assume the role;
/// while its trust or its permissions refuse them the flow log is FAILED with `Access error`
/// and its records are held, across a crash; fixing the role delivers every one of them.
#[test]
fn flow_log_delivery_assumes_its_role_and_resumes_when_the_role_is_fixed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start_in(&data, &[]);
    let eni = "eni-0a1b2c3d4e5f67890";
    // A role that trusts the wrong service and may not put log events.
    let role = server.aws_ok(&[
        "iam",
        "create-role",
        "--role-name",
        "flow-logs-role",
        "--assume-role-policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    ])["Role"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let put_permissions = |server: &Server, document: &str| {
        server.aws_ok(&[
            "iam",
            "put-role-policy",
            "--role-name",
            "flow-logs-role",
            "--policy-name",
            "delivery",
            "--policy-document",
            document,
        ]);
    };
    put_permissions(
        &server,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Action":["logs:CreateLogGroup","logs:CreateLogStream"],"Resource":"*"}]}"#,
    );
    let created = server.aws_ok(&[
        "ec2",
        "create-flow-logs",
        "--resource-type",
        "NetworkInterface",
        "--resource-ids",
        eni,
        "--traffic-type",
        "ALL",
        "--log-group-name",
        "vpc-flows",
        "--deliver-logs-permission-arn",
        &role,
    ]);
    let id = created["FlowLogIds"][0].as_str().unwrap().to_owned();

    let pcap = tmp.path().join("trace.pcap");
    crate::capture::write_pcap(&pcap);
    let capture = |server: &Server| {
        let out = std::process::Command::new(crate::support::binary())
            .args(["capture", "--flow-logs", "--pcap"])
            .arg(&pcap)
            .args(["--eni", eni, "--rebase-time", "--local-addr", "10.0.1.5"])
            .args(["--endpoint-url", &server.endpoint])
            .envs(crate::support::aws_env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "capture failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let status = |server: &Server| {
        let got = server.aws_ok(&["ec2", "describe-flow-logs", "--flow-log-ids", &id]);
        let log = &got["FlowLogs"][0];
        (
            log["DeliverLogsStatus"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            log["DeliverLogsErrorMessage"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let delivered = |server: &Server| -> usize {
        let out = server.aws(&[
            "logs",
            "get-log-events",
            "--log-group-name",
            "vpc-flows",
            "--log-stream-name",
            &format!("{eni}-all"),
            "--start-from-head",
        ]);
        out.json["events"].as_array().map_or(0, Vec::len)
    };

    // Refused by the trust policy: nothing reaches the group, the flow log says why.
    capture(&server);
    assert_eq!(status(&server), ("FAILED".into(), "Access error".into()));
    assert_eq!(delivered(&server), 0);
    // Trusted now (the guide's trust policy), but the role still may not put log events.
    let trust = format!(
        "file://{}",
        crate::support::fixture("flow-logs-trust.json").display()
    );
    server.aws_ok(&[
        "iam",
        "update-assume-role-policy",
        "--role-name",
        "flow-logs-role",
        "--policy-document",
        &trust,
    ]);
    capture(&server);
    assert_eq!(status(&server), ("FAILED".into(), "Access error".into()));
    assert_eq!(delivered(&server), 0);

    // The held records survive a crash.
    server.kill();
    let server = Server::start_in(&data, &[]);
    assert_eq!(delivered(&server), 0);
    // The guide's permissions: every held record is delivered, none twice.
    let permissions =
        std::fs::read_to_string(crate::support::fixture("flow-logs-permissions.json")).unwrap();
    put_permissions(&server, &permissions);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while delivered(&server) < 12 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(delivered(&server), 12, "both captures' six records each");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while status(&server).0 != "SUCCESS" && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(status(&server), ("SUCCESS".into(), String::new()));
    // New records go straight through.
    capture(&server);
    assert_eq!(delivered(&server), 18);
}

/// Rate limits: each principal has its own bucket per operation at AWS's quota; a call past it
/// gets the service's throttling error (ThrottlingException for CloudTrail, Throttling for
/// CloudWatch), another principal is not held back, and a retrying client gets through.
#[test]
fn each_principal_is_rate_limited_per_operation_with_the_services_throttling_error() {
    let server = Server::start();
    let (_, bob) = new_user(&server, "bob");
    server.aws_ok(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "bob",
        "--policy-name",
        "lookup",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:LookupEvents","Resource":"*"}]}"#,
    ]);
    let (bob_id, bob_secret) = (&bob[0].1, &bob[1].1);
    server.python(&format!(
        r#"
import os, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint = os.environ["FLOWWATCH_ENDPOINT"]
once = Config(retries={{"total_max_attempts": 1}})
trail = boto3.client("cloudtrail", endpoint_url=endpoint, config=once)
codes = []
for _ in range(80):
    try:
        trail.lookup_events(MaxResults=1)
        codes.append("ok")
    except ClientError as e:
        codes.append(e.response["Error"]["Code"])
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status == 400, status
        assert e.response["Error"]["Message"] == "Rate exceeded", e.response
# LookupEvents: 2 per second, a burst of 50.
assert codes[:50] == ["ok"] * 50, codes
assert codes.count("ThrottlingException") >= 20, codes
assert set(codes) == {{"ok", "ThrottlingException"}}, codes

# Another principal has its own bucket.
bob = boto3.client("cloudtrail", endpoint_url=endpoint, config=once,
                   aws_access_key_id="{bob_id}", aws_secret_access_key="{bob_secret}")
bob.lookup_events(MaxResults=1)

# CloudWatch says Throttling (awsJson 1.0 with the query error header); DescribeAlarms: 9
# per second, a burst of 90.
cw = boto3.client("cloudwatch", endpoint_url=endpoint, config=once)
codes = []
for _ in range(150):
    try:
        cw.describe_alarms()
        codes.append("ok")
    except ClientError as e:
        codes.append(e.response["Error"]["Code"])
assert "Throttling" in codes and set(codes) == {{"ok", "Throttling"}}, codes

# The default client retries throttled calls with backoff and gets through.
patient = boto3.client("cloudtrail", endpoint_url=endpoint,
                       config=Config(retries={{"mode": "standard", "total_max_attempts": 10}}))
for _ in range(3):
    patient.lookup_events(MaxResults=1)
"#
    ));
}

/// IAM's List* calls come in pages: MaxItems, IsTruncated and Marker, as boto3 and the aws CLI
/// (its `--page-size`) page through them.
#[test]
fn iam_lists_are_paged_with_markers() {
    let server = Server::start();
    server.python(
        r#"
import os, boto3
from botocore.exceptions import ClientError
iam = boto3.client("iam", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"])
names = [f"user-{i:02}" for i in range(7)]
for n in names:
    iam.create_user(UserName=n)
for i in range(3):
    iam.put_user_policy(UserName="user-00", PolicyName=f"p{i}",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}')
first = iam.list_users(MaxItems=3)
assert first["IsTruncated"] is True and "Marker" in first, first
assert [u["UserName"] for u in first["Users"]] == names[:3], first
second = iam.list_users(MaxItems=3, Marker=first["Marker"])
assert [u["UserName"] for u in second["Users"]] == names[3:6], second
third = iam.list_users(MaxItems=3, Marker=second["Marker"])
assert [u["UserName"] for u in third["Users"]] == names[6:] and third["IsTruncated"] is False, third
assert "Marker" not in third
# The paginator walks every page.
got = [u["UserName"] for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
       for u in p["Users"]]
assert got == names, got
pols = iam.list_user_policies(UserName="user-00", MaxItems=2)
assert pols["PolicyNames"] == ["p0", "p1"] and pols["IsTruncated"], pols
from botocore.config import Config
raw = boto3.client("iam", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"],
                   config=Config(parameter_validation=False))
for bad in [{"MaxItems": 0}, {"MaxItems": 1001}, {"Marker": "not-a-marker"}]:
    try:
        raw.list_users(**bad)
        raise SystemExit(f"{bad} accepted")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ValidationError", e.response
# A marker of another List call is refused.
try:
    iam.list_roles(Marker=first["Marker"])
    raise SystemExit("foreign marker accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationError", e.response
"#,
    );
    let out = server.aws_ok(&["iam", "list-users", "--page-size", "2"]);
    assert_eq!(out["Users"].as_array().map(Vec::len), Some(7));
}
