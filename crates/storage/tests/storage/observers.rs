//! The observer thread: exactly-once checkpoints while observers lag behind the WAL, the
//! read-your-writes barrier, and a panicking observer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use flowwatch_model::ManualClock;
use flowwatch_storage::{
    DurableBatch, EventRef, IngestObserver, NewLogGroup, Storage, StorageConfig, StorageError,
    StreamKey,
};

use super::{T0, config, scope};

/// Counts events like the property test's counter, but slowly, so that batches queue up behind
/// it; panics on an event `boom`.
#[derive(Debug, Default)]
struct Slow {
    events: AtomicU64,
    last_seq: AtomicU64,
}

impl IngestObserver for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    fn restore(&self, state: Option<&[u8]>) {
        let n = |i: usize| {
            state.map_or(0, |s| {
                u64::from_le_bytes(s[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
            })
        };
        self.events.store(n(0), Ordering::SeqCst);
        self.last_seq.store(n(1), Ordering::SeqCst);
    }
    fn on_durable(&self, batch: &DurableBatch<'_>) {
        assert!(
            batch.events.iter().all(|e| e.message != "boom"),
            "observer refuses boom"
        );
        let last = self.last_seq.load(Ordering::SeqCst);
        assert!(
            batch.first_seq == last + 1,
            "batch {} after {last}: out of order, repeated or missed",
            batch.first_seq
        );
        // Simulated work, so that the WAL thread runs ahead of the observer thread.
        std::thread::sleep(Duration::from_millis(1));
        self.events
            .fetch_add(batch.events.len() as u64, Ordering::SeqCst);
        self.last_seq.store(
            batch.first_seq + batch.events.len() as u64 - 1,
            Ordering::SeqCst,
        );
    }
    fn snapshot(&self) -> Vec<u8> {
        let mut v = self.events.load(Ordering::SeqCst).to_le_bytes().to_vec();
        v.extend_from_slice(&self.last_seq.load(Ordering::SeqCst).to_le_bytes());
        v
    }
}

/// A queue of a few hundred bytes: the WAL thread waits for the observer thread all the time.
fn small_queue(dir: &std::path::Path) -> StorageConfig {
    let mut c = config(dir);
    c.observer_queue_bytes = 512;
    c
}

async fn open(dir: &std::path::Path) -> (Storage, Arc<Slow>, StreamKey) {
    let slow = Arc::new(Slow::default());
    let s = Storage::open_with_observers(
        small_queue(dir),
        Arc::new(ManualClock::new(T0)),
        vec![slow.clone()],
    )
    .await
    .expect("open");
    if s.stream_key(&scope(), "g", "s").is_err() {
        s.create_log_group(&scope(), "g", NewLogGroup::default())
            .await
            .expect("group");
        s.create_log_stream(&scope(), "g", "s")
            .await
            .expect("stream");
    }
    let (key, _) = s.stream_key(&scope(), "g", "s").expect("stream");
    (s, slow, key)
}

/// `writers` concurrent writers append `rounds` batches of 3 events each.
async fn append_concurrently(s: &Storage, key: StreamKey, writers: usize, rounds: usize) -> u64 {
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..writers {
        let s = s.clone();
        tasks.spawn(async move {
            for r in 0..rounds {
                let msgs = [format!("w{w} r{r} a"), format!("b{r}"), format!("c{w}")];
                let events: Vec<EventRef<'_>> = msgs
                    .iter()
                    .map(|m| EventRef {
                        timestamp: T0,
                        message: m,
                    })
                    .collect();
                s.append(key, T0, &events).await.expect("append");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("writer");
    }
    (writers * rounds * 3) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_observers_are_checkpointed_exactly_at_the_flushed_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, slow, key) = open(dir.path()).await;
    let mut total = 0;
    // Flushes race the writers: each checkpoint must carry the observer's state at exactly
    // the batches it covers, wherever the observer thread is at the time.
    let flusher = {
        let s = s.clone();
        tokio::spawn(async move {
            for _ in 0..5 {
                s.flush().await.expect("flush");
                tokio::task::yield_now().await;
            }
        })
    };
    total += append_concurrently(&s, key, 4, 25).await;
    flusher.await.expect("flusher");
    s.observers_caught_up().await.expect("caught up");
    assert_eq!(slow.events.load(Ordering::SeqCst), total);
    s.flush().await.expect("flush");
    total += append_concurrently(&s, key, 4, 10).await;
    s.close_without_flush().await;

    // Restored from the last checkpoint, then the rest replayed: each event once (the
    // observer asserts that no batch is repeated or skipped).
    let (s, slow, key) = open(dir.path()).await;
    assert_eq!(slow.events.load(Ordering::SeqCst), total, "after a crash");
    total += append_concurrently(&s, key, 2, 10).await;
    s.close().await.expect("close");
    let (s, slow, _) = open(dir.path()).await;
    assert_eq!(
        slow.events.load(Ordering::SeqCst),
        total,
        "after a clean close"
    );
    s.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caught_up_sees_every_acknowledged_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, slow, key) = open(dir.path()).await;
    for round in 1..=20u64 {
        append_concurrently(&s, key, 3, 1).await;
        s.observers_caught_up().await.expect("caught up");
        assert_eq!(slow.events.load(Ordering::SeqCst), round * 9);
    }
    s.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_observer_fails_appends_instead_of_hanging() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, slow, key) = open(dir.path()).await;
    let within = Duration::from_secs(30);
    let append = |message: &'static str| {
        let s = s.clone();
        async move {
            s.append(
                key,
                T0,
                &[EventRef {
                    timestamp: T0,
                    message,
                }],
            )
            .await
        }
    };
    append("fine").await.expect("append");
    s.flush().await.expect("flush");
    // Durable, so acknowledged; the observer thread then fails on it.
    append("boom").await.expect("append");
    let caught_up = tokio::time::timeout(within, s.observers_caught_up())
        .await
        .expect("no hang");
    assert!(
        matches!(caught_up, Err(StorageError::Observer(_))),
        "{caught_up:?}"
    );
    let later = tokio::time::timeout(within, append("later"))
        .await
        .expect("no hang");
    assert!(later.is_err(), "appends are refused after the failure");
    let flushed = tokio::time::timeout(within, s.flush())
        .await
        .expect("no hang");
    assert!(flushed.is_err(), "no checkpoint past the failure");
    tokio::time::timeout(within, s.close())
        .await
        .expect("no hang")
        .expect("close");
    assert_eq!(slow.events.load(Ordering::SeqCst), 1);
}
