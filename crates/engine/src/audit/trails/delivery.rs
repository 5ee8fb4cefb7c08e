//! Delivery of management records to the log groups of the trails logging them.

use std::collections::HashMap;

use flowwatch_model::{ApiError, ApiResult, Scope};
use flowwatch_storage::{EventRef, StorageError};

use super::log_group_of;
use crate::audit::Built;
use crate::{Engine, storage_error};

/// The latest delivery of a trail to its log group (kept in memory).
#[derive(Debug, Clone, Default)]
pub struct DeliveryStatus {
    pub(crate) latest_ms: Option<i64>,
    pub(crate) latest_error: Option<String>,
}

/// The in-memory delivery statuses of trails, by ARN.
pub type Deliveries = std::sync::Mutex<HashMap<String, DeliveryStatus>>;

impl Engine {
    /// Delivers one management record of `scope` to the log group of every trail logging it
    /// (a global service's only to trails that include global service events).
    pub(crate) async fn deliver_to_trails(&self, scope: &Scope, time_ms: i64, record: &Built) {
        let json = record.json.as_str();
        let facts = super::Facts {
            management: record.management,
            read_only: record.read_only,
            event_source: record.event_source.to_owned(),
        };
        let targets: Vec<(String, String)> = self
            .trails
            .read(|set| {
                set.trails
                    .iter()
                    .filter(|(_, t)| t.logging && t.visible_in(scope))
                    .filter(|(_, t)| t.include_global_service_events || !record.global)
                    .filter(|(_, t)| t.selects_facts(&facts))
                    .filter_map(|(arn, t)| Some((arn.clone(), t.log_group_arn.clone()?)))
                    .collect()
            })
            .await;
        for (trail, group_arn) in targets {
            let outcome = self.deliver(scope, &group_arn, time_ms, json).await;
            let mut deliveries = self
                .trail_deliveries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let status = deliveries.entry(trail).or_default();
            match outcome {
                Ok(()) => {
                    status.latest_ms = Some(time_ms);
                    status.latest_error = None;
                }
                Err(error) => {
                    tracing::warn!(%group_arn, code = %error.code, "trail delivery failed");
                    status.latest_error = Some(error.message);
                }
            }
        }
    }

    async fn deliver(
        &self,
        scope: &Scope,
        group_arn: &str,
        time_ms: i64,
        json: &str,
    ) -> ApiResult<()> {
        let (region, account, group) =
            log_group_of(group_arn).ok_or_else(ApiError::log_group_not_found)?;
        let group_scope = Scope {
            account: account.to_owned(),
            region: region.to_owned(),
        };
        let stream = format!("{}_CloudTrail_{}", scope.account, scope.region);
        let key = loop {
            match self.storage().stream_key(&group_scope, group, &stream) {
                Ok((key, _)) => break key,
                Err(StorageError::LogStreamNotFound) => {
                    match self
                        .storage()
                        .create_log_stream(&group_scope, group, &stream)
                        .await
                    {
                        Ok(_) | Err(StorageError::LogStreamExists) => {}
                        Err(e) => return Err(storage_error(e)),
                    }
                }
                Err(e) => return Err(storage_error(e)),
            }
        };
        let event = EventRef {
            timestamp: time_ms,
            message: json,
        };
        self.storage()
            .append(key, time_ms, &[event])
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}
