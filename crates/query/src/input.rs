//! The input table of a query: one row per event, system fields plus the discovered fields
//! the query refers to, built in bounded batches.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int64Array, Int64Builder, StringBuilder, TimestampMillisecondBuilder, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::discover;
use crate::error::{QueryError, Result};
use crate::stream::Sink;

/// `@timestamp`: event time, milliseconds.
pub const TIMESTAMP: &str = "@timestamp";
/// `@ingestionTime`.
pub const INGESTION_TIME: &str = "@ingestionTime";
/// `@message`.
pub const MESSAGE: &str = "@message";
/// `@logStream`.
pub const LOG_STREAM: &str = "@logStream";
/// `@log`: `account-id:log-group-name`.
pub const LOG: &str = "@log";
/// `@ptr`: opaque pointer for GetLogRecord.
pub const PTR: &str = "@ptr";
/// Hidden tie-breaker: arrival order of events with equal timestamps.
pub const SEQ: &str = "__seq";

/// Positions in [`input_schema`] of the text system columns a query may not read.
const MESSAGE_COLUMN: usize = 1;
const LOG_STREAM_COLUMN: usize = 2;
const LOG_COLUMN: usize = 3;
const PTR_COLUMN: usize = 5;
/// Columns before the discovered fields: the system fields and `__seq`.
const SYSTEM_COLUMNS: usize = SYSTEM_FIELDS.len() + 1;

/// Rows per Arrow batch of the input table.
const BATCH_ROWS: usize = 8192;
/// Bytes counted per row besides its strings (fixed columns, offsets, validity).
const ROW_OVERHEAD: usize = 64;

/// The system fields, in the order they are laid out.
pub const SYSTEM_FIELDS: [&str; 6] = [TIMESTAMP, MESSAGE, LOG_STREAM, LOG, INGESTION_TIME, PTR];

/// Whether `name` is a field every event has.
pub fn is_system(name: &str) -> bool {
    SYSTEM_FIELDS.contains(&name) || name == SEQ
}

/// One event handed to a query.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// Event time, ms since the epoch.
    pub timestamp: i64,
    /// Ingestion time, ms since the epoch.
    pub ingestion_time: i64,
    /// Arrival order among events of the same group (ties of `timestamp`).
    pub seq: u64,
    pub log_stream: &'a str,
    /// `account-id:log-group-name`.
    pub log: &'a str,
    pub ptr: &'a str,
    pub message: &'a str,
}

/// Events whose discovered fields come as columns (a flow-log segment's typed columns), pushed
/// a batch at a time with [`InputBuilder::push_columns`]. The reader makes the columns of the
/// system fields the query reads ([`InputBuilder::reads`]) and leaves the others `None`.
#[derive(Debug)]
pub struct ColumnBatch<'a> {
    /// Event times, ms since the epoch.
    pub timestamps: &'a Int64Array,
    /// Ingestion times, ms since the epoch.
    pub ingestion_times: &'a Int64Array,
    /// Arrival order (ties of `timestamp`).
    pub seqs: &'a UInt64Array,
    /// Bytes of the events' messages (bytesScanned).
    pub message_bytes: u64,
    /// `@message` (Utf8).
    pub messages: Option<ArrayRef>,
    /// `@logStream` (Utf8).
    pub log_streams: Option<ArrayRef>,
    /// `@log` (Utf8).
    pub logs: Option<ArrayRef>,
    /// `@ptr` (Utf8).
    pub ptrs: Option<ArrayRef>,
    /// Discovered fields by name, of any type that casts to the field's column type (text, or
    /// Int64 for a flow-log number) with the value the event's text has (a number in its
    /// canonical form); a field not here is null in every event.
    pub fields: Vec<(&'static str, ArrayRef)>,
}

/// Builds the input table event by event, refusing to hold more than `max_bytes`; or, made by
/// [`crate::Compiled::stream`], handing each batch to the running query as it is finished.
#[derive(Debug)]
pub struct InputBuilder {
    schema: SchemaRef,
    fields: Vec<String>,
    flow_index: Vec<Option<usize>>,
    /// Where a flow-log record's values are (reused from event to event).
    spans: Vec<(usize, usize)>,
    rows: Rows,
    batches: Vec<RecordBatch>,
    bytes: usize,
    max_bytes: usize,
    records: u64,
    message_bytes: u64,
    /// `records` and `message_bytes` as last added to the sink's counts.
    reported: (u64, u64),
    /// Which discovered fields are Int64 columns.
    numbers: Vec<bool>,
    /// Where finished batches go while the query runs (`None`: kept in `batches`).
    pub(crate) sink: Option<Sink>,
    /// Which columns (by position in the schema) the query reads: the others are left empty.
    pub(crate) needed: Vec<bool>,
}

#[derive(Debug)]
struct Rows {
    timestamp: TimestampMillisecondBuilder,
    message: StringBuilder,
    log_stream: StringBuilder,
    log: StringBuilder,
    ingestion: TimestampMillisecondBuilder,
    ptr: StringBuilder,
    seq: Int64Builder,
    discovered: Vec<Column>,
    len: usize,
}

/// A discovered field's column: text, or a flow-log number ([`InputBuilder::with_flow_types`]).
#[derive(Debug)]
enum Column {
    Text(StringBuilder),
    Number(Int64Builder),
}

impl Column {
    fn append_null(&mut self) {
        match self {
            Self::Text(b) => b.append_null(),
            Self::Number(b) => b.append_null(),
        }
    }
}

impl Rows {
    fn new(numbers: &[bool]) -> Self {
        Self {
            timestamp: TimestampMillisecondBuilder::new(),
            message: StringBuilder::new(),
            log_stream: StringBuilder::new(),
            log: StringBuilder::new(),
            ingestion: TimestampMillisecondBuilder::new(),
            ptr: StringBuilder::new(),
            seq: Int64Builder::new(),
            discovered: numbers
                .iter()
                .map(|&number| {
                    if number {
                        Column::Number(Int64Builder::new())
                    } else {
                        Column::Text(StringBuilder::new())
                    }
                })
                .collect(),
            len: 0,
        }
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.timestamp.finish()),
            Arc::new(text(&mut self.message)),
            Arc::new(text(&mut self.log_stream)),
            Arc::new(text(&mut self.log)),
            Arc::new(self.ingestion.finish()),
            Arc::new(text(&mut self.ptr)),
            Arc::new(self.seq.finish()),
        ];
        columns.extend(self.discovered.iter_mut().map(|c| match c {
            Column::Text(b) => Arc::new(text(b)) as ArrayRef,
            Column::Number(b) => Arc::new(b.finish()) as ArrayRef,
        }));
        self.len = 0;
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    }
}

/// Finishes a text column and leaves its builder with room for a batch like this one, so the
/// next batch is built without growing (copying) its buffers.
fn text(builder: &mut StringBuilder) -> arrow::array::StringArray {
    let bytes = builder.values_slice().len();
    let array = builder.finish();
    // Exactly the last batch's size: arrays keep their builder's capacity, so slack would stay
    // in memory for the whole query.
    *builder = StringBuilder::with_capacity(BATCH_ROWS, bytes);
    array
}

/// `n` empty strings, with no bytes behind them.
fn empty_strings(n: usize) -> ArrayRef {
    Arc::new(arrow::array::StringArray::new(
        arrow::buffer::OffsetBuffer::new_zeroed(n),
        arrow::buffer::Buffer::from_vec(Vec::<u8>::new()),
        None,
    ))
}

fn cast(array: &dyn arrow::array::Array, to: &DataType) -> Result<ArrayRef> {
    Ok(arrow::compute::cast(array, to)?)
}

/// For each discovered field of an [`InputBuilder`], its position among the named fields of
/// some records (`None`: they do not have it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPositions(Vec<Option<usize>>);

/// The schema of an input table with these discovered fields (all strings).
pub fn input_schema(discovered: &[String]) -> SchemaRef {
    typed_input_schema(discovered, &vec![false; discovered.len()])
}

/// Which of `discovered` are flow-log numbers when the input's events are all flow-log records
/// ([`InputBuilder::with_flow_types`]): `version`, ports, `protocol`, counts and times.
pub fn flow_numbers(discovered: &[String]) -> Vec<bool> {
    discovered
        .iter()
        .map(|name| {
            flowwatch_flowlog::Field::from_insights_name(name).is_some_and(|f| {
                f.kind().is_integer()
                    && flowwatch_flowlog::LogFormat::default_vpc()
                        .position(f)
                        .is_some()
            })
        })
        .collect()
}

/// The schema of an input table with these discovered fields, text but where `numbers` says
/// Int64.
fn typed_input_schema(discovered: &[String], numbers: &[bool]) -> SchemaRef {
    let ts = DataType::Timestamp(TimeUnit::Millisecond, None);
    let mut fields = vec![
        Field::new(TIMESTAMP, ts.clone(), false),
        Field::new(MESSAGE, DataType::Utf8, false),
        Field::new(LOG_STREAM, DataType::Utf8, false),
        Field::new(LOG, DataType::Utf8, false),
        Field::new(INGESTION_TIME, ts, false),
        Field::new(PTR, DataType::Utf8, false),
        Field::new(SEQ, DataType::Int64, false),
    ];
    fields.extend(discovered.iter().zip(numbers).map(|(name, &number)| {
        let t = if number {
            DataType::Int64
        } else {
            DataType::Utf8
        };
        Field::new(name, t, true)
    }));
    Arc::new(Schema::new(fields))
}

impl InputBuilder {
    /// An empty input with these discovered fields, holding at most `max_bytes`.
    pub fn new(discovered: Vec<String>, max_bytes: usize) -> Self {
        Self::with_flow_types(discovered, max_bytes, false)
    }

    /// An empty input whose flow-log number fields (`dstPort`, `bytes`...) are Int64 columns
    /// when `flow_types`: for inputs whose events are all flow-log records, so a plan compares
    /// and sums integers instead of parsing text. A value that is not a number is null.
    pub fn with_flow_types(discovered: Vec<String>, max_bytes: usize, flow_types: bool) -> Self {
        let numbers = if flow_types {
            flow_numbers(&discovered)
        } else {
            vec![false; discovered.len()]
        };
        Self::with_numbers(discovered, max_bytes, numbers)
    }

    /// An empty input whose discovered fields are Int64 columns where `numbers` says.
    fn with_numbers(discovered: Vec<String>, max_bytes: usize, numbers: Vec<bool>) -> Self {
        let names = discover::flow_log_names();
        let flow_index = discovered
            .iter()
            .map(|f| names.iter().position(|n| n == f))
            .collect();
        Self {
            schema: typed_input_schema(&discovered, &numbers),
            rows: Rows::new(&numbers),
            fields: discovered,
            flow_index,
            spans: Vec::with_capacity(14),
            batches: Vec::new(),
            bytes: 0,
            max_bytes,
            records: 0,
            message_bytes: 0,
            reported: (0, 0),
            numbers,
            sink: None,
            needed: Vec::new(),
        }
    }

    /// Another builder feeding the same running query, for another thread to push events
    /// into (each finished batch goes to the query as this builder's do, to a partition of
    /// the input no builder feeds yet if there is one; the query's input ends when every
    /// builder is finished or dropped). `None` unless the input is streamed
    /// ([`crate::Compiled::stream`]): a kept table has one builder.
    pub fn fork(&self) -> Option<InputBuilder> {
        let sink = self.sink.as_ref()?.fork();
        let mut fork =
            Self::with_numbers(self.fields.clone(), self.max_bytes, self.numbers.clone());
        fork.sink = Some(sink);
        fork.needed = self.needed.clone();
        Some(fork)
    }

    /// Whether finished batches go to a running query ([`crate::Compiled::stream`]).
    pub fn is_streamed(&self) -> bool {
        self.sink.is_some()
    }

    /// Adds what this builder pushed since it last did to the running query's counts.
    fn report(&mut self) {
        if let Some(sink) = &self.sink {
            sink.scanned.add(
                self.records - self.reported.0,
                self.message_bytes - self.reported.1,
            );
            self.reported = (self.records, self.message_bytes);
        }
    }

    /// Whether the query reads field `name` (a system field or a discovered one); a field it
    /// does not read is left empty, so a reader need not make its value (`@ptr`).
    pub fn needs(&self, name: &str) -> bool {
        self.needed.is_empty()
            || self
                .schema
                .index_of(name)
                .map_or(true, |i| self.needed.get(i).copied().unwrap_or(true))
    }

    /// The table's schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Events pushed so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Message bytes pushed so far.
    pub fn message_bytes(&self) -> u64 {
        self.message_bytes
    }

    /// Whether the query reads field `name`: it is in the table, and a plan reads it.
    pub fn reads(&self, name: &str) -> bool {
        self.schema.index_of(name).is_ok() && self.needs(name)
    }

    /// Appends a batch of events whose fields are columns already, without a row-by-row copy:
    /// discovered fields are cast to their column's type (text, or Int64), columns the query
    /// does not read are left empty.
    pub fn push_columns(&mut self, batch: ColumnBatch<'_>) -> Result<()> {
        if self.rows.len > 0 {
            let rows = self.rows.finish(&self.schema)?;
            self.emit(rows)?;
        }
        let n = batch.timestamps.len();
        let ts = DataType::Timestamp(TimeUnit::Millisecond, None);
        let needed = |i: usize| self.needed.get(i).copied().unwrap_or(true);
        let text = |i: usize, column: Option<ArrayRef>| -> ArrayRef {
            match column.filter(|_| needed(i)) {
                Some(c) => c,
                None => empty_strings(n),
            }
        };
        let mut columns: Vec<ArrayRef> = vec![
            cast(batch.timestamps, &ts)?,
            text(MESSAGE_COLUMN, batch.messages),
            text(LOG_STREAM_COLUMN, batch.log_streams),
            text(LOG_COLUMN, batch.logs),
            cast(batch.ingestion_times, &ts)?,
            text(PTR_COLUMN, batch.ptrs),
            cast(batch.seqs, &DataType::Int64)?,
        ];
        for (i, name) in self.fields.iter().enumerate() {
            let column = batch
                .fields
                .iter()
                .find(|(n, _)| n == name)
                .filter(|_| needed(SYSTEM_COLUMNS + i));
            let t = self.schema.field(SYSTEM_COLUMNS + i).data_type();
            columns.push(match column {
                Some((_, c)) => cast(c, t)?,
                None => arrow::array::new_null_array(t, n),
            });
        }
        let table = RecordBatch::try_new(self.schema.clone(), columns)?;
        self.records += n as u64;
        self.message_bytes += batch.message_bytes;
        self.bytes += table.get_array_memory_size();
        if self.sink.is_none() && self.bytes > self.max_bytes {
            return Err(QueryError::MemoryExceeded {
                limit: self.max_bytes,
            });
        }
        self.emit(table)
    }

    /// Appends one event, extracting the discovered fields the query uses.
    pub fn push(&mut self, event: &Event<'_>) -> Result<()> {
        if self.fields.is_empty() {
            return self.push_values(event, |_, _| None);
        }
        let flow_index = std::mem::take(&mut self.flow_index);
        let mut spans = std::mem::take(&mut self.spans);
        if discover::flow_log_spans(event.message, &mut spans) {
            let message = event.message;
            let pushed = self.push_values(event, |i, _| {
                flow_index[i]
                    .map(|at| &message[spans[at].0..spans[at].1])
                    .filter(|v| *v != "-")
                    .map(Cow::Borrowed)
            });
            self.flow_index = flow_index;
            self.spans = spans;
            return pushed;
        }
        self.spans = spans;
        self.flow_index = flow_index;
        let json = discover::json_object(event.message);
        self.push_values(event, |_, name| {
            json.as_ref()
                .and_then(|json| discover::json_path(json, name))
                .and_then(discover::leaf_text)
                .map(Cow::Owned)
        })
    }

    /// Where the discovered fields the query uses are among records whose fields are named
    /// `names` (a file's header or columns): looked up once per file, for
    /// [`InputBuilder::push_named`].
    pub fn positions_of(&self, names: &[&str]) -> FieldPositions {
        FieldPositions(
            self.fields
                .iter()
                .map(|f| names.iter().position(|n| n == f))
                .collect(),
        )
    }

    /// Appends one event whose fields are already known: `spans` are where a record's values
    /// are in its message (byte ranges), in the order of the names `at` was made from
    /// ([`InputBuilder::positions_of`]), `-` for absent, as for a flow-log record read from a
    /// file whose header or columns name its fields, whatever its format.
    pub fn push_named(
        &mut self,
        event: &Event<'_>,
        at: &FieldPositions,
        spans: &[(usize, usize)],
    ) -> Result<()> {
        let message = event.message;
        self.push_values(event, |i, _| {
            at.0.get(i)
                .copied()
                .flatten()
                .and_then(|at| spans.get(at))
                .and_then(|&(a, b)| message.get(a..b))
                .filter(|v| *v != "-")
                .map(Cow::Borrowed)
        })
    }

    /// Appends one event, the value of discovered field `i` (named `name`) given by `value`.
    fn push_values<'v>(
        &mut self,
        event: &Event<'_>,
        mut value: impl FnMut(usize, &str) -> Option<Cow<'v, str>>,
    ) -> Result<()> {
        let mut size = ROW_OVERHEAD
            + event.message.len()
            + event.log_stream.len()
            + event.log.len()
            + event.ptr.len();
        let rows = &mut self.rows;
        // Columns in schema order; one the query does not read is left empty.
        let needed = |i: usize| self.needed.get(i).copied().unwrap_or(true);
        rows.timestamp.append_value(event.timestamp);
        rows.message.append_value(if needed(MESSAGE_COLUMN) {
            event.message
        } else {
            ""
        });
        rows.log_stream.append_value(if needed(LOG_STREAM_COLUMN) {
            event.log_stream
        } else {
            ""
        });
        rows.log
            .append_value(if needed(LOG_COLUMN) { event.log } else { "" });
        rows.ingestion.append_value(event.ingestion_time);
        rows.ptr
            .append_value(if needed(PTR_COLUMN) { event.ptr } else { "" });
        rows.seq
            .append_value(i64::try_from(event.seq).unwrap_or(i64::MAX));
        for (i, name) in self.fields.iter().enumerate() {
            if !needed(SYSTEM_COLUMNS + i) {
                rows.discovered[i].append_null();
                continue;
            }
            let value = value(i, name);
            size += value.as_ref().map_or(0, |v| v.len());
            match &mut rows.discovered[i] {
                Column::Text(b) => b.append_option(value.as_deref()),
                Column::Number(b) => b.append_option(value.and_then(|v| v.parse().ok())),
            }
        }
        rows.len += 1;
        self.records += 1;
        self.message_bytes += event.message.len() as u64;
        self.bytes += size;
        if self.sink.is_none() && self.bytes > self.max_bytes {
            return Err(QueryError::MemoryExceeded {
                limit: self.max_bytes,
            });
        }
        if rows.len >= BATCH_ROWS {
            let batch = rows.finish(&self.schema)?;
            self.emit(batch)?;
        }
        Ok(())
    }

    /// Keeps a finished batch, or hands it to the running query (waiting while it is behind).
    fn emit(&mut self, batch: RecordBatch) -> Result<()> {
        self.report();
        match &mut self.sink {
            Some(sink) => sink.send(batch),
            None => {
                self.batches.push(batch);
                Ok(())
            }
        }
    }

    /// The finished table; for a streamed input, the last batch is handed to the query, which
    /// then sees the end of its input, and the table returned has no batches.
    pub fn finish(mut self) -> Result<Input> {
        if self.rows.len > 0 || (self.batches.is_empty() && self.sink.is_none()) {
            let batch = self.rows.finish(&self.schema)?;
            match self.emit(batch) {
                Ok(()) | Err(QueryError::InputClosed) => {}
                Err(e) => return Err(e),
            }
        }
        self.report();
        Ok(Input {
            schema: self.schema,
            batches: self.batches,
            records: self.records,
            message_bytes: self.message_bytes,
            bytes: self.bytes,
        })
    }
}

/// A finished input table.
#[derive(Debug, Clone)]
pub struct Input {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Events in the table (recordsScanned).
    pub records: u64,
    /// Bytes of their messages (bytesScanned).
    pub message_bytes: u64,
    /// What the table holds in memory, approximately.
    pub bytes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_positions_are_the_schemas() {
        let schema = input_schema(&["srcAddr".to_owned()]);
        assert_eq!(schema.index_of(MESSAGE).unwrap(), MESSAGE_COLUMN);
        assert_eq!(schema.index_of(LOG_STREAM).unwrap(), LOG_STREAM_COLUMN);
        assert_eq!(schema.index_of(LOG).unwrap(), LOG_COLUMN);
        assert_eq!(schema.index_of(PTR).unwrap(), PTR_COLUMN);
        assert_eq!(schema.index_of("srcAddr").unwrap(), SYSTEM_COLUMNS);
    }
}
