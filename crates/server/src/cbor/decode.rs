//! CBOR request bodies to JSON: any well-formed CBOR the Smithy RPC v2 spec allows becomes the
//! JSON the awsJson protocol would have carried.
//!
//! Definite and indefinite lengths alike; integers of every width; half, single and double
//! floats (non-finite ones become `"NaN"`, `"Infinity"`, `"-Infinity"` as in awsJson); tag 1
//! timestamps become epoch-seconds numbers; byte strings become base64 text; `undefined` is
//! `null`. Nesting is bounded by [`MAX_DEPTH`] and no length a peer claims is allocated before
//! the bytes are there, so hostile input costs no more than its size.

use base64::Engine as _;
use minicbor::Decoder;
use minicbor::data::{Tag, Type};
use serde_json::{Map, Number, Value};

/// How deep maps and arrays may nest (CloudWatch's deepest input is 6 levels).
pub(crate) const MAX_DEPTH: u32 = 64;

/// Why a body is not the CBOR the protocol allows; becomes a SerializationException.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(pub String);

impl From<minicbor::decode::Error> for DecodeError {
    fn from(e: minicbor::decode::Error) -> Self {
        Self(e.to_string())
    }
}

/// Decodes a request body: empty means `{}`, otherwise exactly one map and nothing after it.
pub(crate) fn body_to_json(body: &[u8]) -> Result<Value, DecodeError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let mut d = Decoder::new(body);
    if !matches!(d.datatype()?, Type::Map | Type::MapIndef) {
        return Err(DecodeError(
            "the request body must be a CBOR map of the operation's input members".into(),
        ));
    }
    let value = item(&mut d, 0)?;
    if d.position() != body.len() {
        return Err(DecodeError(format!(
            "unexpected data after the input map at byte {}",
            d.position()
        )));
    }
    Ok(value)
}

/// Bytes not yet read: an upper bound on how many items can still follow.
fn remaining(d: &Decoder<'_>) -> usize {
    d.input().len().saturating_sub(d.position())
}

fn item(d: &mut Decoder<'_>, depth: u32) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError(format!(
            "maps and arrays nest deeper than {MAX_DEPTH} levels"
        )));
    }
    let at = d.position();
    Ok(match d.datatype()? {
        Type::Bool => Value::Bool(d.bool()?),
        Type::Null => {
            d.null()?;
            Value::Null
        }
        Type::Undefined => {
            d.undefined()?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64()?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 => Value::from(d.i64()?),
        Type::Int => {
            return Err(DecodeError(format!(
                "integer at byte {at} is out of the 64-bit range"
            )));
        }
        Type::F16 | Type::F32 | Type::F64 => crate::json::float(d.f64()?),
        Type::String | Type::StringIndef => Value::String(text(d)?),
        Type::Bytes | Type::BytesIndef => {
            let mut bytes = Vec::new();
            for chunk in d.bytes_iter()? {
                bytes.extend_from_slice(chunk?);
            }
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array()?;
            let mut items = Vec::with_capacity(capacity(len, d));
            match len {
                Some(n) => {
                    for _ in 0..n {
                        items.push(item(d, depth + 1)?);
                    }
                }
                None => {
                    while !at_break(d)? {
                        items.push(item(d, depth + 1)?);
                    }
                }
            }
            Value::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map()?;
            let mut members = Map::new();
            match len {
                Some(n) => {
                    for _ in 0..n {
                        entry(d, depth, &mut members)?;
                    }
                }
                None => {
                    while !at_break(d)? {
                        entry(d, depth, &mut members)?;
                    }
                }
            }
            Value::Object(members)
        }
        Type::Tag => {
            let tag = d.tag()?;
            if tag != Tag::new(1) {
                return Err(DecodeError(format!(
                    "unsupported CBOR tag {} at byte {at} (only 1, epoch-seconds timestamps)",
                    tag.as_u64()
                )));
            }
            match d.datatype()? {
                Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64()?),
                Type::I8 | Type::I16 | Type::I32 | Type::I64 => Value::from(d.i64()?),
                Type::F16 | Type::F32 | Type::F64 => match Number::from_f64(d.f64()?) {
                    Some(n) => Value::Number(n),
                    None => {
                        return Err(DecodeError(format!(
                            "timestamp at byte {at} is not a finite number"
                        )));
                    }
                },
                other => {
                    return Err(DecodeError(format!(
                        "timestamp at byte {at} holds {other} instead of a number"
                    )));
                }
            }
        }
        other => {
            return Err(DecodeError(format!(
                "unexpected CBOR item {other} at byte {at}"
            )));
        }
    })
}

/// One key and value of a map; keys are text.
fn entry(
    d: &mut Decoder<'_>,
    depth: u32,
    members: &mut Map<String, Value>,
) -> Result<(), DecodeError> {
    let at = d.position();
    if !matches!(d.datatype()?, Type::String | Type::StringIndef) {
        return Err(DecodeError(format!("map key at byte {at} is not text")));
    }
    let key = text(d)?;
    let value = item(d, depth + 1)?;
    members.insert(key, value);
    Ok(())
}

/// A definite or indefinite text string.
fn text(d: &mut Decoder<'_>) -> Result<String, DecodeError> {
    let mut out = String::new();
    for chunk in d.str_iter()? {
        out.push_str(chunk?);
    }
    Ok(out)
}

/// Consumes the break that ends an indefinite-length item, if it is next.
fn at_break(d: &mut Decoder<'_>) -> Result<bool, DecodeError> {
    if d.datatype()? == Type::Break {
        // A break is the single byte 0xff.
        d.set_position(d.position() + 1);
        return Ok(true);
    }
    Ok(false)
}

/// A capacity no larger than the bytes that could hold the items.
fn capacity(claimed: Option<u64>, d: &Decoder<'_>) -> usize {
    claimed
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .unwrap_or(0)
        .min(remaining(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
        body_to_json(bytes)
    }

    #[test]
    fn empty_body_is_an_empty_input() {
        assert_eq!(decode(b"").unwrap(), json!({}));
    }

    #[test]
    fn definite_map_with_ints_text_and_arrays() {
        // {"Period": 60, "Namespace": "N", "Statistics": ["Sum"], "Neg": -2}
        let bytes = [
            0xa4, 0x66, b'P', b'e', b'r', b'i', b'o', b'd', 0x18, 60, 0x69, b'N', b'a', b'm', b'e',
            b's', b'p', b'a', b'c', b'e', 0x61, b'N', 0x6a, b'S', b't', b'a', b't', b'i', b's',
            b't', b'i', b'c', b's', 0x81, 0x63, b'S', b'u', b'm', 0x63, b'N', b'e', b'g', 0x21,
        ];
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({"Period": 60, "Namespace": "N", "Statistics": ["Sum"], "Neg": -2})
        );
    }

    #[test]
    fn indefinite_maps_arrays_and_strings() {
        // {_ "a": [_ 1, "xy" as (_ "x" "y")], "b": {_ } }
        let bytes = [
            0xbf, 0x61, b'a', 0x9f, 0x01, 0x7f, 0x61, b'x', 0x61, b'y', 0xff, 0xff, 0x7f, 0x61,
            b'b', 0xff, 0xbf, 0xff, 0xff,
        ];
        assert_eq!(decode(&bytes).unwrap(), json!({"a": [1, "xy"], "b": {}}));
    }

    #[test]
    fn every_float_width_and_the_non_finite_ones() {
        // {"h": 1.5 (f16), "s": 0.25 (f32), "d": 0.1 (f64), "n": NaN (f16), "i": -inf (f16)}
        let mut bytes = vec![0xa5, 0x61, b'h', 0xf9, 0x3e, 0x00, 0x61, b's', 0xfa];
        bytes.extend_from_slice(&0.25f32.to_be_bytes());
        bytes.extend_from_slice(&[0x61, b'd', 0xfb]);
        bytes.extend_from_slice(&0.1f64.to_be_bytes());
        bytes.extend_from_slice(&[0x61, b'n', 0xf9, 0x7e, 0x00, 0x61, b'i', 0xf9, 0xfc, 0x00]);
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({"h": 1.5, "s": 0.25, "d": 0.1, "n": "NaN", "i": "-Infinity"})
        );
    }

    #[test]
    fn timestamps_bytes_and_undefined() {
        // {"t": 1(1704067200), "f": 1(1.5 as f64), "b": h'0102ff', "u": undefined}
        let mut bytes = vec![0xa4, 0x61, b't', 0xc1, 0x1a];
        bytes.extend_from_slice(&1_704_067_200u32.to_be_bytes());
        bytes.extend_from_slice(&[0x61, b'f', 0xc1, 0xfb]);
        bytes.extend_from_slice(&1.5f64.to_be_bytes());
        bytes.extend_from_slice(&[0x61, b'b', 0x43, 0x01, 0x02, 0xff, 0x61, b'u', 0xf7]);
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({"t": 1704067200, "f": 1.5, "b": "AQL/", "u": null})
        );
    }

    #[test]
    fn refuses_what_is_not_an_input_map() {
        for (bytes, why) in [
            (&[0x80][..], "an array"),
            (&[0xa0, 0x00][..], "trailing data"),
            (&[0xa1, 0x01, 0x01][..], "an integer key"),
            (&[0xa1, 0x61, b'a'][..], "a truncated map"),
            (&[0xbf, 0x61, b'a', 0x01][..], "an unterminated map"),
            (&[0xa1, 0x61, b'a', 0xc2, 0x41, 0x01][..], "a bignum tag"),
            (
                &[0xa1, 0x61, b'a', 0xc1, 0x61, b'x'][..],
                "a text timestamp",
            ),
            (
                &[
                    0xa1, 0x61, b'a', 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                ][..],
                "-2^64",
            ),
            (
                &[
                    0xa1, 0x61, b'a', 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                ][..],
                "a huge claimed array",
            ),
            (&[0xa1, 0x61, b'a', 0xff][..], "a stray break"),
            (&[0xa1, 0x62, 0xc3, 0x28, 0x01][..], "invalid UTF-8"),
        ] {
            assert!(decode(bytes).is_err(), "{why} was accepted");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let mut bytes = vec![0xa1, 0x61, b'a'];
        bytes.extend(std::iter::repeat_n(0x81, 100_000));
        bytes.push(0x01);
        let err = decode(&bytes).unwrap_err();
        assert!(err.0.contains("nest deeper"), "{err:?}");
    }
}
