//! The top-level members of a JSON request, with bulk members (PutLogEvents' `logEvents`,
//! PutMetricData's `MetricData`) passed over without being parsed: only their extent is found,
//! jumping between quotes with `memchr`, so a 1 MB batch costs a scan, not a parse. The audit
//! record, the internal-group guard and authorization read requests through it.

use serde_json::{Map, Value};

/// The members of the JSON object `input`, except those named in `skip` (whose values are
/// skipped, not validated). `None` when `input` is not a well-formed object.
pub fn object_members(input: &[u8], skip: &[&str]) -> Option<Map<String, Value>> {
    let mut i = whitespace(input, 0);
    if input.get(i) != Some(&b'{') {
        return None;
    }
    let mut map = Map::new();
    i = whitespace(input, i + 1);
    if input.get(i) == Some(&b'}') {
        return (whitespace(input, i + 1) == input.len()).then_some(map);
    }
    loop {
        if input.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(input, i)?;
        let key: String = serde_json::from_slice(&input[i..key_end]).ok()?;
        i = whitespace(input, key_end);
        if input.get(i) != Some(&b':') {
            return None;
        }
        i = whitespace(input, i + 1);
        let value_end = value_end(input, i)?;
        if !skip.contains(&key.as_str()) {
            let value: Value = serde_json::from_slice(&input[i..value_end]).ok()?;
            map.insert(key, value);
        }
        i = whitespace(input, value_end);
        match input.get(i)? {
            b',' => i = whitespace(input, i + 1),
            b'}' => return (whitespace(input, i + 1) == input.len()).then_some(map),
            _ => return None,
        }
    }
}

fn whitespace(input: &[u8], mut i: usize) -> usize {
    while i < input.len() && input[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The index after the string starting at `start` (an opening quote).
fn string_end(input: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', input.get(i..)?)?;
        if input[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

/// The index after the value starting at `start`.
fn value_end(input: &[u8], start: usize) -> Option<usize> {
    match input.get(start)? {
        b'"' => string_end(input, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while let Some(&b) = input.get(i) {
                match b {
                    b'"' => {
                        i = string_end(input, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = start;
            while input
                .get(i)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
            {
                i += 1;
            }
            (i > start).then_some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn members(input: &str, skip: &[&str]) -> Option<Value> {
        object_members(input.as_bytes(), skip).map(Value::Object)
    }

    #[test]
    fn members_are_read_and_bulk_ones_skipped() {
        let input = r#" { "logGroupName" : "g", "logEvents": [{"timestamp": 1, "message": "a \"quoted\" ] } \\"}, {"message": "[{"}],
            "n": -1.5e3, "t": true, "z": null, "o": {"a": [1, {"b": "}"}]} } "#;
        assert_eq!(
            members(input, &["logEvents"]),
            Some(
                json!({"logGroupName": "g", "n": -1.5e3, "t": true, "z": null,
                        "o": {"a": [1, {"b": "}"}]}})
            )
        );
        let all = members(input, &[]).unwrap();
        assert_eq!(all["logEvents"][0]["message"], "a \"quoted\" ] } \\");
        assert_eq!(members("{}", &[]), Some(json!({})));
        assert_eq!(members(r#"{"k\u0041":"v"}"#, &[]), Some(json!({"kA": "v"})));
    }

    #[test]
    fn anything_but_an_object_is_none() {
        for bad in [
            "",
            "[]",
            "\"x\"",
            "{",
            r#"{"a":}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":[1}"#,
            r#"{"a":"unterminated}"#,
            r#"{"a":1} trailing"#,
            r#"{"a":[]]}"#,
            r#"{"a":1 "b":2}"#,
        ] {
            assert_eq!(members(bad, &["a"]), None, "{bad}");
        }
    }
}
