//! Tagging: TagResource / UntagResource / ListTagsForResource by ARN, and the older
//! TagLogGroup / UntagLogGroup / ListTagsLogGroup by name.

use serde_json::json;

use crate::support::Server;

const ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:tagged";

#[test]
fn tags_by_arn_and_by_name() {
    let server = Server::start();
    let aws = |args: &[&str]| {
        let mut all = vec!["logs"];
        all.extend_from_slice(args);
        server.aws_ok(&all)
    };
    let err = |args: &[&str], code: &str| {
        let mut all = vec!["logs"];
        all.extend_from_slice(args);
        server.aws_err(&all, code)
    };
    aws(&[
        "create-log-group",
        "--log-group-name",
        "tagged",
        "--tags",
        "a=1",
    ]);
    assert_eq!(
        aws(&["list-tags-for-resource", "--resource-arn", ARN])["tags"],
        json!({"a": "1"})
    );

    // Existing keys are overwritten; untag removes only the named keys.
    aws(&["tag-resource", "--resource-arn", ARN, "--tags", "b=2,a=9"]);
    assert_eq!(
        aws(&["list-tags-for-resource", "--resource-arn", ARN])["tags"],
        json!({"a": "9", "b": "2"})
    );
    aws(&[
        "untag-resource",
        "--resource-arn",
        ARN,
        "--tag-keys",
        "a",
        "zzz",
    ]);
    assert_eq!(
        aws(&["list-tags-for-resource", "--resource-arn", ARN])["tags"],
        json!({"b": "2"})
    );

    // The `arn` form with `:*`, other services, other accounts and regions, unknown groups.
    let msg = err(
        &[
            "tag-resource",
            "--resource-arn",
            &format!("{ARN}:*"),
            "--tags",
            "x=1",
        ],
        "InvalidParameterException",
    );
    assert!(msg.contains(":*"), "{msg}");
    err(
        &[
            "list-tags-for-resource",
            "--resource-arn",
            &format!("{ARN}:*"),
        ],
        "InvalidParameterException",
    );
    let msg = err(
        &[
            "list-tags-for-resource",
            "--resource-arn",
            "arn:aws:s3:::bucket",
        ],
        "InvalidParameterException",
    );
    assert!(msg.contains("log group"), "{msg}");
    err(
        &[
            "list-tags-for-resource",
            "--resource-arn",
            "arn:aws:logs:us-east-1:999999999999:log-group:tagged",
        ],
        "ResourceNotFoundException",
    );
    err(
        &[
            "tag-resource",
            "--resource-arn",
            "arn:aws:logs:eu-west-1:123456789012:log-group:tagged",
            "--tags",
            "x=1",
        ],
        "ResourceNotFoundException",
    );
    err(
        &[
            "untag-resource",
            "--resource-arn",
            "arn:aws:logs:us-east-1:123456789012:log-group:gone",
            "--tag-keys",
            "b",
        ],
        "ResourceNotFoundException",
    );
    err(
        &[
            "tag-resource",
            "--resource-arn",
            ARN,
            "--tags",
            r#"{"bad!key":"1"}"#,
        ],
        "InvalidParameterException",
    );

    // The older by-name API.
    aws(&[
        "tag-log-group",
        "--log-group-name",
        "tagged",
        "--tags",
        "c=3",
    ]);
    assert_eq!(
        aws(&["list-tags-log-group", "--log-group-name", "tagged"])["tags"],
        json!({"b": "2", "c": "3"})
    );
    aws(&[
        "untag-log-group",
        "--log-group-name",
        "tagged",
        "--tags",
        "b",
    ]);
    assert_eq!(
        aws(&["list-tags-log-group", "--log-group-name", "tagged"])["tags"],
        json!({"c": "3"})
    );
    err(
        &["list-tags-log-group", "--log-group-name", "gone"],
        "ResourceNotFoundException",
    );
    err(
        &["tag-log-group", "--log-group-name", "gone", "--tags", "x=1"],
        "ResourceNotFoundException",
    );
    err(
        &["untag-log-group", "--log-group-name", "gone", "--tags", "x"],
        "ResourceNotFoundException",
    );

    // At most 50 tags: TooManyTagsException names the resource; nothing is half-applied.
    server.python(
        r#"
import os, boto3, botocore
logs = boto3.client("logs", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"])
arn = "arn:aws:logs:us-east-1:123456789012:log-group:tagged"
logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(49)})
assert len(logs.list_tags_for_resource(resourceArn=arn)["tags"]) == 50
try:
    logs.tag_resource(resourceArn=arn, tags={"one-more": "v"})
    raise SystemExit("51st tag accepted")
except botocore.exceptions.ClientError as e:
    err = e.response["Error"]
    assert err["Code"] == "TooManyTagsException", e.response
    assert e.response.get("resourceName") == arn, e.response
assert "one-more" not in logs.list_tags_for_resource(resourceArn=arn)["tags"]
# Overwriting an existing key at the limit is fine.
logs.tag_resource(resourceArn=arn, tags={"k0": "changed"})
assert logs.list_tags_for_resource(resourceArn=arn)["tags"]["k0"] == "changed"
# The older API reports the limit as a parameter error.
try:
    logs.tag_log_group(logGroupName="tagged", tags={"one-more": "v"})
    raise SystemExit("51st tag accepted by TagLogGroup")
except logs.exceptions.InvalidParameterException:
    pass
# Tags given at creation obey the same limit.
try:
    logs.create_log_group(logGroupName="too-many", tags={f"k{i}": "v" for i in range(51)})
    raise SystemExit("51 tags at creation accepted")
except logs.exceptions.InvalidParameterException:
    pass
"#,
    );
}
