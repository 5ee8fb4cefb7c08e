//! PutLogEvents and GetLogEvents.

use flowwatch_model::limits::{
    EVENT_OVERHEAD_BYTES, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_BATCH_SPAN_MS, MAX_EVENT_AGE_MS,
    MAX_EVENT_BYTES, MAX_EVENT_FUTURE_MS, MAX_READ_PAGE_BYTES, MAX_READ_PAGE_EVENTS,
};
use flowwatch_model::logs::{
    GetLogEventsRequest, GetLogEventsResponse, InputLogEvent, OutputLogEvent, PutLogEventsRequest,
    PutLogEventsResponse, RejectedLogEventsInfo, page_limit, required,
};
use flowwatch_model::{ApiError, ApiResult, Caller, LogGroupName, LogStreamName, RetentionDays};
use flowwatch_storage::{Direction, EventRef, Position, ReadRequest};

use crate::logs::groups::group_name_or_identifier;
use crate::{Engine, storage_error};

/// Which events of a valid, ordered batch are accepted, and what was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchVerdict {
    /// Accepted events are `events[accepted]`.
    pub accepted: std::ops::Range<usize>,
    pub rejected: Option<RejectedLogEventsInfo>,
}

/// Applies PutLogEvents' batch rules (`spec/logs-api.md`, PutLogEvents) to events already
/// checked for presence: size, count, order, the 14-day / 2-hour / retention windows and the
/// 24-hour span of the accepted events.
pub fn check_batch(
    events: &[(i64, &str)],
    now: i64,
    retention: Option<RetentionDays>,
) -> ApiResult<BatchVerdict> {
    if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::constraint(
            "logEvents",
            &format!("{} events", events.len()),
            "Member must have length less than or equal to 10000 and greater than or equal to 1",
        ));
    }
    let mut total = 0usize;
    for (i, (ts, message)) in events.iter().enumerate() {
        if *ts < 0 {
            return Err(ApiError::constraint(
                &format!("logEvents.{}.member.timestamp", i + 1),
                &ts.to_string(),
                "Member must have value greater than or equal to 0",
            ));
        }
        if message.is_empty() {
            return Err(ApiError::constraint(
                &format!("logEvents.{}.member.message", i + 1),
                "",
                "Member must have length greater than or equal to 1",
            ));
        }
        let size = message.len() + EVENT_OVERHEAD_BYTES;
        if size > MAX_EVENT_BYTES {
            return Err(ApiError::invalid_parameter(format!(
                "Log event too large: {size} bytes exceeds limit of {MAX_EVENT_BYTES}"
            )));
        }
        total += size;
    }
    if total > MAX_BATCH_BYTES {
        return Err(ApiError::invalid_parameter(format!(
            "Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if events.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(ApiError::invalid_parameter(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    let too_old_before = now - MAX_EVENT_AGE_MS;
    let too_new_after = now + MAX_EVENT_FUTURE_MS;
    let expired_before = retention.map(|r| now - r.as_millis());
    let too_old_end = events.partition_point(|(ts, _)| *ts < too_old_before);
    let expired_end = expired_before.map_or(0, |cut| events.partition_point(|(ts, _)| *ts < cut));
    let too_new_start = events.partition_point(|(ts, _)| *ts <= too_new_after);
    let first = too_old_end.max(expired_end).min(too_new_start);
    let accepted = first..too_new_start;
    if accepted.len() > 1
        && events[accepted.end - 1].0 - events[accepted.start].0 > MAX_BATCH_SPAN_MS
    {
        return Err(ApiError::invalid_parameter(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    let rejected = RejectedLogEventsInfo {
        too_new_log_event_start_index: (too_new_start < events.len()).then_some(too_new_start),
        too_old_log_event_end_index: (too_old_end > 0).then_some(too_old_end),
        expired_log_event_end_index: (expired_end > 0).then_some(expired_end),
    };
    Ok(BatchVerdict {
        accepted,
        rejected: (rejected != RejectedLogEventsInfo::default()).then_some(rejected),
    })
}

/// GetLogEvents tokens: `f/` or `b/` then the position as 19 + 20 digits.
fn encode_token(direction: Direction, p: Position) -> String {
    let d = match direction {
        Direction::Forward => 'f',
        Direction::Backward => 'b',
    };
    format!("{d}/{:019}{:020}", p.timestamp.max(0), p.seq)
}

fn decode_token(token: &str) -> ApiResult<(Direction, Position)> {
    let invalid = || ApiError::invalid_parameter("The specified nextToken is invalid.");
    let (direction, digits) = if let Some(d) = token.strip_prefix("f/") {
        (Direction::Forward, d)
    } else if let Some(d) = token.strip_prefix("b/") {
        (Direction::Backward, d)
    } else {
        return Err(invalid());
    };
    if digits.len() != 39 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let timestamp = digits[..19].parse::<i64>().map_err(|_| invalid())?;
    let seq = digits[19..].parse::<u64>().map_err(|_| invalid())?;
    Ok((direction, Position { timestamp, seq }))
}

/// Before every event (a forward read from here starts at the head).
const HEAD: Position = Position {
    timestamp: 0,
    seq: 0,
};
/// After every event (a backward read from here starts at the tail).
const TAIL: Position = Position {
    timestamp: i64::MAX,
    seq: u64::MAX,
};

fn sequence_token(first_seq: u64) -> String {
    format!("{first_seq:056}")
}

impl Engine {
    pub async fn put_log_events(
        &self,
        caller: &Caller,
        req: PutLogEventsRequest<'_>,
    ) -> ApiResult<PutLogEventsResponse> {
        let group = LogGroupName::required("logGroupName", req.log_group_name)?;
        let stream = LogStreamName::required("logStreamName", req.log_stream_name)?;
        let input: Vec<InputLogEvent<'_>> = required("logEvents", req.log_events)?;
        let mut events = Vec::with_capacity(input.len());
        for (i, e) in input.iter().enumerate() {
            let ts = required(
                &format!("logEvents.{}.member.timestamp", i + 1),
                e.timestamp,
            )?;
            let message = required(
                &format!("logEvents.{}.member.message", i + 1),
                e.message.as_deref(),
            )?;
            events.push((ts, message));
        }
        let (key, retention) = self
            .storage()
            .stream_key(&caller.scope, group.as_str(), stream.as_str())
            .map_err(storage_error)?;
        let now = self.now();
        let verdict = check_batch(&events, now, retention)?;
        let accepted: Vec<EventRef<'_>> = events[verdict.accepted.clone()]
            .iter()
            .map(|&(timestamp, message)| EventRef { timestamp, message })
            .collect();
        let first_seq = self
            .storage()
            .append(key, now, &accepted)
            .await
            .map_err(storage_error)?;
        Ok(PutLogEventsResponse {
            next_sequence_token: sequence_token(first_seq),
            rejected_log_events_info: verdict.rejected,
        })
    }

    pub async fn get_log_events(
        &self,
        caller: &Caller,
        req: GetLogEventsRequest,
    ) -> ApiResult<GetLogEventsResponse> {
        let group = group_name_or_identifier(caller, req.log_group_name, req.log_group_identifier)?;
        let stream = LogStreamName::required("logStreamName", req.log_stream_name)?;
        let limit = page_limit(
            "limit",
            req.limit,
            MAX_READ_PAGE_EVENTS,
            MAX_READ_PAGE_EVENTS,
        )?;
        let start_ms = req.start_time.unwrap_or(0);
        let end_ms = req.end_time.unwrap_or(i64::MAX);
        if start_ms < 0 || end_ms < 0 {
            return Err(ApiError::invalid_parameter(
                "startTime and endTime must be greater than or equal to 0.",
            ));
        }
        let (direction, cursor) = match &req.next_token {
            Some(token) => decode_token(token)?,
            None if req.start_from_head.unwrap_or(false) => (Direction::Forward, HEAD),
            None => (Direction::Backward, TAIL),
        };
        let (key, _) = self
            .storage()
            .stream_key(&caller.scope, group.as_str(), stream.as_str())
            .map_err(storage_error)?;
        let read = ReadRequest {
            start_ms,
            end_ms,
            cursor: Some(cursor),
            direction,
            limit,
            max_bytes: MAX_READ_PAGE_BYTES,
        };
        let mut stored = self
            .storage()
            .read_stream(key, &read)
            .await
            .map_err(storage_error)?;
        if direction == Direction::Backward {
            stored.reverse();
        }
        let (forward, backward) = match (stored.first(), stored.last()) {
            (Some(first), Some(last)) => (last.position(), first.position()),
            _ => (cursor, cursor),
        };
        Ok(GetLogEventsResponse {
            events: stored
                .into_iter()
                .map(|e| OutputLogEvent {
                    timestamp: e.timestamp,
                    message: e.message,
                    ingestion_time: e.ingestion_time,
                })
                .collect(),
            next_forward_token: encode_token(Direction::Forward, forward),
            next_backward_token: encode_token(Direction::Backward, backward),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn rejects_unordered_and_oversized() {
        assert!(check_batch(&[(NOW, "a"), (NOW - 1, "b")], NOW, None).is_err());
        let big = "x".repeat(MAX_BATCH_BYTES / 2);
        assert!(check_batch(&[(NOW, &big), (NOW, &big)], NOW, None).is_err());
        assert!(check_batch(&[], NOW, None).is_err());
    }

    #[test]
    fn reports_old_new_and_expired() {
        let events = [
            (NOW - 15 * 24 * HOUR, "old"),
            (NOW - 2 * 24 * HOUR, "expired"),
            (NOW - HOUR, "ok"),
            (NOW, "ok"),
            (NOW + 3 * HOUR, "new"),
        ];
        let v = check_batch(&events, NOW, Some(RetentionDays::parse(1).unwrap())).unwrap();
        assert_eq!(v.accepted, 2..4);
        let r = v.rejected.unwrap();
        assert_eq!(r.too_old_log_event_end_index, Some(1));
        assert_eq!(r.expired_log_event_end_index, Some(2));
        assert_eq!(r.too_new_log_event_start_index, Some(4));
    }

    #[test]
    fn span_of_accepted_events_is_limited() {
        let events = [(NOW - 25 * HOUR, "a"), (NOW, "b")];
        assert!(check_batch(&events, NOW, None).is_err());
        // The old one is rejected individually first, so the rest does not span 24 hours.
        let events = [(NOW - 15 * 24 * HOUR, "a"), (NOW - HOUR, "b"), (NOW, "c")];
        assert_eq!(check_batch(&events, NOW, None).unwrap().accepted, 1..3);
    }

    #[test]
    fn tokens_round_trip() {
        let p = Position {
            timestamp: NOW,
            seq: 42,
        };
        let t = encode_token(Direction::Backward, p);
        assert_eq!(decode_token(&t).unwrap(), (Direction::Backward, p));
        assert_eq!(
            decode_token(&encode_token(Direction::Forward, TAIL))
                .unwrap()
                .1,
            TAIL
        );
        assert!(decode_token("f/12").is_err());
        assert!(decode_token("x/000").is_err());
    }
}
