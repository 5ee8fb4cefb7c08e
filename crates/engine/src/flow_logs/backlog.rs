//! Records a flow log could not deliver to its log group yet (its role refused, or the
//! delivery failed), kept until it can: the flow logs service retries, so fixing a role resumes
//! delivery without losing a record.
//!
//! A held record is appended durably, as an event of the flow log's stream in the internal
//! group [`BACKLOG_GROUP`] (`<timestamp ms> <eni> <line in the flow log's format>`), before
//! PutFlowRecords answers. While a flow log has held records, its new records are held too, so
//! they reach the group in order. Every delivery tick (and at once when a role changes) the
//! backlog of each waiting flow log is delivered from its mark (the [`Position`] of the last
//! event delivered, saved in the catalog as `flow_log_backlog`) if the role now allows it; the
//! mark moves after each page. A crash between a page's delivery and its mark delivers that
//! page again (at least once); none is lost. The internal group keeps its events one day, the
//! time a refused delivery is retried.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::PoisonError;

use flowwatch_model::{ApiResult, Caller, Scope};
use flowwatch_storage::{Direction, Position, ReadRequest, StreamKey};
use serde::{Deserialize, Serialize};

use super::resource::{Destination, FlowLog};
use crate::Engine;
use crate::state::Persisted;

/// The internal log group holding held records: one stream per flow log.
pub const BACKLOG_GROUP: &str = "aws/vpcflowlogs/cwl-pending";

/// Events read back per page.
const PAGE_EVENTS: usize = 10_000;

/// Per flow log, the position of the last [`BACKLOG_GROUP`] event delivered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Delivered {
    marks: BTreeMap<String, (i64, u64)>,
}

/// The backlogs of flow logs delivering to CloudWatch Logs.
#[derive(Debug)]
pub(crate) struct Backlog {
    delivered: Persisted<Delivered>,
    /// Flow logs with held records not delivered yet. Never held across an await.
    waiting: std::sync::Mutex<BTreeSet<String>>,
    /// Held from a flow log's "is it waiting?" to its records' append, and by a drain from
    /// "is its backlog empty?" to taking it off `waiting`, so no record is left behind.
    holding: tokio::sync::Mutex<()>,
    /// Wakes the delivery loop (a role changed).
    pub(crate) wake: tokio::sync::Notify,
}

impl Backlog {
    pub(crate) fn new(delivered: Persisted<Delivered>) -> Self {
        Self {
            delivered,
            waiting: std::sync::Mutex::default(),
            holding: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
        }
    }

    fn is_waiting(&self, id: &str) -> bool {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
    }

    fn set_waiting(&self, id: &str, waiting: bool) {
        let mut set = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if waiting {
            set.insert(id.to_owned());
        } else {
            set.remove(id);
        }
    }
}

/// The lines one flow log sends to one group: (timestamp ms, line).
pub(super) struct Lines<'a> {
    pub log: &'a FlowLog,
    pub eni: &'a str,
    pub lines: Vec<(i64, String)>,
}

impl Engine {
    /// Holds `lines` in the backlog when their flow log already waits or `refused`; returns
    /// whether it did. The lines are durable when this returns `Ok(true)`.
    pub(super) async fn hold_if_waiting(
        &self,
        lines: &Lines<'_>,
        refused: bool,
    ) -> ApiResult<bool> {
        let backlog = &self.flow_log_backlog;
        let _holding = backlog.holding.lock().await;
        if !refused && !backlog.is_waiting(&lines.log.id) {
            return Ok(false);
        }
        self.hold(lines).await?;
        backlog.set_waiting(&lines.log.id, true);
        Ok(true)
    }

    /// Holds `lines` whatever the flow log's state (a direct delivery of them failed).
    pub(super) async fn hold_after_failure(&self, lines: &Lines<'_>) -> ApiResult<()> {
        let backlog = &self.flow_log_backlog;
        let _holding = backlog.holding.lock().await;
        self.hold(lines).await?;
        backlog.set_waiting(&lines.log.id, true);
        Ok(())
    }

    async fn hold(&self, lines: &Lines<'_>) -> ApiResult<()> {
        if lines.lines.is_empty() {
            return Ok(());
        }
        let key = self.backlog_stream(lines.log).await?;
        let messages: Vec<String> = lines
            .lines
            .iter()
            .map(|(timestamp, line)| format!("{timestamp} {} {line}", lines.eni))
            .collect();
        self.append_internal(key, &messages).await?;
        Ok(())
    }

    async fn backlog_stream(&self, log: &FlowLog) -> ApiResult<StreamKey> {
        let scope = Scope {
            account: log.account.clone(),
            region: log.region.clone(),
        };
        self.internal_stream(&scope, BACKLOG_GROUP, &log.id, 1, |_| {})
            .await
    }

    /// Finds the flow logs whose backlog was not delivered before the server stopped (run
    /// once, when the engine opens).
    pub(crate) async fn load_flow_log_backlogs(&self) {
        let logs = self.flow_logs.read(|set| set.logs.clone()).await;
        for log in logs {
            if matches!(log.destination, Destination::CloudWatchLogs { .. })
                && !self
                    .backlog_page(&log, 1)
                    .await
                    .unwrap_or_default()
                    .is_empty()
            {
                self.flow_log_backlog.set_waiting(&log.id, true);
            }
        }
    }

    /// The next `limit` held events of flow log `log` after its mark, oldest first.
    async fn backlog_page(
        &self,
        log: &FlowLog,
        limit: usize,
    ) -> ApiResult<Vec<flowwatch_storage::StoredEvent>> {
        let scope = Scope {
            account: log.account.clone(),
            region: log.region.clone(),
        };
        let Ok((key, _)) = self.storage().stream_key(&scope, BACKLOG_GROUP, &log.id) else {
            return Ok(Vec::new());
        };
        let mark = self
            .flow_log_backlog
            .delivered
            .read(|d| d.marks.get(&log.id).copied())
            .await;
        let request = ReadRequest {
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            cursor: mark.map(|(timestamp, seq)| Position { timestamp, seq }),
            direction: Direction::Forward,
            limit,
            max_bytes: 16 << 20,
        };
        self.storage()
            .read_stream(key, &request)
            .await
            .map_err(crate::storage_error)
    }

    /// Delivers the backlog of every waiting flow log whose role allows it now.
    pub(crate) async fn drain_flow_log_backlogs(&self) {
        let waiting: Vec<String> = self
            .flow_log_backlog
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        for id in waiting {
            let log = self
                .flow_logs
                .read(|set| set.logs.iter().find(|l| l.id == id).cloned())
                .await;
            match log {
                Some(log) => self.drain_backlog(&log).await,
                // Deleted: its records go nowhere, as in AWS.
                None => self.flow_log_backlog.set_waiting(&id, false),
            }
        }
    }

    async fn drain_backlog(&self, log: &FlowLog) {
        let Destination::CloudWatchLogs { group } = &log.destination else {
            self.flow_log_backlog.set_waiting(&log.id, false);
            return;
        };
        loop {
            let page = match self.backlog_page(log, PAGE_EVENTS).await {
                Ok(page) => page,
                Err(error) => {
                    tracing::error!(flow_log = %log.id, %error, "flow-log backlog not read");
                    return;
                }
            };
            let Some(last) = page.last().map(|e| e.position()) else {
                // Empty: done, unless records were held meanwhile.
                let _holding = self.flow_log_backlog.holding.lock().await;
                if self.backlog_page(log, 1).await.is_ok_and(|p| p.is_empty()) {
                    self.flow_log_backlog.set_waiting(&log.id, false);
                    self.set_delivery_status(std::slice::from_ref(&log.id), None)
                        .await;
                    tracing::info!(flow_log = %log.id, "flow-log backlog delivered");
                    return;
                }
                continue;
            };
            let mut by_eni: BTreeMap<&str, Vec<(i64, String)>> = BTreeMap::new();
            for event in &page {
                let mut parts = event.message.splitn(3, ' ');
                let (Some(timestamp), Some(eni), Some(line)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let Ok(timestamp) = timestamp.parse::<i64>() else {
                    continue;
                };
                by_eni
                    .entry(eni)
                    .or_default()
                    .push((timestamp, line.to_owned()));
            }
            for eni in by_eni.keys() {
                let stream = format!("{eni}-all");
                if let Some(reason) = self.role_refusal(log, group, &stream).await {
                    tracing::debug!(flow_log = %log.id, %reason, "flow-log backlog still refused");
                    self.set_delivery_status(std::slice::from_ref(&log.id), Some("Access error"))
                        .await;
                    return;
                }
            }
            let scope = Scope {
                account: log.account.clone(),
                region: log.region.clone(),
            };
            let caller = delivery_caller(&scope, log);
            for (eni, mut lines) in by_eni {
                lines.sort_by_key(|l| l.0);
                let stream = format!("{eni}-all");
                if let Err(error) = self
                    .deliver_to_group(&caller, &scope, group, &stream, &lines)
                    .await
                {
                    tracing::warn!(flow_log = %log.id, %group, %error, "flow-log backlog delivery failed; retried later");
                    self.set_delivery_status(
                        std::slice::from_ref(&log.id),
                        Some(super::delivery::status_of(&error)),
                    )
                    .await;
                    return;
                }
            }
            let marked = self
                .flow_log_backlog
                .delivered
                .update(|d| {
                    d.marks.insert(log.id.clone(), (last.timestamp, last.seq));
                    Ok(())
                })
                .await;
            if let Err(error) = marked {
                tracing::error!(flow_log = %log.id, %error, "flow-log backlog mark not saved; a page may be delivered again");
                return;
            }
        }
    }
}

/// The caller a delivery acts as: a session of the flow log's role.
pub(super) fn delivery_caller(scope: &Scope, log: &FlowLog) -> Caller {
    Caller {
        scope: scope.clone(),
        access_key_id: String::new(),
        principal_arn: log.deliver_logs_permission_arn.clone().unwrap_or_default(),
        request_id: uuid::Uuid::new_v4().to_string(),
    }
}
