//! Parquet segments: immutable files of one log group's events, sorted by (stream id,
//! timestamp, seq). Format version 1 is documented in `docs/formats/segment.md`.

pub mod flow;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
#[expect(deprecated, reason = "see read_rows")]
use parquet::arrow::async_reader::{ParquetObjectReader, ParquetRecordBatchStream};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::Statistics;
use parquet::schema::types::ColumnPath;

use crate::error::{Result, StorageError};
use crate::memtable::MemTable;
use crate::types::{Direction, Position, ReadRequest, SegmentMeta, StoredEvent, StreamKey};

/// Version written in each segment's key-value metadata.
pub const SEGMENT_FORMAT_VERSION: u32 = 1;
const VERSION_KEY: &str = "flowwatch.segment.format_version";

/// The columns every version-1 segment has, in this order. Typed columns for recognised formats
/// are added after these as nullable columns; readers select columns by name.
pub fn base_schema() -> SchemaRef {
    Arc::new(Schema::new(base_fields()))
}

fn base_fields() -> Vec<Field> {
    vec![
        Field::new("stream_id", DataType::Int64, false),
        Field::new("stream", DataType::Utf8, false),
        Field::new("timestamp", DataType::Int64, false),
        Field::new("ingestion_time", DataType::Int64, false),
        Field::new("seq", DataType::UInt64, false),
        Field::new("message", DataType::Utf8, false),
    ]
}

/// The columns segments are written with: the base columns, then the typed flow-log columns
/// ([`flow::typed_fields`]).
pub fn write_schema() -> SchemaRef {
    let mut fields = base_fields();
    fields.extend(flow::typed_fields());
    Arc::new(Schema::new(fields))
}

/// One row read back from a segment (compaction input).
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) stream_id: i64,
    pub(crate) timestamp: i64,
    pub(crate) ingestion_time: i64,
    pub(crate) seq: u64,
    pub(crate) message: String,
}

/// Columns being built for one segment, rows already in (stream id, timestamp, seq) order.
struct Columns {
    stream_ids: Vec<i64>,
    names: arrow_array::builder::StringBuilder,
    timestamps: Vec<i64>,
    ingestion: Vec<i64>,
    seqs: Vec<u64>,
    messages: arrow_array::builder::StringBuilder,
    flow: flow::FlowColumns,
}

impl Columns {
    /// `all_records`: whether every earlier row of the segment was a flow-log record.
    fn with_capacity(rows: usize, bytes: usize, all_records: bool) -> Self {
        Self {
            stream_ids: Vec::with_capacity(rows),
            names: arrow_array::builder::StringBuilder::with_capacity(rows, rows * 8),
            timestamps: Vec::with_capacity(rows),
            ingestion: Vec::with_capacity(rows),
            seqs: Vec::with_capacity(rows),
            messages: arrow_array::builder::StringBuilder::with_capacity(rows, bytes),
            flow: flow::FlowColumns::with_capacity(rows, all_records),
        }
    }

    fn push(&mut self, stream_id: i64, name: &str, ts: i64, ingestion: i64, seq: u64, msg: &str) {
        self.stream_ids.push(stream_id);
        self.names.append_value(name);
        self.timestamps.push(ts);
        self.ingestion.push(ingestion);
        self.seqs.push(seq);
        self.messages.append_value(msg);
        self.flow.push(msg);
    }

    fn finish(mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let mut columns: Vec<arrow_array::ArrayRef> = vec![
            Arc::new(Int64Array::from(self.stream_ids)),
            Arc::new(self.names.finish()),
            Arc::new(Int64Array::from(self.timestamps)),
            Arc::new(Int64Array::from(self.ingestion)),
            Arc::new(UInt64Array::from(self.seqs)),
            Arc::new(self.messages.finish()),
        ];
        columns.extend(self.flow.finish());
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    }
}

/// Writes a segment row by row, rows in (stream id, timestamp, seq) order, one row group at a
/// time, so memory stays at one row group of columns plus the encoded output.
pub(crate) struct SegmentWriter {
    writer: ArrowWriter<Vec<u8>>,
    schema: SchemaRef,
    meta: SegmentMeta,
    cols: Columns,
    chunk: usize,
}

impl SegmentWriter {
    pub(crate) fn new(group_id: i64, path: &str, row_group_rows: usize) -> Result<Self> {
        let chunk = row_group_rows.max(1);
        // Messages are zstd's; the other columns are read by every query, so they are encoded
        // to decode cheaply: times and sequence numbers as deltas, uncompressed (they grow
        // within a stream), the stream id as runs of its dictionary, the typed flow-log columns
        // (dictionaries of addresses, actions...) with snappy.
        let mut props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_column_compression(
                ColumnPath::from("message"),
                Compression::ZSTD(ZstdLevel::try_new(1)?),
            );
        for column in [
            "stream_id",
            "timestamp",
            "ingestion_time",
            "seq",
            flow::MESSAGE_SIZE,
        ] {
            props =
                props.set_column_compression(ColumnPath::from(column), Compression::UNCOMPRESSED);
        }
        for column in ["timestamp", "ingestion_time", "seq"] {
            props = props
                .set_column_dictionary_enabled(ColumnPath::from(column), false)
                .set_column_encoding(ColumnPath::from(column), Encoding::DELTA_BINARY_PACKED);
        }
        let props = props
            .set_max_row_group_row_count(Some(chunk))
            .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
                VERSION_KEY.to_owned(),
                SEGMENT_FORMAT_VERSION.to_string(),
            )]))
            .build();
        let schema = write_schema();
        Ok(Self {
            writer: ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))?,
            schema,
            meta: SegmentMeta {
                id: 0,
                group_id,
                path: path.to_owned(),
                format_version: SEGMENT_FORMAT_VERSION,
                min_ts: i64::MAX,
                max_ts: i64::MIN,
                row_count: 0,
                byte_size: 0,
                kind: None,
                streams: Vec::new(),
            },
            cols: Columns::with_capacity(chunk, chunk * 64, true),
            chunk,
        })
    }

    /// Appends one row; rows must come in (stream id, timestamp, seq) order.
    pub(crate) fn push(
        &mut self,
        stream_id: i64,
        name: &str,
        ts: i64,
        ingestion: i64,
        seq: u64,
        message: &str,
    ) -> Result<()> {
        let meta = &mut self.meta;
        meta.min_ts = meta.min_ts.min(ts);
        meta.max_ts = meta.max_ts.max(ts);
        meta.row_count += 1;
        match meta.streams.last_mut() {
            Some(s) if s.0 == stream_id => {
                s.1 = s.1.min(ts);
                s.2 = s.2.max(ts);
                s.3 += 1;
            }
            _ => meta.streams.push((stream_id, ts, ts, 1)),
        }
        self.cols.push(stream_id, name, ts, ingestion, seq, message);
        if self.cols.stream_ids.len() >= self.chunk {
            self.write_chunk()?;
        }
        Ok(())
    }

    fn write_chunk(&mut self) -> Result<()> {
        if self.cols.stream_ids.is_empty() {
            return Ok(());
        }
        let all_records = self.cols.flow.all_records;
        let cols = std::mem::replace(
            &mut self.cols,
            Columns::with_capacity(self.chunk, self.chunk * 64, all_records),
        );
        self.writer.write(&cols.finish(&self.schema)?)?;
        Ok(())
    }

    /// The file's bytes and its catalog entry (id 0 until committed); `None` without rows.
    pub(crate) fn finish(mut self) -> Result<Option<(Bytes, SegmentMeta)>> {
        if self.meta.row_count == 0 {
            return Ok(None);
        }
        self.write_chunk()?;
        if self.cols.flow.all_records {
            self.writer
                .append_key_value_metadata(parquet::file::metadata::KeyValue::new(
                    flow::KIND_KEY.to_owned(),
                    flow::FLOW_LOG_KIND.to_owned(),
                ));
            self.meta.kind = Some(flow::FLOW_LOG_KIND.to_owned());
        }
        let out = self.writer.into_inner()?;
        self.meta.byte_size = out.len() as u64;
        Ok(Some((Bytes::from(out), self.meta)))
    }
}

/// Writes a frozen memtable's rows of one group as a segment, dropping deleted streams (absent
/// from `names`) and events older than `min_ts`.
pub(crate) fn write_group(
    mem: &MemTable,
    group_id: i64,
    names: &BTreeMap<i64, String>,
    min_ts: i64,
    path: &str,
    row_group_rows: usize,
) -> Result<Option<(Bytes, SegmentMeta)>> {
    let mut streams: Vec<(i64, &crate::memtable::StreamBuffer)> = mem
        .streams
        .iter()
        .filter(|(k, _)| k.group_id == group_id && names.contains_key(&k.stream_id))
        .map(|(k, b)| (k.stream_id, b))
        .collect();
    streams.sort_by_key(|(id, _)| *id);
    let mut writer = SegmentWriter::new(group_id, path, row_group_rows)?;
    for (id, buf) in streams {
        let name = names.get(&id).map_or("", String::as_str);
        for i in buf.order() {
            if buf.timestamps[i] >= min_ts {
                writer.push(
                    id,
                    name,
                    buf.timestamps[i],
                    buf.ingestion[i],
                    buf.seqs[i],
                    buf.message(i),
                )?;
            }
        }
    }
    writer.finish()
}

fn i64_range(rg: &RowGroupMetaData, column: usize) -> Option<(i64, i64)> {
    match rg.column(column).statistics()? {
        Statistics::Int64(s) => Some((*s.min_opt()?, *s.max_opt()?)),
        _ => None,
    }
}

/// Which rows of a segment a read wants.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowWanted {
    pub(crate) stream_id: Option<i64>,
    pub(crate) min_ts: i64,
    /// Exclusive.
    pub(crate) end_ts: i64,
}

/// The columns a query's read of a segment wants when the segment's rows are all flow-log
/// records ([`flow::FLOW_LOG_KIND`]): these fields' typed columns, and `message` only when
/// asked. Other segments are read whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypedRead {
    pub fields: Vec<flowwatch_flowlog::Field>,
    pub message: bool,
}

/// Rows per batch read from a segment (a query's input batch).
const BATCH_ROWS: usize = 8192;

/// The batches of a segment whose row groups may hold rows `wanted` selects (pruned by their
/// statistics), read one at a time; the rows themselves are not filtered yet: see
/// [`SegmentRows::of`]. `None` when no row group may. With `typed`, a segment of flow-log
/// records is read as its typed columns (the `bool`: it was).
#[expect(
    deprecated,
    reason = "ParquetObjectReader still does ranged reads well; replace with our own AsyncFileReader when the query crate needs one"
)]
async fn open_batches(
    store: &Arc<dyn ObjectStore>,
    seg: &SegmentMeta,
    wanted: RowWanted,
    typed: Option<&TypedRead>,
    part: Part,
) -> Result<Option<(ParquetRecordBatchStream<ParquetObjectReader>, bool)>> {
    let reader = ParquetObjectReader::new(store.clone(), ObjectPath::from(seg.path.as_str()))
        .with_file_size(seg.byte_size);
    let mut builder = ParquetRecordBatchStreamBuilder::new(reader).await?;
    let groups = part.row_groups(builder.metadata().num_row_groups());
    let selected: Vec<usize> = builder
        .metadata()
        .row_groups()
        .iter()
        .enumerate()
        .skip(groups.start)
        .take(groups.len())
        .filter(|(_, rg)| {
            let stream_ok = match (wanted.stream_id, i64_range(rg, 0)) {
                (Some(id), Some((lo, hi))) => lo <= id && id <= hi,
                _ => true,
            };
            let ts_ok = match i64_range(rg, 2) {
                Some((lo, hi)) => hi >= wanted.min_ts && lo < wanted.end_ts,
                None => true,
            };
            stream_ok && ts_ok
        })
        .map(|(i, _)| i)
        .collect();
    if selected.is_empty() {
        return Ok(None);
    }
    let flow_kind = marked_flow_log(builder.metadata());
    let typed = typed.filter(|_| flow_kind);
    if let Some(typed) = typed {
        let mut names = vec![
            "stream_id",
            "timestamp",
            "ingestion_time",
            "seq",
            flow::MESSAGE_SIZE,
        ];
        if typed.message {
            names.push("message");
        }
        names.extend(typed.fields.iter().map(|f| f.parquet_name()));
        let roots = names
            .iter()
            .map(|name| {
                builder
                    .schema()
                    .index_of(name)
                    .map_err(|_| StorageError::Corrupt {
                        what: seg.path.clone(),
                        detail: format!("missing column {name}"),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), roots);
        builder = builder.with_projection(mask);
    }
    Ok(Some((
        builder
            .with_batch_size(BATCH_ROWS)
            .with_row_groups(selected)
            .build()?,
        typed.is_some(),
    )))
}

fn marked_flow_log(metadata: &parquet::file::metadata::ParquetMetaData) -> bool {
    metadata
        .file_metadata()
        .key_value_metadata()
        .is_some_and(|kv| {
            kv.iter().any(|kv| {
                kv.key == flow::KIND_KEY && kv.value.as_deref() == Some(flow::FLOW_LOG_KIND)
            })
        })
}

/// Part `index` of `count` of a segment: its row groups shared out in order, as evenly as
/// they go (the parts of a segment read alike whatever their rows; a part may have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub index: usize,
    pub count: usize,
}

impl Part {
    /// The whole segment.
    pub const WHOLE: Part = Part { index: 0, count: 1 };

    /// The row groups of this part, of a segment with `groups` of them.
    fn row_groups(self, groups: usize) -> std::ops::Range<usize> {
        let count = self.count.max(1);
        let at = |i: usize| i.min(count) * groups / count;
        at(self.index)..at(self.index + 1)
    }
}

/// Every batch [`open_batches`] gives, at once (a query's reader holds a part of a segment),
/// and whether they are typed columns.
pub(crate) async fn read_batches(
    store: &Arc<dyn ObjectStore>,
    seg: &SegmentMeta,
    wanted: RowWanted,
    typed: Option<&TypedRead>,
    part: Part,
) -> Result<(Vec<RecordBatch>, bool)> {
    match open_batches(store, seg, wanted, typed, part).await? {
        Some((stream, typed)) => Ok((stream.try_collect().await?, typed)),
        None => Ok((Vec::new(), false)),
    }
}

/// Column `name` of a batch read from segment `path`, as the array type it must have.
pub(crate) fn column<'b, T: 'static>(
    batch: &'b RecordBatch,
    path: &str,
    name: &str,
) -> Result<&'b T> {
    batch
        .column_by_name(name)
        .ok_or_else(|| StorageError::Corrupt {
            what: path.to_owned(),
            detail: format!("missing column {name}"),
        })?
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| StorageError::Corrupt {
            what: path.to_owned(),
            detail: format!("column {name} has the wrong type"),
        })
}

/// The columns of one segment batch, checked.
pub(crate) struct SegmentRows<'a> {
    stream_ids: &'a Int64Array,
    timestamps: &'a Int64Array,
    ingestion: &'a Int64Array,
    seqs: &'a UInt64Array,
    messages: &'a StringArray,
}

impl<'a> SegmentRows<'a> {
    /// The columns of `batch`, read from segment `path`.
    pub(crate) fn of(batch: &'a RecordBatch, path: &str) -> Result<Self> {
        Ok(Self {
            stream_ids: column(batch, path, "stream_id")?,
            timestamps: column(batch, path, "timestamp")?,
            ingestion: column(batch, path, "ingestion_time")?,
            seqs: column(batch, path, "seq")?,
            messages: column(batch, path, "message")?,
        })
    }

    /// Visits the rows `wanted` selects, borrowed: `(stream id, timestamp, ingestion time,
    /// seq, message)`.
    pub(crate) fn try_for_each<E>(
        &self,
        wanted: RowWanted,
        mut visit: impl FnMut(i64, i64, i64, u64, &'a str) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        for i in 0..self.stream_ids.len() {
            let sid = self.stream_ids.value(i);
            let ts = self.timestamps.value(i);
            if wanted.stream_id.is_some_and(|w| w != sid)
                || ts < wanted.min_ts
                || ts >= wanted.end_ts
                || self.messages.is_null(i)
            {
                continue;
            }
            visit(
                sid,
                ts,
                self.ingestion.value(i),
                self.seqs.value(i),
                self.messages.value(i),
            )?;
        }
        Ok(())
    }
}

/// Reads the rows of a segment that `wanted` selects, pruning row groups by their statistics.
pub(crate) async fn read_rows(
    store: &Arc<dyn ObjectStore>,
    seg: &SegmentMeta,
    wanted: RowWanted,
    mut visit: impl FnMut(i64, StoredEvent),
) -> Result<()> {
    let Some((mut stream, _)) = open_batches(store, seg, wanted, None, Part::WHOLE).await? else {
        return Ok(());
    };
    // One batch at a time: a page of events does not hold the whole segment.
    while let Some(batch) = stream.try_next().await? {
        SegmentRows::of(&batch, &seg.path)?.try_for_each(
            wanted,
            |sid, timestamp, ingestion_time, seq, message| {
                visit(
                    sid,
                    StoredEvent {
                        timestamp,
                        ingestion_time,
                        seq,
                        message: message.to_owned(),
                    },
                );
                Ok::<_, StorageError>(())
            },
        )?;
    }
    Ok(())
}

/// Whether event position `p` passes a read's cursor.
pub(crate) fn after_cursor(req: &ReadRequest, p: Position) -> bool {
    match (req.cursor, req.direction) {
        (None, _) => true,
        (Some(c), Direction::Forward) => p > c,
        (Some(c), Direction::Backward) => p < c,
    }
}

/// Whether segment `seg` can hold events of `key` that `req` wants.
pub(crate) fn may_hold(seg: &SegmentMeta, key: StreamKey, req: &ReadRequest, min_ts: i64) -> bool {
    seg.streams.iter().any(|&(sid, lo, hi, _)| {
        sid == key.stream_id
            && hi >= req.start_ms.max(min_ts)
            && lo < req.end_ms
            && match (req.cursor, req.direction) {
                (None, _) => true,
                (Some(c), Direction::Forward) => hi >= c.timestamp,
                (Some(c), Direction::Backward) => lo <= c.timestamp,
            }
    })
}
