//! The Arrow codec: records of a format as columns with the names and types AWS uses when it
//! delivers flow logs as Parquet (`spec/flowlogs.md` §2, §7), all nullable.

use std::fmt::Write;
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field as ArrowField, Schema, SchemaRef};

use crate::error::{FlowLogError, Result};
use crate::fields::{Field, ParquetType};
use crate::format::LogFormat;
use crate::record::{FlowRecord, Value};

/// The Arrow schema of `format`: one nullable column per field, in format order, named and
/// typed as in AWS's Parquet delivery.
pub fn arrow_schema(format: &LogFormat) -> SchemaRef {
    Arc::new(Schema::new(
        format
            .fields()
            .iter()
            .map(|f| ArrowField::new(f.parquet_name(), f.arrow_type(), true))
            .collect::<Vec<_>>(),
    ))
}

fn out_of_range(field: Field, n: u64) -> FlowLogError {
    FlowLogError::Column {
        column: field.parquet_name().to_owned(),
        detail: format!("{n} does not fit the column type"),
    }
}

fn column(field: Field, records: &[FlowRecord]) -> Result<ArrayRef> {
    let values = records.iter().map(|r| r.get(field));
    Ok(match field.kind().parquet_type() {
        ParquetType::Int32 => {
            let mut b = Int32Builder::with_capacity(records.len());
            for v in values {
                match v {
                    Some(Value::Int(n)) => {
                        b.append_value(i32::try_from(n).map_err(|_| out_of_range(field, n))?);
                    }
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        ParquetType::Int64 => {
            let mut b = Int64Builder::with_capacity(records.len());
            for v in values {
                match v {
                    Some(Value::Int(n)) => {
                        b.append_value(i64::try_from(n).map_err(|_| out_of_range(field, n))?);
                    }
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        ParquetType::String => {
            let mut b = StringBuilder::with_capacity(records.len(), 16 * records.len());
            for v in values {
                match v {
                    Some(v) => {
                        // Writing to a builder cannot fail; `append_value("")` ends the value.
                        let _ = write!(b, "{v}");
                        b.append_value("");
                    }
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
    })
}

/// The columns of `records` in `format` ([`arrow_schema()`]). Fields of the format a record
/// lacks are null. Fails only when a count or time exceeds `i64::MAX`.
pub fn to_record_batch(format: &LogFormat, records: &[FlowRecord]) -> Result<RecordBatch> {
    let columns = format
        .fields()
        .iter()
        .map(|f| column(*f, records))
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(arrow_schema(format), columns)?)
}

fn bad_column(name: &str, detail: String) -> FlowLogError {
    FlowLogError::Column {
        column: name.to_owned(),
        detail,
    }
}

fn downcast<'a, T: 'static>(name: &str, array: &'a ArrayRef) -> Result<&'a T> {
    array
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| bad_column(name, format!("unexpected type {}", array.data_type())))
}

fn non_negative(name: &str, n: i64) -> Result<Value<'static>> {
    u64::try_from(n)
        .map(Value::Int)
        .map_err(|_| bad_column(name, format!("negative value {n}")))
}

/// The records of `batch`, reading every column named after a flow-log field (other columns,
/// such as a segment's base columns, are ignored). A known column with another type than
/// AWS's, or a value out of its field's range, is an error.
pub fn from_record_batch(batch: &RecordBatch) -> Result<Vec<FlowRecord>> {
    let mut records = vec![FlowRecord::default(); batch.num_rows()];
    for (col, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let name = col.name().as_str();
        let Some(field) = Field::from_parquet_name(name) else {
            continue;
        };
        if *col.data_type() != field.arrow_type() {
            return Err(bad_column(
                name,
                format!("type {} instead of {}", col.data_type(), field.arrow_type()),
            ));
        }
        let set =
            |records: &mut [FlowRecord], row: usize, v: Value<'_>| records[row].set(field, Some(v));
        match field.kind().parquet_type() {
            ParquetType::Int32 => {
                let a = downcast::<Int32Array>(name, array)?;
                for row in (0..a.len()).filter(|r| a.is_valid(*r)) {
                    set(&mut records, row, non_negative(name, a.value(row).into())?)?;
                }
            }
            ParquetType::Int64 => {
                let a = downcast::<Int64Array>(name, array)?;
                for row in (0..a.len()).filter(|r| a.is_valid(*r)) {
                    set(&mut records, row, non_negative(name, a.value(row))?)?;
                }
            }
            ParquetType::String => {
                let a = downcast::<StringArray>(name, array)?;
                for row in (0..a.len()).filter(|r| a.is_valid(*r)) {
                    set(&mut records, row, Value::Str(a.value(row)))?;
                }
            }
        }
    }
    Ok(records)
}
