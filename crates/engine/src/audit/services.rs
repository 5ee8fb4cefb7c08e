//! What the audit trail knows about each service: its `eventSource`, which of its operations
//! are data events or read-only, which members are secrets, which request members are bulk
//! payloads left out of `requestParameters`, and which members name a resource.
//!
//! Services are keyed by their SigV4 signing name, as the server knows them.

/// One service's audit terms.
#[derive(Debug)]
pub(crate) struct ServiceTerms {
    pub signing_name: &'static str,
    pub event_source: &'static str,
    /// `apiVersion`, where the spec gives one (Logs, EC2).
    pub api_version: Option<&'static str>,
    /// How its errors are spelled on the wire: awsQuery codes (`AccessDenied` for
    /// `AccessDeniedException`), with EC2's `Client.` / `Server.` prefix, or JSON names.
    pub codes: Codes,
    /// Operations recorded as data events (`managementEvent: false`, `eventCategory: Data`).
    pub data_events: &'static [&'static str],
    /// Read-only operations the name prefixes (`Describe`, `Get`, `List`, …) do not catch.
    pub read_only: &'static [&'static str],
    /// Members whose values are secrets, in requests and responses, at any depth (compared
    /// ignoring case); [`ALWAYS_SECRET`] applies to every service too.
    pub secrets: &'static [&'static str],
    /// Top-level request members that carry a bulk payload (log events, metric datums):
    /// skipped without being built, and left out of `requestParameters`.
    pub bulk: &'static [&'static str],
    /// Request members naming a resource (a string or a list of strings).
    pub resources: &'static [(&'static str, ResourceKind)],
}

/// How a service's error codes are spelled in `errorCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codes {
    Json,
    Query,
    Ec2,
}

/// The kinds of resource a member names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceKind {
    LogGroup,
    Alarm,
    Topic,
    FlowLog,
    IamUser,
    IamRole,
    IamPolicy,
    Trail,
}

/// Members hidden in every service, whatever its table says.
pub(crate) const ALWAYS_SECRET: &[&str] = &["SecretAccessKey", "SessionToken", "Password"];

/// What a hidden value is replaced with, as AWS writes it.
pub(crate) const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Operation name prefixes that make an operation read-only.
const READ_ONLY_PREFIXES: &[&str] = &["Describe", "Get", "List", "Lookup", "Filter", "Test"];

use Codes::*;
use ResourceKind::*;

static SERVICES: &[ServiceTerms] = &[
    ServiceTerms {
        signing_name: "logs",
        event_source: "logs.amazonaws.com",
        api_version: Some("20140328"),
        codes: Json,
        data_events: &[
            "PutLogEvents",
            "GetLogEvents",
            "FilterLogEvents",
            "GetLogRecord",
        ],
        read_only: &[],
        secrets: &[],
        bulk: &["logEvents"],
        resources: &[
            ("logGroupName", LogGroup),
            ("logGroupIdentifier", LogGroup),
            ("logGroupNames", LogGroup),
            ("logGroupIdentifiers", LogGroup),
            ("resourceArn", LogGroup),
        ],
    },
    ServiceTerms {
        signing_name: "monitoring",
        event_source: "monitoring.amazonaws.com",
        api_version: None,
        codes: Query,
        data_events: &[
            "PutMetricData",
            "GetMetricData",
            "GetMetricStatistics",
            "ListMetrics",
        ],
        read_only: &[],
        secrets: &[],
        bulk: &["MetricData", "EntityMetricData"],
        resources: &[("AlarmName", Alarm), ("AlarmNames", Alarm)],
    },
    ServiceTerms {
        signing_name: "sns",
        event_source: "sns.amazonaws.com",
        api_version: None,
        codes: Query,
        data_events: &["Publish"],
        read_only: &[],
        // A subscription's confirmation token is what confirms it.
        secrets: &["Token"],
        bulk: &[],
        resources: &[("TopicArn", Topic), ("Name", Topic)],
    },
    ServiceTerms {
        signing_name: "ec2",
        event_source: "ec2.amazonaws.com",
        api_version: Some("2016-11-15"),
        codes: Ec2,
        data_events: &[],
        read_only: &[],
        secrets: &[],
        bulk: &[],
        resources: &[("FlowLogId", FlowLog)],
    },
    ServiceTerms {
        signing_name: "iam",
        event_source: "iam.amazonaws.com",
        api_version: None,
        codes: Query,
        data_events: &[],
        read_only: &[],
        secrets: &["NewPassword", "OldPassword", "PrivateKey"],
        bulk: &[],
        resources: &[
            ("UserName", IamUser),
            ("RoleName", IamRole),
            ("PolicyArn", IamPolicy),
        ],
    },
    ServiceTerms {
        signing_name: "sts",
        event_source: "sts.amazonaws.com",
        api_version: None,
        codes: Query,
        data_events: &[],
        read_only: &[],
        secrets: &[],
        bulk: &[],
        resources: &[("RoleArn", IamRole)],
    },
    ServiceTerms {
        signing_name: "cloudtrail",
        event_source: "cloudtrail.amazonaws.com",
        api_version: None,
        codes: Json,
        data_events: &[],
        read_only: &[],
        secrets: &[],
        bulk: &[],
        resources: &[("Name", Trail)],
    },
    // flowwatch's own operations (PutFlowRecords from capture processes): data, like
    // PutLogEvents.
    ServiceTerms {
        signing_name: "flowwatch",
        event_source: "flowwatch",
        api_version: None,
        codes: Json,
        data_events: &["PutFlowRecords"],
        read_only: &[],
        secrets: &[],
        bulk: &["records"],
        resources: &[],
    },
];

/// The terms of the service with signing name `name` (an unknown service gets flowwatch's).
pub(crate) fn terms(name: &str) -> &'static ServiceTerms {
    SERVICES
        .iter()
        .find(|s| s.signing_name == name)
        .unwrap_or(&SERVICES[SERVICES.len() - 1])
}

impl ServiceTerms {
    pub(crate) fn is_read_only(&self, op: &str) -> bool {
        READ_ONLY_PREFIXES.iter().any(|p| op.starts_with(p)) || self.read_only.contains(&op)
    }

    pub(crate) fn is_data_event(&self, op: &str) -> bool {
        self.data_events.contains(&op)
    }

    pub(crate) fn is_secret(&self, member: &str) -> bool {
        let same = |m: &&str| m.eq_ignore_ascii_case(member);
        ALWAYS_SECRET.iter().any(same) || self.secrets.iter().any(same)
    }
}

impl ResourceKind {
    /// The CloudTrail resource `type`.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            LogGroup => "AWS::Logs::LogGroup",
            Alarm => "AWS::CloudWatch::Alarm",
            Topic => "AWS::SNS::Topic",
            FlowLog => "AWS::EC2::FlowLog",
            IamUser => "AWS::IAM::User",
            IamRole => "AWS::IAM::Role",
            IamPolicy => "AWS::IAM::Policy",
            Trail => "AWS::CloudTrail::Trail",
        }
    }

    /// The ARN of the resource `value` names (kept as is when it is an ARN already).
    pub(crate) fn arn(self, value: &str, region: &str, account: &str) -> String {
        if value.starts_with("arn:") {
            return value.strip_suffix(":*").unwrap_or(value).to_owned();
        }
        match self {
            LogGroup => format!("arn:aws:logs:{region}:{account}:log-group:{value}"),
            Alarm => format!("arn:aws:cloudwatch:{region}:{account}:alarm:{value}"),
            Topic => format!("arn:aws:sns:{region}:{account}:{value}"),
            FlowLog => format!("arn:aws:ec2:{region}:{account}:vpc-flow-log/{value}"),
            IamUser => format!("arn:aws:iam::{account}:user/{value}"),
            IamRole => format!("arn:aws:iam::{account}:role/{value}"),
            IamPolicy => format!("arn:aws:iam::{account}:policy/{value}"),
            Trail => format!("arn:aws:cloudtrail:{region}:{account}:trail/{value}"),
        }
    }
}

/// The name part of a resource ARN of CloudTrail type `type_name` (LookupEvents'
/// `ResourceName`): the log group, alarm or topic name, the flow log id, the IAM entity's name.
pub(crate) fn resource_name<'a>(type_name: &str, arn: &'a str) -> &'a str {
    // The resource part is everything after the fifth colon.
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    match type_name {
        "AWS::Logs::LogGroup" => resource.strip_prefix("log-group:").unwrap_or(resource),
        "AWS::CloudWatch::Alarm" => resource.strip_prefix("alarm:").unwrap_or(resource),
        _ => resource.rsplit('/').next().unwrap_or(resource),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_classify_operations() {
        let logs = terms("logs");
        assert!(logs.is_data_event("PutLogEvents"));
        assert!(!logs.is_data_event("CreateLogGroup"));
        assert!(logs.is_read_only("DescribeLogGroups"));
        assert!(logs.is_read_only("FilterLogEvents"));
        assert!(!logs.is_read_only("CreateLogGroup"));
        assert!(terms("monitoring").is_data_event("GetMetricData"));
        assert!(terms("iam").is_secret("secretaccesskey"));
        assert!(terms("iam").is_secret("NewPassword"));
        assert!(!terms("iam").is_secret("UserName"));
        assert_eq!(terms("nope").signing_name, "flowwatch");
        for (i, s) in SERVICES.iter().enumerate() {
            assert!(
                !SERVICES[i + 1..]
                    .iter()
                    .any(|t| t.signing_name == s.signing_name)
            );
        }
    }

    #[test]
    fn resources_have_arns_and_names() {
        let arn = LogGroup.arn("/aws/app", "eu-west-1", "1");
        assert_eq!(arn, "arn:aws:logs:eu-west-1:1:log-group:/aws/app");
        assert_eq!(resource_name(LogGroup.type_name(), &arn), "/aws/app");
        let arn = IamUser.arn("alice", "us-east-1", "1");
        assert_eq!(resource_name(IamUser.type_name(), &arn), "alice");
        assert_eq!(
            LogGroup.arn("arn:aws:logs:r:1:log-group:g:*", "r", "1"),
            "arn:aws:logs:r:1:log-group:g"
        );
        let arn = Topic.arn("t", "r", "1");
        assert_eq!(resource_name(Topic.type_name(), &arn), "t");
        let arn = Alarm.arn("a:b", "r", "1");
        assert_eq!(resource_name(Alarm.type_name(), &arn), "a:b");
    }
}
