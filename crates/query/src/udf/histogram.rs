//! `histogram(f, buckets)`: the aggregate that counts a group's values in `buckets`
//! equal-width ranges between its least and greatest value.
//!
//! The result is a JSON object (text, as `jsonParse` makes maps) from each range to its
//! count, in ascending order, empty ranges included: `{"[60, 1295)":9,"[1295, 2530)":0,…,
//! "[3765, 5000]":1}`. Every range is closed at its low end and open at its high end but the
//! last, which is closed; bounds print as numbers do in results (`60`, `3.25`). A group whose
//! values are all equal has the one range `[v, v]`; a group without a (finite) value gives
//! null. Values are kept as distinct values with their counts until the group is finished,
//! since the ranges depend on the group's least and greatest value; partial states merge.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray, UInt64Array};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};

use crate::output::format_double;

/// `__histogram(value)` with its number of buckets.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct HistogramUdaf {
    signature: Signature,
    buckets: usize,
}

impl HistogramUdaf {
    /// The aggregate over `value` (a Float64 expression) with `buckets` ranges (at least 1).
    pub(crate) fn call(buckets: usize, value: Expr) -> Expr {
        let udaf = Self {
            signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
            buckets: buckets.max(1),
        };
        AggregateUDF::new_from_impl(udaf).call(vec![value])
    }
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item, true)))
}

impl AggregateUDFImpl for HistogramUdaf {
    fn name(&self) -> &str {
        "__histogram"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(HistogramAccumulator {
            buckets: self.buckets,
            counts: HashMap::new(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format!("{}_values", args.name),
                list_of(DataType::Float64),
                true,
            )),
            Arc::new(Field::new(
                format!("{}_counts", args.name),
                list_of(DataType::UInt64),
                true,
            )),
        ])
    }
}

/// The distinct values seen (by their bits, `-0` as `0`) with how often each was seen.
#[derive(Debug)]
struct HistogramAccumulator {
    buckets: usize,
    counts: HashMap<u64, u64>,
}

impl HistogramAccumulator {
    fn add(&mut self, value: f64, count: u64) {
        if value.is_finite() {
            let value = if value == 0.0 { 0.0 } else { value };
            *self.counts.entry(value.to_bits()).or_default() += count;
        }
    }
}

fn one_list(values: ArrayRef) -> ScalarValue {
    let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
    let n = values.len();
    ScalarValue::List(Arc::new(ListArray::new(
        field,
        OffsetBuffer::from_lengths([n]),
        values,
        None,
    )))
}

impl Accumulator for HistogramAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        if let Some(array) = values.first() {
            for value in array.as_primitive::<Float64Type>().iter().flatten() {
                self.add(value, 1);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(ScalarValue::Utf8(render(&self.counts, self.buckets)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.counts.capacity() * 2 * std::mem::size_of::<u64>()
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let values: Float64Array = self.counts.keys().map(|b| f64::from_bits(*b)).collect();
        let counts: UInt64Array = self.counts.values().copied().collect();
        Ok(vec![one_list(Arc::new(values)), one_list(Arc::new(counts))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let [values, counts] = states else {
            return Err(datafusion::common::DataFusionError::Internal(
                "a partial histogram state has two columns".into(),
            ));
        };
        let (values, counts) = (values.as_list::<i32>(), counts.as_list::<i32>());
        for row in 0..values.len() {
            if values.is_null(row) || counts.is_null(row) {
                continue;
            }
            let v = values.value(row);
            let c = counts.value(row);
            let (v, c) = (
                v.as_primitive::<Float64Type>(),
                c.as_primitive::<UInt64Type>(),
            );
            for (value, count) in v.iter().zip(c.iter()) {
                if let (Some(value), Some(count)) = (value, count) {
                    self.add(value, count);
                }
            }
        }
        Ok(())
    }
}

/// The JSON object of the ranges and their counts; `None` without a value.
fn render(counts: &HashMap<u64, u64>, buckets: usize) -> Option<String> {
    let mut values = counts.iter().map(|(b, c)| (f64::from_bits(*b), *c));
    let first = values.next()?;
    let (lo, hi) = values.fold((first.0, first.0), |(lo, hi), (v, _)| {
        (lo.min(v), hi.max(v))
    });
    if lo == hi {
        let total: u64 = counts.values().sum();
        let v = format_double(lo);
        return Some(format!("{{\"[{v}, {v}]\":{total}}}"));
    }
    let width = (hi - lo) / buckets as f64;
    let bound = |i: usize| {
        if i == buckets {
            hi
        } else {
            lo + width * i as f64
        }
    };
    let mut bins = vec![0u64; buckets];
    for (bits, count) in counts {
        let v = f64::from_bits(*bits);
        // The range whose printed bounds hold v, whatever the rounding of (v - lo) / width.
        let mut i = (((v - lo) / width).floor() as usize).min(buckets - 1);
        while i > 0 && v < bound(i) {
            i -= 1;
        }
        while i + 1 < buckets && v >= bound(i + 1) {
            i += 1;
        }
        bins[i] += count;
    }
    let mut out = String::from("{");
    for (i, count) in bins.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let close = if i + 1 == buckets { ']' } else { ')' };
        let (a, b) = (format_double(bound(i)), format_double(bound(i + 1)));
        let _ = write!(out, "\"[{a}, {b}{close}\":{count}");
    }
    out.push('}');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: &[f64], buckets: usize) -> Option<String> {
        let mut acc = HistogramAccumulator {
            buckets,
            counts: HashMap::new(),
        };
        for v in values {
            acc.add(*v, 1);
        }
        render(&acc.counts, buckets)
    }

    #[test]
    fn equal_width_ranges_the_last_closed() {
        assert_eq!(
            histogram(&[1.0, 2.0, 3.0, 4.0, 5.0], 2).as_deref(),
            Some(r#"{"[1, 3)":2,"[3, 5]":3}"#)
        );
        assert_eq!(
            histogram(&[0.0, 10.0, 10.0, 2.5], 4).as_deref(),
            Some(r#"{"[0, 2.5)":1,"[2.5, 5)":1,"[5, 7.5)":0,"[7.5, 10]":2}"#)
        );
    }

    #[test]
    fn one_value_no_value_and_non_finite_values() {
        assert_eq!(
            histogram(&[7.0, 7.0, -0.0, 0.0], 1).as_deref(),
            Some(r#"{"[0, 7]":4}"#)
        );
        assert_eq!(
            histogram(&[3.0, 3.0, f64::NAN], 5).as_deref(),
            Some(r#"{"[3, 3]":2}"#)
        );
        assert_eq!(histogram(&[f64::INFINITY], 5), None);
        assert_eq!(histogram(&[], 5), None);
    }

    #[test]
    fn values_on_a_rounded_bound_go_where_the_printed_bounds_say() {
        // (0.3 - 0) / 0.1 rounds below 3; 0.1 * 3 rounds above 0.3: every value lands in the
        // range whose printed bounds hold it.
        let got = histogram(&[0.0, 0.1, 0.2, 0.3, 1.0], 10).unwrap();
        let total: u64 = got
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .filter_map(|kv| kv.rsplit(':').next()?.parse::<u64>().ok())
            .sum();
        assert_eq!(total, 5, "{got}");
    }

    #[test]
    fn partial_states_merge() {
        let mut a = HistogramAccumulator {
            buckets: 2,
            counts: HashMap::new(),
        };
        let mut b = HistogramAccumulator {
            buckets: 2,
            counts: HashMap::new(),
        };
        a.update_batch(&[Arc::new(Float64Array::from(vec![
            Some(1.0),
            None,
            Some(2.0),
        ]))])
        .unwrap();
        b.update_batch(&[Arc::new(Float64Array::from(vec![5.0, 2.0]))])
            .unwrap();
        let state: Vec<ArrayRef> = b
            .state()
            .unwrap()
            .into_iter()
            .map(|s| s.to_array().unwrap())
            .collect();
        a.merge_batch(&state).unwrap();
        assert_eq!(
            a.evaluate().unwrap(),
            ScalarValue::Utf8(Some(r#"{"[1, 3)":3,"[3, 5]":1}"#.into()))
        );
    }
}
