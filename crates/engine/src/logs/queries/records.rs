//! GetLogRecord (the event behind an `@ptr`) and GetLogGroupFields (discovered fields with
//! the share of events that have them).

use std::collections::{BTreeMap, HashMap};

use flowwatch_model::limits::MAX_READ_PAGE_EVENTS;
use flowwatch_model::limits::insights::FIELDS_WINDOW_MS;
use flowwatch_model::logs::queries::{
    GetLogGroupFieldsRequest, GetLogGroupFieldsResponse, GetLogRecordRequest, GetLogRecordResponse,
    LogGroupField,
};
use flowwatch_model::{ApiError, ApiResult, Caller};
use flowwatch_storage::{Direction, ReadRequest, ScanRequest, StreamKey};

use super::run::decode_ptr;
use crate::logs::groups::group_name_or_identifier;
use crate::{Engine, storage_error};

/// Events GetLogGroupFields samples.
const FIELDS_SAMPLE: usize = 10_000;
/// GetLogGroupFields without `time` looks at the last 15 minutes.
const FIELDS_DEFAULT_MS: i64 = 15 * 60 * 1000;

/// System fields every event has.
const SYSTEM: [&str; 5] = [
    "@timestamp",
    "@message",
    "@logStream",
    "@log",
    "@ingestionTime",
];

impl Engine {
    pub async fn get_log_record(
        &self,
        caller: &Caller,
        req: GetLogRecordRequest,
    ) -> ApiResult<GetLogRecordResponse> {
        let ptr = flowwatch_model::logs::required("logRecordPointer", req.log_record_pointer)?;
        let invalid = || ApiError::invalid_parameter("The specified logRecordPointer is invalid.");
        let (group_id, stream_id, position) = decode_ptr(&ptr).ok_or_else(invalid)?;
        let group = self
            .storage()
            .log_groups(&caller.scope)
            .into_iter()
            // A pointer into an internal group (the audit trail) points nowhere.
            .find(|g| g.id == group_id && !crate::is_internal_group(&g.name))
            .ok_or_else(invalid)?;
        let stream = self
            .storage()
            .log_streams(&caller.scope, &group.name)
            .map_err(storage_error)?
            .into_iter()
            .find(|s| s.id == stream_id)
            .ok_or_else(invalid)?;
        let read = ReadRequest {
            start_ms: position.timestamp,
            end_ms: position.timestamp.saturating_add(1),
            cursor: None,
            direction: Direction::Forward,
            // Events sharing one millisecond of one stream; a page is plenty.
            limit: MAX_READ_PAGE_EVENTS,
            max_bytes: usize::MAX,
        };
        let events = self
            .storage()
            .read_stream(
                StreamKey {
                    group_id,
                    stream_id,
                },
                &read,
            )
            .await
            .map_err(storage_error)?;
        let event = events
            .into_iter()
            .find(|e| e.seq == position.seq)
            .ok_or_else(invalid)?;
        let mut record = BTreeMap::new();
        for (name, value) in flowwatch_query::discover::discover(&event.message) {
            record.insert(name, value);
        }
        record.insert("@timestamp".into(), event.timestamp.to_string());
        record.insert("@ingestionTime".into(), event.ingestion_time.to_string());
        record.insert("@logStream".into(), stream.name);
        record.insert(
            "@log".into(),
            format!("{}:{}", caller.scope.account, group.name),
        );
        record.insert("@message".into(), event.message);
        Ok(GetLogRecordResponse { log_record: record })
    }

    pub async fn get_log_group_fields(
        &self,
        caller: &Caller,
        req: GetLogGroupFieldsRequest,
    ) -> ApiResult<GetLogGroupFieldsResponse> {
        let group = group_name_or_identifier(caller, req.log_group_name, req.log_group_identifier)?;
        let group_id = self
            .storage()
            .log_group_id(&caller.scope, group.as_str())
            .ok_or_else(ApiError::log_group_not_found)?;
        let (start_ms, end_ms) = match req.time {
            Some(t) => {
                let at = t.saturating_mul(1000);
                (at - FIELDS_WINDOW_MS, at + FIELDS_WINDOW_MS)
            }
            None => {
                let now = self.now();
                (now - FIELDS_DEFAULT_MS, now + 1)
            }
        };
        let scan = ScanRequest {
            start_ms: start_ms.max(0),
            end_ms: end_ms.max(0),
            streams: None,
            after: None,
            limit: FIELDS_SAMPLE,
            max_bytes: usize::MAX,
        };
        let events = self
            .storage()
            .scan_group(group_id, &scan, &|_| true)
            .await
            .map_err(storage_error)?;
        if events.is_empty() {
            return Ok(GetLogGroupFieldsResponse::default());
        }
        let total = events.len();
        let counts = tokio::task::spawn_blocking(move || {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for e in &events {
                for (name, _) in flowwatch_query::discover::discover(&e.event.message) {
                    *counts.entry(name).or_default() += 1;
                }
            }
            counts
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut fields: Vec<LogGroupField> = SYSTEM
            .iter()
            .map(|name| LogGroupField {
                name: (*name).to_owned(),
                percent: 100,
            })
            .collect();
        fields.extend(counts.into_iter().map(|(name, n)| LogGroupField {
            name,
            percent: ((n * 100 + total / 2) / total) as i64,
        }));
        fields.sort_by(|a, b| b.percent.cmp(&a.percent).then(a.name.cmp(&b.name)));
        Ok(GetLogGroupFieldsResponse {
            log_group_fields: fields,
        })
    }
}
