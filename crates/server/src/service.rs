//! The registry of services: for each, its one JSON dispatch function and how each wire
//! protocol reaches it.
//!
//! Every operation is implemented once, on JSON (`dispatch(engine, caller, op, json) -> json`).
//! The other protocols are translations around that call ([`crate::cbor`], [`crate::query`]),
//! driven by the service's [`Hints`]; no protocol has per-operation code.
//!
//! Registering a service (SNS, EC2): write its dispatch and hint table, add a [`Service`] below
//! with the bindings it speaks, and list it in [`SERVICES`]. See the marked registration point.

use flowwatch_engine::Engine;
use flowwatch_model::{ApiResult, Caller};
use futures::future::BoxFuture;

use crate::hints::{self, Hints};
use crate::{cloudwatch, json, logs};

/// Runs one operation of a service on a JSON input and returns the JSON output.
pub(crate) type Dispatch =
    for<'a> fn(&'a Engine, &'a Caller, &'a str, &'a [u8]) -> BoxFuture<'a, ApiResult<Vec<u8>>>;

/// One service and the protocols it is served over.
#[derive(Debug)]
pub(crate) struct Service {
    /// The SigV4 signing name, used in spans and logs.
    pub name: &'static str,
    pub dispatch: Dispatch,
    pub json: Option<JsonBinding>,
    pub cbor: Option<CborBinding>,
    pub query: Option<QueryBinding>,
    /// Type hints for the translating protocols (CBOR, query).
    pub hints: Hints,
    /// Operations whose output is empty (Smithy `Unit`): the query protocols answer them with
    /// no `<OpResult>`, CBOR with no body.
    pub no_output: &'static [&'static str],
}

/// awsJson: `X-Amz-Target: <target_prefix><Op>`.
#[derive(Debug)]
pub(crate) struct JsonBinding {
    pub target_prefix: &'static str,
    pub flavor: json::Flavor,
}

/// Smithy RPC v2 CBOR: `POST /service/<service_shape>/operation/<Op>`.
#[derive(Debug)]
pub(crate) struct CborBinding {
    /// The service shape's name (the path segment after `/service/`).
    pub service_shape: &'static str,
    /// The Smithy namespace of the error shape ids (`<namespace>#<Code>` in `__type`).
    pub namespace: &'static str,
}

/// The query protocols: a form with `Action=<Op>&Version=<version>`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryBinding {
    pub version: &'static str,
    /// The XML namespace of responses and errors.
    pub xmlns: &'static str,
    pub dialect: Dialect,
}

/// The two query protocols differ in list syntax and response framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// awsQuery (CloudWatch, SNS): lists `X.member.N`; `<OpResponse><OpResult>...</OpResult>
    /// <ResponseMetadata>`; lists out as `<member>`; errors in `<ErrorResponse>`.
    AwsQuery,
    /// ec2Query: lists `X.N`; `<OpResponse><requestId>` then the members, no result wrapper;
    /// lists out as `<item>`; errors in `<Response><Errors>`.
    Ec2,
}

pub(crate) static LOGS: Service = Service {
    name: "logs",
    dispatch: |engine, caller, op, body| Box::pin(logs::dispatch(engine, caller, op, body)),
    json: Some(JsonBinding {
        target_prefix: logs::TARGET_PREFIX,
        flavor: json::LOGS,
    }),
    cbor: None,
    query: None,
    hints: Hints(&[]),
    no_output: &[],
};

const CLOUDWATCH_QUERY: QueryBinding = QueryBinding {
    version: "2010-08-01",
    xmlns: "http://monitoring.amazonaws.com/doc/2010-08-01/",
    dialect: Dialect::AwsQuery,
};

pub(crate) static CLOUDWATCH: Service = Service {
    name: "monitoring",
    dispatch: |engine, caller, op, body| Box::pin(cloudwatch::dispatch(engine, caller, op, body)),
    json: Some(JsonBinding {
        target_prefix: cloudwatch::TARGET_PREFIX,
        flavor: json::CLOUDWATCH,
    }),
    cbor: Some(CborBinding {
        service_shape: "GraniteServiceVersion20100801",
        namespace: "com.amazonaws.cloudwatch",
    }),
    query: Some(CLOUDWATCH_QUERY),
    hints: hints::cloudwatch::HINTS,
    no_output: &[
        "PutMetricData",
        "PutMetricAlarm",
        "DeleteAlarms",
        "SetAlarmState",
        "EnableAlarmActions",
        "DisableAlarmActions",
    ],
};

/// SNS (awsQuery only): the topics alarm actions publish to.
pub(crate) static SNS: Service = Service {
    name: "sns",
    dispatch: |engine, caller, op, body| Box::pin(crate::sns::dispatch(engine, caller, op, body)),
    json: None,
    cbor: None,
    query: Some(QueryBinding {
        version: "2010-03-31",
        xmlns: "http://sns.amazonaws.com/doc/2010-03-31/",
        dialect: Dialect::AwsQuery,
    }),
    hints: hints::sns::HINTS,
    no_output: &[
        "DeleteTopic",
        "Unsubscribe",
        "SetTopicAttributes",
        "SetSubscriptionAttributes",
        "TagResource",
        "UntagResource",
    ],
};

/// EC2 (ec2Query only): the flow-log operations.
pub(crate) static EC2: Service = Service {
    name: "ec2",
    dispatch: |engine, caller, op, body| Box::pin(crate::ec2::dispatch(engine, caller, op, body)),
    json: None,
    cbor: None,
    query: Some(QueryBinding {
        version: "2016-11-15",
        xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/",
        dialect: Dialect::Ec2,
    }),
    hints: hints::ec2::HINTS,
    no_output: &[],
};

/// flowwatch's own operations for capture processes (PutFlowRecords).
pub(crate) static FLOWWATCH: Service = Service {
    name: "flowwatch",
    dispatch: |engine, caller, op, body| {
        Box::pin(crate::flowwatch::dispatch(engine, caller, op, body))
    },
    json: Some(JsonBinding {
        target_prefix: crate::flowwatch::TARGET_PREFIX,
        flavor: json::LOGS,
    }),
    cbor: None,
    query: None,
    hints: Hints(&[]),
    no_output: &[],
};

/// IAM (awsQuery only): users, access keys, roles and policies.
pub(crate) static IAM: Service = Service {
    name: "iam",
    dispatch: |engine, caller, op, body| Box::pin(crate::iam::dispatch(engine, caller, op, body)),
    json: None,
    cbor: None,
    query: Some(QueryBinding {
        version: "2010-05-08",
        xmlns: "https://iam.amazonaws.com/doc/2010-05-08/",
        dialect: Dialect::AwsQuery,
    }),
    hints: hints::iam::HINTS,
    no_output: crate::iam::NO_OUTPUT,
};

/// STS (awsQuery only): GetCallerIdentity and AssumeRole.
pub(crate) static STS: Service = Service {
    name: "sts",
    dispatch: |engine, caller, op, body| {
        Box::pin(crate::iam::dispatch_sts(engine, caller, op, body))
    },
    json: None,
    cbor: None,
    query: Some(QueryBinding {
        version: "2011-06-15",
        xmlns: "https://sts.amazonaws.com/doc/2011-06-15/",
        dialect: Dialect::AwsQuery,
    }),
    hints: hints::iam::HINTS,
    no_output: &[],
};

/// CloudTrail (awsJson1.1): LookupEvents over the audit trail.
pub(crate) static CLOUDTRAIL: Service = Service {
    name: "cloudtrail",
    dispatch: |engine, caller, op, body| {
        Box::pin(crate::cloudtrail::dispatch(engine, caller, op, body))
    },
    json: Some(JsonBinding {
        target_prefix: crate::cloudtrail::TARGET_PREFIX,
        flavor: json::LOGS,
    }),
    cbor: None,
    query: None,
    hints: Hints(&[]),
    no_output: &[],
};

/// Every service, in routing order.
pub(crate) static SERVICES: &[&Service] = &[
    &LOGS,
    &CLOUDWATCH,
    &SNS,
    &EC2,
    &FLOWWATCH,
    &IAM,
    &STS,
    &CLOUDTRAIL,
];

/// The service whose awsJson target prefix starts `target`, and the operation after it.
pub(crate) fn by_json_target(target: &str) -> Option<(&'static Service, &str)> {
    SERVICES.iter().find_map(|s| {
        let op = target.strip_prefix(s.json.as_ref()?.target_prefix)?;
        Some((*s, op))
    })
}

/// The service whose CBOR service shape is `shape`.
pub(crate) fn by_cbor_shape(shape: &str) -> Option<&'static Service> {
    SERVICES
        .iter()
        .copied()
        .find(|s| s.cbor.as_ref().is_some_and(|c| c.service_shape == shape))
}

/// The service whose query API version is `version`.
pub(crate) fn by_query_version(version: &str) -> Option<&'static Service> {
    SERVICES
        .iter()
        .copied()
        .find(|s| s.query.as_ref().is_some_and(|q| q.version == version))
}

/// How query errors are framed when the request names no service (missing or unknown
/// `Version`): as CloudWatch's.
pub(crate) fn query_binding(service: Option<&'static Service>) -> &'static QueryBinding {
    service
        .and_then(|s| s.query.as_ref())
        .unwrap_or(&CLOUDWATCH_QUERY)
}

/// Every query API version served, for error messages.
pub(crate) fn query_versions() -> Vec<&'static str> {
    SERVICES
        .iter()
        .filter_map(|s| s.query.as_ref().map(|q| q.version))
        .collect()
}

impl Service {
    /// Whether `op`'s output is empty.
    pub(crate) fn has_no_output(&self, op: &str) -> bool {
        self.no_output.contains(&op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_binding() {
        let (s, op) = by_json_target("GraniteServiceVersion20100801.ListMetrics").unwrap();
        assert_eq!((s.name, op), ("monitoring", "ListMetrics"));
        let (s, op) = by_json_target("Logs_20140328.PutLogEvents").unwrap();
        assert_eq!((s.name, op), ("logs", "PutLogEvents"));
        assert!(by_json_target("Nope.X").is_none());
        let (s, op) =
            by_json_target("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents")
                .unwrap();
        assert_eq!((s.name, op), ("cloudtrail", "LookupEvents"));
        assert_eq!(
            by_cbor_shape("GraniteServiceVersion20100801").map(|s| s.name),
            Some("monitoring")
        );
        assert!(by_cbor_shape("Logs_20140328").is_none());
        assert_eq!(
            by_query_version("2010-08-01").map(|s| s.name),
            Some("monitoring")
        );
        assert!(by_query_version("2011-01-01").is_none());
        assert_eq!(by_query_version("2016-11-15").map(|s| s.name), Some("ec2"));
        assert_eq!(query_binding(None).version, "2010-08-01");
    }
}
