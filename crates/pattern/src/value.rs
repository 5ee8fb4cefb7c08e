//! Comparison operators and values shared by JSON and space-delimited patterns, and how a value
//! compares with a piece of text (all allocation-free).

use std::fmt;

use crate::lexer::{is_value_delimiter, write_quoted};
use crate::regex::PatternRegex;

/// `=`, `!=`, `<`, `<=`, `>`, `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Whether the operator orders values (and so needs a numeric value).
    pub fn is_relational(self) -> bool {
        matches!(self, Self::Lt | Self::Le | Self::Gt | Self::Ge)
    }

    pub(crate) fn compare(self, left: f64, right: f64) -> bool {
        match self {
            Self::Eq => left == right,
            Self::Ne => left != right,
            Self::Lt => left < right,
            Self::Le => left <= right,
            Self::Gt => left > right,
            Self::Ge => left >= right,
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        })
    }
}

/// A numeric literal as written (`400`, `-1.5`, `1e+3`) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    text: String,
    value: f64,
}

impl Number {
    /// Parses `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`; nothing else
    /// (in particular not `inf` or `NaN`) is a number.
    pub fn parse(text: &str) -> Option<Self> {
        parse_number(text).map(|value| Self {
            text: text.to_owned(),
            value,
        })
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The numeric value of `text` under the literal syntax of [`Number::parse`], without
/// allocating.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    // Fast path for the common case, a plain integer (ports, counts, timestamps): below 10^15
    // it is exact in an f64, so this gives what the general parse gives.
    if let Some(digits) = b.strip_prefix(b"-").or(b.strip_prefix(b"+")).or(Some(b))
        && !digits.is_empty()
        && digits.len() <= 15
        && digits.iter().all(u8::is_ascii_digit)
    {
        let n = digits
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')) as f64;
        return Some(if b[0] == b'-' { -n } else { n });
    }
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string; `*` anywhere in it is a wildcard for any run of characters.
    Text(String),
    /// A number, compared numerically.
    Number(Number),
    /// `%regex%`, searched for (unanchored unless it uses `^`/`$`).
    Regex(PatternRegex),
}

impl Value {
    /// Whether this is the `*` value that matches anything present.
    pub fn is_any(&self) -> bool {
        matches!(self, Self::Text(t) if t == "*")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) if is_bare_text(text) => f.write_str(text),
            Self::Text(text) => write_quoted(f, text),
            Self::Number(n) => f.write_str(&n.text),
            Self::Regex(r) => write!(f, "{r}"),
        }
    }
}

/// Whether `text` reads back as the same [`Value::Text`] when written without quotes.
fn is_bare_text(text: &str) -> bool {
    !text.is_empty()
        && parse_number(text).is_none()
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c == '\\' || is_value_delimiter(c))
}

/// Whether `text` matches `glob`, where `*` matches any run of characters (possibly empty)
/// and everything else matches itself; anchored at both ends.
pub(crate) fn glob_match(glob: &str, text: &str) -> bool {
    if !glob.contains('*') {
        return glob == text;
    }
    let mut parts = glob.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let mut last = None;
    for part in parts {
        if let Some(prev) = last.replace(part) {
            match rest.find(prev) {
                Some(at) => rest = &rest[at + prev.len()..],
                None => return false,
            }
        }
    }
    match last {
        // No `*` at all: exact match.
        None => rest.is_empty(),
        Some(tail) => rest.ends_with(tail),
    }
}

/// Compares one text field (a space-delimited token) with `value`.
///
/// Numeric values compare numerically when the field is a number; with `=`/`!=` a field that
/// is not a number is compared with the literal's text instead. Relational operators never
/// match a non-numeric field.
pub(crate) fn compare_text(op: CmpOp, value: &Value, field: &str) -> bool {
    match value {
        Value::Text(glob) => match op {
            CmpOp::Eq => glob_match(glob, field),
            CmpOp::Ne => !glob_match(glob, field),
            _ => false,
        },
        Value::Number(n) => match parse_number(field) {
            Some(x) => op.compare(x, n.value),
            None => match op {
                CmpOp::Eq => field == n.text,
                CmpOp::Ne => field != n.text,
                _ => false,
            },
        },
        Value::Regex(r) => match op {
            CmpOp::Eq => r.is_match(field),
            CmpOp::Ne => !r.is_match(field),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("4*", "404"));
        assert!(!glob_match("4*", "200"));
        assert!(glob_match("*.html*", "GET /index.html HTTP/1.0"));
        assert!(!glob_match("*.html*", "GET /a.gif HTTP/1.0"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "abc"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(glob_match("*ab", "abab"));
        assert!(!glob_match("a*a", "a"));
        assert!(glob_match("abc", "abc"));
        assert!(!glob_match("abc", "abcd"));
    }

    #[test]
    fn integers_take_a_fast_path_with_the_same_result() {
        for text in [
            "0",
            "-0",
            "+0",
            "7",
            "-22",
            "+443",
            "0443",
            "999999999999999",
            "-999999999999999",
            "1000000000000000",
            "12345678901234567890",
            "9007199254740993",
        ] {
            assert_eq!(
                parse_number(text).map(f64::to_bits),
                text.parse::<f64>().ok().map(f64::to_bits),
                "{text}"
            );
        }
        for bad in ["-", "+", "--1", "+-1", "1-", "1 ", " 1"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1e+3"), Some(1000.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number(".5"), Some(0.5));
        for bad in [
            "", "+", ".", "1e", "inf", "NaN", "1.2.3", "0x10", "1_000", "e5",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
