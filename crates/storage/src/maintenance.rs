//! Background upkeep: retention, compaction, deferred object deletes and crash orphans.

use std::collections::HashSet;

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;

use crate::db::Storage;
use crate::error::Result;
use crate::segment::{self, Row, RowWanted};
use crate::types::SegmentMeta;

impl Storage {
    /// Drops whole segments whose newest event is past their group's retention.
    pub async fn enforce_retention(&self) -> Result<()> {
        let shared = self.shared().clone();
        let expired: Vec<i64> = {
            let catalog = shared.catalog();
            catalog
                .all_groups()
                .filter(|g| g.retention.is_some())
                .flat_map(|g| {
                    let floor = shared.retention_floor(g.retention);
                    catalog
                        .segments(g.id)
                        .iter()
                        .filter(move |s| s.max_ts < floor)
                        .map(|s| s.id)
                })
                .collect()
        };
        if expired.is_empty() {
            return Ok(());
        }
        tracing::info!(segments = expired.len(), "retention drops expired segments");
        let now = shared.clock.now_millis();
        shared
            .catalog()
            .commit_segments(Vec::new(), &expired, None, &[], now)?;
        self.delete_pending_objects().await
    }

    /// Merges each group's small segments into one, dropping rows of deleted streams and rows
    /// past retention.
    pub async fn compact(&self) -> Result<()> {
        let shared = self.shared().clone();
        let config = &shared.config;
        let plans: Vec<(i64, Vec<SegmentMeta>)> = {
            let catalog = shared.catalog();
            catalog
                .all_groups()
                .filter_map(|g| {
                    let small: Vec<SegmentMeta> = catalog
                        .segments(g.id)
                        .iter()
                        .filter(|s| s.byte_size < config.compact_below_bytes)
                        .cloned()
                        .collect();
                    (small.len() >= config.compact_min_segments).then_some((g.id, small))
                })
                .collect()
        };
        for (group_id, inputs) in plans {
            let (alive, names, floor) = {
                let catalog = shared.catalog();
                let Some(group) = catalog.group_by_id(group_id) else {
                    continue;
                };
                let names: std::collections::BTreeMap<i64, String> = catalog
                    .streams(group_id)
                    .map(|s| s.values().map(|s| (s.id, s.name.clone())).collect())
                    .unwrap_or_default();
                let alive: HashSet<i64> = names.keys().copied().collect();
                (alive, names, shared.retention_floor(group.retention))
            };
            let mut rows = Vec::new();
            for seg in &inputs {
                let wanted = RowWanted {
                    stream_id: None,
                    min_ts: floor,
                    end_ts: i64::MAX,
                };
                segment::read_rows(&shared.store, seg, wanted, |sid, e| {
                    if alive.contains(&sid) {
                        rows.push(Row {
                            stream_id: sid,
                            timestamp: e.timestamp,
                            ingestion_time: e.ingestion_time,
                            seq: e.seq,
                            message: e.message,
                        });
                    }
                })
                .await?;
            }
            rows.sort_by_key(|r| (r.stream_id, r.timestamp, r.seq));
            let ids: Vec<i64> = inputs.iter().map(|s| s.id).collect();
            let added = if rows.is_empty() {
                Vec::new()
            } else {
                let path = format!(
                    "g{group_id}/{:020}-c{}.parquet",
                    rows.iter().map(|r| r.seq).max().unwrap_or(0),
                    ids.first().copied().unwrap_or(0)
                );
                let row_group_rows = config.row_group_rows;
                let written = tokio::task::spawn_blocking(move || {
                    let mut writer = segment::SegmentWriter::new(group_id, &path, row_group_rows)?;
                    for r in &rows {
                        let name = names.get(&r.stream_id).map_or("", String::as_str);
                        writer.push(
                            r.stream_id,
                            name,
                            r.timestamp,
                            r.ingestion_time,
                            r.seq,
                            &r.message,
                        )?;
                    }
                    writer.finish()
                })
                .await
                .map_err(|e| crate::StorageError::Task(e.to_string()))??;
                let Some((bytes, meta)) = written else {
                    continue;
                };
                shared
                    .store
                    .put(&ObjectPath::from(meta.path.as_str()), bytes.into())
                    .await?;
                vec![meta]
            };
            tracing::info!(group_id, inputs = ids.len(), "compacted segments");
            let now = shared.clock.now_millis();
            shared
                .catalog()
                .commit_segments(added, &ids, None, &[], now)?;
        }
        self.delete_pending_objects().await
    }

    /// Deletes objects the catalog no longer lists (removed groups, compacted or expired
    /// segments).
    pub async fn delete_pending_objects(&self) -> Result<()> {
        let shared = self.shared();
        // A whole-group pass may be reading these objects: leave them for a later round.
        let Ok(_no_pass) = shared.passes.try_write() else {
            tracing::debug!("object deletes deferred: a query is reading segments");
            return Ok(());
        };
        let paths = shared.catalog().pending_object_deletes()?;
        for path in paths {
            match shared.store.delete(&ObjectPath::from(path.as_str())).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {
                    shared.catalog().forget_object_delete(&path)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Removes segment objects a crash left behind before the catalog listed them.
    pub(crate) async fn remove_orphans(&self) -> Result<()> {
        let shared = self.shared();
        let known = shared.catalog().known_paths();
        let objects: Vec<_> = shared.store.list(None).try_collect().await?;
        for object in objects {
            let path = object.location.to_string();
            if path.ends_with(".parquet") && !known.contains(&path) {
                tracing::info!(%path, "removing a segment no catalog entry lists");
                shared.store.delete(&object.location).await?;
            }
        }
        self.delete_pending_objects().await
    }
}
