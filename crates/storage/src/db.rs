//! [`Storage`]: the catalog, the WAL thread, memory and segments put together.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use flowwatch_model::{Clock, RetentionDays, Scope};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::catalog::Catalog;
use crate::error::{Result, StorageError};
use crate::memtable::MemTable;
use crate::segment::{self, RowWanted};
use crate::types::{
    Direction, EventRef, LogGroupInfo, LogStreamInfo, NewLogGroup, ObjectStoreConfig, ReadRequest,
    StorageConfig, StoredEvent, StreamKey,
};
use crate::wal::{self, WalWriter};

/// The storage engine. Cheap to clone; all clones share one engine.
#[derive(Debug, Clone)]
pub struct Storage {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
pub(crate) struct MemState {
    pub(crate) active: MemTable,
    /// Memtables taken out of the write path, oldest first, until their segments are committed.
    pub(crate) frozen: Vec<Arc<Frozen>>,
}

impl MemState {
    fn bytes(&self) -> usize {
        self.active.bytes + self.frozen.iter().map(|f| f.table.bytes).sum::<usize>()
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: StorageConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) catalog: Mutex<Catalog>,
    pub(crate) mem: RwLock<MemState>,
    pub(crate) store: Arc<dyn ObjectStore>,
    wal_tx: mpsc::Sender<WalMsg>,
    wal_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Set when the WAL could not be written: no further append is acknowledged.
    failed: AtomicBool,
    closed: AtomicBool,
    flush_wanted: Notify,
    space_freed: Notify,
    shutdown: Notify,
    flush_lock: tokio::sync::Mutex<()>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// A memtable taken out of the write path for flushing.
#[derive(Debug)]
pub(crate) struct Frozen {
    pub(crate) table: MemTable,
    /// Every event with a sequence number up to this is in `table` or an earlier segment.
    flushed_seq: u64,
    /// First sequence number of the WAL file started at the freeze.
    wal_first_seq: u64,
}

#[derive(Debug)]
enum WalMsg {
    Append {
        frame: Vec<u8>,
        count: u64,
        done: oneshot::Sender<Result<u64>>,
    },
    Freeze {
        done: oneshot::Sender<Result<()>>,
    },
    Shutdown,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn catalog(&self) -> MutexGuard<'_, Catalog> {
        lock(&self.catalog)
    }

    pub(crate) fn mem_read(&self) -> std::sync::RwLockReadGuard<'_, MemState> {
        self.mem
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn mem_write(&self) -> std::sync::RwLockWriteGuard<'_, MemState> {
        self.mem
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Oldest timestamp a read may return for a group with `retention`.
    pub(crate) fn retention_floor(&self, retention: Option<RetentionDays>) -> i64 {
        retention.map_or(i64::MIN, |r| self.clock.now_millis() - r.as_millis())
    }
}

fn build_store(config: &ObjectStoreConfig) -> Result<Arc<dyn ObjectStore>> {
    match config {
        ObjectStoreConfig::Local { root } => {
            std::fs::create_dir_all(root).map_err(|e| StorageError::io(root.display(), e))?;
            Ok(Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(root)?,
            ))
        }
        ObjectStoreConfig::S3 {
            bucket,
            prefix,
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            allow_http,
        } => {
            let mut builder = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_region(region)
                .with_allow_http(*allow_http);
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if let Some(key) = access_key_id {
                builder = builder.with_access_key_id(key);
            }
            if let Some(secret) = secret_access_key {
                builder = builder.with_secret_access_key(secret);
            }
            let s3: Arc<dyn ObjectStore> = Arc::new(builder.build()?);
            if prefix.is_empty() {
                Ok(s3)
            } else {
                Ok(Arc::new(object_store::prefix::PrefixStore::new(
                    s3,
                    prefix.as_str(),
                )))
            }
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
}

impl Storage {
    /// Opens the storage in `config.data_dir`: migrates the catalog, replays the WAL past the
    /// checkpoint, removes objects a crash left unlisted, and starts the background tasks.
    pub async fn open(config: StorageConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        let wal_dir = config.data_dir.join("wal");
        std::fs::create_dir_all(&wal_dir).map_err(|e| StorageError::io(wal_dir.display(), e))?;
        let store = build_store(&config.object_store)?;
        let catalog_path = config.data_dir.join("catalog.sqlite");
        let fsync = config.fsync;
        let (catalog, mem, writer) = blocking(move || {
            let mut catalog = Catalog::open(&catalog_path)?;
            let flushed = catalog.flushed_seq();
            let mut mem = MemTable::default();
            let max_seq = wal::replay(&wal_dir, |record| {
                let key = record.key;
                if !catalog.stream_exists(key.group_id, key.stream_id) {
                    return;
                }
                let skip = flushed.saturating_sub(record.first_seq - 1) as usize;
                let events = record.events.get(skip..).unwrap_or_default();
                if events.is_empty() {
                    return;
                }
                mem.append(
                    key,
                    record.first_seq + skip as u64,
                    record.ingestion_time,
                    events,
                );
                observe(&mut catalog, key, record.ingestion_time, events);
            })?;
            let next_seq = max_seq.max(flushed) + 1;
            mem.max_seq = next_seq - 1;
            let writer = WalWriter::create(&wal_dir, next_seq, fsync)?;
            Ok((catalog, mem, (writer, next_seq)))
        })
        .await?;
        let (writer, next_seq) = writer;
        let (wal_tx, wal_rx) = mpsc::channel(4096);
        let shared = Arc::new(Shared {
            config,
            clock,
            catalog: Mutex::new(catalog),
            mem: RwLock::new(MemState {
                active: mem,
                frozen: Vec::new(),
            }),
            store,
            wal_tx,
            wal_thread: Mutex::new(None),
            failed: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            flush_wanted: Notify::new(),
            space_freed: Notify::new(),
            shutdown: Notify::new(),
            flush_lock: tokio::sync::Mutex::new(()),
            tasks: Mutex::new(Vec::new()),
        });
        let thread_shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name("flowwatch-wal".into())
            .spawn(move || wal_thread(thread_shared, wal_rx, writer, next_seq))
            .map_err(|e| StorageError::io("wal thread", e))?;
        *lock(&shared.wal_thread) = Some(handle);
        let storage = Self { shared };
        storage.remove_orphans().await?;
        storage.start_background();
        Ok(storage)
    }

    fn start_background(&self) {
        let flusher = {
            let storage = self.clone();
            tokio::spawn(async move { storage.flush_loop().await })
        };
        let maintenance = {
            let storage = self.clone();
            tokio::spawn(async move { storage.maintenance_loop().await })
        };
        lock(&self.shared.tasks).extend([flusher, maintenance]);
    }

    async fn flush_loop(&self) {
        let shared = &self.shared;
        loop {
            tokio::select! {
                () = shared.shutdown.notified() => return,
                () = shared.flush_wanted.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            let due = {
                let mem = shared.mem_read();
                mem.active.bytes >= shared.config.flush_bytes
                    || mem
                        .active
                        .since
                        .is_some_and(|t| t.elapsed() >= shared.config.flush_age)
            };
            if due && let Err(error) = self.flush().await {
                tracing::error!(%error, "flush failed; will retry");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    async fn maintenance_loop(&self) {
        let shared = &self.shared;
        loop {
            tokio::select! {
                () = shared.shutdown.notified() => return,
                () = tokio::time::sleep(shared.config.maintenance_interval) => {}
            }
            if let Err(error) = self.run_maintenance().await {
                tracing::error!(%error, "maintenance failed; will retry");
            }
        }
    }

    /// Runs retention, compaction and deferred object deletion once.
    pub async fn run_maintenance(&self) -> Result<()> {
        self.enforce_retention().await?;
        self.compact().await?;
        self.delete_pending_objects().await
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The clock the storage runs on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.clock
    }

    // ---- catalog -------------------------------------------------------------------------

    async fn catalog_op<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Catalog, i64) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(StorageError::Closed);
        }
        let shared = self.shared.clone();
        blocking(move || {
            let now = shared.clock.now_millis();
            f(&mut shared.catalog(), now)
        })
        .await
    }

    pub async fn create_log_group(
        &self,
        scope: &Scope,
        name: &str,
        spec: NewLogGroup,
    ) -> Result<LogGroupInfo> {
        let (scope, name) = (scope.clone(), name.to_owned());
        self.catalog_op(move |c, now| {
            c.create_group(
                &scope,
                &name,
                &spec,
                now,
                flowwatch_model::limits::MAX_LOG_GROUPS,
            )
        })
        .await
    }

    /// Deletes a group with its streams and events.
    pub async fn delete_log_group(&self, scope: &Scope, name: &str) -> Result<()> {
        let (scope, name) = (scope.clone(), name.to_owned());
        let info = self
            .catalog_op(move |c, _| c.delete_group(&scope, &name))
            .await?;
        {
            let mut mem = self.shared.mem_write();
            let active = &mut mem.active;
            let gone: Vec<StreamKey> = active
                .streams
                .keys()
                .filter(|k| k.group_id == info.id)
                .copied()
                .collect();
            for key in gone {
                if let Some(buf) = active.streams.remove(&key) {
                    active.bytes -=
                        buf.data.len() + buf.len() * flowwatch_model::limits::EVENT_OVERHEAD_BYTES;
                }
            }
        }
        let storage = self.clone();
        tokio::spawn(async move {
            if let Err(error) = storage.delete_pending_objects().await {
                tracing::warn!(%error, "deleting a removed log group's segments failed; will retry");
            }
        });
        Ok(())
    }

    /// Changes retention, deletion protection or tags of a group; `update` validates and edits.
    pub async fn update_log_group(
        &self,
        scope: &Scope,
        name: &str,
        update: impl FnOnce(&mut LogGroupInfo) -> Result<()> + Send + 'static,
    ) -> Result<LogGroupInfo> {
        let (scope, name) = (scope.clone(), name.to_owned());
        let mut info = self
            .catalog_op(move |c, _| c.update_group(&scope, &name, update))
            .await?;
        info.stored_bytes = self
            .stored_bytes(&[info.id])
            .get(&info.id)
            .copied()
            .unwrap_or(0);
        Ok(info)
    }

    fn stored_bytes(&self, group_ids: &[i64]) -> HashMap<i64, u64> {
        let wanted: HashSet<i64> = group_ids.iter().copied().collect();
        let mut bytes: HashMap<i64, u64> = HashMap::new();
        {
            let mem = self.shared.mem_read();
            for table in std::iter::once(&mem.active).chain(mem.frozen.iter().map(|f| &f.table)) {
                for (key, buf) in &table.streams {
                    if wanted.contains(&key.group_id) {
                        *bytes.entry(key.group_id).or_default() += (buf.data.len()
                            + buf.len() * flowwatch_model::limits::EVENT_OVERHEAD_BYTES)
                            as u64;
                    }
                }
            }
        }
        let catalog = self.shared.catalog();
        for &id in &wanted {
            let floor = catalog
                .group_by_id(id)
                .map_or(i64::MIN, |g| self.shared.retention_floor(g.retention));
            *bytes.entry(id).or_default() += catalog
                .segments(id)
                .iter()
                .filter(|s| s.max_ts >= floor)
                .map(|s| s.byte_size)
                .sum::<u64>();
        }
        bytes
    }

    /// One group, with its stored bytes.
    pub fn log_group(&self, scope: &Scope, name: &str) -> Option<LogGroupInfo> {
        let mut info = self.shared.catalog().group(scope, name).cloned()?;
        info.stored_bytes = self
            .stored_bytes(&[info.id])
            .get(&info.id)
            .copied()
            .unwrap_or(0);
        Some(info)
    }

    /// The groups of an account and region, sorted by name, with their stored bytes.
    pub fn log_groups(&self, scope: &Scope) -> Vec<LogGroupInfo> {
        let mut groups = self.shared.catalog().groups(scope);
        let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
        let bytes = self.stored_bytes(&ids);
        for g in &mut groups {
            g.stored_bytes = bytes.get(&g.id).copied().unwrap_or(0);
        }
        groups
    }

    pub async fn create_log_stream(
        &self,
        scope: &Scope,
        group: &str,
        name: &str,
    ) -> Result<LogStreamInfo> {
        let (scope, group, name) = (scope.clone(), group.to_owned(), name.to_owned());
        self.catalog_op(move |c, now| {
            let gid = c
                .group(&scope, &group)
                .ok_or(StorageError::LogGroupNotFound)?
                .id;
            c.create_stream(gid, &name, now)
        })
        .await
    }

    /// Deletes a stream; its events are no longer readable.
    pub async fn delete_log_stream(&self, scope: &Scope, group: &str, name: &str) -> Result<()> {
        let (scope, group, name) = (scope.clone(), group.to_owned(), name.to_owned());
        let info = self
            .catalog_op(move |c, _| {
                let gid = c
                    .group(&scope, &group)
                    .ok_or(StorageError::LogGroupNotFound)?
                    .id;
                c.delete_stream(gid, &name)
            })
            .await?;
        let mut mem = self.shared.mem_write();
        let key = StreamKey {
            group_id: info.group_id,
            stream_id: info.id,
        };
        if let Some(buf) = mem.active.streams.remove(&key) {
            mem.active.bytes -=
                buf.data.len() + buf.len() * flowwatch_model::limits::EVENT_OVERHEAD_BYTES;
        }
        Ok(())
    }

    /// The streams of a group, sorted by name.
    pub fn log_streams(&self, scope: &Scope, group: &str) -> Result<Vec<LogStreamInfo>> {
        let catalog = self.shared.catalog();
        let gid = catalog
            .group(scope, group)
            .ok_or(StorageError::LogGroupNotFound)?
            .id;
        Ok(catalog
            .streams(gid)
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default())
    }

    /// Resolves a stream for the write path: its key and its group's retention.
    pub fn stream_key(
        &self,
        scope: &Scope,
        group: &str,
        stream: &str,
    ) -> Result<(StreamKey, Option<RetentionDays>)> {
        let catalog = self.shared.catalog();
        let g = catalog
            .group(scope, group)
            .ok_or(StorageError::LogGroupNotFound)?;
        let s = catalog
            .streams(g.id)
            .and_then(|s| s.get(stream))
            .ok_or(StorageError::LogStreamNotFound)?;
        Ok((
            StreamKey {
                group_id: g.id,
                stream_id: s.id,
            },
            g.retention,
        ))
    }

    // ---- events --------------------------------------------------------------------------

    /// Appends events to a stream; returns once they are durable (fsynced in the WAL) and
    /// readable, with the sequence number of the first. Waits while memory is over its limit.
    pub async fn append(
        &self,
        key: StreamKey,
        ingestion_time: i64,
        events: &[EventRef<'_>],
    ) -> Result<u64> {
        let shared = &self.shared;
        if shared.failed.load(Ordering::SeqCst) || shared.closed.load(Ordering::SeqCst) {
            return Err(StorageError::Closed);
        }
        if events.is_empty() {
            return Ok(0);
        }
        loop {
            let notified = shared.space_freed.notified();
            if shared.mem_read().bytes() <= shared.config.memory_limit_bytes {
                break;
            }
            shared.flush_wanted.notify_one();
            let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        }
        let frame = wal::encode_events(key, ingestion_time, events);
        let (done, rx) = oneshot::channel();
        shared
            .wal_tx
            .send(WalMsg::Append {
                frame,
                count: events.len() as u64,
                done,
            })
            .await
            .map_err(|_| StorageError::Closed)?;
        rx.await.map_err(|_| StorageError::Closed)?
    }

    /// Reads a page of one stream's events in the request's direction, memory and segments as
    /// one, each event once; events older than the group's retention are never returned.
    pub async fn read_stream(&self, key: StreamKey, req: &ReadRequest) -> Result<Vec<StoredEvent>> {
        let (floor, segments) = {
            let catalog = self.shared.catalog();
            let group = catalog
                .group_by_id(key.group_id)
                .ok_or(StorageError::LogGroupNotFound)?;
            if !catalog.stream_exists(key.group_id, key.stream_id) {
                return Err(StorageError::LogStreamNotFound);
            }
            let floor = self.shared.retention_floor(group.retention);
            let segments: Vec<_> = catalog
                .segments(key.group_id)
                .iter()
                .filter(|s| segment::may_hold(s, key, req, floor))
                .cloned()
                .collect();
            (floor, segments)
        };
        let mut out = Vec::new();
        let frozen = {
            let mem = self.shared.mem_read();
            mem.active.read(key, req, floor, &mut out);
            mem.frozen.clone()
        };
        for f in &frozen {
            f.table.read(key, req, floor, &mut out);
        }
        // Visit segments nearest the cursor first and stop once `limit` events are in hand
        // that no later segment can precede.
        let span = |seg: &crate::types::SegmentMeta| {
            seg.streams
                .iter()
                .find(|s| s.0 == key.stream_id)
                .map_or((i64::MIN, i64::MAX), |s| (s.1, s.2))
        };
        let mut segments = segments;
        match req.direction {
            Direction::Forward => segments.sort_by_key(|s| span(s).0),
            Direction::Backward => segments.sort_by_key(|s| std::cmp::Reverse(span(s).1)),
        }
        for seg in &segments {
            if out.len() >= req.limit {
                let (lo, hi) = span(seg);
                let done = match req.direction {
                    Direction::Forward => {
                        out.select_nth_unstable_by_key(req.limit - 1, StoredEvent::position);
                        lo > out[req.limit - 1].timestamp
                    }
                    Direction::Backward => {
                        out.select_nth_unstable_by_key(req.limit - 1, |e| {
                            std::cmp::Reverse(e.position())
                        });
                        hi < out[req.limit - 1].timestamp
                    }
                };
                if done {
                    break;
                }
            }
            let wanted = RowWanted {
                stream_id: Some(key.stream_id),
                min_ts: req.start_ms.max(floor),
                end_ts: req.end_ms,
            };
            segment::read_rows(&self.shared.store, seg, wanted, |_, event| {
                if segment::after_cursor(req, event.position()) {
                    out.push(event);
                }
            })
            .await?;
        }
        match req.direction {
            Direction::Forward => out.sort_by_key(StoredEvent::position),
            Direction::Backward => out.sort_by_key(|e| std::cmp::Reverse(e.position())),
        }
        out.dedup_by_key(|e| e.seq);
        let mut bytes = 0;
        let mut n = 0;
        for e in &out {
            let size = e.message.len() + flowwatch_model::limits::EVENT_OVERHEAD_BYTES;
            if n >= req.limit || (n > 0 && bytes + size > req.max_bytes) {
                break;
            }
            bytes += size;
            n += 1;
        }
        out.truncate(n);
        Ok(out)
    }

    // ---- flush ---------------------------------------------------------------------------

    /// Writes everything in memory to segments and truncates the WAL. Memtables whose earlier
    /// flush failed are written first, so the WAL checkpoint never passes unwritten events.
    pub async fn flush(&self) -> Result<()> {
        let shared = &self.shared;
        let _one_at_a_time = shared.flush_lock.lock().await;
        let (done, rx) = oneshot::channel();
        shared
            .wal_tx
            .send(WalMsg::Freeze { done })
            .await
            .map_err(|_| StorageError::Closed)?;
        rx.await.map_err(|_| StorageError::Closed)??;
        let pending = shared.mem_read().frozen.clone();
        for frozen in pending {
            self.write_frozen(&frozen).await?;
        }
        Ok(())
    }

    /// Writes one frozen memtable as one segment per group, commits them with its checkpoint,
    /// drops it from memory and truncates the WAL behind it.
    async fn write_frozen(&self, frozen: &Arc<Frozen>) -> Result<()> {
        let shared = &self.shared;
        let groups: HashSet<i64> = frozen.table.streams.keys().map(|k| k.group_id).collect();
        let mut added = Vec::new();
        for group_id in groups {
            let (names, floor) = {
                let catalog = shared.catalog();
                let Some(group) = catalog.group_by_id(group_id) else {
                    continue;
                };
                let names: BTreeMap<i64, String> = catalog
                    .streams(group_id)
                    .map(|s| s.values().map(|s| (s.id, s.name.clone())).collect())
                    .unwrap_or_default();
                (names, shared.retention_floor(group.retention))
            };
            let table = frozen.clone();
            let path = format!("g{group_id}/{:020}-f.parquet", frozen.flushed_seq);
            let row_group_rows = shared.config.row_group_rows;
            let encoded = blocking(move || {
                match segment::batch_of_group(&table.table, group_id, &names, floor)? {
                    Some(batch) => {
                        segment::encode(group_id, &path, &batch, row_group_rows).map(Some)
                    }
                    None => Ok(None),
                }
            })
            .await?;
            let Some((bytes, meta)) = encoded else {
                continue;
            };
            shared
                .store
                .put(&ObjectPath::from(meta.path.as_str()), bytes.into())
                .await?;
            added.push(meta);
        }
        let flushed_seq = frozen.flushed_seq;
        let commit_shared = shared.clone();
        blocking(move || {
            let now = commit_shared.clock.now_millis();
            commit_shared
                .catalog()
                .commit_segments(added, &[], Some(flushed_seq), now)
        })
        .await?;
        shared
            .mem_write()
            .frozen
            .retain(|t| !Arc::ptr_eq(t, frozen));
        shared.space_freed.notify_waiters();
        let wal_dir = shared.config.data_dir.join("wal");
        let first = frozen.wal_first_seq;
        blocking(move || wal::truncate(&wal_dir, flushed_seq, first)).await?;
        Ok(())
    }

    /// Flushes, stops the background tasks and the WAL thread. Appends after this fail.
    pub async fn close(&self) -> Result<()> {
        let result = if self.shared.failed.load(Ordering::SeqCst) {
            Ok(())
        } else {
            self.flush().await
        };
        self.stop().await;
        result
    }

    /// Stops like a crash would, as far as data goes: nothing in memory is flushed, so the next
    /// open must replay the WAL. For tests of recovery.
    pub async fn close_without_flush(&self) {
        self.stop().await;
    }

    async fn stop(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.shutdown.notify_waiters();
        let _ = self.shared.wal_tx.send(WalMsg::Shutdown).await;
        let handle = lock(&self.shared.wal_thread).take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        let tasks: Vec<_> = lock(&self.shared.tasks).drain(..).collect();
        for task in tasks {
            task.abort();
        }
    }
}

/// Updates a stream's first/last event and last ingestion times.
pub(crate) fn observe(
    catalog: &mut Catalog,
    key: StreamKey,
    ingestion_time: i64,
    events: &[EventRef<'_>],
) {
    let (lo, hi) = events.iter().fold((i64::MAX, i64::MIN), |(lo, hi), e| {
        (lo.min(e.timestamp), hi.max(e.timestamp))
    });
    if let Some(stream) = catalog.stream_mut(key.group_id, key.stream_id) {
        stream.stats.observe(lo, hi, ingestion_time);
    }
}

struct Pending {
    frame: Vec<u8>,
    first_seq: u64,
    done: oneshot::Sender<Result<u64>>,
}

/// The WAL thread: batches waiting appends into one write and one fsync, applies them to
/// memory, then acknowledges them; freezes memory for a flush between batches.
fn wal_thread(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<WalMsg>,
    mut writer: WalWriter,
    mut next_seq: u64,
) {
    const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;
    let mut pending: Vec<Pending> = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut msgs = vec![first];
        let mut bytes = 0;
        while bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(msg) => {
                    if let WalMsg::Append { frame, .. } = &msg {
                        bytes += frame.len();
                    }
                    msgs.push(msg);
                }
                Err(_) => break,
            }
        }
        for msg in msgs {
            match msg {
                WalMsg::Append {
                    mut frame,
                    count,
                    done,
                } => {
                    if shared.failed.load(Ordering::SeqCst) {
                        let _ = done.send(Err(StorageError::Closed));
                        continue;
                    }
                    wal::seal(&mut frame, next_seq);
                    if let Err(error) = writer.write(&frame) {
                        tracing::error!(%error, "WAL write failed; refusing further appends");
                        shared.failed.store(true, Ordering::SeqCst);
                        let _ = done.send(Err(error));
                        continue;
                    }
                    pending.push(Pending {
                        frame,
                        first_seq: next_seq,
                        done,
                    });
                    next_seq += count;
                }
                WalMsg::Freeze { done } => {
                    commit(&shared, &mut writer, &mut pending);
                    let result = freeze(&shared, &mut writer, next_seq);
                    let _ = done.send(result);
                }
                WalMsg::Shutdown => {
                    commit(&shared, &mut writer, &mut pending);
                    return;
                }
            }
        }
        commit(&shared, &mut writer, &mut pending);
        if writer.size() >= shared.config.wal_segment_bytes {
            match WalWriter::create(writer.dir(), next_seq, shared.config.fsync) {
                Ok(w) => writer = w,
                Err(error) => {
                    tracing::error!(%error, "could not roll the WAL; continuing in the current file")
                }
            }
        }
    }
}

/// fsyncs, applies the pending appends to memory and acknowledges them.
fn commit(shared: &Shared, writer: &mut WalWriter, pending: &mut Vec<Pending>) {
    if pending.is_empty() {
        return;
    }
    if let Err(error) = writer.sync() {
        tracing::error!(%error, "WAL fsync failed; refusing further appends");
        shared.failed.store(true, Ordering::SeqCst);
        for p in pending.drain(..) {
            let _ = p.done.send(Err(StorageError::Task(format!(
                "WAL fsync failed: {error}"
            ))));
        }
        return;
    }
    let mut over = false;
    {
        let mut mem = shared.mem_write();
        let mut catalog = shared.catalog();
        for p in pending.iter() {
            let Some(record) = wal::decode_events(&p.frame[8..]) else {
                continue;
            };
            mem.active.append(
                record.key,
                p.first_seq,
                record.ingestion_time,
                &record.events,
            );
            observe(
                &mut catalog,
                record.key,
                record.ingestion_time,
                &record.events,
            );
        }
        if mem.active.bytes >= shared.config.flush_bytes {
            over = true;
        }
    }
    for p in pending.drain(..) {
        let _ = p.done.send(Ok(p.first_seq));
    }
    if over {
        shared.flush_wanted.notify_one();
    }
}

fn freeze(shared: &Shared, writer: &mut WalWriter, next_seq: u64) -> Result<()> {
    let new_writer = WalWriter::create(writer.dir(), next_seq, shared.config.fsync)?;
    *writer = new_writer;
    let mut mem = shared.mem_write();
    let table = std::mem::take(&mut mem.active);
    mem.active.max_seq = next_seq - 1;
    mem.frozen.push(Arc::new(Frozen {
        table,
        flushed_seq: next_seq - 1,
        wal_first_seq: next_seq,
    }));
    Ok(())
}
