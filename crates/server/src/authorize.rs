//! Authorization: every operation of every service, once its caller is known, is decided by
//! the caller's IAM policies ([`Engine::authorize`]) before it runs.
//!
//! This module is the one table from an operation to what IAM evaluates: the action
//! (`<prefix>:<Op>`, the prefix by service below) and the resource ARNs its input names (spec
//! `cloudtrail-iam.md` D.2; `*` for operations without resource-level permissions). An
//! operation with several resources (DeleteAlarms' names) needs every one allowed. The
//! request context also carries `aws:SourceIp`, `aws:SecureTransport` (`false`: flowwatch
//! serves plain HTTP), `aws:CurrentTime` / `aws:EpochTime` from the engine's clock,
//! `aws:RequestedRegion`, and the principal's keys (`RequestContext::new`).
//!
//! The account root is allowed everything without reading any policy (and `--auth off` makes
//! every caller root). GetCallerIdentity is always allowed; AssumeRole is decided with the
//! role's trust policy ([`Engine::authorize_assume_role`]).

use flowwatch_engine::Engine;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};
use flowwatch_security::policy::{Principal, RequestContext, access_denied_message};
use serde_json::Value;

/// Where an operation's resource ARNs come from.
#[derive(Debug, Clone, Copy)]
enum Resource {
    /// No resource-level permissions: `*`.
    Any,
    /// Not authorized (GetCallerIdentity).
    Always,
    /// The log group in `logGroupName` or `logGroupIdentifier` (a name or an ARN).
    LogGroup,
    /// The log stream `logStreamName` of that group.
    LogStream,
    /// StartQuery: every group in `logGroupName`, `logGroupNames`, `logGroupIdentifiers`.
    LogGroups,
    /// An ARN in a member (`resourceArn`, `TopicArn`, `PolicyArn`).
    Arn(&'static str),
    /// A name in a member, made an ARN of a kind.
    Name(&'static str, Kind),
    /// A list of names in a member (every one must be allowed; none is `*`).
    Names(&'static str, Kind),
    /// SNS: the topic of the subscription ARN in `SubscriptionArn`.
    SubscriptionTopic,
    /// STS AssumeRole: the role in `RoleArn`, decided with its trust policy.
    TrustedRole,
}

/// The kinds of ARN a name becomes.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Alarm,
    Topic,
    /// An IAM user; a missing name is the calling user (access keys, GetUser).
    User,
    Role,
    Policy,
    FlowLog,
    /// A CloudTrail trail (its name, or its ARN as given).
    Trail,
}

use Kind::*;
use Resource::*;

/// The operations with resource-level permissions (by service signing name); every other
/// operation is [`Resource::Any`].
const RULES: &[(&str, &str, Resource)] = &[
    // CloudWatch Logs.
    ("logs", "CreateLogGroup", LogGroup),
    ("logs", "DeleteLogGroup", LogGroup),
    ("logs", "PutRetentionPolicy", LogGroup),
    ("logs", "DeleteRetentionPolicy", LogGroup),
    ("logs", "PutLogGroupDeletionProtection", LogGroup),
    ("logs", "CreateLogStream", LogGroup),
    ("logs", "DeleteLogStream", LogGroup),
    ("logs", "DescribeLogStreams", LogGroup),
    ("logs", "PutLogEvents", LogStream),
    ("logs", "GetLogEvents", LogStream),
    ("logs", "FilterLogEvents", LogGroup),
    ("logs", "PutMetricFilter", LogGroup),
    ("logs", "DeleteMetricFilter", LogGroup),
    ("logs", "DescribeMetricFilters", LogGroup),
    ("logs", "GetLogGroupFields", LogGroup),
    ("logs", "StartQuery", LogGroups),
    ("logs", "TagLogGroup", LogGroup),
    ("logs", "UntagLogGroup", LogGroup),
    ("logs", "ListTagsLogGroup", LogGroup),
    ("logs", "TagResource", Arn("resourceArn")),
    ("logs", "UntagResource", Arn("resourceArn")),
    ("logs", "ListTagsForResource", Arn("resourceArn")),
    // CloudWatch (alarms; metrics have no resource-level permissions).
    ("monitoring", "PutMetricAlarm", Name("AlarmName", Alarm)),
    ("monitoring", "SetAlarmState", Name("AlarmName", Alarm)),
    ("monitoring", "DeleteAlarms", Names("AlarmNames", Alarm)),
    (
        "monitoring",
        "EnableAlarmActions",
        Names("AlarmNames", Alarm),
    ),
    (
        "monitoring",
        "DisableAlarmActions",
        Names("AlarmNames", Alarm),
    ),
    (
        "monitoring",
        "DescribeAlarmHistory",
        Name("AlarmName", Alarm),
    ),
    // SNS.
    ("sns", "CreateTopic", Name("Name", Topic)),
    ("sns", "DeleteTopic", Arn("TopicArn")),
    ("sns", "GetTopicAttributes", Arn("TopicArn")),
    ("sns", "SetTopicAttributes", Arn("TopicArn")),
    ("sns", "Subscribe", Arn("TopicArn")),
    ("sns", "ListSubscriptionsByTopic", Arn("TopicArn")),
    ("sns", "Publish", Arn("TopicArn")),
    ("sns", "ConfirmSubscription", Arn("TopicArn")),
    ("sns", "Unsubscribe", SubscriptionTopic),
    ("sns", "GetSubscriptionAttributes", SubscriptionTopic),
    ("sns", "SetSubscriptionAttributes", SubscriptionTopic),
    // EC2 flow logs (CreateFlowLogs names no flow log yet: `vpc-flow-log/*`).
    ("ec2", "CreateFlowLogs", Name("-", FlowLog)),
    ("ec2", "DeleteFlowLogs", Names("FlowLogId", FlowLog)),
    // IAM.
    ("iam", "CreateUser", Name("UserName", User)),
    ("iam", "GetUser", Name("UserName", User)),
    ("iam", "DeleteUser", Name("UserName", User)),
    ("iam", "CreateAccessKey", Name("UserName", User)),
    ("iam", "ListAccessKeys", Name("UserName", User)),
    ("iam", "DeleteAccessKey", Name("UserName", User)),
    ("iam", "UpdateAccessKey", Name("UserName", User)),
    ("iam", "PutUserPolicy", Name("UserName", User)),
    ("iam", "GetUserPolicy", Name("UserName", User)),
    ("iam", "DeleteUserPolicy", Name("UserName", User)),
    ("iam", "ListUserPolicies", Name("UserName", User)),
    ("iam", "AttachUserPolicy", Name("UserName", User)),
    ("iam", "DetachUserPolicy", Name("UserName", User)),
    ("iam", "ListAttachedUserPolicies", Name("UserName", User)),
    ("iam", "CreateRole", Name("RoleName", Role)),
    ("iam", "GetRole", Name("RoleName", Role)),
    ("iam", "DeleteRole", Name("RoleName", Role)),
    ("iam", "UpdateAssumeRolePolicy", Name("RoleName", Role)),
    ("iam", "PutRolePolicy", Name("RoleName", Role)),
    ("iam", "GetRolePolicy", Name("RoleName", Role)),
    ("iam", "DeleteRolePolicy", Name("RoleName", Role)),
    ("iam", "ListRolePolicies", Name("RoleName", Role)),
    ("iam", "AttachRolePolicy", Name("RoleName", Role)),
    ("iam", "DetachRolePolicy", Name("RoleName", Role)),
    ("iam", "ListAttachedRolePolicies", Name("RoleName", Role)),
    ("iam", "CreatePolicy", Name("PolicyName", Policy)),
    ("iam", "GetPolicy", Arn("PolicyArn")),
    ("iam", "GetPolicyVersion", Arn("PolicyArn")),
    ("iam", "DeletePolicy", Arn("PolicyArn")),
    // STS.
    ("sts", "GetCallerIdentity", Always),
    ("sts", "AssumeRole", TrustedRole),
    // CloudTrail trails (LookupEvents and DescribeTrails have no resource-level permissions).
    ("cloudtrail", "CreateTrail", Name("Name", Trail)),
    ("cloudtrail", "DeleteTrail", Name("Name", Trail)),
    ("cloudtrail", "GetTrailStatus", Name("Name", Trail)),
    ("cloudtrail", "StartLogging", Name("Name", Trail)),
    ("cloudtrail", "StopLogging", Name("Name", Trail)),
    ("cloudtrail", "UpdateTrail", Name("Name", Trail)),
    ("cloudtrail", "PutEventSelectors", Name("TrailName", Trail)),
    ("cloudtrail", "GetEventSelectors", Name("TrailName", Trail)),
    ("cloudtrail", "ListPublicKeys", Any),
];

/// The IAM action prefix of a service (by signing name), and the error a denial is.
fn service_terms(service: &str) -> (&'static str, ErrorCode) {
    match service {
        "logs" => ("logs", ErrorCode::AccessDeniedException),
        "monitoring" => ("cloudwatch", ErrorCode::AccessDenied),
        "sns" => ("sns", ErrorCode::AuthorizationError),
        "ec2" => ("ec2", ErrorCode::UnauthorizedOperation),
        "iam" => ("iam", ErrorCode::AccessDenied),
        "sts" => ("sts", ErrorCode::AccessDenied),
        "cloudtrail" => ("cloudtrail", ErrorCode::AccessDeniedException),
        // flowwatch's own operations (PutFlowRecords): `flowwatch:PutFlowRecords`.
        _ => ("flowwatch", ErrorCode::AccessDeniedException),
    }
}

fn rule(service: &str, op: &str) -> Resource {
    RULES
        .iter()
        .find(|(s, o, _)| *s == service && *o == op)
        .map_or(Any, |(_, _, r)| *r)
}

/// What a request is: its caller, where it came from.
pub(crate) struct Request<'a> {
    pub service: &'static str,
    pub op: &'a str,
    /// The input's top-level members, bulk payloads skipped (`audit::request_members`): the
    /// small members that name resources and tags.
    pub members: Option<&'a serde_json::Map<String, Value>>,
    pub source_ip: Option<String>,
}

/// Decides a request; a denial is the service's access-denied error with AWS's message.
pub(crate) async fn authorize(
    engine: &Engine,
    caller: &Caller,
    principal: &Principal,
    request: &Request<'_>,
) -> ApiResult<()> {
    let resource = rule(request.service, request.op);
    if principal.is_root() || matches!(resource, Always) {
        return Ok(());
    }
    let (prefix, code) = service_terms(request.service);
    let action = format!("{prefix}:{}", request.op);
    // Resources are named by small members: a batch's payload was skipped, not parsed.
    let input = request.members.cloned().map_or(Value::Null, Value::Object);
    let path = iam_path(engine, resource, &input).await;
    let context_for = |action: String, arn: String| {
        let mut context = RequestContext::new(principal.clone(), action, arn)
            .at(engine.now_secs())
            .with("aws:SecureTransport", "false")
            .with("aws:RequestedRegion", caller.scope.region.clone());
        if let Some(ip) = &request.source_ip {
            context.set("aws:SourceIp", ip.clone());
        }
        context
    };
    let (request_tags, tag_keys) = request_tags(&input);
    let mut checks: Vec<(RequestContext, bool)> = Vec::new();
    for arn in resources(resource, &input, caller, &path) {
        let mut context = context_for(action.clone(), arn.clone());
        for (key, value) in &request_tags {
            context.set(&format!("aws:RequestTag/{key}"), value.clone());
        }
        if !tag_keys.is_empty() {
            context.set_values("aws:TagKeys", tag_keys.iter().cloned());
        }
        for (key, value) in resource_tags(engine, caller, &arn) {
            context.set(&format!("aws:ResourceTag/{key}"), value);
        }
        checks.push((context, matches!(resource, TrustedRole)));
    }
    // CreateFlowLogs hands its delivery role to the flow-logs service: the caller must also be
    // allowed `iam:PassRole` on that role (with `iam:PassedToService`), as in AWS.
    if request.service == "ec2"
        && request.op == "CreateFlowLogs"
        && let Some(role) = input
            .get("DeliverLogsPermissionArn")
            .and_then(Value::as_str)
    {
        let context = context_for("iam:PassRole".to_owned(), role.to_owned())
            .with("iam:PassedToService", "vpc-flow-logs.amazonaws.com");
        checks.push((context, false));
    }
    for (context, trust) in checks {
        let decision = if trust {
            engine.authorize_assume_role(&context).await
        } else {
            engine.authorize(&context).await
        };
        if let Some(message) = access_denied_message(&context, &decision) {
            let message = if code == ErrorCode::UnauthorizedOperation {
                format!("You are not authorized to perform this operation. {message}")
            } else {
                message
            };
            return Err(ApiError::new(code, message));
        }
    }
    Ok(())
}

/// The tags a request sets (`aws:RequestTag/<key>`) and the keys it names (`aws:TagKeys`):
/// a `tags` / `Tags` map (Logs) or list of `{Key, Value}` (CloudWatch, SNS, IAM, EC2's
/// `TagSpecifications`), and the keys an untag call lists (`tagKeys`, `TagKeys`, or Logs'
/// UntagLogGroup `tags` list).
fn request_tags(input: &Value) -> (Vec<(String, String)>, Vec<String>) {
    let mut tags = Vec::new();
    let mut keys = Vec::new();
    let pair = |item: &Value| {
        let key = item.get("Key").or_else(|| item.get("key"))?.as_str()?;
        let value = item.get("Value").or_else(|| item.get("value"));
        Some((
            key.to_owned(),
            value.and_then(Value::as_str).unwrap_or("").to_owned(),
        ))
    };
    let specifications = input
        .get("TagSpecifications")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("Tags").or_else(|| s.get("Tag")));
    let members = ["tags", "Tags"].iter().filter_map(|m| input.get(*m));
    for member in members.chain(specifications) {
        match member {
            Value::Object(map) => {
                for (key, value) in map {
                    tags.push((key.clone(), value.as_str().unwrap_or("").to_owned()));
                }
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        // UntagLogGroup's `tags` is a list of keys.
                        Value::String(key) => keys.push(key.clone()),
                        item => tags.extend(pair(item)),
                    }
                }
            }
            _ => {}
        }
    }
    for member in ["tagKeys", "TagKeys"] {
        if let Some(list) = input.get(member).and_then(Value::as_array) {
            keys.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
        }
    }
    keys.extend(tags.iter().map(|(k, _)| k.clone()));
    keys.sort();
    keys.dedup();
    (tags, keys)
}

/// The tags of the resource an ARN names (`aws:ResourceTag/<key>`): log groups' tags (also
/// for their streams); other resources have none in the context yet.
fn resource_tags(engine: &Engine, caller: &Caller, arn: &str) -> Vec<(String, String)> {
    let prefix = format!(
        "arn:aws:logs:{}:{}:log-group:",
        caller.scope.region, caller.scope.account
    );
    let Some(rest) = arn.strip_prefix(&prefix) else {
        return Vec::new();
    };
    let group = rest.split(":log-stream:").next().unwrap_or(rest);
    engine
        .log_group_tags(&caller.scope, group)
        .into_iter()
        .collect()
}

/// The IAM path of the user or role a request names: its `Path` member (CreateUser,
/// CreateRole), else the existing entity's, else `/`.
async fn iam_path(engine: &Engine, resource: Resource, input: &Value) -> String {
    let (member, user) = match resource {
        Name(member, User) => (member, true),
        Name(member, Role) => (member, false),
        _ => return "/".to_owned(),
    };
    if let Some(path) = input.get("Path").and_then(Value::as_str) {
        return path.to_owned();
    }
    match input.get(member).and_then(Value::as_str) {
        Some(name) => engine
            .iam_path(user, name)
            .await
            .unwrap_or_else(|| "/".to_owned()),
        None => "/".to_owned(),
    }
}

/// The resource ARNs of a request (at least one); `path` is the IAM path of the user or role
/// it names.
fn resources(resource: Resource, input: &Value, caller: &Caller, path: &str) -> Vec<String> {
    let (region, account) = (&caller.scope.region, &caller.scope.account);
    let text = |member: &str| input.get(member).and_then(Value::as_str).map(str::to_owned);
    let group_arn = |group: &str| {
        if group.starts_with("arn:") {
            group.strip_suffix(":*").unwrap_or(group).to_owned()
        } else {
            format!("arn:aws:logs:{region}:{account}:log-group:{group}")
        }
    };
    let named = |kind: Kind, name: &str| match kind {
        Alarm => format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}"),
        Topic => format!("arn:aws:sns:{region}:{account}:{name}"),
        User => format!("arn:aws:iam::{account}:user{path}{name}"),
        Role => format!("arn:aws:iam::{account}:role{path}{name}"),
        Policy => format!("arn:aws:iam::{account}:policy/{name}"),
        FlowLog => format!("arn:aws:ec2:{region}:{account}:vpc-flow-log/{name}"),
        Trail if name.starts_with("arn:") => name.to_owned(),
        Trail => format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}"),
    };
    let group = text("logGroupIdentifier").or_else(|| text("logGroupName"));
    let arns: Vec<String> = match resource {
        Any | Always => Vec::new(),
        LogGroup => group.iter().map(|g| group_arn(g)).collect(),
        LogStream => match (group, text("logStreamName")) {
            (Some(g), Some(s)) => vec![format!("{}:log-stream:{s}", group_arn(&g))],
            (Some(g), None) => vec![group_arn(&g)],
            _ => Vec::new(),
        },
        LogGroups => {
            let listed = ["logGroupNames", "logGroupIdentifiers"]
                .iter()
                .filter_map(|m| input.get(*m).and_then(Value::as_array))
                .flatten()
                .filter_map(Value::as_str)
                .map(group_arn);
            group.iter().map(|g| group_arn(g)).chain(listed).collect()
        }
        Arn(member) => text(member).into_iter().collect(),
        Name(member, kind) => match (text(member), kind) {
            (Some(name), _) => vec![named(kind, &name)],
            (None, User) if caller.principal_arn.contains(":user/") => {
                vec![caller.principal_arn.clone()]
            }
            (None, FlowLog) => vec![named(kind, "*")],
            (None, _) => Vec::new(),
        },
        Names(member, kind) => input
            .get(member)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|name| named(kind, name))
            .collect(),
        SubscriptionTopic => text("SubscriptionArn")
            .and_then(|arn| arn.rsplit_once(':').map(|(topic, _)| topic.to_owned()))
            .into_iter()
            .collect(),
        TrustedRole => text("RoleArn").into_iter().collect(),
    };
    if arns.is_empty() {
        vec!["*".to_owned()]
    } else {
        arns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowwatch_model::Scope;

    fn caller() -> Caller {
        Caller {
            scope: Scope {
                account: "123456789012".into(),
                region: "eu-west-1".into(),
            },
            access_key_id: "AKIAX".into(),
            principal_arn: "arn:aws:iam::123456789012:user/alice".into(),
            request_id: "r".into(),
        }
    }

    fn arns(service: &str, op: &str, input: &str) -> Vec<String> {
        let input: Value = serde_json::from_str(input).unwrap();
        resources(rule(service, op), &input, &caller(), "/")
    }

    #[test]
    fn each_operation_names_its_resource() {
        assert_eq!(
            arns(
                "logs",
                "PutLogEvents",
                r#"{"logGroupName":"g","logStreamName":"s"}"#
            ),
            ["arn:aws:logs:eu-west-1:123456789012:log-group:g:log-stream:s"]
        );
        assert_eq!(
            arns(
                "logs",
                "DescribeLogStreams",
                r#"{"logGroupIdentifier":"arn:aws:logs:eu-west-1:123456789012:log-group:g:*"}"#
            ),
            ["arn:aws:logs:eu-west-1:123456789012:log-group:g"]
        );
        assert_eq!(arns("logs", "DescribeLogGroups", "{}"), ["*"]);
        assert_eq!(
            arns("logs", "StartQuery", r#"{"logGroupNames":["a","b"]}"#).len(),
            2
        );
        assert_eq!(
            arns("monitoring", "DeleteAlarms", r#"{"AlarmNames":["x"]}"#),
            ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x"]
        );
        assert_eq!(arns("monitoring", "PutMetricData", "{}"), ["*"]);
        assert_eq!(
            arns(
                "sns",
                "Unsubscribe",
                r#"{"SubscriptionArn":"arn:aws:sns:eu-west-1:1:t:abc"}"#
            ),
            ["arn:aws:sns:eu-west-1:1:t"]
        );
        assert_eq!(
            arns("iam", "CreateAccessKey", "{}"),
            ["arn:aws:iam::123456789012:user/alice"]
        );
        let input = serde_json::json!({"RoleName": "r"});
        assert_eq!(
            resources(rule("iam", "GetRole"), &input, &caller(), "/ops/"),
            ["arn:aws:iam::123456789012:role/ops/r"]
        );
        assert_eq!(
            arns("cloudtrail", "StopLogging", r#"{"Name":"main"}"#),
            ["arn:aws:cloudtrail:eu-west-1:123456789012:trail/main"]
        );
        assert_eq!(
            arns(
                "cloudtrail",
                "DeleteTrail",
                r#"{"Name":"arn:aws:cloudtrail:us-east-1:1:trail/t"}"#
            ),
            ["arn:aws:cloudtrail:us-east-1:1:trail/t"]
        );
        assert_eq!(arns("cloudtrail", "LookupEvents", "{}"), ["*"]);
        assert_eq!(arns("cloudtrail", "ListPublicKeys", "{}"), ["*"]);
        assert_eq!(
            arns("ec2", "CreateFlowLogs", "{}"),
            ["arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*"]
        );
    }

    #[test]
    fn the_table_has_no_duplicates_and_known_prefixes() {
        for (i, (s, o, _)) in RULES.iter().enumerate() {
            assert!(
                !RULES[i + 1..].iter().any(|(s2, o2, _)| s == s2 && o == o2),
                "{s} {o} listed twice"
            );
        }
        assert_eq!(service_terms("monitoring").0, "cloudwatch");
        assert_eq!(service_terms("flowwatch").0, "flowwatch");
        assert_eq!(service_terms("cloudtrail").0, "cloudtrail");
    }

    #[test]
    fn request_tags_come_from_every_services_shape() {
        let tags = |json: &str| request_tags(&serde_json::from_str(json).unwrap());
        let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let keys =
            |list: &[&str]| -> Vec<String> { list.iter().map(|k| (*k).to_owned()).collect() };
        // Logs: a map.
        assert_eq!(
            tags(r#"{"logGroupName":"g","tags":{"team":"net","env":"prod"}}"#),
            (
                owned(&[("env", "prod"), ("team", "net")]),
                keys(&["env", "team"])
            )
        );
        // CloudWatch, SNS, IAM: a list of Key/Value.
        assert_eq!(
            tags(r#"{"Tags":[{"Key":"team","Value":"net"}]}"#),
            (owned(&[("team", "net")]), keys(&["team"]))
        );
        // EC2: TagSpecifications.
        assert_eq!(
            tags(
                r#"{"TagSpecifications":[{"ResourceType":"vpc-flow-log","Tags":[{"Key":"a","Value":"1"}]}]}"#
            ),
            (owned(&[("a", "1")]), keys(&["a"]))
        );
        // Untagging: keys only.
        assert_eq!(
            tags(r#"{"tagKeys":["x","y"]}"#),
            (Vec::new(), keys(&["x", "y"]))
        );
        assert_eq!(
            tags(r#"{"logGroupName":"g","tags":["x"]}"#),
            (Vec::new(), keys(&["x"]))
        );
        assert_eq!(tags(r#"{"logGroupName":"g"}"#), (Vec::new(), Vec::new()));
    }
}
