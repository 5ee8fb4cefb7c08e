//! JSON output to CBOR, typed by the service's hints: a member the model types as `double` is
//! a float even when integral (the AWS SDK for Rust's `decoder.double()` refuses integers), an
//! `integer` is an integer, a `timestamp` is tag 1 around epoch seconds. Everything else keeps
//! its JSON type. Maps and arrays have definite lengths; `null` members are left out.

use std::convert::Infallible;

use minicbor::Encoder;
use minicbor::data::Tag;
use serde_json::{Map, Number, Value};

use crate::hints::{Hints, Kind};

type Result = std::result::Result<(), minicbor::encode::Error<Infallible>>;

/// Encodes an operation's JSON output; `op` holds its top-level members.
pub(crate) fn output_to_cbor(output: &Value, hints: &Hints, op: &str) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    // Writing to a Vec cannot fail.
    let _: Result = value(&mut e, output, Kind::Plain, op, hints);
    e.into_writer()
}

/// Encodes a value of `kind`; `name` is the member holding it (the holder of its members).
fn value(e: &mut Encoder<Vec<u8>>, v: &Value, kind: Kind, name: &str, hints: &Hints) -> Result {
    match v {
        Value::Null => {
            e.null()?;
        }
        Value::Bool(b) => {
            e.bool(*b)?;
        }
        Value::Number(n) => number(e, n, kind)?,
        Value::String(s) => match (kind, non_finite(s)) {
            (Kind::Double, Some(f)) => {
                e.f64(f)?;
            }
            _ => {
                e.str(s)?;
            }
        },
        Value::Array(items) => {
            let item = match kind {
                Kind::List(item) => *item,
                _ => Kind::Plain,
            };
            e.array(items.len() as u64)?;
            for v in items {
                value(e, v, item, name, hints)?;
            }
        }
        Value::Object(members) => {
            e.map(members.values().filter(|v| !v.is_null()).count() as u64)?;
            match kind {
                Kind::Map { value: item, .. } => {
                    for (key, v) in present(members) {
                        e.str(key)?;
                        value(e, v, *item, name, hints)?;
                    }
                }
                _ => {
                    for (member, v) in present(members) {
                        e.str(member)?;
                        value(e, v, hints.kind(name, member), member, hints)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn present(members: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    members.iter().filter(|(_, v)| !v.is_null())
}

fn number(e: &mut Encoder<Vec<u8>>, n: &Number, kind: Kind) -> Result {
    match kind {
        Kind::Double => {
            e.f64(n.as_f64().unwrap_or(f64::NAN))?;
        }
        Kind::Timestamp => {
            e.tag(Tag::new(1))?;
            plain_number(e, n)?;
        }
        Kind::Integer => match n.as_f64() {
            // An integral float (`60.0`) is still an integer member.
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                e.i64(f as i64)?;
            }
            _ => plain_number(e, n)?,
        },
        _ => plain_number(e, n)?,
    }
    Ok(())
}

/// A number as JSON typed it: integers as integers, the rest as doubles.
fn plain_number(e: &mut Encoder<Vec<u8>>, n: &Number) -> Result {
    if let Some(i) = n.as_i64() {
        e.i64(i)?;
    } else if let Some(u) = n.as_u64() {
        e.u64(u)?;
    } else {
        e.f64(n.as_f64().unwrap_or(f64::NAN))?;
    }
    Ok(())
}

/// The awsJson spellings of the non-finite doubles.
fn non_finite(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hints::cloudwatch::HINTS;
    use minicbor::Decoder;
    use minicbor::data::Type;
    use serde_json::json;

    #[test]
    fn doubles_are_floats_timestamps_are_tagged() {
        let out = json!({
            "Label": "L",
            "Datapoints": [{"Timestamp": 1704067260, "Sum": 3, "Unit": "Count",
                            "ExtendedStatistics": {"p99": 2}}],
        });
        let bytes = output_to_cbor(&out, &HINTS, "GetMetricStatistics");
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.map().unwrap(), Some(2));
        assert_eq!(d.str().unwrap(), "Datapoints");
        assert_eq!(d.array().unwrap(), Some(1));
        assert_eq!(d.map().unwrap(), Some(4));
        assert_eq!(d.str().unwrap(), "ExtendedStatistics");
        assert_eq!(d.map().unwrap(), Some(1));
        assert_eq!(d.str().unwrap(), "p99");
        assert_eq!(d.datatype().unwrap(), Type::F64);
        assert_eq!(d.f64().unwrap(), 2.0);
        assert_eq!(d.str().unwrap(), "Sum");
        assert_eq!(d.datatype().unwrap(), Type::F64, "an integral double");
        assert_eq!(d.f64().unwrap(), 3.0);
        assert_eq!(d.str().unwrap(), "Timestamp");
        assert_eq!(d.tag().unwrap(), Tag::new(1));
        assert_eq!(d.i64().unwrap(), 1_704_067_260);
        assert_eq!(d.str().unwrap(), "Unit");
        assert_eq!(d.str().unwrap(), "Count");
        assert_eq!(d.str().unwrap(), "Label");
        assert_eq!(d.str().unwrap(), "L");
        assert_eq!(d.position(), bytes.len());
    }

    #[test]
    fn lists_of_timestamps_and_doubles_integers_and_nulls() {
        let out = json!({"MetricDataResults": [{"Timestamps": [60.5], "Values": [1, "NaN"]}],
                         "MetricAlarms": [{"Period": 60.0, "Threshold": 5}],
                         "NextToken": null});
        let bytes = output_to_cbor(&out, &HINTS, "X");
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.map().unwrap(), Some(2), "null members are left out");
        assert_eq!(d.str().unwrap(), "MetricAlarms");
        d.array().unwrap();
        d.map().unwrap();
        assert_eq!(d.str().unwrap(), "Period");
        assert_eq!(d.datatype().unwrap(), Type::U8);
        assert_eq!(d.i64().unwrap(), 60);
        assert_eq!(d.str().unwrap(), "Threshold");
        assert_eq!(d.f64().unwrap(), 5.0);
        assert_eq!(d.str().unwrap(), "MetricDataResults");
        d.array().unwrap();
        d.map().unwrap();
        assert_eq!(d.str().unwrap(), "Timestamps");
        d.array().unwrap();
        assert_eq!(d.tag().unwrap(), Tag::new(1));
        assert_eq!(d.f64().unwrap(), 60.5);
        assert_eq!(d.str().unwrap(), "Values");
        assert_eq!(d.array().unwrap(), Some(2));
        assert_eq!(d.f64().unwrap(), 1.0);
        assert!(d.f64().unwrap().is_nan());
    }
}
