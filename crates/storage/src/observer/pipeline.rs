//! The observer thread: the WAL thread hands it every durable batch (the sealed WAL frames,
//! moved, not copied) through a queue bounded in bytes, and it applies them to the ingest
//! observers in sequence order, off the acknowledgement path.
//!
//! - **Backpressure**: when the queue holds more than its budget, the WAL thread waits before
//!   acknowledging, so memory stays bounded and no batch is ever dropped.
//! - **Checkpoints**: a freeze puts a checkpoint marker in the queue behind the last batch it
//!   covers; the thread takes the observers' snapshots when it reaches the marker, so the saved
//!   state covers exactly the checkpointed batches, and the WAL thread never waits for it.
//! - **Read-your-writes**: [`Pipeline::caught_up`] waits until every batch handed over before
//!   the call has been applied (the WAL thread hands a batch over before acknowledging it).
//! - **Failure**: an observer that panics stops the thread applying batches (its state can no
//!   longer be trusted); the storage refuses further appends, checkpoints and waits fail with
//!   [`StorageError::Observer`], and the queue keeps draining so no writer hangs. A restart
//!   restores the last checkpoint and replays the WAL.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::db::lock;
use crate::error::{Result, StorageError};
use crate::observer::{DurableBatch, IngestObserver};
use crate::wal;

/// The observers' saved states, by observer name.
pub(crate) type ObserverState = Vec<(String, Vec<u8>)>;

type StateSlot = Option<Result<Arc<ObserverState>, String>>;

/// The observers' state at a checkpoint, available once the observer thread reaches it.
#[derive(Debug, Clone)]
pub(crate) struct PendingState(watch::Receiver<StateSlot>);

impl PendingState {
    fn ready(state: ObserverState) -> Self {
        Self(watch::channel(Some(Ok(Arc::new(state)))).1)
    }

    /// Waits for the observer thread to reach the checkpoint.
    pub(crate) async fn wait(&self) -> Result<Arc<ObserverState>> {
        let mut rx = self.0.clone();
        let slot = rx.wait_for(Option::is_some).await.map_err(|_| {
            StorageError::Observer("the observer thread stopped before a checkpoint".into())
        })?;
        match slot.as_ref() {
            Some(Ok(state)) => Ok(state.clone()),
            Some(Err(detail)) => Err(StorageError::Observer(detail.clone())),
            None => unreachable!("waited for a value"),
        }
    }
}

enum Job {
    /// Sealed WAL frames with the sequence number of their first event, in order.
    Batches {
        frames: Vec<(u64, Vec<u8>)>,
        last_seq: u64,
        bytes: usize,
    },
    Checkpoint(watch::Sender<StateSlot>),
    Shutdown,
}

impl Job {
    fn bytes(&self) -> usize {
        match self {
            Self::Batches { bytes, .. } => *bytes,
            _ => 0,
        }
    }
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    bytes: usize,
    /// The thread has stopped: nothing pushed will be applied.
    closed: bool,
}

/// How far the observer thread has got.
#[derive(Debug, Clone, Copy)]
struct Progress {
    /// Every batch up to this sequence number has been applied.
    applied_seq: u64,
    /// An observer panicked: nothing further is applied.
    failed: bool,
}

/// The queue to the observer thread and its progress.
pub(crate) struct Pipeline {
    observers: Vec<Arc<dyn IngestObserver>>,
    queue: Mutex<Queue>,
    /// Signalled when a job is pushed or the queue closes.
    pushed: Condvar,
    /// Signalled when a job is taken off or the queue closes.
    popped: Condvar,
    capacity_bytes: usize,
    /// Last sequence number handed to the thread.
    enqueued_seq: AtomicU64,
    progress: watch::Sender<Progress>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("observers", &self.observers)
            .field("capacity_bytes", &self.capacity_bytes)
            .field("enqueued_seq", &self.enqueued_seq)
            .field("progress", &*self.progress.borrow())
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A pipeline whose observers have seen every batch up to `applied_seq` (after replay).
    pub(crate) fn new(
        observers: Vec<Arc<dyn IngestObserver>>,
        applied_seq: u64,
        capacity_bytes: usize,
    ) -> Self {
        Self {
            observers,
            queue: Mutex::new(Queue::default()),
            pushed: Condvar::new(),
            popped: Condvar::new(),
            capacity_bytes,
            enqueued_seq: AtomicU64::new(applied_seq),
            progress: watch::Sender::new(Progress {
                applied_seq,
                failed: false,
            }),
            thread: Mutex::new(None),
        }
    }

    /// Starts the observer thread (none without observers); `failed` is set when one panics.
    pub(crate) fn start(self: &Arc<Self>, failed: Arc<AtomicBool>) -> std::io::Result<()> {
        if self.observers.is_empty() {
            return Ok(());
        }
        let pipeline = self.clone();
        let handle = std::thread::Builder::new()
            .name("flowwatch-observe".into())
            .spawn(move || pipeline.run(&failed))?;
        *lock(&self.thread) = Some(handle);
        Ok(())
    }

    /// Waits while the queue is over its budget (admitting a job into an empty queue whatever
    /// its size), then queues `job`. A closed queue drops it.
    fn push(&self, job: Job) {
        let bytes = job.bytes();
        let mut queue = lock(&self.queue);
        while !queue.closed && queue.bytes > 0 && queue.bytes + bytes > self.capacity_bytes {
            queue = self
                .popped
                .wait(queue)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if queue.closed {
            return;
        }
        queue.bytes += bytes;
        queue.jobs.push_back(job);
        drop(queue);
        self.pushed.notify_one();
    }

    fn pop(&self) -> Job {
        let mut queue = lock(&self.queue);
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                queue.bytes -= job.bytes();
                drop(queue);
                self.popped.notify_all();
                return job;
            }
            queue = self
                .pushed
                .wait(queue)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Hands durable frames (in sequence order, ending at `last_seq`) to the observer thread.
    /// Called by the WAL thread before it acknowledges them; waits while the queue is full.
    pub(crate) fn push_batches(&self, frames: Vec<(u64, Vec<u8>)>, last_seq: u64) {
        if self.observers.is_empty() || frames.is_empty() {
            return;
        }
        let bytes = frames.iter().map(|(_, f)| f.len()).sum();
        self.push(Job::Batches {
            frames,
            last_seq,
            bytes,
        });
        self.enqueued_seq.store(last_seq, Ordering::SeqCst);
    }

    /// The observers' state once every batch handed over so far, and no later one, is applied.
    pub(crate) fn checkpoint(&self) -> PendingState {
        if self.observers.is_empty() {
            return PendingState::ready(Vec::new());
        }
        let (tx, rx) = watch::channel(None);
        self.push(Job::Checkpoint(tx));
        PendingState(rx)
    }

    /// Waits (at most `wait`) until every batch handed over before the call has been applied.
    pub(crate) async fn caught_up(&self, wait: Duration) -> Result<()> {
        let target = self.enqueued_seq.load(Ordering::SeqCst);
        let done = |p: &Progress| p.failed || p.applied_seq >= target;
        let mut rx = self.progress.subscribe();
        let progress = if done(&rx.borrow()) {
            *rx.borrow()
        } else {
            match tokio::time::timeout(wait, rx.wait_for(done)).await {
                Ok(Ok(progress)) => *progress,
                Ok(Err(_)) => return Err(StorageError::Closed),
                Err(_) => {
                    return Err(StorageError::Observer(format!(
                        "ingest observers did not catch up with sequence number {target} within {wait:?}"
                    )));
                }
            }
        };
        if progress.failed {
            return Err(StorageError::Observer(
                "an ingest observer failed; its state stops before the failure".into(),
            ));
        }
        Ok(())
    }

    /// Applies everything queued, then stops the thread. Blocks.
    pub(crate) fn stop(&self) {
        let handle = lock(&self.thread).take();
        if let Some(handle) = handle {
            self.push(Job::Shutdown);
            let _ = handle.join();
        }
    }

    fn run(&self, storage_failed: &AtomicBool) {
        /// Closes the queue when the thread ends, however it ends, so no one waits on it; an
        /// end other than a shutdown fails the storage.
        struct CloseOnExit<'a> {
            pipeline: &'a Pipeline,
            storage_failed: &'a AtomicBool,
            shut_down: bool,
        }
        impl Drop for CloseOnExit<'_> {
            fn drop(&mut self) {
                let mut queue = lock(&self.pipeline.queue);
                queue.closed = true;
                queue.jobs.clear();
                queue.bytes = 0;
                drop(queue);
                self.pipeline.popped.notify_all();
                if !self.shut_down {
                    tracing::error!("the observer thread stopped; refusing further appends");
                    self.storage_failed.store(true, Ordering::SeqCst);
                    self.pipeline.progress.send_modify(|p| p.failed = true);
                }
            }
        }
        let mut close = CloseOnExit {
            pipeline: self,
            storage_failed,
            shut_down: false,
        };
        let mut failure: Option<String> = None;
        loop {
            match self.pop() {
                Job::Batches {
                    frames, last_seq, ..
                } => {
                    if failure.is_none()
                        && let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.apply(&frames)))
                    {
                        let detail = format!("an ingest observer panicked: {}", message(&panic));
                        tracing::error!(error = %detail, "refusing further appends");
                        storage_failed.store(true, Ordering::SeqCst);
                        failure = Some(detail);
                    }
                    let failed = failure.is_some();
                    self.progress.send_modify(|p| {
                        p.applied_seq = last_seq;
                        p.failed = failed;
                    });
                }
                Job::Checkpoint(tx) => {
                    let state = match &failure {
                        Some(detail) => Err(detail.clone()),
                        None => catch_unwind(AssertUnwindSafe(|| {
                            self.observers
                                .iter()
                                .map(|o| (o.name().to_owned(), o.snapshot()))
                                .collect::<ObserverState>()
                        }))
                        .map(Arc::new)
                        .map_err(|panic| {
                            format!(
                                "an ingest observer's snapshot panicked: {}",
                                message(&panic)
                            )
                        }),
                    };
                    if let Err(detail) = &state
                        && failure.is_none()
                    {
                        tracing::error!(error = %detail, "refusing further appends");
                        storage_failed.store(true, Ordering::SeqCst);
                        failure = Some(detail.clone());
                        self.progress.send_modify(|p| p.failed = true);
                    }
                    tx.send_replace(Some(state));
                }
                Job::Shutdown => {
                    close.shut_down = true;
                    return;
                }
            }
        }
    }

    fn apply(&self, frames: &[(u64, Vec<u8>)]) {
        for (first_seq, frame) in frames {
            // Frames that do not decode were reported by the WAL thread.
            let Some(record) = frame.get(8..).and_then(wal::decode_events) else {
                continue;
            };
            let batch = DurableBatch {
                key: record.key,
                first_seq: *first_seq,
                ingestion_time: record.ingestion_time,
                events: &record.events,
            };
            for o in &self.observers {
                o.on_durable(&batch);
            }
        }
    }
}

fn message(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
