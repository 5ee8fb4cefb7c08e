//! flowwatch's own log groups (`aws/...`, a prefix reserved to AWS, so no user group can
//! collide): out of the Logs API's reach (`logs::internal`), used to make engine work durable
//! through the storage engine (PutMetricData's datums, S3 delivery's buffered flow-log
//! records, the audit trail).

use flowwatch_model::retention::RetentionDays;
use flowwatch_model::{ApiResult, Scope};
use flowwatch_storage::{EventRef, NewLogGroup, StorageError, StreamKey};

use crate::{Engine, storage_error};

/// Whether a log group is flowwatch's own (hidden from the Logs API).
pub(crate) fn is_internal_group(name: &str) -> bool {
    name.starts_with("aws/")
}

impl Engine {
    /// Stream `stream` of the internal group `group` in `scope`, created (with the group, kept
    /// `retention_days`) on first use. `on_new_group` runs with a group's id when this call
    /// created it, before the checkpoint that records it (an ingest observer registers the
    /// group there, so that a replay after a crash applies its events too).
    pub(crate) async fn internal_stream(
        &self,
        scope: &Scope,
        group: &str,
        stream: &str,
        retention_days: i64,
        on_new_group: impl Fn(i64),
    ) -> ApiResult<StreamKey> {
        loop {
            match self.storage().stream_key(scope, group, stream) {
                Ok((key, _)) => return Ok(key),
                Err(StorageError::LogGroupNotFound) => {
                    let created = self
                        .storage()
                        .create_log_group(
                            scope,
                            group,
                            NewLogGroup {
                                class: "STANDARD".to_owned(),
                                ..NewLogGroup::default()
                            },
                        )
                        .await;
                    match created {
                        Ok(info) => {
                            on_new_group(info.id);
                            self.storage().flush().await.map_err(storage_error)?;
                            let days = RetentionDays::parse(retention_days)?;
                            self.storage()
                                .update_log_group(scope, group, move |g| {
                                    g.retention = Some(days);
                                    Ok(())
                                })
                                .await
                                .map_err(storage_error)?;
                        }
                        Err(StorageError::LogGroupExists) => {}
                        Err(e) => return Err(storage_error(e)),
                    }
                }
                Err(StorageError::LogStreamNotFound) => {
                    match self.storage().create_log_stream(scope, group, stream).await {
                        Ok(_) | Err(StorageError::LogStreamExists) => {}
                        Err(e) => return Err(storage_error(e)),
                    }
                }
                Err(e) => return Err(storage_error(e)),
            }
        }
    }

    /// Appends `messages` durably to internal stream `key`, each stamped now; returns the
    /// sequence number of the first.
    pub(crate) async fn append_internal(
        &self,
        key: StreamKey,
        messages: &[String],
    ) -> ApiResult<u64> {
        let now = self.now();
        let events: Vec<EventRef<'_>> = messages
            .iter()
            .map(|message| EventRef {
                timestamp: now,
                message,
            })
            .collect();
        self.storage()
            .append(key, now, &events)
            .await
            .map_err(storage_error)
    }
}
