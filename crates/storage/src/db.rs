//! [`Storage`]: the catalog, the WAL thread, memory and segments put together.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use flowwatch_model::{Clock, RetentionDays, Scope};
use object_store::ObjectStore;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::catalog::Catalog;
use crate::error::{Result, StorageError};
use crate::memtable::MemTable;
use crate::observer::{DurableBatch, IngestObserver, PendingState, Pipeline};
use crate::types::{
    EventRef, LogGroupInfo, LogStreamInfo, NewLogGroup, ObjectStoreConfig, StorageConfig, StreamKey,
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
    /// Memory held by unflushed events (what back-pressure limits).
    fn heap_bytes(&self) -> usize {
        self.active.heap + self.frozen.iter().map(|f| f.table.heap).sum::<usize>()
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: StorageConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) catalog: Mutex<Catalog>,
    pub(crate) mem: RwLock<MemState>,
    /// The ingest observers' thread and the queue to it.
    pub(crate) observe: Arc<Pipeline>,
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) wal_tx: mpsc::Sender<WalMsg>,
    pub(crate) wal_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Set when the WAL could not be written or an ingest observer failed: no further append
    /// is acknowledged.
    pub(crate) failed: Arc<AtomicBool>,
    pub(crate) closed: AtomicBool,
    pub(crate) flush_wanted: Notify,
    pub(crate) space_freed: Notify,
    pub(crate) shutdown: Notify,
    pub(crate) flush_lock: tokio::sync::Mutex<()>,
    /// Held (shared) by whole-group passes while they read segments; deleting the objects of
    /// removed segments waits for a moment when no pass holds it (`delete_pending_objects`).
    pub(crate) passes: Arc<tokio::sync::RwLock<()>>,
    pub(crate) tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// A memtable taken out of the write path for flushing.
#[derive(Debug)]
pub(crate) struct Frozen {
    pub(crate) table: MemTable,
    /// Every event with a sequence number up to this is in `table` or an earlier segment.
    pub(crate) flushed_seq: u64,
    /// First sequence number of the WAL file started at the freeze.
    pub(crate) wal_first_seq: u64,
    /// Ingest observers' state at the freeze (once their thread reaches it), saved with the
    /// checkpoint.
    pub(crate) observer_state: PendingState,
}

#[derive(Debug)]
pub(crate) enum WalMsg {
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

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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
            connection,
        } => {
            let s3: Arc<dyn ObjectStore> = Arc::new(connection.bucket(bucket)?);
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

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
}

impl Storage {
    /// Opens the storage in `config.data_dir`: migrates the catalog, replays the WAL past the
    /// checkpoint, removes objects a crash left unlisted, and starts the background tasks.
    pub async fn open(config: StorageConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::open_with_observers(config, clock, Vec::new()).await
    }

    /// Opens like [`Storage::open`] with ingest observers: each is restored from the state saved
    /// with the last checkpoint, then sees every batch replayed from the WAL and every new one.
    pub async fn open_with_observers(
        config: StorageConfig,
        clock: Arc<dyn Clock>,
        observers: Vec<Arc<dyn IngestObserver>>,
    ) -> Result<Self> {
        let wal_dir = config.data_dir.join("wal");
        std::fs::create_dir_all(&wal_dir).map_err(|e| StorageError::io(wal_dir.display(), e))?;
        let store = build_store(&config.object_store)?;
        let catalog_path = config.data_dir.join("catalog.sqlite");
        let fsync = config.fsync;
        let replay_observers = observers.clone();
        let (catalog, mem, writer) = blocking(move || {
            let mut catalog = Catalog::open(&catalog_path)?;
            for o in &replay_observers {
                o.restore(catalog.observer_state(o.name())?.as_deref());
            }
            let flushed = catalog.flushed_seq();
            let mut mem = MemTable::default();
            let max_seq = wal::replay(&wal_dir, |record| {
                let key = record.key;
                let skip = flushed.saturating_sub(record.first_seq - 1) as usize;
                let events = record.events.get(skip..).unwrap_or_default();
                if events.is_empty() {
                    return;
                }
                // Observers saw these before the crash whatever became of the stream since.
                let batch = DurableBatch {
                    key,
                    first_seq: record.first_seq + skip as u64,
                    ingestion_time: record.ingestion_time,
                    events,
                };
                for o in &replay_observers {
                    o.on_durable(&batch);
                }
                if !catalog.stream_exists(key.group_id, key.stream_id) {
                    return;
                }
                mem.append(
                    key,
                    record.first_seq + skip as u64,
                    record.ingestion_time,
                    events,
                );
                crate::flush::observe(&mut catalog, key, record.ingestion_time, events);
            })?;
            let next_seq = max_seq.max(flushed) + 1;
            mem.max_seq = next_seq - 1;
            let writer = WalWriter::create(&wal_dir, next_seq, fsync)?;
            Ok((catalog, mem, (writer, next_seq)))
        })
        .await?;
        let (writer, next_seq) = writer;
        let (wal_tx, wal_rx) = mpsc::channel(4096);
        let observe = Arc::new(Pipeline::new(
            observers,
            next_seq - 1,
            config.observer_queue_bytes,
        ));
        let shared = Arc::new(Shared {
            config,
            clock,
            catalog: Mutex::new(catalog),
            mem: RwLock::new(MemState {
                active: mem,
                frozen: Vec::new(),
            }),
            observe,
            store,
            wal_tx,
            wal_thread: Mutex::new(None),
            failed: Arc::new(AtomicBool::new(false)),
            closed: AtomicBool::new(false),
            flush_wanted: Notify::new(),
            space_freed: Notify::new(),
            shutdown: Notify::new(),
            flush_lock: tokio::sync::Mutex::new(()),
            passes: Arc::default(),
            tasks: Mutex::new(Vec::new()),
        });
        shared
            .observe
            .start(shared.failed.clone())
            .map_err(|e| StorageError::io("observer thread", e))?;
        let thread_shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name("flowwatch-wal".into())
            .spawn(move || crate::flush::wal_thread(thread_shared, wal_rx, writer, next_seq))
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

    pub(crate) async fn catalog_op<T: Send + 'static>(
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
        self.delete_log_group_if(scope, name, |_| Ok(())).await
    }

    /// Deletes a group if `guard` accepts it, checked in the same catalog transaction (so a
    /// concurrent change, such as turning deletion protection on, cannot slip in between).
    pub async fn delete_log_group_if(
        &self,
        scope: &Scope,
        name: &str,
        guard: impl FnOnce(&LogGroupInfo) -> flowwatch_model::ApiResult<()> + Send + 'static,
    ) -> Result<()> {
        let (scope, name) = (scope.clone(), name.to_owned());
        let info = self
            .catalog_op(move |c, _| {
                let group = c
                    .group(&scope, &name)
                    .ok_or(StorageError::LogGroupNotFound)?;
                guard(group).map_err(StorageError::Refused)?;
                c.delete_group(&scope, &name)
            })
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
                active.remove_stream(key);
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
                        *bytes.entry(key.group_id).or_default() += buf.logical_bytes() as u64;
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

    /// The id of a group, without computing its stored bytes.
    pub fn log_group_id(&self, scope: &Scope, name: &str) -> Option<i64> {
        self.shared.catalog().group(scope, name).map(|g| g.id)
    }

    /// One group, with its stored bytes.
    pub fn log_group(&self, scope: &Scope, name: &str) -> Option<LogGroupInfo> {
        let mut info = {
            let catalog = self.shared.catalog();
            catalog.group_view(catalog.group(scope, name)?)
        };
        info.stored_bytes = self
            .stored_bytes(&[info.id])
            .get(&info.id)
            .copied()
            .unwrap_or(0);
        Some(info)
    }

    /// Every group of every account and region (for components that load state at start).
    pub fn all_log_groups(&self) -> Vec<LogGroupInfo> {
        let catalog = self.shared.catalog();
        catalog
            .all_groups()
            .map(|g| catalog.group_view(g))
            .collect()
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
            let gid = c.group_id(&scope, &group)?;
            c.create_stream(gid, &name, now)
        })
        .await
    }

    /// Deletes a stream; its events are no longer readable.
    pub async fn delete_log_stream(&self, scope: &Scope, group: &str, name: &str) -> Result<()> {
        self.delete_log_stream_if(scope, group, name, |_| Ok(()))
            .await
    }

    /// Deletes a stream if `guard` accepts its group, checked in the same catalog transaction.
    pub async fn delete_log_stream_if(
        &self,
        scope: &Scope,
        group: &str,
        name: &str,
        guard: impl FnOnce(&LogGroupInfo) -> flowwatch_model::ApiResult<()> + Send + 'static,
    ) -> Result<()> {
        let (scope, group, name) = (scope.clone(), group.to_owned(), name.to_owned());
        let info = self
            .catalog_op(move |c, _| {
                let g = c
                    .group(&scope, &group)
                    .ok_or(StorageError::LogGroupNotFound)?;
                guard(g).map_err(StorageError::Refused)?;
                let gid = g.id;
                c.delete_stream(gid, &name)
            })
            .await?;
        let mut mem = self.shared.mem_write();
        let key = StreamKey {
            group_id: info.group_id,
            stream_id: info.id,
        };
        mem.active.remove_stream(key);
        Ok(())
    }

    /// The streams of a group, sorted by name.
    pub fn log_streams(&self, scope: &Scope, group: &str) -> Result<Vec<LogStreamInfo>> {
        let catalog = self.shared.catalog();
        let gid = catalog.group_id(scope, group)?;
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
            if shared.mem_read().heap_bytes() <= shared.config.memory_limit_bytes {
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

    /// Waits until the ingest observers have applied every batch acknowledged before this call
    /// (at most `StorageConfig::observer_wait`): call it before reading state an observer
    /// derives from events, for read-your-writes. Fails if an observer failed or the wait
    /// timed out.
    pub async fn observers_caught_up(&self) -> Result<()> {
        self.shared
            .observe
            .caught_up(self.shared.config.observer_wait)
            .await
    }

    /// Flushes, stops the background tasks, the WAL thread and the observer thread (after it
    /// has applied everything queued). Appends after this fail.
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
        // After the WAL thread, so every batch it handed over is applied.
        let observe = self.shared.observe.clone();
        let _ = tokio::task::spawn_blocking(move || observe.stop()).await;
        let tasks: Vec<_> = lock(&self.shared.tasks).drain(..).collect();
        for task in tasks {
            task.abort();
        }
    }
}
