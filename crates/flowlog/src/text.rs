//! The text codec: a record as the line AWS writes in a format (values separated by single
//! spaces, `-` for absent values, decimal numbers without padding or sign), and back.

use crate::error::{FlowLogError, Result, quote};
use crate::fields::Field;
use crate::format::LogFormat;
use crate::record::{FlowRecord, Value};

/// What an absent value is written as.
pub const ABSENT: &str = "-";

/// Where the 14 values of a default-format (version 2) record are in `line` (byte ranges, into
/// `spans`, reused from line to line): 14 values separated by ASCII whitespace, the line (after
/// leading whitespace) starting `2 `. `false` when the line is not one. This is the shape Logs
/// Insights discovers flow-log fields in, and the one segments store as typed columns.
pub fn default_record_spans(line: &str, spans: &mut Vec<(usize, usize)>) -> bool {
    spans.clear();
    if !line.trim_start().starts_with("2 ") {
        return false;
    }
    let bytes = line.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        // Most bytes are above the space: one comparison passes them.
        if b > b' ' || !b.is_ascii_whitespace() {
            continue;
        }
        if i > start {
            if spans.len() == 14 {
                return false;
            }
            spans.push((start, i));
        }
        start = i + 1;
    }
    if bytes.len() > start {
        if spans.len() == 14 {
            return false;
        }
        spans.push((start, bytes.len()));
    }
    spans.len() == 14
}

impl LogFormat {
    /// The line of `record` in this format. Fields of the format the record lacks are `-`;
    /// fields the record has that are not in the format are not written.
    pub fn encode(&self, record: &FlowRecord) -> String {
        let mut line = String::with_capacity(16 * self.fields().len());
        self.encode_into(record, &mut line);
        line
    }

    /// Appends the line of `record` to `out` (no line terminator).
    pub fn encode_into(&self, record: &FlowRecord, out: &mut String) {
        for (i, field) in self.fields().iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            match record.get(*field) {
                Some(v) => v.write_to(out),
                None => out.push_str(ABSENT),
            }
        }
    }

    /// Decodes one line (without its line terminator) written in this format. Fields not in
    /// the format are absent in the result.
    pub fn decode(&self, line: &str) -> Result<FlowRecord> {
        let fields = self.fields();
        let found = line.split(' ').count();
        if found != fields.len() {
            return Err(FlowLogError::FieldCount {
                expected: fields.len(),
                found,
            });
        }
        let mut record = FlowRecord::default();
        for (field, text) in fields.iter().zip(line.split(' ')) {
            if text == ABSENT {
                continue;
            }
            let value = if field.kind().is_integer() {
                Value::Int(parse_decimal(text).ok_or_else(|| invalid(*field, text))?)
            } else {
                Value::Str(text)
            };
            record.set(*field, Some(value))?;
        }
        Ok(record)
    }
}

fn invalid(field: Field, text: &str) -> FlowLogError {
    FlowLogError::InvalidValue {
        field,
        value: quote(text),
        expected: field.kind().expected(),
    }
}

/// A decimal as AWS writes it: ASCII digits, no sign, no leading zero (except `0` itself).
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            "1.0",
            "18446744073709551616",
            " 1",
            "1e3",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }
}
