//! LookupEvents (spec `cloudtrail-iam.md` Part C): the management events of the caller's
//! account and region, newest first, matching at most one lookup attribute, within a time
//! range of the last 90 days, in pages of at most 50.
//!
//! The management stream of the audit group is read backward through the storage engine
//! ([`flowwatch_storage::Storage::read_stream`]) in bounded batches from a cursor, so a lookup
//! holds one batch in memory whatever the history holds. A call examines at most
//! [`MAX_EXAMINED`] events; when the page is not full by then it ends with a `NextToken`, as
//! CloudTrail's own pages may. The token carries the position of the last event examined and
//! the parameters it was issued for.

use flowwatch_model::cloudtrail::{
    Event, LookupAttribute, LookupEventsRequest, LookupEventsResponse, Resource,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};
use flowwatch_storage::{Direction, Position, ReadRequest, StorageError};
use serde_json::Value;

use super::services::resource_name;
use super::{AUDIT_GROUP, MANAGEMENT_STREAM};
use crate::{Engine, storage_error, token};

/// LookupEvents' largest and default page.
const MAX_RESULTS: i64 = 50;
/// How far back LookupEvents reaches.
const LOOKBACK_MS: i64 = 90 * 24 * 3600 * 1000;
/// Events read from storage per batch.
const BATCH: usize = 256;
/// Bytes read from storage per batch (at least one event is always read).
const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Most events one call examines before it answers with what it has and a token.
pub const MAX_EXAMINED: usize = 10_000;
/// Longest attribute value.
const MAX_VALUE_CHARS: usize = 2000;

/// The attributes LookupEvents matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl Key {
    fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "EventId" => Self::EventId,
            "EventName" => Self::EventName,
            "ReadOnly" => Self::ReadOnly,
            "Username" => Self::Username,
            "ResourceType" => Self::ResourceType,
            "ResourceName" => Self::ResourceName,
            "EventSource" => Self::EventSource,
            "AccessKeyId" => Self::AccessKeyId,
            _ => return None,
        })
    }
}

fn invalid_attributes(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidLookupAttributesException, message)
}

fn invalid_token() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidNextTokenException,
        "Invalid NextToken: the token is not valid for these parameters.",
    )
}

/// The one attribute of a request, validated.
fn attribute(attributes: &[LookupAttribute]) -> ApiResult<Option<(Key, &str)>> {
    let [attribute] = attributes else {
        if attributes.is_empty() {
            return Ok(None);
        }
        return Err(invalid_attributes(
            "You cannot specify more than one lookup attribute.",
        ));
    };
    let name = attribute.attribute_key.as_deref().unwrap_or_default();
    let key = Key::parse(name).ok_or_else(|| {
        invalid_attributes(format!(
            "Invalid lookup attribute key {name}: must be one of EventId, EventName, ReadOnly, \
             Username, ResourceType, ResourceName, EventSource, AccessKeyId."
        ))
    })?;
    let value = attribute.attribute_value.as_deref().unwrap_or_default();
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_VALUE_CHARS {
        return Err(invalid_attributes(format!(
            "The lookup attribute value must be 1 to {MAX_VALUE_CHARS} characters long."
        )));
    }
    Ok(Some((key, value)))
}

/// Epoch seconds (a JSON number) as milliseconds.
fn millis(member: &str, secs: Option<f64>) -> ApiResult<Option<i64>> {
    match secs {
        None => Ok(None),
        Some(s) if s.is_finite() && s.abs() < 1e13 => Ok(Some((s * 1000.0).floor() as i64)),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidTimeRangeException,
            format!("The {member} is not a valid time."),
        )),
    }
}

/// `LookupEvents`' Username of a record: the user's name, `root`, or a role session's name.
pub(crate) fn username(record: &Value) -> Option<String> {
    let identity = record.get("userIdentity")?;
    if let Some(name) = identity.get("userName").and_then(Value::as_str) {
        return Some(name.to_owned());
    }
    match identity.get("type").and_then(Value::as_str)? {
        "Root" => Some("root".to_owned()),
        "AssumedRole" => identity
            .get("arn")
            .and_then(Value::as_str)
            .and_then(|arn| arn.rsplit('/').next())
            .map(str::to_owned),
        _ => None,
    }
}

/// The resources of a record as `(type, name, ARN)`.
fn resources(record: &Value) -> Vec<(&str, &str, &str)> {
    record
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let kind = r.get("type")?.as_str()?;
            let arn = r.get("ARN")?.as_str()?;
            Some((kind, resource_name(kind, arn), arn))
        })
        .collect()
}

fn text<'a>(record: &'a Value, member: &str) -> Option<&'a str> {
    record.get(member).and_then(Value::as_str)
}

fn matches(record: &Value, key: Key, value: &str) -> bool {
    match key {
        Key::EventId => text(record, "eventID") == Some(value),
        Key::EventName => text(record, "eventName") == Some(value),
        Key::EventSource => text(record, "eventSource") == Some(value),
        Key::ReadOnly => record
            .get("readOnly")
            .and_then(Value::as_bool)
            .is_some_and(|r| r.to_string() == value),
        Key::Username => username(record).as_deref() == Some(value),
        Key::AccessKeyId => {
            record
                .get("userIdentity")
                .and_then(|i| i.get("accessKeyId"))
                .and_then(Value::as_str)
                == Some(value)
        }
        Key::ResourceType => resources(record).iter().any(|(t, _, _)| *t == value),
        Key::ResourceName => resources(record)
            .iter()
            .any(|(_, name, arn)| *name == value || *arn == value),
    }
}

/// One stored record as LookupEvents lists it.
fn event(record: &Value, timestamp_ms: i64, message: String) -> Event {
    let owned = |member: &str| text(record, member).unwrap_or_default().to_owned();
    Event {
        event_id: owned("eventID"),
        event_name: owned("eventName"),
        read_only: record
            .get("readOnly")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .to_string(),
        access_key_id: record
            .get("userIdentity")
            .and_then(|i| i.get("accessKeyId"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        event_time: (timestamp_ms.div_euclid(1000)) as f64,
        event_source: owned("eventSource"),
        username: username(record),
        resources: resources(record)
            .into_iter()
            .map(|(kind, name, _)| Resource {
                resource_type: kind.to_owned(),
                resource_name: name.to_owned(),
            })
            .collect(),
        cloud_trail_event: message,
    }
}

impl Engine {
    pub async fn lookup_events(
        &self,
        caller: &Caller,
        req: LookupEventsRequest,
    ) -> ApiResult<LookupEventsResponse> {
        let attributes = req.lookup_attributes.clone().unwrap_or_default();
        let wanted = attribute(&attributes)?;
        let limit = match req.max_results {
            None => MAX_RESULTS,
            Some(n) if (1..=MAX_RESULTS).contains(&n) => n,
            Some(n) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidMaxResultsException,
                    format!("MaxResults {n} is not valid: it must be between 1 and {MAX_RESULTS}."),
                ));
            }
        } as usize;
        let insights = match req.event_category.as_deref() {
            None => false,
            Some("insight") => true,
            Some(other) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidEventCategoryException,
                    format!("The event category {other} is not valid: only insight is."),
                ));
            }
        };
        let start = millis("StartTime", req.start_time)?;
        let end = millis("EndTime", req.end_time)?;
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            return Err(ApiError::new(
                ErrorCode::InvalidTimeRangeException,
                "The start time must be before or equal to the end time.",
            ));
        }
        // The token is tied to the parameters it was issued for.
        let parameters = serde_json::json!([
            attributes,
            req.start_time,
            req.end_time,
            req.event_category,
            req.max_results
        ])
        .to_string();
        let mut cursor = match &req.next_token {
            None => None,
            Some(t) => Some(decode_token(t, &parameters)?),
        };
        // flowwatch records no Insights events.
        if insights {
            return Ok(LookupEventsResponse::default());
        }
        let now = self.now();
        let start_ms = start.unwrap_or(i64::MIN).max(now - LOOKBACK_MS);
        // Inclusive end time, in whole seconds: everything up to the end of that second.
        let end_ms = end.map_or(i64::MAX, |e| e.div_euclid(1000) * 1000 + 1000);
        let key = match self
            .storage()
            .stream_key(&caller.scope, AUDIT_GROUP, MANAGEMENT_STREAM)
        {
            Ok((key, _)) => key,
            Err(StorageError::LogGroupNotFound | StorageError::LogStreamNotFound) => {
                return Ok(LookupEventsResponse::default());
            }
            Err(e) => return Err(storage_error(e)),
        };
        let mut events = Vec::new();
        let mut examined = 0usize;
        let mut next_token = None;
        if start_ms >= end_ms {
            return Ok(LookupEventsResponse::default());
        }
        loop {
            let request = ReadRequest {
                start_ms,
                end_ms,
                cursor,
                direction: Direction::Backward,
                limit: BATCH,
                max_bytes: BATCH_BYTES,
            };
            let batch = self
                .storage()
                .read_stream(key, &request)
                .await
                .map_err(storage_error)?;
            let exhausted = batch.is_empty();
            for stored in batch {
                examined += 1;
                cursor = Some(stored.position());
                let Ok(record) = serde_json::from_str::<Value>(&stored.message) else {
                    continue;
                };
                if wanted.is_none_or(|(k, v)| matches(&record, k, v)) {
                    events.push(event(&record, stored.timestamp, stored.message));
                    if events.len() == limit {
                        break;
                    }
                }
            }
            if exhausted {
                break;
            }
            if events.len() == limit || examined >= MAX_EXAMINED {
                next_token = cursor.map(|c| encode_token(c, &parameters));
                break;
            }
        }
        Ok(LookupEventsResponse { events, next_token })
    }
}

fn encode_token(position: Position, parameters: &str) -> String {
    token::encode_after(
        "LookupEvents",
        &format!("{}.{}.{parameters}", position.timestamp, position.seq),
    )
}

fn decode_token(token: &str, parameters: &str) -> ApiResult<Position> {
    let text = token::decode_after("LookupEvents", token).map_err(|_| invalid_token())?;
    let mut parts = text.splitn(3, '.');
    let (Some(timestamp), Some(seq), Some(issued_for)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid_token());
    };
    if issued_for != parameters {
        return Err(invalid_token());
    }
    Ok(Position {
        timestamp: timestamp.parse().map_err(|_| invalid_token())?,
        seq: seq.parse().map_err(|_| invalid_token())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_tied_to_their_parameters() {
        let p = Position {
            timestamp: 1_700_000_000_000,
            seq: 42,
        };
        let t = encode_token(p, "[1]");
        assert_eq!(decode_token(&t, "[1]").unwrap(), p);
        assert_eq!(
            decode_token(&t, "[2]").unwrap_err().code,
            ErrorCode::InvalidNextTokenException
        );
        assert!(decode_token("nope", "[1]").is_err());
    }

    #[test]
    fn attributes_match_records() {
        let record = json!({
            "eventID": "e1", "eventName": "CreateUser", "eventSource": "iam.amazonaws.com",
            "readOnly": false,
            "userIdentity": {"type": "IAMUser", "userName": "alice", "accessKeyId": "AKIA1"},
            "resources": [{"ARN": "arn:aws:iam::1:user/bob", "accountId": "1",
                           "type": "AWS::IAM::User"}]
        });
        assert!(matches(&record, Key::EventId, "e1"));
        assert!(matches(&record, Key::EventName, "CreateUser"));
        assert!(!matches(&record, Key::EventName, "createuser"));
        assert!(matches(&record, Key::ReadOnly, "false"));
        assert!(matches(&record, Key::Username, "alice"));
        assert!(matches(&record, Key::AccessKeyId, "AKIA1"));
        assert!(matches(&record, Key::ResourceType, "AWS::IAM::User"));
        assert!(matches(&record, Key::ResourceName, "bob"));
        assert!(matches(
            &record,
            Key::ResourceName,
            "arn:aws:iam::1:user/bob"
        ));
        assert!(matches(&record, Key::EventSource, "iam.amazonaws.com"));
        let root = json!({"userIdentity": {"type": "Root"}});
        assert_eq!(username(&root).as_deref(), Some("root"));
        let session = json!({"userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::1:assumed-role/r/me"}});
        assert_eq!(username(&session).as_deref(), Some("me"));
    }

    #[test]
    fn at_most_one_known_attribute() {
        let a = |k: &str, v: &str| LookupAttribute {
            attribute_key: Some(k.into()),
            attribute_value: Some(v.into()),
        };
        assert!(attribute(&[]).unwrap().is_none());
        assert_eq!(
            attribute(&[a("EventName", "X")]).unwrap(),
            Some((Key::EventName, "X"))
        );
        for bad in [
            vec![a("EventName", "X"), a("Username", "u")],
            vec![a("Nope", "X")],
            vec![a("EventName", "")],
        ] {
            assert_eq!(
                attribute(&bad).unwrap_err().code,
                ErrorCode::InvalidLookupAttributesException
            );
        }
    }
}
