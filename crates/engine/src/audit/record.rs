//! Building one CloudTrail record (spec `cloudtrail-iam.md` A.1, A.2) from what the server
//! knows about an answered call. Pure: no I/O, no clock; the caller passes the time and ids.

use flowwatch_model::ApiError;
use flowwatch_security::policy::{Principal, PrincipalKind};
use serde::Serialize;
use serde_json::{Map, Value};

use super::members::object_members;
use super::services::{Codes, HIDDEN, ServiceTerms, terms};

/// `eventVersion` of every record.
pub const EVENT_VERSION: &str = "1.11";
/// Most bytes of `userAgent`, `errorCode`, `errorMessage` (longer ones are cut).
const MAX_TEXT_BYTES: usize = 1024;
/// Most bytes of `requestParameters` or `responseElements`; a larger one is recorded as
/// null, with `additionalEventData` saying so.
const MAX_ELEMENTS_BYTES: usize = 100 * 1024;
/// Resource names longer than this (an invalid request) name no resource.
const MAX_NAME_BYTES: usize = 2048;

/// Who made a call, as far as the server could tell.
#[derive(Debug, Clone, Copy)]
pub enum Identity<'a> {
    /// A verified signature: the principal and the key it signed with; for a role session,
    /// when the session was issued (epoch ms).
    Known {
        principal: &'a Principal,
        access_key_id: &'a str,
        session_created_ms: Option<i64>,
    },
    /// A request whose signature was refused (or missing): the key it claims, if any.
    Unknown { access_key_id: Option<&'a str> },
}

/// One answered call, as the server saw it.
#[derive(Debug, Clone, Copy)]
pub struct ApiCall<'a> {
    /// The service's SigV4 signing name (`logs`, `monitoring`, `iam`, …).
    pub service: &'a str,
    pub op: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub identity: Identity<'a>,
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// The id answered in `x-amzn-RequestId`.
    pub request_id: &'a str,
    /// The request as the dispatch's JSON (`None`: unknown, or withheld because the caller
    /// was not authenticated).
    pub input: Option<&'a [u8]>,
    /// The input's top-level members, bulk payloads skipped ([`request_members`]), when the
    /// caller has read them already; else they are read from `input`.
    pub members: Option<&'a Map<String, Value>>,
    /// The dispatch's JSON answer, or the error answered.
    pub outcome: Result<&'a [u8], &'a ApiError>,
}

/// A record ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// The record as JSON text.
    pub json: String,
    /// Whether it is a management event (else a data event).
    pub management: bool,
    /// Whether it is an event of a global service (IAM, STS), which trails deliver only when
    /// they include global service events.
    pub global: bool,
    /// `readOnly` and `eventSource`, which trails' event selectors look at.
    pub read_only: bool,
    pub event_source: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    event_version: &'static str,
    user_identity: UserIdentity,
    event_time: String,
    event_source: &'static str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    request_parameters: Option<Value>,
    response_elements: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: Option<Value>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<ResourceRef>,
    event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<&'static str>,
    management_event: bool,
    recipient_account_id: &'a str,
    event_category: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<Box<SessionContext>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext {
    session_issuer: UserIdentity,
    attributes: SessionAttributes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionAttributes {
    creation_date: String,
    mfa_authenticated: &'static str,
}

#[derive(Serialize)]
struct ResourceRef {
    #[serde(rename = "ARN")]
    arn: String,
    #[serde(rename = "accountId")]
    account_id: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// Builds the record of `call`, completed at `now_ms`, with event id `event_id`.
pub fn build(call: &ApiCall<'_>, now_ms: i64, event_id: &str) -> Built {
    let terms = terms(call.service);
    let read_only = terms.is_read_only(call.op);
    let management = !terms.is_data_event(call.op);
    let mut additional = Map::new();
    let request = match call.members {
        Some(members) => request_parameters(terms, members.clone()),
        None => call
            .input
            .and_then(|input| object_members(input, terms.bulk))
            .and_then(|members| request_parameters(terms, members)),
    };
    let resources = request
        .as_ref()
        .map(|r| resources(terms, r, call.region, call.account))
        .unwrap_or_default();
    let input_len = call.input.map_or(0, <[u8]>::len);
    let request = cap(request, input_len, "requestParameters", &mut additional);
    let response = match call.outcome {
        Ok(output) if !read_only => cap(
            response_elements(terms, output),
            output.len(),
            "responseElements",
            &mut additional,
        ),
        _ => None,
    };
    let (error_code, error_message) = match call.outcome {
        Ok(_) => (None, None),
        Err(error) => (
            Some(truncate(&error_code(terms, error), MAX_TEXT_BYTES).to_owned()),
            Some(truncate(&error.message, MAX_TEXT_BYTES)),
        ),
    };
    let record = Record {
        event_version: EVENT_VERSION,
        user_identity: user_identity(&call.identity),
        event_time: event_time(now_ms),
        event_source: terms.event_source,
        event_name: call.op,
        aws_region: call.region,
        source_ip_address: call.source_ip.unwrap_or("AWS Internal"),
        user_agent: call.user_agent.map(|a| truncate(a, MAX_TEXT_BYTES)),
        error_code,
        error_message,
        request_parameters: request,
        response_elements: response,
        additional_event_data: (!additional.is_empty()).then_some(Value::Object(additional)),
        request_id: call.request_id,
        event_id,
        read_only,
        resources,
        event_type: "AwsApiCall",
        api_version: terms.api_version,
        management_event: management,
        recipient_account_id: call.account,
        event_category: if management { "Management" } else { "Data" },
    };
    // A record of plain strings, numbers and JSON values always serialises.
    let json = serde_json::to_string(&record).unwrap_or_default();
    Built {
        json,
        management,
        global: matches!(call.service, "iam" | "sts"),
        read_only,
        event_source: terms.event_source,
    }
}

/// `eventTime`: ISO 8601 UTC, second precision.
pub fn event_time(ms: i64) -> String {
    let millis = flowwatch_monitor::alarms::format::iso_millis(ms);
    format!("{}Z", &millis[..millis.len().min(19)])
}

fn user_identity(identity: &Identity<'_>) -> UserIdentity {
    let unknown = |access_key_id: Option<&str>| UserIdentity {
        kind: "Unknown",
        principal_id: None,
        arn: None,
        account_id: None,
        access_key_id: access_key_id.filter(|k| !k.is_empty()).map(str::to_owned),
        user_name: None,
        session_context: None,
    };
    let (principal, access_key_id, session_created_ms) = match *identity {
        Identity::Unknown { access_key_id } => return unknown(access_key_id),
        Identity::Known {
            principal,
            access_key_id,
            session_created_ms,
        } => (principal, access_key_id, session_created_ms),
    };
    let base = |kind| UserIdentity {
        kind,
        principal_id: Some(principal.user_id.clone()),
        arn: Some(principal.arn.clone()),
        account_id: Some(principal.account.clone()),
        access_key_id: Some(access_key_id.to_owned()).filter(|k| !k.is_empty()),
        user_name: None,
        session_context: None,
    };
    match &principal.kind {
        PrincipalKind::Root => base("Root"),
        PrincipalKind::User => UserIdentity {
            user_name: principal.username.clone(),
            ..base("IAMUser")
        },
        PrincipalKind::AssumedRole { role_arn } => {
            let role_id = principal.user_id.split(':').next().unwrap_or_default();
            let issuer = UserIdentity {
                kind: "Role",
                principal_id: Some(role_id.to_owned()),
                arn: Some(role_arn.clone()),
                account_id: Some(principal.account.clone()),
                access_key_id: None,
                user_name: role_arn.rsplit('/').next().map(str::to_owned),
                session_context: None,
            };
            UserIdentity {
                session_context: Some(Box::new(SessionContext {
                    session_issuer: issuer,
                    attributes: SessionAttributes {
                        creation_date: event_time(session_created_ms.unwrap_or(0)),
                        mfa_authenticated: "false",
                    },
                })),
                ..base("AssumedRole")
            }
        }
        PrincipalKind::FederatedUser => base("FederatedUser"),
        PrincipalKind::Service => UserIdentity {
            kind: "AWSService",
            ..unknown(None)
        },
        PrincipalKind::Anonymous => unknown(Some(access_key_id)),
    }
}

/// The error code as the service's wire spells it.
fn error_code(terms: &ServiceTerms, error: &ApiError) -> String {
    match terms.codes {
        Codes::Json => error.code.name().to_owned(),
        Codes::Query => error.code.query_code().to_owned(),
        Codes::Ec2 => {
            let side = if error.code.is_sender_fault() {
                "Client"
            } else {
                "Server"
            };
            format!("{side}.{}", error.code.query_code())
        }
    }
}

/// The top-level members of a request's JSON input to service `service`, its bulk payloads
/// (log events, metric datums, flow records) skipped without being built: what
/// `requestParameters` and authorization read. `None` when the input is not a JSON object.
pub fn request_members(service: &str, input: &[u8]) -> Option<Map<String, Value>> {
    object_members(input, terms(service).bulk)
}

/// `requestParameters`: the input's members (bulk payloads skipped), secrets hidden; null
/// when there are none.
fn request_parameters(terms: &ServiceTerms, mut map: Map<String, Value>) -> Option<Value> {
    if map.is_empty() {
        return None;
    }
    for (name, value) in map.iter_mut() {
        hide(terms, name, value);
    }
    Some(Value::Object(map))
}

/// `responseElements` of a successful mutating call: its output with secrets hidden; null
/// when it is empty.
fn response_elements(terms: &ServiceTerms, output: &[u8]) -> Option<Value> {
    let mut value: Value = serde_json::from_slice(output).ok()?;
    match &value {
        Value::Object(m) if m.is_empty() => return None,
        Value::Null => return None,
        _ => {}
    }
    hide(terms, "", &mut value);
    Some(value)
}

/// Replaces the value of every secret member, at any depth.
fn hide(terms: &ServiceTerms, name: &str, value: &mut Value) {
    if !name.is_empty() && terms.is_secret(name) {
        *value = Value::String(HIDDEN.to_owned());
        return;
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                hide(terms, k, v);
            }
        }
        Value::Array(items) => {
            for v in items {
                hide(terms, "", v);
            }
        }
        _ => {}
    }
}

/// Null (with a note in `additionalEventData`) when larger than the record allows. `raw_len`
/// is the size of the JSON the value was read from: a value read from no more than the limit
/// is not serialised again to be measured.
fn cap(
    value: Option<Value>,
    raw_len: usize,
    what: &str,
    additional: &mut Map<String, Value>,
) -> Option<Value> {
    let value = value?;
    if raw_len <= MAX_ELEMENTS_BYTES {
        return Some(value);
    }
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
    if size > MAX_ELEMENTS_BYTES {
        additional.insert(format!("{what}Truncated"), Value::Bool(true));
        return None;
    }
    Some(value)
}

/// The resources the request names.
fn resources(
    terms: &ServiceTerms,
    request: &Value,
    region: &str,
    account: &str,
) -> Vec<ResourceRef> {
    let mut out: Vec<ResourceRef> = Vec::new();
    for (member, kind) in terms.resources {
        let values: Vec<&str> = match request.get(*member) {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        for value in values
            .into_iter()
            .filter(|v| !v.is_empty() && v.len() <= MAX_NAME_BYTES)
        {
            let arn = kind.arn(value, region, account);
            if !out.iter().any(|r| r.arn == arn) {
                out.push(ResourceRef {
                    arn,
                    account_id: account.to_owned(),
                    kind: kind.type_name(),
                });
            }
        }
    }
    out
}

/// The longest prefix of `text` of at most `max` bytes, on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests;
