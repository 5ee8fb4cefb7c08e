//! Typed flow-log columns of a segment (`docs/formats/segment.md`, "Typed flow-log columns").
//!
//! At write time each message is tried as a VPC flow-log record in the default format, the
//! shape Logs Insights discovers: 14 values separated by ASCII whitespace, the first `2`. Its
//! values go to one nullable column per field, named and typed as in AWS's Parquet delivery
//! (`srcaddr` Utf8, `dstport` Int32, `bytes` Int64...), `-` as null. A number is typed only in
//! its canonical form (no sign, no leading zero), so the text a reader makes of it is the
//! text of the message, byte for byte. A segment all of whose rows are such records is marked
//! with [`KIND_KEY`] = [`FLOW_LOG_KIND`]: a reader may then read those columns instead of
//! `message`. Without the mark, the columns mean nothing and readers parse `message`.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder};
use arrow_schema::{DataType, Field as ArrowField};
use flowwatch_flowlog::{Field, LogFormat, ParquetType};

/// Key-value metadata naming the format every row of the segment has.
pub const KIND_KEY: &str = "flowwatch.segment.kind";
/// [`KIND_KEY`]'s value for segments of default-format flow-log records.
pub const FLOW_LOG_KIND: &str = "vpc-flow-log-v2";
/// Int32 column: bytes of `message` (bytesScanned without reading it).
pub const MESSAGE_SIZE: &str = "message_size";

/// The fields of the default format, in record order, whose columns a segment has.
pub fn flow_fields() -> &'static [Field] {
    static FIELDS: std::sync::OnceLock<Vec<Field>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| LogFormat::default_vpc().fields().to_vec())
}

/// The typed columns, after the base columns: `message_size`, then one per field, as AWS's
/// Parquet delivery names and types them ([`flowwatch_flowlog::arrow_schema`]).
pub(crate) fn typed_fields() -> Vec<ArrowField> {
    let mut fields = vec![ArrowField::new(MESSAGE_SIZE, DataType::Int32, true)];
    fields.extend(
        flowwatch_flowlog::arrow_schema(&LogFormat::default_vpc())
            .fields()
            .iter()
            .map(|f| f.as_ref().clone()),
    );
    fields
}

enum Builder {
    Int32(Int32Builder),
    Int64(Int64Builder),
    Text(StringBuilder),
}

/// The typed columns being built for a chunk of rows.
pub(crate) struct FlowColumns {
    sizes: Int32Builder,
    columns: Vec<Builder>,
    /// Whether every row pushed so far (into any chunk of the segment) was a record.
    pub(crate) all_records: bool,
    /// Where the values of the row being pushed are, and its numbers (reused).
    spans: Vec<(usize, usize)>,
    numbers: Vec<Option<i64>>,
}

impl FlowColumns {
    pub(crate) fn with_capacity(rows: usize, all_records: bool) -> Self {
        let columns = flow_fields()
            .iter()
            .map(|f| match f.kind().parquet_type() {
                ParquetType::Int32 => Builder::Int32(Int32Builder::with_capacity(rows)),
                ParquetType::Int64 => Builder::Int64(Int64Builder::with_capacity(rows)),
                ParquetType::String => Builder::Text(StringBuilder::with_capacity(rows, rows * 12)),
            })
            .collect();
        Self {
            sizes: Int32Builder::with_capacity(rows),
            columns,
            all_records,
            spans: Vec::with_capacity(16),
            numbers: Vec::with_capacity(16),
        }
    }

    /// Appends one row: its values when `message` is a record and every earlier row was one,
    /// else nulls (the segment will not be marked, and no reader looks at them).
    pub(crate) fn push(&mut self, message: &str) {
        self.sizes
            .append_value(i32::try_from(message.len()).unwrap_or(i32::MAX));
        if self.all_records && !self.push_record(message) {
            self.all_records = false;
        }
        if !self.all_records {
            for column in &mut self.columns {
                match column {
                    Builder::Int32(b) => b.append_null(),
                    Builder::Int64(b) => b.append_null(),
                    Builder::Text(b) => b.append_null(),
                }
            }
        }
    }

    /// Appends `message`'s values; `false` (nothing appended) when it is not a record whose
    /// numbers are all canonical.
    fn push_record(&mut self, message: &str) -> bool {
        // Every value is checked (and its number parsed, once) before any is appended, so a
        // column never runs ahead.
        if !record_values(message, &mut self.spans, &mut self.numbers) {
            return false;
        }
        let values = self.spans.iter().zip(&self.numbers);
        for ((&(a, b), &number), c) in values.zip(&mut self.columns) {
            match c {
                // `record_values` checked that the number fits.
                Builder::Int32(b) => b.append_option(number.and_then(|n| i32::try_from(n).ok())),
                Builder::Int64(b) => b.append_option(number),
                Builder::Text(builder) => {
                    let v = &message[a..b];
                    builder.append_option((v != "-").then_some(v));
                }
            }
        }
        true
    }

    /// The finished columns, in [`typed_fields`] order.
    pub(crate) fn finish(&mut self) -> Vec<ArrayRef> {
        let mut out: Vec<ArrayRef> = vec![Arc::new(self.sizes.finish())];
        out.extend(self.columns.iter_mut().map(|c| -> ArrayRef {
            match c {
                Builder::Int32(b) => Arc::new(b.finish()),
                Builder::Int64(b) => Arc::new(b.finish()),
                Builder::Text(b) => Arc::new(b.finish()),
            }
        }));
        out
    }
}

/// Whether every one of `messages` is a record whose values typed columns hold exactly (what a
/// segment of them all is marked for).
pub fn all_records<'m>(messages: impl IntoIterator<Item = &'m str>) -> bool {
    let (mut spans, mut numbers) = (Vec::with_capacity(16), Vec::with_capacity(16));
    messages
        .into_iter()
        .all(|message| record_values(message, &mut spans, &mut numbers))
}

/// Where the values of `message` are (into `spans`) and the numbers of its integer fields
/// (into `numbers`, `None` for `-` and text fields) when it is a record whose values typed
/// columns hold exactly: `-`, text, or a canonical number within its column's type. `false`
/// otherwise.
fn record_values(
    message: &str,
    spans: &mut Vec<(usize, usize)>,
    numbers: &mut Vec<Option<i64>>,
) -> bool {
    numbers.clear();
    if !flowwatch_flowlog::default_record_spans(message, spans) {
        return false;
    }
    for (&(a, b), field) in spans.iter().zip(flow_fields()) {
        let v = &message[a..b];
        let t = field.kind().parquet_type();
        let number = match t {
            ParquetType::String => None,
            _ if v == "-" => None,
            ParquetType::Int32 => match canonical(v) {
                Some(n) if i32::try_from(n).is_ok() => Some(n),
                _ => return false,
            },
            ParquetType::Int64 => match canonical(v) {
                Some(n) => Some(n),
                None => return false,
            },
        };
        numbers.push(number);
    }
    true
}

/// `v` as a number when it is written the one way a number prints: digits, no leading zero.
fn canonical(v: &str) -> Option<i64> {
    let bytes = v.as_bytes();
    if bytes.is_empty()
        || bytes.len() > 18
        || !bytes.iter().all(u8::is_ascii_digit)
        || (bytes.len() > 1 && bytes[0] == b'0')
    {
        return None;
    }
    v.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, Int32Array, Int64Array, StringArray};

    #[test]
    fn records_become_typed_values_and_print_back_as_written() {
        let mut cols = FlowColumns::with_capacity(4, true);
        let record = "2 123456789012 eni-1a2b3c4d 10.0.1.5 10.0.2.7 443 49152 6 10 8400 1600000000 1600000060 ACCEPT OK";
        cols.push(record);
        cols.push("2 123456789012 eni-1a2b3c4d - - - - - - - 1600000000 1600000060 - NODATA");
        assert!(cols.all_records);
        let out = cols.finish();
        assert_eq!(out.len(), typed_fields().len());
        let size = out[0].as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(size.value(0) as usize, record.len());
        let src = out[4].as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(src.value(0), "10.0.1.5");
        assert!(src.is_null(1));
        let dport = out[7].as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(dport.value(0), 49152);
        let bytes = out[10].as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(bytes.value(0), 8400);
        assert!(bytes.is_null(1));
    }

    #[test]
    fn anything_else_unmarks_the_segment_and_keeps_columns_aligned() {
        for other in [
            "{\"a\": 1}",
            "2 123456789012 eni-1a2b3c4d 10.0.1.5 10.0.2.7 0443 49152 6 10 8400 1 2 ACCEPT OK",
            "2 123456789012 eni-1a2b3c4d 10.0.1.5 10.0.2.7 443 99999999999 6 10 8400 1 2 ACCEPT OK",
            "2 123456789012 eni-1a2b3c4d 10.0.1.5 10.0.2.7 443 49152 6 10 8400 1 2 ACCEPT",
            "2 123456789012 eni-1a2b3c4d 10.0.1.5 10.0.2.7 443 x 6 10 8400 1 2 ACCEPT OK",
        ] {
            let mut cols = FlowColumns::with_capacity(2, true);
            cols.push("2 1 eni-1 a b 1 2 6 1 1 1 2 ACCEPT OK");
            cols.push(other);
            assert!(!cols.all_records, "{other}");
            for column in cols.finish() {
                assert_eq!(column.len(), 2);
            }
        }
    }

    #[test]
    fn canonical_numbers_only() {
        assert_eq!(canonical("0"), Some(0));
        assert_eq!(canonical("443"), Some(443));
        assert_eq!(canonical("0443"), None);
        assert_eq!(canonical("+1"), None);
        assert_eq!(canonical(""), None);
        assert_eq!(canonical("1e3"), None);
    }
}
