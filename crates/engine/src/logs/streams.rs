//! Log stream actions.

use std::cmp::Ordering;

use flowwatch_model::logs::{
    DescribeLogStreamsRequest, DescribeLogStreamsResponse, LogStream, LogStreamRequest, page_limit,
};
use flowwatch_model::{ApiError, ApiResult, Caller, LogGroupName, LogStreamName, arn, limits};
use flowwatch_storage::LogStreamInfo;

use crate::logs::groups::{deletion_protected, group_name_or_identifier};
use crate::{Engine, storage_error, token};

/// How DescribeLogStreams orders its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderBy {
    LogStreamName,
    LastEventTime,
}

impl OrderBy {
    fn parse(value: Option<&str>) -> ApiResult<Self> {
        match value {
            None | Some("LogStreamName") => Ok(Self::LogStreamName),
            Some("LastEventTime") => Ok(Self::LastEventTime),
            Some(other) => Err(ApiError::constraint(
                "orderBy",
                other,
                "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
            )),
        }
    }

    /// Tags tokens so a token of one ordering is not taken by another.
    fn token_op(self, descending: bool) -> &'static str {
        match (self, descending) {
            (Self::LogStreamName, false) => "DescribeLogStreams.n",
            (Self::LogStreamName, true) => "DescribeLogStreams.N",
            (Self::LastEventTime, false) => "DescribeLogStreams.t",
            (Self::LastEventTime, true) => "DescribeLogStreams.T",
        }
    }
}

/// A stream's place in the requested order: its last event time (when ordering by it; streams
/// without events come first) and then its name, so a token stays exact even when several
/// streams share a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey {
    last_event: Option<i64>,
    name: String,
}

impl SortKey {
    fn of(order: OrderBy, stream: &LogStreamInfo) -> Self {
        Self {
            last_event: match order {
                OrderBy::LastEventTime => stream.stats.last_event_timestamp,
                OrderBy::LogStreamName => None,
            },
            name: stream.name.clone(),
        }
    }

    fn encode(&self, op: &str) -> String {
        let ts = self
            .last_event
            .map_or_else(|| "-".to_owned(), |t| t.to_string());
        token::encode_after(op, &format!("{ts}:{}", self.name))
    }

    fn decode(op: &str, token: &str) -> ApiResult<Self> {
        let invalid = || ApiError::invalid_parameter("The specified nextToken is invalid.");
        let raw = token::decode_after(op, token)?;
        let (ts, name) = raw.split_once(':').ok_or_else(invalid)?;
        let last_event = match ts {
            "-" => None,
            t => Some(t.parse::<i64>().map_err(|_| invalid())?),
        };
        Ok(Self {
            last_event,
            name: name.to_owned(),
        })
    }
}

fn stream_shape(caller: &Caller, group: &LogGroupName, info: &LogStreamInfo) -> LogStream {
    LogStream {
        log_stream_name: info.name.clone(),
        creation_time: info.creation_time,
        first_event_timestamp: info.stats.first_event_timestamp,
        last_event_timestamp: info.stats.last_event_timestamp,
        last_ingestion_time: info.stats.last_ingestion_time,
        upload_sequence_token: format!("{:056}", info.id),
        arn: arn::log_stream_arn(&caller.scope, group.as_str(), &info.name),
        stored_bytes: 0,
    }
}

impl Engine {
    pub async fn create_log_stream(&self, caller: &Caller, req: LogStreamRequest) -> ApiResult<()> {
        let group = LogGroupName::required("logGroupName", req.log_group_name)?;
        let stream = LogStreamName::required("logStreamName", req.log_stream_name)?;
        self.storage()
            .create_log_stream(&caller.scope, group.as_str(), stream.as_str())
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    pub async fn delete_log_stream(&self, caller: &Caller, req: LogStreamRequest) -> ApiResult<()> {
        let group = LogGroupName::required("logGroupName", req.log_group_name)?;
        let stream = LogStreamName::required("logStreamName", req.log_stream_name)?;
        self.storage()
            .delete_log_stream_if(&caller.scope, group.as_str(), stream.as_str(), |g| {
                if g.deletion_protection {
                    Err(deletion_protected())
                } else {
                    Ok(())
                }
            })
            .await
            .map_err(storage_error)
    }

    pub async fn describe_log_streams(
        &self,
        caller: &Caller,
        req: DescribeLogStreamsRequest,
    ) -> ApiResult<DescribeLogStreamsResponse> {
        let group = group_name_or_identifier(caller, req.log_group_name, req.log_group_identifier)?;
        let prefix = req
            .log_stream_name_prefix
            .as_deref()
            .map(|p| LogStreamName::parse("logStreamNamePrefix", p))
            .transpose()?;
        let order = OrderBy::parse(req.order_by.as_deref())?;
        if order == OrderBy::LastEventTime && prefix.is_some() {
            return Err(ApiError::invalid_parameter(
                "Cannot order by LastEventTime with a logStreamNamePrefix.",
            ));
        }
        let descending = req.descending.unwrap_or(false);
        let limit = page_limit(
            "limit",
            req.limit,
            limits::DESCRIBE_LIMIT_MAX,
            limits::DESCRIBE_LIMIT_MAX,
        )?;
        let op = order.token_op(descending);
        let after = req
            .next_token
            .as_deref()
            .map(|t| SortKey::decode(op, t))
            .transpose()?;
        let in_order = |a: &SortKey, b: &SortKey| {
            if descending { b.cmp(a) } else { a.cmp(b) }
        };
        let streams = self
            .storage()
            .log_streams(&caller.scope, group.as_str())
            .map_err(storage_error)?;
        let mut keyed: Vec<(SortKey, &LogStreamInfo)> = streams
            .iter()
            .filter(|s| {
                prefix
                    .as_ref()
                    .is_none_or(|p| s.name.starts_with(p.as_str()))
            })
            .map(|s| (SortKey::of(order, s), s))
            .filter(|(k, _)| {
                after
                    .as_ref()
                    .is_none_or(|a| in_order(k, a) == Ordering::Greater)
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| in_order(a, b));
        let more = keyed.len() > limit;
        keyed.truncate(limit);
        let next_token = match keyed.last() {
            Some((last, _)) if more => Some(last.encode(op)),
            _ => None,
        };
        Ok(DescribeLogStreamsResponse {
            log_streams: keyed
                .iter()
                .map(|(_, s)| stream_shape(caller, &group, s))
                .collect(),
            next_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_round_trip_through_tokens() {
        for key in [
            SortKey {
                last_event: Some(1_700_000_000_000),
                name: "a/b [x]".into(),
            },
            SortKey {
                last_event: None,
                name: "s".into(),
            },
            SortKey {
                last_event: Some(-5),
                name: "n".into(),
            },
        ] {
            let op = OrderBy::LastEventTime.token_op(false);
            assert_eq!(SortKey::decode(op, &key.encode(op)).unwrap(), key);
            assert!(
                SortKey::decode(OrderBy::LastEventTime.token_op(true), &key.encode(op)).is_err()
            );
        }
        assert!(SortKey::decode("DescribeLogStreams.t", "DescribeLogStreams.t.41").is_err());
    }

    #[test]
    fn streams_without_events_sort_first() {
        let none = SortKey {
            last_event: None,
            name: "z".into(),
        };
        let some = SortKey {
            last_event: Some(0),
            name: "a".into(),
        };
        assert!(none < some);
    }
}
