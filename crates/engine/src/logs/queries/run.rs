//! Running one query in the background: read each group in one pass (`storage::GroupPass`),
//! its pieces (the events in memory, each segment) shared out to a reader per core, each
//! building a partition of the input on a blocking thread; execute on a blocking thread with
//! a runtime of its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arrow_array::ArrayRef;
use arrow_array::builder::StringBuilder;
use flowwatch_model::Scope;
use flowwatch_query::{ColumnBatch, Compiled, Event, Input, InputBuilder, Params, QueryOutput};
use flowwatch_storage::segment::flow::flow_fields;
use flowwatch_storage::{GroupPass, Part, PassBatch, PassEvent, Position, ScannedEvent, TypedRead};

use super::Target;
use super::registry::Language;
use crate::Engine;

/// Most distinct discovered fields one SQL table gets (columns).
const MAX_SQL_FIELDS: usize = 1_000;

/// A group's events with their `@ptr`, its `@log` and its stream names (SQL input).
type GroupEvents = (
    Vec<(ScannedEvent, String)>,
    String,
    Arc<HashMap<i64, String>>,
);

/// Everything a background query needs.
#[derive(Debug)]
pub(crate) struct Job {
    pub id: String,
    pub scope: Scope,
    pub language: Language,
    pub compiled: Option<Arc<Compiled>>,
    pub targets: Vec<Target>,
    pub start_ms: i64,
    /// Exclusive.
    pub end_ms: i64,
    pub now_ms: i64,
    pub limit: u64,
}

/// `@ptr`: `group.stream.timestamp.seq`, what GetLogRecord needs to find the event.
pub(crate) fn encode_ptr(group: i64, stream: i64, p: Position) -> String {
    let mut ptr = String::with_capacity(48);
    write_ptr(&mut ptr, group, stream, p);
    ptr
}

/// [`encode_ptr`] into `out` (cleared first): a reader pushing many events keeps one buffer.
fn write_ptr(out: &mut String, group: i64, stream: i64, p: Position) {
    let mut number = itoa::Buffer::new();
    out.clear();
    out.push_str(number.format(group));
    out.push('.');
    out.push_str(number.format(stream));
    out.push('.');
    out.push_str(number.format(p.timestamp));
    out.push('.');
    out.push_str(number.format(p.seq));
}

pub(crate) fn decode_ptr(ptr: &str) -> Option<(i64, i64, Position)> {
    let mut parts = ptr.split('.');
    let group = parts.next()?.parse().ok()?;
    let stream = parts.next()?.parse().ok()?;
    let timestamp = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    parts
        .next()
        .is_none()
        .then_some((group, stream, Position { timestamp, seq }))
}

fn failed(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Engine {
    pub(crate) async fn run_query(self, job: Job) {
        let Ok(_slot) = self.queries.slots.acquire().await else {
            return;
        };
        if !self.queries.mark_running(&job.id) {
            return;
        }
        let result = self.execute(&job).await;
        if let Err(error) = &result {
            tracing::warn!(query = %job.id, %error, "query failed");
        }
        self.queries.finish(&job.id, result, self.now());
    }

    async fn execute(&self, job: &Job) -> Result<QueryOutput, String> {
        let memory = self.config().query_memory_limit;
        match (&job.language, &job.compiled) {
            (Language::Cwli, Some(compiled)) => {
                // The groups are read on every core, each reader feeding a partition of the
                // input of its own; sorts then break ties by the order before them, so results
                // do not depend on which reader read what.
                let readers = query_threads();
                let params = Params {
                    start_ms: job.start_ms,
                    end_ms: job.end_ms - 1,
                    now_ms: job.now_ms,
                    default_limit: job.limit,
                    stable_ties: readers > 1,
                };
                // One pass per group, begun before the query is planned: when every event
                // of them is a flow-log record, the input's flow-log numbers are integers.
                let mut passes = Vec::with_capacity(job.targets.len());
                let mut flow_types = true;
                for target in &job.targets {
                    let pass = self.group_pass(job, target).await?;
                    flow_types = flow_types && self.storage().pass_is_flow_log(&pass);
                    passes.push(pass);
                }
                // The query runs while the groups are read into its input, holding a few
                // batches of it at a time.
                let (builder, streamed) = compiled
                    .stream_partitioned(params, flow_types, readers)
                    .map_err(failed)?;
                let feed = self.read_groups(job, passes, builder, readers);
                let run = blocking_run(move || streamed.run(memory));
                let (fed, output) = tokio::join!(feed, run);
                fed?;
                output
            }
            _ => {
                let mut tables = Vec::with_capacity(job.targets.len());
                for target in &job.targets {
                    let events = self.collect_group(job, target, memory).await?;
                    let input = tokio::task::spawn_blocking(move || sql_table(events, memory))
                        .await
                        .map_err(failed)??;
                    tables.push((target.name.clone(), input));
                }
                let sql = self
                    .queries
                    .get(&job.scope.account, &job.id, job.now_ms)
                    .map(|q| q.text);
                let sql = sql.ok_or("query stopped")?;
                blocking_run(
                    move || async move { flowwatch_query::run_sql(&sql, tables, memory).await },
                )
                .await
            }
        }
    }

    /// Reads the groups in their passes into the query's input on `readers` blocking threads,
    /// each pushing into a builder of its own (`builder` and its forks: a partition of the
    /// input each). The pieces (each group's events that were in memory, and the parts of
    /// each of its segments, `GroupPass::segment_parts`) are taken in turn by whichever reader
    /// is free; a reader decodes the segment
    /// it took (typed flow-log columns when it has them) and pushes it. Stops early, without
    /// error, when the query needs no more input.
    async fn read_groups(
        &self,
        job: &Job,
        passes: Vec<GroupPass>,
        builder: InputBuilder,
        readers: usize,
    ) -> Result<(), String> {
        // Segments of flow-log records are read as the typed columns the query reads.
        let typed = Arc::new(TypedRead {
            fields: flow_fields()
                .iter()
                .copied()
                .filter(|f| builder.reads(f.insights_name()))
                .collect(),
            message: builder.reads(flowwatch_query::MESSAGE),
        });
        let mut groups = Vec::with_capacity(passes.len());
        let mut pieces = Vec::new();
        for (index, (target, mut pass)) in job.targets.iter().zip(passes).enumerate() {
            let memory = pass.take_memory();
            if !memory.is_empty() {
                pieces.push((index, Piece::Memory));
            }
            for segment in 0..pass.segment_count() {
                let count = pass.segment_parts(segment);
                pieces.extend(
                    (0..count).map(|i| (index, Piece::Segment(segment, Part { index: i, count }))),
                );
            }
            groups.push(GroupRead {
                id: target.id,
                names: self.stream_names(&job.scope, target),
                log: format!("{}:{}", job.scope.account, target.name),
                memory,
                pass,
            });
        }
        let shared = Arc::new(Reading {
            engine: self.clone(),
            query: job.id.clone(),
            groups,
            pieces,
            typed,
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let mut builders = Vec::with_capacity(readers);
        for _ in 1..readers.min(shared.pieces.len()).max(1) {
            builders.extend(builder.fork());
        }
        builders.push(builder);
        let handle = tokio::runtime::Handle::current();
        let tasks: Vec<_> = builders
            .into_iter()
            .map(|b| {
                let (shared, handle) = (shared.clone(), handle.clone());
                tokio::task::spawn_blocking(move || shared.read(b, &handle))
            })
            .collect();
        let mut result = Ok(());
        for task in tasks {
            let read = task.await.map_err(failed).and_then(|r| r);
            if result.is_ok() {
                result = read;
            }
        }
        result
    }

    /// Every event of one group in the range (for SQL, whose columns depend on all of them).
    async fn collect_group(
        &self,
        job: &Job,
        target: &Target,
        memory: usize,
    ) -> Result<GroupEvents, String> {
        let names = Arc::new(self.stream_names(&job.scope, target));
        let log = format!("{}:{}", job.scope.account, target.name);
        let mut events = Vec::new();
        let mut bytes = 0;
        let mut pass = self.group_pass(job, target).await?;
        let mut chunk = pass.take_memory();
        let mut next = 0;
        loop {
            if !self.queries.is_active(&job.id) {
                return Err("query stopped".into());
            }
            self.count_scanned(&job.id, &chunk);
            for e in chunk {
                bytes += e.event.message.len() + 64;
                if bytes > memory {
                    return Err(
                        flowwatch_query::QueryError::MemoryExceeded { limit: memory }.to_string(),
                    );
                }
                let ptr = encode_ptr(target.id, e.stream_id, e.event.position());
                events.push((e, ptr));
            }
            if next == pass.segment_count() {
                return Ok((events, log, names));
            }
            chunk = self
                .storage()
                .read_pass_segment(&pass, next)
                .await
                .map_err(failed)?;
            next += 1;
        }
    }

    fn count_scanned(&self, id: &str, page: &[ScannedEvent]) {
        let bytes = page.iter().map(|e| e.event.message.len() as u64).sum();
        self.queries.add_scanned(id, page.len() as u64, bytes);
    }

    async fn group_pass(&self, job: &Job, target: &Target) -> Result<GroupPass, String> {
        self.storage()
            .group_pass(target.id, job.start_ms, job.end_ms)
            .await
            .map_err(failed)
    }

    fn stream_names(&self, scope: &Scope, target: &Target) -> HashMap<i64, String> {
        self.storage()
            .log_streams(scope, &target.name)
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect()
    }
}

/// A piece of a group for a query's reader: the events that were in memory, or a part of a
/// segment.
#[derive(Debug, Clone, Copy)]
enum Piece {
    Memory,
    Segment(usize, Part),
}

/// One group as a query's readers read it.
struct GroupRead {
    id: i64,
    names: HashMap<i64, String>,
    /// `@log`.
    log: String,
    memory: Vec<ScannedEvent>,
    pass: GroupPass,
}

/// What a query's readers share: the pieces of its groups, taken in turn.
struct Reading {
    engine: Engine,
    query: String,
    groups: Vec<GroupRead>,
    /// (group, piece) in the order they are taken.
    pieces: Vec<(usize, Piece)>,
    typed: Arc<TypedRead>,
    next: AtomicUsize,
    /// Set when a reader failed.
    stop: AtomicBool,
}

impl Reading {
    /// One reader: takes the next piece until none is left, reading it into `builder`
    /// (on a blocking thread: `handle` runs the storage's reads).
    fn read(
        &self,
        mut builder: InputBuilder,
        handle: &tokio::runtime::Handle,
    ) -> Result<(), String> {
        let result = self.read_pieces(&mut builder, handle);
        if result.is_err() {
            self.stop.store(true, Ordering::Relaxed);
        }
        match result? {
            true => builder.finish().map(drop).map_err(failed),
            // The query needs no more input: its partitions end as the builders drop.
            false => Ok(()),
        }
    }

    /// `false`: the query needs no more input.
    fn read_pieces(
        &self,
        builder: &mut InputBuilder,
        handle: &tokio::runtime::Handle,
    ) -> Result<bool, String> {
        let ptr = builder.needs(flowwatch_query::PTR);
        while !self.stop.load(Ordering::Relaxed) {
            let Some(&(group, piece)) = self.pieces.get(self.next.fetch_add(1, Ordering::Relaxed))
            else {
                return Ok(true);
            };
            if !self.engine.queries.is_active(&self.query) {
                return Err("query stopped".into());
            }
            let g = &self.groups[group];
            let mut pusher = Pusher::new(g.id, &g.names, &g.log, ptr);
            let pushed = match piece {
                Piece::Memory => g
                    .memory
                    .iter()
                    .try_for_each(|e| pusher.push(builder, PassEvent::from(e))),
                Piece::Segment(index, part) => {
                    let storage = self.engine.storage();
                    let read = storage.read_pass_part(&g.pass, index, part, Some(&self.typed));
                    let rows = handle.block_on(read).map_err(failed)?;
                    if rows.is_typed() {
                        rows.try_for_each_batch(|batch| pusher.push_batch(builder, batch))
                    } else {
                        rows.try_for_each(|e| pusher.push(builder, e))
                    }
                }
            };
            self.engine
                .queries
                .add_scanned(&self.query, pusher.records, pusher.bytes);
            match pushed {
                Ok(()) => {}
                // This reader's partition is closed: the other readers take the pieces left
                // (their partitions close too if the query needs nothing more).
                Err(Pushed::Query(flowwatch_query::QueryError::InputClosed)) => return Ok(false),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(false)
    }
}

/// Threads a query reads its input on and runs its plan on: the machine's cores.
fn query_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Why pushing stopped.
#[derive(Debug, thiserror::Error)]
enum Pushed {
    #[error(transparent)]
    Query(#[from] flowwatch_query::QueryError),
    #[error(transparent)]
    Storage(#[from] flowwatch_storage::StorageError),
}

/// Pushes a group's events into a query's input, writing each `@ptr` into one buffer.
struct Pusher<'a> {
    group: i64,
    names: &'a HashMap<i64, String>,
    log: &'a str,
    /// Whether the query reads `@ptr` (a `stats` query does not).
    ptr_needed: bool,
    /// The last event's stream and its name (a segment's rows are sorted by stream).
    stream: (i64, &'a str),
    ptr: String,
    records: u64,
    bytes: u64,
}

impl<'a> Pusher<'a> {
    fn new(group: i64, names: &'a HashMap<i64, String>, log: &'a str, ptr: bool) -> Self {
        Self {
            ptr_needed: ptr,
            group,
            names,
            log,
            stream: (i64::MIN, ""),
            ptr: String::with_capacity(48),
            records: 0,
            bytes: 0,
        }
    }

    fn push(&mut self, builder: &mut InputBuilder, e: PassEvent<'_>) -> Result<(), Pushed> {
        if self.ptr_needed {
            let at = Position {
                timestamp: e.timestamp,
                seq: e.seq,
            };
            write_ptr(&mut self.ptr, self.group, e.stream_id, at);
        }
        if self.stream.0 != e.stream_id {
            let name = self.names.get(&e.stream_id).map_or("", String::as_str);
            self.stream = (e.stream_id, name);
        }
        self.records += 1;
        self.bytes += e.message.len() as u64;
        builder.push(&Event {
            timestamp: e.timestamp,
            ingestion_time: e.ingestion_time,
            seq: e.seq,
            log_stream: self.stream.1,
            log: self.log,
            ptr: &self.ptr,
            message: e.message,
        })?;
        Ok(())
    }

    /// Pushes a batch of a segment read as typed flow-log columns, making only the system
    /// columns the query reads.
    fn push_batch(
        &mut self,
        builder: &mut InputBuilder,
        batch: &PassBatch<'_>,
    ) -> Result<(), Pushed> {
        let n = batch.len();
        let log_streams = builder.reads(flowwatch_query::LOG_STREAM).then(|| {
            let mut names = StringBuilder::with_capacity(n, n * 24);
            for &id in batch.stream_ids.values() {
                if self.stream.0 != id {
                    let name = self.names.get(&id).map_or("", String::as_str);
                    self.stream = (id, name);
                }
                names.append_value(self.stream.1);
            }
            Arc::new(names.finish()) as ArrayRef
        });
        let logs = builder.reads(flowwatch_query::LOG).then(|| {
            Arc::new(arrow_array::StringArray::from_iter_values(
                std::iter::repeat_n(self.log, n),
            )) as ArrayRef
        });
        let ptrs = self.ptr_needed.then(|| {
            let mut ptrs = StringBuilder::with_capacity(n, n * 40);
            for i in 0..n {
                let at = Position {
                    timestamp: batch.timestamps.value(i),
                    seq: batch.seqs.value(i),
                };
                write_ptr(&mut self.ptr, self.group, batch.stream_ids.value(i), at);
                ptrs.append_value(&self.ptr);
            }
            Arc::new(ptrs.finish()) as ArrayRef
        });
        let message_bytes: u64 = batch
            .message_sizes
            .values()
            .iter()
            .map(|&s| u64::try_from(s).unwrap_or(0))
            .sum();
        self.records += n as u64;
        self.bytes += message_bytes;
        builder.push_columns(ColumnBatch {
            timestamps: batch.timestamps,
            ingestion_times: batch.ingestion_times,
            seqs: batch.seqs,
            message_bytes,
            messages: batch.messages.map(|m| Arc::new(m.clone()) as ArrayRef),
            log_streams,
            logs,
            ptrs,
            fields: flow_fields()
                .iter()
                .filter_map(|f| Some((f.insights_name(), batch.field(*f)?.clone())))
                .collect(),
        })?;
        Ok(())
    }
}

/// A SQL table: every discovered field of the group's events becomes a column.
fn sql_table((events, log, names): GroupEvents, memory: usize) -> Result<Input, String> {
    let mut fields: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (e, _) in &events {
        for (name, _) in flowwatch_query::discover::discover(&e.event.message) {
            if fields.len() < MAX_SQL_FIELDS && seen.insert(name.clone()) {
                fields.push(name);
            }
        }
    }
    let mut builder = InputBuilder::new(fields, memory);
    for (e, ptr) in &events {
        builder
            .push(&Event {
                timestamp: e.event.timestamp,
                ingestion_time: e.event.ingestion_time,
                seq: e.event.seq,
                log_stream: names.get(&e.stream_id).map_or("", String::as_str),
                log: &log,
                ptr,
                message: &e.event.message,
            })
            .map_err(failed)?;
    }
    builder.finish().map_err(failed)
}

/// Runs a DataFusion future on a blocking thread with a runtime of its own, so query CPU
/// never occupies the I/O runtime.
async fn blocking_run<F, Fut>(make: F) -> Result<QueryOutput, String>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = flowwatch_query::Result<QueryOutput>>,
{
    tokio::task::spawn_blocking(move || {
        // The plan's partitions run on every core.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(query_threads())
            .thread_name("flowwatch-query")
            .enable_all()
            .build()
            .map_err(failed)?;
        runtime.block_on(make()).map_err(failed)
    })
    .await
    .map_err(failed)?
}
