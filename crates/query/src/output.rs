//! Result rows as GetQueryResults shows them: `(field, value)` pairs, values as text, fields
//! without a value left out.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type, TimeUnit, TimestampMillisecondType};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::Result;

/// One result row.
pub type Row = Vec<(String, String)>;

/// `@timestamp`-style text: `2024-05-01 12:00:00.000` (UTC).
pub fn format_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// A double as Insights prints it: integral values without a fraction.
pub fn format_double(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Appends the rows of `batch` to `rows`.
pub fn append_rows(batch: &RecordBatch, rows: &mut Vec<Row>) -> Result<()> {
    let schema = batch.schema();
    let options = FormatOptions::default();
    let mut formatters = Vec::with_capacity(batch.num_columns());
    for column in batch.columns() {
        formatters.push(ArrayFormatter::try_new(column.as_ref(), &options)?);
    }
    for row in 0..batch.num_rows() {
        let mut out = Vec::with_capacity(batch.num_columns());
        for (i, column) in batch.columns().iter().enumerate() {
            if column.is_null(row) {
                continue;
            }
            let value = match column.data_type() {
                DataType::Timestamp(TimeUnit::Millisecond, _) => {
                    format_millis(column.as_primitive::<TimestampMillisecondType>().value(row))
                }
                DataType::Float64 => format_double(column.as_primitive::<Float64Type>().value(row)),
                DataType::Float32 => {
                    format_double(f64::from(column.as_primitive::<Float32Type>().value(row)))
                }
                _ => formatters[i].value(row).to_string(),
            };
            out.push((schema.field(i).name().clone(), value));
        }
        rows.push(out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times() {
        assert_eq!(format_double(1234.0), "1234");
        assert_eq!(format_double(2.5), "2.5");
        assert_eq!(format_millis(1_700_000_000_123), "2023-11-14 22:13:20.123");
    }
}
