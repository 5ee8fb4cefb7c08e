//! Discovered fields: what Logs Insights finds in an event's text without a `parse`.
//!
//! Two shapes are recognised (`spec/insights.md` §3):
//!
//! - a VPC flow-log record in the default (version 2) format: 14 space-separated values whose
//!   first is `2`, named `version accountId interfaceId srcAddr dstAddr srcPort dstPort
//!   protocol packets bytes startTime endTime action logStatus`;
//! - a JSON object: every leaf, flattened with dots, array elements by zero-based index
//!   (`requestParameters.items.0.instanceId`), at most [`MAX_JSON_FIELDS`] per event.
//!
//! Custom flow-log formats are not discovered (the service documents discovery for the default
//! format only); `parse` extracts their fields.

use flowwatch_flowlog::LogFormat;
use serde_json::Value;

/// At most this many fields are extracted from one JSON event.
pub const MAX_JSON_FIELDS: usize = 200;

/// How an event's text is shaped, decided once per event.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape<'a> {
    /// A default-format flow-log record, split into its 14 values.
    FlowLog(Vec<&'a str>),
    /// A JSON object.
    Json(Value),
    /// Anything else: only system fields.
    Other,
}

/// The Insights names of the default flow-log format, in record order.
pub fn flow_log_names() -> Vec<&'static str> {
    LogFormat::default_vpc()
        .fields()
        .iter()
        .map(|f| f.insights_name())
        .collect()
}

/// Recognises the shape of `message`.
pub fn shape(message: &str) -> Shape<'_> {
    if let Some(value) = json_object(message) {
        return Shape::Json(value);
    }
    let mut spans = Vec::with_capacity(14);
    if flow_log_spans(message, &mut spans) {
        return Shape::FlowLog(spans.iter().map(|&(a, b)| &message[a..b]).collect());
    }
    Shape::Other
}

/// `message` as a JSON object, when it is one.
pub fn json_object(message: &str) -> Option<Value> {
    if !message.trim_start().starts_with('{') {
        return None;
    }
    match serde_json::from_str::<Value>(message) {
        Ok(value @ Value::Object(_)) => Some(value),
        _ => None,
    }
}

/// Where the 14 values of a default-format flow-log record are in `message` (byte ranges,
/// into `spans`, without a new list per event). `false` when the message is not one.
pub use flowwatch_flowlog::default_record_spans as flow_log_spans;

/// Every discovered field of `message`, in discovery order.
pub fn discover(message: &str) -> Vec<(String, String)> {
    match shape(message) {
        Shape::FlowLog(values) => flow_log_names()
            .into_iter()
            .zip(values)
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        Shape::Json(value) => {
            let mut out = Vec::new();
            flatten(&value, &mut String::new(), &mut out);
            out
        }
        Shape::Other => Vec::new(),
    }
}

/// Flattens JSON leaves into `out` (at most [`MAX_JSON_FIELDS`]). Strings are kept as is,
/// other scalars as their JSON text; empty objects and arrays give no field.
fn flatten(value: &Value, prefix: &mut String, out: &mut Vec<(String, String)>) {
    if out.len() >= MAX_JSON_FIELDS {
        return;
    }
    let mut descend = |key: &str, child: &Value, out: &mut Vec<(String, String)>| {
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(key);
        flatten(child, prefix, out);
        prefix.truncate(len);
    };
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                descend(key, child, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                descend(&i.to_string(), child, out);
            }
        }
        Value::String(s) => out.push((display_name(prefix), s.clone())),
        Value::Null => {}
        other => out.push((display_name(prefix), other.to_string())),
    }
}

/// A discovered field whose own name starts with `@` is shown with an extra `@`.
fn display_name(path: &str) -> String {
    if path.starts_with('@') {
        format!("@{path}")
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod spans_tests {
    use super::*;

    #[test]
    fn flow_log_spans_are_the_whitespace_separated_values() {
        let mut spans = Vec::new();
        for message in [
            "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT OK",
            "  2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT OK ",
            "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2\tREJECT  OK",
            "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT  OK",
            "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT OK\n",
            "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT\x0cOK",
            "2 a b c d e f g h i j k l m n o p q r",
            "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT",
            "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT OK extra",
            "3 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT OK",
            "2",
            "",
            "{\"a\": 1}",
        ] {
            let found = flow_log_spans(message, &mut spans);
            // The rule, written plainly: 14 values between runs of ASCII whitespace, the first
            // `2` followed by a space.
            let values: Vec<&str> = message.split_ascii_whitespace().collect();
            if message.trim_start().starts_with("2 ") && values.len() == 14 {
                assert!(found, "{message:?}");
                let got: Vec<&str> = spans.iter().map(|&(a, b)| &message[a..b]).collect();
                assert_eq!(got, values, "{message:?}");
                assert_eq!(shape(message), Shape::FlowLog(values), "{message:?}");
            } else {
                assert!(!found, "{message:?}");
                assert!(!matches!(shape(message), Shape::FlowLog(_)), "{message:?}");
            }
        }
    }
}

/// Looks up one flattened path in a JSON value without flattening the rest.
pub fn json_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let path = path
        .strip_prefix('@')
        .filter(|p| p.starts_with('@'))
        .unwrap_or(path);
    let mut current = value;
    let mut rest = path;
    // Keys may contain dots, so try the longest key first at each level.
    'outer: while !rest.is_empty() {
        match current {
            Value::Object(map) => {
                let mut cut = Some(rest.len());
                while let Some(end) = cut {
                    if let Some(child) = map.get(&rest[..end]) {
                        current = child;
                        rest = rest.get(end + 1..).unwrap_or("");
                        continue 'outer;
                    }
                    cut = rest[..end].rfind('.');
                }
                return None;
            }
            Value::Array(items) => {
                let (index, tail) = rest.split_once('.').unwrap_or((rest, ""));
                current = items.get(index.parse::<usize>().ok()?)?;
                rest = tail;
            }
            _ => return None,
        }
    }
    Some(current)
}

/// A JSON leaf as the text of its field (`None` for null, objects and arrays).
pub fn leaf_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null | Value::Object(_) | Value::Array(_) => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_flow_log_records_are_named_as_insights_does() {
        let line = "2 123456789012 eni-0a1b2c3d 10.0.1.10 10.0.2.15 49152 22 6 10 840 1700000000 1700000060 REJECT OK";
        let fields = discover(line);
        assert_eq!(fields.len(), 14);
        assert_eq!(fields[3], ("srcAddr".into(), "10.0.1.10".into()));
        assert_eq!(fields[10], ("startTime".into(), "1700000000".into()));
        assert_eq!(fields[13], ("logStatus".into(), "OK".into()));
        assert_eq!(discover("2 only three"), vec![]);
    }

    #[test]
    fn json_is_flattened_with_dots_and_indexes() {
        let msg = r#"{"eventName":"ConsoleLogin","userIdentity":{"userName":"alice"},"items":[{"id":"i-1"},{"id":"i-2"}],"n":3,"ok":true,"none":null,"@x":"y"}"#;
        let fields = discover(msg);
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("userIdentity.userName"), Some("alice"));
        assert_eq!(get("items.1.id"), Some("i-2"));
        assert_eq!(get("n"), Some("3"));
        assert_eq!(get("ok"), Some("true"));
        assert_eq!(get("none"), None);
        assert_eq!(get("@@x"), Some("y"));
        let value: Value = serde_json::from_str(msg).unwrap();
        assert_eq!(
            json_path(&value, "items.0.id").and_then(leaf_text),
            Some("i-1".into())
        );
        assert_eq!(
            json_path(&value, "@@x").and_then(leaf_text),
            Some("y".into())
        );
        assert_eq!(json_path(&value, "userIdentity.nope"), None);
    }

    #[test]
    fn json_fields_are_capped() {
        let body: Vec<String> = (0..300).map(|i| format!("\"k{i}\":{i}")).collect();
        let msg = format!("{{{}}}", body.join(","));
        assert_eq!(discover(&msg).len(), MAX_JSON_FIELDS);
    }
}
