//! A form value's text as the JSON its member's kind calls for: integers, doubles (`NaN`,
//! `Infinity`, `-Infinity` stay the awsJson strings), booleans (`true` / `false`, any case) and
//! timestamps (ISO 8601 with or without an offset, a bare date, or epoch seconds; epoch seconds
//! out). Text that does not parse is InvalidParameterValue.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use flowwatch_model::{ApiError, ErrorCode};
use serde_json::{Number, Value};

use crate::hints::Kind;

fn invalid(text: &str, what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidParameterValueException,
        format!("The value '{text}' is not a valid {what}."),
    )
}

/// A leaf's text as the JSON type its kind calls for.
pub(crate) fn from_text(text: &str, kind: Kind) -> Result<Value, ApiError> {
    Ok(match kind {
        Kind::Integer => Value::from(
            text.trim()
                .parse::<i64>()
                .map_err(|_| invalid(text, "integer"))?,
        ),
        Kind::Double => {
            let f = match text.trim() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                t if t
                    .bytes()
                    .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') =>
                {
                    return Err(invalid(text, "number"));
                }
                t => t.parse::<f64>().map_err(|_| invalid(text, "number"))?,
            };
            crate::json::float(f)
        }
        Kind::Boolean => match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
            t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(invalid(text, "boolean (true or false)")),
        },
        Kind::Timestamp => epoch_seconds(text.trim()).ok_or_else(|| {
            invalid(
                text,
                "timestamp (ISO 8601, for example 2024-01-01T00:00:00Z)",
            )
        })?,
        Kind::Plain | Kind::List(_) | Kind::Map { .. } => Value::String(text.to_owned()),
    })
}

/// ISO 8601 (with an offset, or UTC when it has none; a date alone is its midnight) or epoch
/// seconds, as epoch seconds.
fn epoch_seconds(text: &str) -> Option<Value> {
    let millis = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        t.timestamp_millis()
    } else if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        t.and_utc().timestamp_millis()
    } else if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis()
    } else {
        let s: f64 = text.parse().ok().filter(|s: &f64| s.is_finite())?;
        return Number::from_f64(s).map(Value::Number);
    };
    Some(if millis % 1000 == 0 {
        Value::from(millis / 1000)
    } else {
        Number::from_f64(millis as f64 / 1000.0).map(Value::Number)?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_in_every_spelling() {
        for (text, want) in [
            ("2024-01-01T00:00:00Z", json!(1704067200)),
            ("2024-01-01T00:00:00.250Z", json!(1704067200.25)),
            ("2024-01-01T02:00:00+02:00", json!(1704067200)),
            ("2024-01-01T00:00:00", json!(1704067200)),
            ("2024-01-01", json!(1704067200)),
            ("1704067200", json!(1704067200.0)),
        ] {
            assert_eq!(epoch_seconds(text), Some(want), "{text}");
        }
    }

    #[test]
    fn numbers_and_booleans() {
        assert_eq!(from_text("60", Kind::Integer).unwrap(), json!(60));
        assert_eq!(from_text(" 2.5", Kind::Double).unwrap(), json!(2.5));
        assert_eq!(from_text("1e3", Kind::Double).unwrap(), json!(1000.0));
        assert_eq!(
            from_text("-Infinity", Kind::Double).unwrap(),
            json!("-Infinity")
        );
        assert_eq!(from_text("TRUE", Kind::Boolean).unwrap(), json!(true));
        assert_eq!(from_text("042", Kind::Plain).unwrap(), json!("042"));
        for (text, kind) in [
            ("1.5", Kind::Integer),
            ("inf", Kind::Double),
            ("0x10", Kind::Double),
            ("1", Kind::Boolean),
            ("soon", Kind::Timestamp),
        ] {
            let err = from_text(text, kind).unwrap_err();
            assert_eq!(
                err.code,
                ErrorCode::InvalidParameterValueException,
                "{text}"
            );
        }
    }
}
