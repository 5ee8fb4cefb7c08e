//! The write path behind the WAL thread (group commit, apply, freeze) and the flush of frozen
//! memtables into Parquet segments.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use tokio::sync::{mpsc, oneshot};

use crate::catalog::Catalog;
use crate::db::{Frozen, Shared, Storage, WalMsg, blocking};
use crate::error::{Result, StorageError};
use crate::segment;
use crate::types::{EventRef, StreamKey};
use crate::wal::{self, WalWriter};

impl Storage {
    /// Writes everything in memory to segments and truncates the WAL. Memtables whose earlier
    /// flush failed are written first, so the WAL checkpoint never passes unwritten events.
    pub async fn flush(&self) -> Result<()> {
        let shared = self.shared();
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
        let shared = self.shared();
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
                segment::write_group(&table.table, group_id, &names, floor, &path, row_group_rows)
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
        // The observer thread has applied exactly the batches up to `flushed_seq` here.
        let observer_state = frozen.observer_state.wait().await?;
        blocking(move || {
            let now = commit_shared.clock.now_millis();
            commit_shared.catalog().commit_segments(
                added,
                &[],
                Some(flushed_seq),
                &observer_state,
                now,
            )
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
    count: u64,
    done: oneshot::Sender<Result<u64>>,
}

/// The WAL thread: batches waiting appends into one write and one fsync, applies them to
/// memory, hands them to the observer thread, then acknowledges them; freezes memory for a
/// flush between batches.
pub(crate) fn wal_thread(
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
                        count,
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

/// fsyncs, applies the pending appends to memory, hands their frames (moved, not copied) to the
/// observer thread and acknowledges them.
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
    // Decoded once here (the frames were encoded here, so they always decode), for memory and
    // statistics; the observer thread decodes its own view of the frames.
    let records: Vec<(u64, wal::EventsRecord<'_>)> = pending
        .iter()
        .filter_map(|p| {
            let record = wal::decode_events(&p.frame[8..]);
            if record.is_none() {
                tracing::error!(
                    first_seq = p.first_seq,
                    "a WAL frame written here does not decode"
                );
            }
            record.map(|r| (p.first_seq, r))
        })
        .collect();
    let over = {
        let mut mem = shared.mem_write();
        let mut catalog = shared.catalog();
        for (first_seq, record) in &records {
            mem.active.append(
                record.key,
                *first_seq,
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
        mem.active.bytes >= shared.config.flush_bytes
    };
    drop(records);
    // Handed over before acknowledging, so `observers_caught_up` covers every acknowledged
    // batch; waits here while the observer thread's queue is full.
    let last_seq = pending.last().map_or(0, |p| p.first_seq + p.count - 1);
    let frames = pending
        .iter_mut()
        .map(|p| (p.first_seq, std::mem::take(&mut p.frame)))
        .collect();
    shared.observe.push_batches(frames, last_seq);
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
    // Queued behind every batch committed so far: the observers' state is taken exactly there.
    let observer_state = shared.observe.checkpoint();
    let mut mem = shared.mem_write();
    let table = std::mem::take(&mut mem.active);
    mem.active.max_seq = next_seq - 1;
    mem.frozen.push(Arc::new(Frozen {
        table,
        flushed_seq: next_seq - 1,
        wal_first_seq: next_seq,
        observer_state,
    }));
    Ok(())
}
