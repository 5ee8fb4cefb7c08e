//! Queries over an input that is fed while they run: the builder hands each finished batch to
//! the running plans through bounded channels, so a query holds a few batches of input at a
//! time instead of all of it, and reading (parsing events) overlaps executing.
//!
//! A query with leading filters runs two plans over the same input (its rows, and the count of
//! rows its filters leave, `recordsMatched`); each gets every batch through its own channel.
//! A plan that needs no more input (a `limit` without `sort`) drops its channel; once every
//! plan has, the builder's `push` answers [`QueryError::InputClosed`] so the reader can stop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use tokio::sync::mpsc;

use crate::error::{QueryError, Result};

/// Batches each plan may have waiting (8,192 rows each).
pub(crate) const QUEUED_BATCHES: usize = 4;

/// What the builder has pushed, read when the query is done.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    pub records: AtomicU64,
    pub message_bytes: AtomicU64,
}

impl Scanned {
    /// Counts what one of the input's builders pushed since it last reported.
    pub fn add(&self, records: u64, message_bytes: u64) {
        self.records.fetch_add(records, Ordering::Relaxed);
        self.message_bytes
            .fetch_add(message_bytes, Ordering::Relaxed);
    }

    pub fn get(&self) -> (u64, u64) {
        (
            self.records.load(Ordering::Relaxed),
            self.message_bytes.load(Ordering::Relaxed),
        )
    }
}

/// The builder's end of one partition of the input: every batch goes to every plan still
/// reading it. A plan's partition ends when every clone of its sink is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Sink {
    senders: Vec<mpsc::Sender<RecordBatch>>,
    pub scanned: Arc<Scanned>,
    /// The sinks of the input's other partitions that no builder has taken yet, shared by the
    /// builders' sinks (not by the unclaimed ones, which would keep themselves alive): when
    /// the last builder is done, a partition no builder took ends empty.
    unclaimed: Arc<Mutex<Vec<Sink>>>,
}

impl Sink {
    /// The sink for another builder: a partition no builder feeds yet, else this one's
    /// (several builders then feed one partition).
    pub fn fork(&self) -> Sink {
        let taken = self
            .unclaimed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match taken {
            Some(mut sink) => {
                sink.unclaimed = self.unclaimed.clone();
                sink
            }
            None => self.clone(),
        }
    }

    /// Hands `batch` to every plan still reading, waiting while their queues are full. Must
    /// not be called on an async runtime's thread.
    pub fn send(&mut self, batch: RecordBatch) -> Result<()> {
        self.senders
            .retain(|tx| tx.blocking_send(batch.clone()).is_ok());
        if self.senders.is_empty() {
            Err(QueryError::InputClosed)
        } else {
            Ok(())
        }
    }
}

/// The plans' end: a table partition whose stream is the next unclaimed channel (each plan
/// executes its scan once).
#[derive(Debug)]
pub(crate) struct Feed {
    schema: SchemaRef,
    receivers: Mutex<VecDeque<mpsc::Receiver<RecordBatch>>>,
}

impl Feed {
    pub fn new(schema: SchemaRef) -> Self {
        Self {
            schema,
            receivers: Mutex::new(VecDeque::new()),
        }
    }

    /// `readers` channels: the feed keeps their receiving ends, the sink gets the others.
    fn connect(&self, readers: usize, scanned: Arc<Scanned>) -> Sink {
        let mut receivers = self
            .receivers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let senders = (0..readers)
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUED_BATCHES);
                receivers.push_back(rx);
                tx
            })
            .collect();
        Sink {
            senders,
            scanned,
            unclaimed: Arc::default(),
        }
    }
}

/// Connects `readers` plans to every feed (a partition of the input each): the sink of the
/// first, from which [`Sink::fork`] hands out the others'.
pub(crate) fn connect(feeds: &[Arc<Feed>], readers: usize, scanned: &Arc<Scanned>) -> Sink {
    let mut sinks: Vec<Sink> = feeds
        .iter()
        .map(|feed| feed.connect(readers, scanned.clone()))
        .collect();
    let mut first = sinks.remove(0);
    sinks.reverse();
    first.unclaimed = Arc::new(Mutex::new(sinks));
    first
}

impl PartitionStream for Feed {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let receiver = self
            .receivers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop_front();
        let stream = futures::stream::unfold(receiver, |receiver| async move {
            let mut receiver = receiver?;
            let batch = receiver.recv().await?;
            Some((Ok(batch), Some(receiver)))
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Compiled, Event, Params, QueryError, run};

    const PARAMS: Params = Params {
        start_ms: 0,
        end_ms: i64::MAX / 2,
        now_ms: 0,
        default_limit: 10_000,
        stable_ties: false,
    };

    fn line(i: u64) -> String {
        let action = if i.is_multiple_of(3) {
            "REJECT"
        } else {
            "ACCEPT"
        };
        format!(
            "2 123456789012 eni-1 10.0.{}.{} 10.0.0.2 1234 {} 6 1 40 1 2 {action} OK",
            i % 7,
            i % 5,
            20 + i % 4
        )
    }

    fn event<'a>(i: u64, message: &'a str, ptr: &'a str) -> Event<'a> {
        Event {
            timestamp: i as i64,
            ingestion_time: i as i64,
            seq: i,
            log_stream: "s",
            log: "123456789012:g",
            ptr,
            message,
        }
    }

    /// Pushes `n` events into a streamed query on another thread; the output and whether the
    /// query closed its input early.
    fn streamed(text: &str, n: u64) -> (crate::QueryOutput, bool) {
        let query = Compiled::new(text).unwrap();
        let (mut builder, streamed) = query.stream(PARAMS).unwrap();
        let feeder = std::thread::spawn(move || {
            for i in 0..n {
                let message = line(i);
                match builder.push(&event(i, &message, &i.to_string())) {
                    Ok(()) => {}
                    Err(QueryError::InputClosed) => return true,
                    Err(e) => panic!("{e}"),
                }
            }
            builder.finish().unwrap();
            false
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let output = runtime.block_on(streamed.run(1 << 28)).unwrap();
        (output, feeder.join().unwrap())
    }

    fn whole(text: &str, n: u64) -> crate::QueryOutput {
        let query = Compiled::new(text).unwrap();
        let mut input = query.input(usize::MAX);
        for i in 0..n {
            let message = line(i);
            input.push(&event(i, &message, &i.to_string())).unwrap();
        }
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime
            .block_on(run(&query, input.finish().unwrap(), PARAMS, 1 << 28))
            .unwrap()
    }

    #[test]
    fn a_streamed_input_gives_what_the_whole_input_gives() {
        for text in [
            "filter action = 'REJECT' | stats count(*) as n by srcAddr, dstPort | sort n desc, srcAddr, dstPort",
            "stats count_distinct(dstPort) as d, sum(bytes) as b by srcAddr | sort srcAddr",
            "fields @timestamp, srcAddr | sort @timestamp desc | limit 5",
            "stats count(*) as n",
        ] {
            // Many batches, one partial.
            let n = 50_000;
            let (streamed, closed) = streamed(text, n);
            assert!(!closed, "{text}");
            let whole = whole(text, n);
            assert_eq!(streamed, whole, "{text}");
            assert_eq!(streamed.records_scanned, n);
        }
    }

    #[test]
    fn partitions_no_builder_took_end_empty_and_forks_of_forks_feed_the_rest() {
        let query = Compiled::new("stats count(*) as n, sum(bytes) as b").unwrap();
        for forks in [0, 1, 2, 4] {
            let (builder, streamed) = query.stream_partitioned(PARAMS, true, 3).unwrap();
            let feeder = std::thread::spawn(move || {
                // Each builder forks the next: partitions 1 and 2, then the last one's again.
                let mut builders = vec![builder];
                for _ in 0..forks {
                    let fork = builders.last().unwrap().fork().unwrap();
                    builders.push(fork);
                }
                for i in 0..3_000u64 {
                    let message = line(i);
                    let b = &mut builders[i as usize % (forks + 1)];
                    b.push(&event(i, &message, "p")).unwrap();
                }
                for b in builders {
                    b.finish().unwrap();
                }
            });
            let runtime = tokio::runtime::Runtime::new().unwrap();
            let output = runtime
                .block_on(async {
                    tokio::time::timeout(std::time::Duration::from_secs(60), streamed.run(1 << 28))
                        .await
                })
                .expect("every partition ends")
                .unwrap();
            feeder.join().unwrap();
            assert_eq!(
                output.rows,
                vec![vec![
                    ("n".to_owned(), "3000".to_owned()),
                    ("b".to_owned(), "120000".to_owned())
                ]],
                "{forks} forks"
            );
        }
    }

    #[test]
    fn an_empty_streamed_input_is_an_empty_answer() {
        let (output, closed) = streamed("filter action = 'REJECT' | stats count(*) as n", 0);
        assert!(!closed);
        assert_eq!(output.records_scanned, 0);
        assert_eq!(output.records_matched, 0);
        assert_eq!(output.rows, vec![vec![("n".to_owned(), "0".to_owned())]]);
    }

    #[test]
    fn a_query_that_stopped_closes_its_input() {
        let query = Compiled::new("filter action = 'REJECT' | stats count(*) as n").unwrap();
        let (mut builder, streamed) = query.stream(PARAMS).unwrap();
        // A query that ends (here: never runs) drops its channels; the reader learns it at the
        // next batch instead of reading on.
        drop(streamed);
        let mut result = Ok(());
        for i in 0..20_000 {
            let message = line(i);
            result = builder.push(&event(i, &message, "p"));
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(QueryError::InputClosed)), "{result:?}");
        assert!(builder.finish().is_ok());
    }

    #[test]
    fn a_query_builds_only_the_columns_it_reads() {
        use crate::{MESSAGE, PTR};
        let needs = |text: &str, field: &str| {
            let query = Compiled::new(text).unwrap();
            let (builder, _streamed) = query.stream(PARAMS).unwrap();
            builder.needs(field)
        };
        let stats = "filter action = 'REJECT' | stats count(*) as n by srcAddr";
        assert!(!needs(stats, PTR));
        assert!(!needs(stats, MESSAGE));
        assert!(needs(stats, "srcAddr"));
        assert!(needs(stats, "action"));
        assert!(needs("fields srcAddr", PTR));
        assert!(needs("filter dstPort = 22", MESSAGE));
        assert!(needs(
            "filter @message like 'x' | stats count(*) as n",
            MESSAGE
        ));
        assert!(needs(
            "parse @message 'a * b' as x | stats count(*) as n by x",
            MESSAGE
        ));
    }
}
