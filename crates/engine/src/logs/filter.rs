//! FilterLogEvents: a group's streams interleaved by time, filtered by a filter pattern.

use std::collections::{BTreeSet, HashMap};

use flowwatch_model::limits::{EVENT_OVERHEAD_BYTES, MAX_READ_PAGE_BYTES, MAX_READ_PAGE_EVENTS};
use flowwatch_model::logs::{
    FilterLogEventsRequest, FilterLogEventsResponse, FilteredLogEvent, page_limit,
};
use flowwatch_model::{ApiError, ApiResult, Caller, LogStreamName};
use flowwatch_pattern::FilterPattern;
use flowwatch_storage::{Position, ScanRequest};

use crate::logs::groups::group_name_or_identifier;
use crate::{Engine, storage_error};

/// Most stream names one call may list.
const MAX_STREAM_NAMES: usize = 100;

/// `fle/` then the position after which the next page starts, 19 + 20 digits.
fn encode_token(p: Position) -> String {
    format!("fle/{:019}{:020}", p.timestamp.max(0), p.seq)
}

fn decode_token(token: &str) -> ApiResult<Position> {
    let invalid = || ApiError::invalid_parameter("The specified nextToken is invalid.");
    let digits = token.strip_prefix("fle/").ok_or_else(invalid)?;
    if digits.len() != 39 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    Ok(Position {
        timestamp: digits[..19].parse().map_err(|_| invalid())?,
        seq: digits[19..].parse().map_err(|_| invalid())?,
    })
}

/// Parses a filter pattern as PutMetricFilter, FilterLogEvents and TestMetricFilter take it.
pub fn parse_filter_pattern(pattern: &str) -> ApiResult<FilterPattern> {
    FilterPattern::parse(pattern)
        .map_err(|e| ApiError::invalid_parameter(format!("Invalid filter pattern: {e}")))
}

impl Engine {
    pub async fn filter_log_events(
        &self,
        caller: &Caller,
        req: FilterLogEventsRequest,
    ) -> ApiResult<FilterLogEventsResponse> {
        let group = group_name_or_identifier(caller, req.log_group_name, req.log_group_identifier)?;
        if req.log_stream_names.is_some() && req.log_stream_name_prefix.is_some() {
            return Err(ApiError::invalid_parameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive; specify only one.",
            ));
        }
        if let Some(names) = &req.log_stream_names {
            if names.is_empty() || names.len() > MAX_STREAM_NAMES {
                return Err(ApiError::constraint(
                    "logStreamNames",
                    &format!("{} names", names.len()),
                    "Member must have length between 1 and 100",
                ));
            }
            for name in names {
                LogStreamName::parse("logStreamNames", name)?;
            }
        }
        let limit = page_limit(
            "limit",
            req.limit,
            MAX_READ_PAGE_EVENTS,
            MAX_READ_PAGE_EVENTS,
        )?;
        let pattern = match req.filter_pattern.as_deref() {
            None | Some("") => FilterPattern::MatchAll,
            Some(p) => parse_filter_pattern(p)?,
        };
        let start_ms = req.start_time.unwrap_or(0);
        // FilterLogEvents' end time is inclusive (GetLogEvents' is not).
        let end_ms = req.end_time.map_or(i64::MAX, |t| t.saturating_add(1));
        if start_ms < 0 || end_ms < 0 {
            return Err(ApiError::invalid_parameter(
                "startTime and endTime must be greater than or equal to 0.",
            ));
        }
        let after = req.next_token.as_deref().map(decode_token).transpose()?;
        let group_id = self
            .storage()
            .log_group_id(&caller.scope, group.as_str())
            .ok_or_else(ApiError::log_group_not_found)?;
        let streams = self
            .storage()
            .log_streams(&caller.scope, group.as_str())
            .map_err(storage_error)?;
        let names: HashMap<i64, String> = streams.iter().map(|s| (s.id, s.name.clone())).collect();
        let selected: Option<BTreeSet<i64>> =
            match (&req.log_stream_names, &req.log_stream_name_prefix) {
                (Some(wanted), _) => Some(
                    streams
                        .iter()
                        .filter(|s| wanted.contains(&s.name))
                        .map(|s| s.id)
                        .collect(),
                ),
                (None, Some(prefix)) => Some(
                    streams
                        .iter()
                        .filter(|s| s.name.starts_with(prefix.as_str()))
                        .map(|s| s.id)
                        .collect(),
                ),
                (None, None) => None,
            };
        if selected.as_ref().is_some_and(BTreeSet::is_empty) {
            return Ok(FilterLogEventsResponse::default());
        }
        // One event more than the page tells whether another page exists.
        let scan = ScanRequest {
            start_ms,
            end_ms,
            streams: selected,
            after,
            limit: limit + 1,
            max_bytes: usize::MAX,
        };
        let found = self
            .storage()
            .scan_group(group_id, &scan, &|m| pattern.matches(m))
            .await
            .map_err(storage_error)?;
        let mut bytes = 0;
        let mut events = Vec::with_capacity(found.len().min(limit));
        for e in &found {
            let size = e.event.message.len() + EVENT_OVERHEAD_BYTES;
            if events.len() >= limit || (!events.is_empty() && bytes + size > MAX_READ_PAGE_BYTES) {
                break;
            }
            bytes += size;
            events.push(e);
        }
        let next_token = (events.len() < found.len())
            .then(|| events.last().map(|e| encode_token(e.event.position())))
            .flatten();
        Ok(FilterLogEventsResponse {
            events: events
                .into_iter()
                .map(|e| FilteredLogEvent {
                    log_stream_name: names.get(&e.stream_id).cloned().unwrap_or_default(),
                    timestamp: e.event.timestamp,
                    message: e.event.message.clone(),
                    ingestion_time: e.event.ingestion_time,
                    event_id: format!("{:056}", e.event.seq),
                })
                .collect(),
            searched_log_streams: Vec::new(),
            next_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let p = Position {
            timestamp: 1_700_000_000_000,
            seq: 9,
        };
        assert_eq!(decode_token(&encode_token(p)).unwrap(), p);
        assert!(decode_token("f/123").is_err());
    }
}
