//! JSON values: `jsonParse`, field access into what it made (`j.a.b`, `j.list[1].x`),
//! `jsonStringify`, `jsonArraySize`, `jsonArrayContains`, `split`, and the elements `unnest`
//! expands.
//!
//! A JSON value travels as text: a map or a list as its compact JSON, a scalar as Insights
//! shows it (a string without quotes, a number or boolean as written, null as no value). So
//! `filter j.user = "alice"` compares plain text, and a map reached through a path can be
//! addressed again.

use serde_json::Value;

/// How a path step is passed to [`path`]: a name is `k<name>`, an index `i<n>`.
pub fn key_step(name: &str) -> String {
    format!("k{name}")
}

/// See [`key_step`].
pub fn index_step(index: u64) -> String {
    format!("i{index}")
}

/// A value as it travels (see the module documentation).
fn shown(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => Some(value.to_string()),
    }
}

/// Only maps and lists parse; anything else is not a JSON value here.
fn container(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with(['{', '[']) {
        return None;
    }
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

/// `jsonParse(s)`: the map or list `s` holds, or an empty map.
pub fn parse(text: &str) -> String {
    container(text).map_or_else(|| "{}".to_owned(), |v| v.to_string())
}

/// The value at `steps` (from [`key_step`] / [`index_step`]) inside `text`.
pub fn path(text: &str, steps: &[Option<&str>]) -> Option<String> {
    let root = container(text)?;
    let mut at = &root;
    for step in steps {
        let step = (*step)?;
        at = if let Some(name) = step.strip_prefix('k') {
            match at {
                Value::Object(map) => map.get(name)?,
                // `list.0` as discovered fields write indexes.
                Value::Array(items) => items.get(name.parse::<usize>().ok()?)?,
                _ => return None,
            }
        } else {
            let index = step.strip_prefix('i')?.parse::<usize>().ok()?;
            at.as_array()?.get(index)?
        };
    }
    shown(at)
}

/// `jsonStringify(v)`: a map or list as compact JSON; any other text as a JSON string.
pub fn stringify(text: &str) -> String {
    container(text).map_or_else(
        || Value::String(text.to_owned()).to_string(),
        |v| v.to_string(),
    )
}

/// `jsonArraySize(f)`: the length of a list (no value for anything else).
pub fn array_size(text: &str) -> Option<i64> {
    match container(text)? {
        Value::Array(items) => i64::try_from(items.len()).ok(),
        _ => None,
    }
}

/// `jsonArrayContains(f, v)`: 1 if the list has an element shown as `v` (case-sensitive),
/// else 0 (also for anything not a list).
pub fn array_contains(text: &str, wanted: &str) -> i64 {
    match container(text) {
        Some(Value::Array(items)) => i64::from(
            items
                .iter()
                .any(|item| shown(item).as_deref() == Some(wanted)),
        ),
        _ => 0,
    }
}

/// `split(s, delimiter)`: the parts as a list.
pub fn split(text: &str, delimiter: &str) -> String {
    let parts: Vec<Value> = if delimiter.is_empty() {
        vec![Value::String(text.to_owned())]
    } else {
        text.split(delimiter)
            .map(|p| Value::String(p.to_owned()))
            .collect()
    };
    Value::Array(parts).to_string()
}

/// What `unnest` makes of a value: a list's elements, or the value itself as a one-item list.
pub fn elements(text: Option<&str>) -> Vec<Option<String>> {
    match text.and_then(container) {
        Some(Value::Array(items)) => items.iter().map(shown).collect(),
        _ => vec![text.map(str::to_owned)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"user":{"name":"alice","id":7},"events":[{"name":"exception"},{"name":"user action"}],"tags":["a","b"],"ok":true,"none":null}"#;

    fn at(steps: &[&str]) -> Option<String> {
        let steps: Vec<Option<&str>> = steps.iter().map(|s| Some(*s)).collect();
        path(DOC, &steps)
    }

    #[test]
    fn paths_reach_maps_lists_and_scalars() {
        assert_eq!(at(&["kuser", "kname"]).as_deref(), Some("alice"));
        assert_eq!(at(&["kuser", "kid"]).as_deref(), Some("7"));
        assert_eq!(
            at(&["kevents", "i1", "kname"]).as_deref(),
            Some("user action")
        );
        assert_eq!(
            at(&["kevents", "k0", "kname"]).as_deref(),
            Some("exception")
        );
        assert_eq!(at(&["ktags"]).as_deref(), Some(r#"["a","b"]"#));
        assert_eq!(at(&["kok"]).as_deref(), Some("true"));
        assert_eq!(at(&["knone"]), None);
        assert_eq!(at(&["kmissing"]), None);
        assert_eq!(at(&["kuser", "i0"]), None);
        assert_eq!(path("not json", &[Some("ka")]), None);
    }

    #[test]
    fn parse_keeps_maps_and_lists_only() {
        assert_eq!(parse(r#" {"a": [1, 2]} "#), r#"{"a":[1,2]}"#);
        assert_eq!(parse("[1]"), "[1]");
        assert_eq!(parse("42"), "{}");
        assert_eq!(parse("{broken"), "{}");
    }

    #[test]
    fn lists() {
        assert_eq!(array_size(r#"["a","b"]"#), Some(2));
        assert_eq!(array_size(r#"{"a":1}"#), None);
        assert_eq!(array_contains(r#"["a","b",3]"#, "b"), 1);
        assert_eq!(array_contains(r#"["a","b",3]"#, "3"), 1);
        assert_eq!(array_contains(r#"["a","b"]"#, "B"), 0);
        assert_eq!(array_contains("nope", "a"), 0);
        assert_eq!(split("a,b,,c", ","), r#"["a","b","","c"]"#);
        assert_eq!(
            elements(Some(r#"[{"name":"x"},"y",null]"#)),
            [
                Some(r#"{"name":"x"}"#.to_owned()),
                Some("y".to_owned()),
                None
            ]
        );
        assert_eq!(elements(Some("plain")), [Some("plain".to_owned())]);
        assert_eq!(elements(None), [None]);
        assert_eq!(stringify(r#"{ "a" : 1 }"#), r#"{"a":1}"#);
        assert_eq!(stringify("alice"), r#""alice""#);
    }
}
