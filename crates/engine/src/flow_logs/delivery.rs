//! Routing captured records to the flow logs covering their interface, and delivering them to
//! CloudWatch Logs (S3 in [`super::s3`]): the flowwatch-specific PutFlowRecords
//! (`docs/flow-records.md`).
//!
//! Each record goes to every flow log covering the interface whose traffic type keeps it
//! (ACCEPT or REJECT by the record's action, ALL everything; NODATA and SKIPDATA records have no
//! action and go to all), encoded in that flow log's format. For CloudWatch Logs, the lines of
//! every flow log writing to one group share one stream per interface, `<eni>-all`; the group
//! and the stream are created when missing; an event's timestamp is the record's start (ms).

use std::borrow::Cow;
use std::collections::BTreeMap;

use flowwatch_flowlog::{Action, Field, FlowRecord, LogFormat, Token};
use flowwatch_model::flow_records::{PutFlowRecordsInput, PutFlowRecordsOutput};
use flowwatch_model::logs::{
    CreateLogGroupRequest, InputLogEvent, LogStreamRequest, PutLogEventsRequest,
};
use flowwatch_model::{ApiResult, Caller, ErrorCode, Scope};

use super::backlog::{Lines, delivery_caller};
use super::resource::{Destination, TrafficType, invalid, missing};
use crate::Engine;

/// Most records one PutFlowRecords call takes.
const MAX_RECORDS: usize = 10_000;
/// PutLogEvents' limits: events, bytes (each event counts 26 more) and time span of a batch.
const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD_BYTES: usize = 26;
const MAX_BATCH_SPAN_MS: i64 = 24 * 3600 * 1000;

/// The format PutFlowRecords' lines are in when the call names none: every VPC field.
pub fn full_format() -> LogFormat {
    let fields: Vec<Field> = Field::all()
        .filter(|f| f.scope() != flowwatch_flowlog::Scope::TransitGateway)
        .collect();
    LogFormat::new(fields).unwrap_or_default()
}

/// A destination log group: account, region, name.
type GroupKey = (String, String, String);

impl TrafficType {
    /// Whether a flow log of this traffic type keeps a record with `action`.
    fn keeps(self, action: Option<Action>) -> bool {
        match (self, action) {
            (Self::All, _) | (_, None) => true,
            (Self::Accept, Some(a)) => a == Action::Accept,
            (Self::Reject, Some(a)) => a == Action::Reject,
        }
    }
}

impl Engine {
    /// PutFlowRecords: routes the records of one interface to the flow logs covering it and
    /// delivers them.
    pub async fn put_flow_records(
        &self,
        _caller: &Caller,
        input: PutFlowRecordsInput,
    ) -> ApiResult<PutFlowRecordsOutput> {
        let eni = input.interface_id.ok_or_else(|| missing("interfaceId"))?;
        if !super::resource::is_id(&eni, "eni-") {
            return Err(invalid(format!(
                "interfaceId '{eni}' is not eni- and 8 or 17 hex digits"
            )));
        }
        let format = match input.format.as_deref() {
            None => full_format(),
            Some(text) => {
                LogFormat::parse(text).map_err(|e| invalid(format!("Invalid format: {e}")))?
            }
        };
        let lines = input.records.unwrap_or_default();
        if lines.len() > MAX_RECORDS {
            return Err(invalid(format!(
                "At most {MAX_RECORDS} records may be put at once, not {}",
                lines.len()
            )));
        }
        let records = lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                format
                    .decode(line)
                    .map_err(|e| invalid(format!("records[{i}]: {e}")))
            })
            .collect::<ApiResult<Vec<FlowRecord>>>()?;
        let records = match self
            .config
            .inventory
            .as_ref()
            .and_then(|i| i.interface(&eni))
        {
            Some(place) => records.into_iter().map(|r| enrich(r, place)).collect(),
            None => records,
        };
        let logs = self.flow_logs_covering(&eni).await;
        let mut output = PutFlowRecordsOutput::default();
        let mut groups: BTreeMap<GroupKey, Vec<Lines<'_>>> = BTreeMap::new();
        for log in &logs {
            let Ok(log_format) = LogFormat::parse(&log.log_format) else {
                tracing::error!(flow_log = %log.id, "stored log format does not parse");
                continue;
            };
            output.flow_log_ids.push(log.id.clone());
            let kept = records.iter().filter(|r| log.traffic_type.keeps(r.action));
            match &log.destination {
                Destination::CloudWatchLogs { group } => {
                    let version = Some(log_format.version());
                    let lines = kept
                        .map(|r| {
                            // The version field is the flow log's format's, not the capture's.
                            let mut r = r.clone();
                            r.version = r.version.and(version);
                            (r.start.unwrap_or(0) as i64 * 1000, log_format.encode(&r))
                        })
                        .collect::<Vec<_>>();
                    output.delivered += lines.len();
                    groups
                        .entry((log.account.clone(), log.region.clone(), group.clone()))
                        .or_default()
                        .push(Lines {
                            log,
                            eni: &eni,
                            lines,
                        });
                }
                Destination::S3 { .. } => {
                    output.delivered += self.deliver_to_s3(log, &log_format, kept).await;
                }
            }
        }
        let stream = format!("{eni}-all");
        for ((account, region, group), batches) in groups {
            let scope = Scope { account, region };
            // Each flow log delivers as its role, unless it is refused or already has records
            // waiting: then its records are held (`backlog`).
            let mut direct = Vec::new();
            for batch in batches {
                let refusal = self.role_refusal(batch.log, &group, &stream).await;
                if let Some(reason) = &refusal {
                    tracing::warn!(flow_log = %batch.log.id, %group, %reason, "flow-log delivery refused; records held until the role allows it");
                }
                if self.hold_if_waiting(&batch, refusal.is_some()).await? {
                    if refusal.is_some() {
                        self.set_delivery_status(
                            std::slice::from_ref(&batch.log.id),
                            Some("Access error"),
                        )
                        .await;
                    }
                } else {
                    direct.push(batch);
                }
            }
            if direct.is_empty() {
                continue;
            }
            let mut lines: Vec<(i64, String)> = direct
                .iter()
                .flat_map(|b| b.lines.iter().cloned())
                .collect();
            lines.sort_by_key(|l| l.0);
            let ids: Vec<String> = direct.iter().map(|b| b.log.id.clone()).collect();
            let caller = delivery_caller(&scope, direct[0].log);
            let result = self
                .deliver_to_group(&caller, &scope, &group, &stream, &lines)
                .await;
            let error = match result {
                Ok(()) => None,
                Err(e) => {
                    tracing::warn!(%group, error = %e, "flow-log delivery failed; records held and retried");
                    for batch in &direct {
                        self.hold_after_failure(batch).await?;
                    }
                    Some(status_of(&e))
                }
            };
            self.set_delivery_status(&ids, error).await;
        }
        Ok(output)
    }

    /// Creates the group and stream when missing and puts the lines in PutLogEvents batches.
    pub(super) async fn deliver_to_group(
        &self,
        caller: &Caller,
        scope: &Scope,
        group: &str,
        stream: &str,
        lines: &[(i64, String)],
    ) -> ApiResult<()> {
        let as_owner = Caller {
            scope: scope.clone(),
            ..caller.clone()
        };
        let exists = |r: ApiResult<()>| match r {
            Err(e) if e.code == ErrorCode::ResourceAlreadyExistsException => Ok(()),
            other => other,
        };
        exists(
            self.create_log_group(
                &as_owner,
                CreateLogGroupRequest {
                    log_group_name: Some(group.to_owned()),
                    ..Default::default()
                },
            )
            .await,
        )?;
        exists(
            self.create_log_stream(
                &as_owner,
                LogStreamRequest {
                    log_group_name: Some(group.to_owned()),
                    log_stream_name: Some(stream.to_owned()),
                },
            )
            .await,
        )?;
        let mut start = 0;
        while start < lines.len() {
            let first = lines[start].0;
            let mut end = start;
            let mut bytes = 0;
            while end < lines.len()
                && end - start < MAX_BATCH_EVENTS
                && bytes + lines[end].1.len() + EVENT_OVERHEAD_BYTES <= MAX_BATCH_BYTES
                && lines[end].0 - first <= MAX_BATCH_SPAN_MS
            {
                bytes += lines[end].1.len() + EVENT_OVERHEAD_BYTES;
                end += 1;
            }
            let events = lines[start..end]
                .iter()
                .map(|(timestamp, line)| InputLogEvent {
                    timestamp: Some(*timestamp),
                    message: Some(Cow::Borrowed(line.as_str())),
                })
                .collect();
            self.put_log_events(
                &as_owner,
                PutLogEventsRequest {
                    log_group_name: Some(group.to_owned()),
                    log_stream_name: Some(stream.to_owned()),
                    log_events: Some(events),
                    sequence_token: None,
                    entity: None,
                },
            )
            .await?;
            start = end;
        }
        Ok(())
    }

    /// Records the outcome of a delivery on the flow logs `ids` (`None`: it succeeded).
    pub(super) async fn set_delivery_status(&self, ids: &[String], error: Option<&str>) {
        let result = self
            .flow_logs
            .update_when(|set| {
                let mut changed = false;
                for log in set.logs.iter_mut().filter(|l| ids.contains(&l.id)) {
                    let new = error.map(str::to_owned);
                    if log.delivery_error != new {
                        log.delivery_error = new;
                        changed = true;
                    }
                }
                Ok(((), changed))
            })
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "flow-log delivery status not saved");
        }
    }
}

/// DeliverLogsErrorMessage for a failed delivery.
pub(super) fn status_of(error: &flowwatch_model::ApiError) -> &'static str {
    match error.code {
        ErrorCode::ThrottlingException | ErrorCode::LimitExceededException => "Rate limited",
        ErrorCode::AccessDeniedException => "Access error",
        _ => "Unknown error",
    }
}

/// Fills the fields the inventory knows of a record's interface (`vpc-id`, `subnet-id`,
/// `instance-id`, `az-id`, `region`, `account-id`) where the capture left them unknown.
fn enrich(mut r: FlowRecord, place: &super::Interface) -> FlowRecord {
    let token = |value: &Option<String>| value.as_deref().and_then(|v| Token::new(v).ok());
    let fill = |field: &mut Option<Token>, value: &Option<String>| {
        if field.is_none() {
            *field = token(value);
        }
    };
    fill(&mut r.vpc_id, &place.vpc_id);
    fill(&mut r.subnet_id, &place.subnet_id);
    fill(&mut r.instance_id, &place.instance_id);
    fill(&mut r.az_id, &place.az_id);
    fill(&mut r.region, &place.region);
    fill(&mut r.account_id, &place.account);
    r
}
