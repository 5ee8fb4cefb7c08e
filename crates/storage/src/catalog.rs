//! The catalog: log groups, streams, tags, segments and the WAL checkpoint in embedded SQLite,
//! with an in-memory copy of groups and streams so the hot path never queries SQLite.
//!
//! The schema evolves only through [`MIGRATIONS`] (`PRAGMA user_version` records how many ran).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use flowwatch_model::{RetentionDays, Scope, Tags};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, StorageError};

mod migrations;

use crate::types::{LogGroupInfo, LogStreamInfo, NewLogGroup, SegmentMeta, StreamStats};
use migrations::migrate;

type GroupKey = (String, String, String);

/// The catalog and its cache. Not thread-safe by itself; [`crate::Storage`] wraps it in a mutex.
#[derive(Debug)]
pub(crate) struct Catalog {
    conn: Connection,
    groups: HashMap<GroupKey, LogGroupInfo>,
    /// Group id → streams by name.
    streams: HashMap<i64, BTreeMap<String, LogStreamInfo>>,
    /// Group id → its key in `groups`.
    group_keys: HashMap<i64, GroupKey>,
    /// Stream id → (group id, name).
    stream_names: HashMap<i64, (i64, String)>,
    /// Group id → metric filter name → definition (engine JSON).
    metric_filters: HashMap<i64, BTreeMap<String, String>>,
    /// Streams whose statistics changed since they were last written to SQLite.
    dirty_streams: std::collections::HashSet<i64>,
    /// Group id → its segments, oldest first.
    segments: HashMap<i64, Vec<SegmentMeta>>,
    flushed_seq: u64,
}

fn group_key(scope: &Scope, name: &str) -> GroupKey {
    (scope.account.clone(), scope.region.clone(), name.to_owned())
}

impl Catalog {
    /// Opens (creating and migrating) the catalog at `path` and loads the cache.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        let mut catalog = Self {
            conn,
            groups: HashMap::new(),
            streams: HashMap::new(),
            group_keys: HashMap::new(),
            stream_names: HashMap::new(),
            dirty_streams: std::collections::HashSet::new(),
            metric_filters: HashMap::new(),
            segments: HashMap::new(),
            flushed_seq: 0,
        };
        catalog.load()?;
        Ok(catalog)
    }

    fn load(&mut self) -> Result<()> {
        let mut tags: HashMap<i64, Tags> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT group_id, key, value FROM log_group_tags")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (id, k, v) = row?;
                tags.entry(id).or_default().insert(k, v);
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, account, region, name, creation_time, retention_days, kms_key_id, class,
                    deletion_protection FROM log_groups",
        )?;
        let groups = stmt
            .query_map([], |r| {
                let retention: Option<i64> = r.get(5)?;
                Ok(LogGroupInfo {
                    id: r.get(0)?,
                    scope: Scope {
                        account: r.get(1)?,
                        region: r.get(2)?,
                    },
                    name: r.get(3)?,
                    creation_time: r.get(4)?,
                    retention: retention.and_then(|d| RetentionDays::parse(d).ok()),
                    kms_key_id: r.get(6)?,
                    class: r.get(7)?,
                    deletion_protection: r.get(8)?,
                    tags: Tags::new(),
                    stored_bytes: 0,
                    metric_filter_count: 0,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        for mut group in groups {
            group.tags = tags.remove(&group.id).unwrap_or_default();
            self.streams.entry(group.id).or_default();
            let key = group_key(&group.scope, &group.name);
            self.group_keys.insert(group.id, key.clone());
            self.groups.insert(key, group);
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, group_id, name, creation_time, first_event_ts, last_event_ts,
                    last_ingestion_time FROM log_streams",
        )?;
        let streams = stmt
            .query_map([], |r| {
                Ok(LogStreamInfo {
                    id: r.get(0)?,
                    group_id: r.get(1)?,
                    name: r.get(2)?,
                    creation_time: r.get(3)?,
                    stats: StreamStats {
                        first_event_timestamp: r.get(4)?,
                        last_event_timestamp: r.get(5)?,
                        last_ingestion_time: r.get(6)?,
                        stored_bytes: 0,
                    },
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        for stream in streams {
            self.streams
                .entry(stream.group_id)
                .or_default()
                .insert(stream.name.clone(), stream.clone());
            self.stream_names
                .insert(stream.id, (stream.group_id, stream.name));
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, group_id, path, format_version, min_ts, max_ts, row_count, byte_size,
                    kind
             FROM segments ORDER BY id",
        )?;
        let segments = stmt
            .query_map([], |r| {
                Ok(SegmentMeta {
                    id: r.get(0)?,
                    group_id: r.get(1)?,
                    path: r.get(2)?,
                    format_version: r.get(3)?,
                    min_ts: r.get(4)?,
                    max_ts: r.get(5)?,
                    row_count: r.get::<_, i64>(6)? as u64,
                    byte_size: r.get::<_, i64>(7)? as u64,
                    kind: r.get(8)?,
                    streams: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        let mut seg_streams: HashMap<i64, Vec<(i64, i64, i64, u64)>> = HashMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT segment_id, stream_id, min_ts, max_ts, row_count FROM segment_streams",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                (r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, i64>(4)? as u64),
            ))
        })?;
        for row in rows {
            let (seg, s) = row?;
            seg_streams.entry(seg).or_default().push(s);
        }
        drop(stmt);
        for mut seg in segments {
            seg.streams = seg_streams.remove(&seg.id).unwrap_or_default();
            self.segments.entry(seg.group_id).or_default().push(seg);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT group_id, name, definition FROM metric_filters")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (gid, name, def) = row?;
            self.metric_filters
                .entry(gid)
                .or_default()
                .insert(name, def);
        }
        drop(stmt);
        self.flushed_seq = self.conn.query_row(
            "SELECT flushed_seq FROM wal_checkpoint WHERE id = 1",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64;
        Ok(())
    }

    pub(crate) fn flushed_seq(&self) -> u64 {
        self.flushed_seq
    }

    pub(crate) fn group(&self, scope: &Scope, name: &str) -> Option<&LogGroupInfo> {
        self.groups.get(&group_key(scope, name))
    }

    /// The id of a group, or LogGroupNotFound.
    pub(crate) fn group_id(&self, scope: &Scope, name: &str) -> Result<i64> {
        self.group(scope, name)
            .map(|g| g.id)
            .ok_or(StorageError::LogGroupNotFound)
    }

    /// A copy of a group with its derived counts filled in.
    pub(crate) fn group_view(&self, info: &LogGroupInfo) -> LogGroupInfo {
        let mut info = info.clone();
        info.metric_filter_count = self.metric_filter_count(info.id);
        info
    }

    pub(crate) fn group_by_id(&self, id: i64) -> Option<&LogGroupInfo> {
        self.groups.get(self.group_keys.get(&id)?)
    }

    /// Groups of one account and region, sorted by name.
    pub(crate) fn groups(&self, scope: &Scope) -> Vec<LogGroupInfo> {
        let mut groups: Vec<LogGroupInfo> = self
            .groups
            .values()
            .filter(|g| &g.scope == scope)
            .map(|g| self.group_view(g))
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        groups
    }

    pub(crate) fn all_groups(&self) -> impl Iterator<Item = &LogGroupInfo> {
        self.groups.values()
    }

    pub(crate) fn streams(&self, group_id: i64) -> Option<&BTreeMap<String, LogStreamInfo>> {
        self.streams.get(&group_id)
    }

    pub(crate) fn stream_exists(&self, group_id: i64, stream_id: i64) -> bool {
        self.stream_names
            .get(&stream_id)
            .is_some_and(|(g, _)| *g == group_id)
    }

    pub(crate) fn stream_mut(
        &mut self,
        group_id: i64,
        stream_id: i64,
    ) -> Option<&mut LogStreamInfo> {
        let (g, name) = self.stream_names.get(&stream_id)?;
        if *g != group_id {
            return None;
        }
        self.dirty_streams.insert(stream_id);
        self.streams.get_mut(&group_id)?.get_mut(name)
    }

    pub(crate) fn segments(&self, group_id: i64) -> &[SegmentMeta] {
        self.segments.get(&group_id).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn create_group(
        &mut self,
        scope: &Scope,
        name: &str,
        spec: &NewLogGroup,
        now: i64,
        max_groups: usize,
    ) -> Result<LogGroupInfo> {
        let key = group_key(scope, name);
        if self.groups.contains_key(&key) {
            return Err(StorageError::LogGroupExists);
        }
        let in_scope = self
            .groups
            .keys()
            .filter(|k| k.0 == key.0 && k.1 == key.1)
            .count();
        if in_scope >= max_groups {
            return Err(StorageError::TooManyLogGroups { limit: max_groups });
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO accounts (id, created_at) VALUES (?1, ?2)",
            params![scope.account, now],
        )?;
        tx.execute(
            "INSERT INTO log_groups (account, region, name, creation_time, kms_key_id, class,
                                     deletion_protection)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                scope.account,
                scope.region,
                name,
                now,
                spec.kms_key_id,
                spec.class,
                spec.deletion_protection
            ],
        )?;
        let id = tx.last_insert_rowid();
        for (k, v) in &spec.tags {
            tx.execute(
                "INSERT INTO log_group_tags (group_id, key, value) VALUES (?1, ?2, ?3)",
                params![id, k, v],
            )?;
        }
        tx.commit()?;
        let info = LogGroupInfo {
            id,
            scope: scope.clone(),
            name: name.to_owned(),
            creation_time: now,
            retention: None,
            kms_key_id: spec.kms_key_id.clone(),
            class: spec.class.clone(),
            deletion_protection: spec.deletion_protection,
            tags: spec.tags.clone(),
            stored_bytes: 0,
            metric_filter_count: 0,
        };
        self.group_keys.insert(id, key.clone());
        self.groups.insert(key, info.clone());
        self.streams.insert(id, BTreeMap::new());
        Ok(info)
    }

    /// Deletes a group, its streams and its tags; its segments' objects are queued for deletion.
    pub(crate) fn delete_group(&mut self, scope: &Scope, name: &str) -> Result<LogGroupInfo> {
        let key = group_key(scope, name);
        let info = self
            .groups
            .get(&key)
            .cloned()
            .ok_or(StorageError::LogGroupNotFound)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO pending_object_deletes (path)
             SELECT path FROM segments WHERE group_id = ?1",
            params![info.id],
        )?;
        tx.execute("DELETE FROM segments WHERE group_id = ?1", params![info.id])?;
        tx.execute("DELETE FROM log_groups WHERE id = ?1", params![info.id])?;
        tx.commit()?;
        self.groups.remove(&key);
        self.group_keys.remove(&info.id);
        self.metric_filters.remove(&info.id);
        if let Some(streams) = self.streams.remove(&info.id) {
            for stream in streams.values() {
                self.stream_names.remove(&stream.id);
            }
        }
        self.segments.remove(&info.id);
        Ok(info)
    }

    /// Applies `update` to a group in SQLite and in the cache.
    pub(crate) fn update_group(
        &mut self,
        scope: &Scope,
        name: &str,
        update: impl FnOnce(&mut LogGroupInfo) -> Result<()>,
    ) -> Result<LogGroupInfo> {
        let key = group_key(scope, name);
        let mut info = self
            .groups
            .get(&key)
            .cloned()
            .ok_or(StorageError::LogGroupNotFound)?;
        update(&mut info)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE log_groups SET retention_days = ?2, deletion_protection = ?3 WHERE id = ?1",
            params![
                info.id,
                info.retention.map(|r| i64::from(r.days())),
                info.deletion_protection
            ],
        )?;
        tx.execute(
            "DELETE FROM log_group_tags WHERE group_id = ?1",
            params![info.id],
        )?;
        for (k, v) in &info.tags {
            tx.execute(
                "INSERT INTO log_group_tags (group_id, key, value) VALUES (?1, ?2, ?3)",
                params![info.id, k, v],
            )?;
        }
        tx.commit()?;
        self.groups.insert(key, info.clone());
        Ok(info)
    }

    pub(crate) fn create_stream(
        &mut self,
        group_id: i64,
        name: &str,
        now: i64,
    ) -> Result<LogStreamInfo> {
        let streams = self
            .streams
            .get(&group_id)
            .ok_or(StorageError::LogGroupNotFound)?;
        if streams.contains_key(name) {
            return Err(StorageError::LogStreamExists);
        }
        self.conn.execute(
            "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?1, ?2, ?3)",
            params![group_id, name, now],
        )?;
        let info = LogStreamInfo {
            id: self.conn.last_insert_rowid(),
            group_id,
            name: name.to_owned(),
            creation_time: now,
            stats: StreamStats::default(),
        };
        self.streams
            .entry(group_id)
            .or_default()
            .insert(name.to_owned(), info.clone());
        self.stream_names
            .insert(info.id, (group_id, name.to_owned()));
        Ok(info)
    }

    pub(crate) fn delete_stream(&mut self, group_id: i64, name: &str) -> Result<LogStreamInfo> {
        let info = self
            .streams
            .get(&group_id)
            .and_then(|s| s.get(name))
            .cloned()
            .ok_or(StorageError::LogStreamNotFound)?;
        self.conn
            .execute("DELETE FROM log_streams WHERE id = ?1", params![info.id])?;
        if let Some(streams) = self.streams.get_mut(&group_id) {
            streams.remove(name);
        }
        self.stream_names.remove(&info.id);
        Ok(info)
    }

    /// Records flushed segments, the streams' statistics and the new WAL checkpoint in one
    /// transaction, and removes `replaced` segments (compaction, retention) in the same one.
    pub(crate) fn commit_segments(
        &mut self,
        added: Vec<SegmentMeta>,
        replaced: &[i64],
        flushed_seq: Option<u64>,
        observer_state: &[(String, Vec<u8>)],
        now: i64,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        for (name, state) in observer_state {
            tx.execute(
                "INSERT INTO observer_state (name, state) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET state = excluded.state",
                params![name, state],
            )?;
        }
        let mut committed = Vec::with_capacity(added.len());
        for mut seg in added {
            // A group deleted while its segment was being written: drop the object later.
            let alive: bool = tx
                .query_row(
                    "SELECT 1 FROM log_groups WHERE id = ?1",
                    params![seg.group_id],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if !alive {
                tx.execute(
                    "INSERT OR IGNORE INTO pending_object_deletes (path) VALUES (?1)",
                    params![seg.path],
                )?;
                continue;
            }
            tx.execute(
                "INSERT INTO segments (group_id, path, format_version, min_ts, max_ts, row_count,
                                       byte_size, created_at, kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    seg.group_id,
                    seg.path,
                    seg.format_version,
                    seg.min_ts,
                    seg.max_ts,
                    seg.row_count as i64,
                    seg.byte_size as i64,
                    now,
                    seg.kind
                ],
            )?;
            seg.id = tx.last_insert_rowid();
            for (stream_id, min_ts, max_ts, rows) in &seg.streams {
                tx.execute(
                    "INSERT INTO segment_streams (segment_id, stream_id, min_ts, max_ts, row_count)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![seg.id, stream_id, min_ts, max_ts, *rows as i64],
                )?;
            }
            committed.push(seg);
        }
        for id in replaced {
            tx.execute(
                "INSERT OR IGNORE INTO pending_object_deletes (path)
                 SELECT path FROM segments WHERE id = ?1",
                params![id],
            )?;
            tx.execute("DELETE FROM segments WHERE id = ?1", params![id])?;
        }
        for id in &self.dirty_streams {
            let Some((group_id, name)) = self.stream_names.get(id) else {
                continue;
            };
            let Some(s) = self.streams.get(group_id).and_then(|m| m.get(name)) else {
                continue;
            };
            tx.execute(
                "UPDATE log_streams SET first_event_ts = ?2, last_event_ts = ?3,
                        last_ingestion_time = ?4 WHERE id = ?1",
                params![
                    s.id,
                    s.stats.first_event_timestamp,
                    s.stats.last_event_timestamp,
                    s.stats.last_ingestion_time
                ],
            )?;
        }
        if let Some(seq) = flushed_seq {
            tx.execute(
                "UPDATE wal_checkpoint SET flushed_seq = ?1 WHERE id = 1",
                params![seq as i64],
            )?;
        }
        tx.commit()?;
        self.dirty_streams.clear();
        if let Some(seq) = flushed_seq {
            self.flushed_seq = seq;
        }
        for group_segments in self.segments.values_mut() {
            group_segments.retain(|s| !replaced.contains(&s.id));
        }
        for seg in committed {
            self.segments.entry(seg.group_id).or_default().push(seg);
        }
        Ok(())
    }

    /// A group's metric filters (name, definition), sorted by name.
    pub(crate) fn metric_filters(&self, group_id: i64) -> Vec<(String, String)> {
        self.metric_filters
            .get(&group_id)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// Number of metric filters of a group.
    pub(crate) fn metric_filter_count(&self, group_id: i64) -> usize {
        self.metric_filters.get(&group_id).map_or(0, BTreeMap::len)
    }

    /// Creates or replaces a metric filter.
    pub(crate) fn put_metric_filter(
        &mut self,
        group_id: i64,
        name: &str,
        definition: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO metric_filters (group_id, name, definition) VALUES (?1, ?2, ?3)
             ON CONFLICT (group_id, name) DO UPDATE SET definition = excluded.definition",
            params![group_id, name, definition],
        )?;
        self.metric_filters
            .entry(group_id)
            .or_default()
            .insert(name.to_owned(), definition.to_owned());
        Ok(())
    }

    /// Deletes a metric filter; false when there was none.
    pub(crate) fn delete_metric_filter(&mut self, group_id: i64, name: &str) -> Result<bool> {
        let n = self.conn.execute(
            "DELETE FROM metric_filters WHERE group_id = ?1 AND name = ?2",
            params![group_id, name],
        )?;
        if let Some(m) = self.metric_filters.get_mut(&group_id) {
            m.remove(name);
        }
        Ok(n > 0)
    }

    /// A piece of engine state saved by [`Catalog::save_engine_state`].
    pub(crate) fn engine_state(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM engine_state WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Replaces a piece of engine state, atomically.
    pub(crate) fn save_engine_state(&mut self, name: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO engine_state (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }

    /// The state an ingest observer saved with the last checkpoint.
    pub(crate) fn observer_state(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM observer_state WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub(crate) fn pending_object_deletes(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT path FROM pending_object_deletes")?;
        let paths = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(paths)
    }

    pub(crate) fn forget_object_delete(&self, path: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM pending_object_deletes WHERE path = ?1",
            params![path],
        )?;
        Ok(())
    }

    /// Every segment path the catalog knows (to find orphans left by a crash mid-flush).
    pub(crate) fn known_paths(&self) -> std::collections::HashSet<String> {
        self.segments
            .values()
            .flatten()
            .map(|s| s.path.clone())
            .collect()
    }
}
