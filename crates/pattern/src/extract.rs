//! What a match yields (spec §5.3, §6, §7): the `extractedValues` TestMetricFilter reports,
//! and the lookup metric filters use to resolve a metric value or dimension (`$status_code`,
//! `$7`, `$.latency`) for a matched event.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use crate::error::PatternError;
use crate::json::Selector;
use crate::lexer::Cursor;
use crate::value::parse_number;

/// The key of one extracted value: `$name` or `$position` (1-based token position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKey<'p> {
    Named(&'p str),
    Position(usize),
}

impl fmt::Display for FieldKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Named(name) => write!(f, "${name}"),
            Self::Position(n) => write!(f, "${n}"),
        }
    }
}

/// One extracted field of a space-delimited match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractedField<'a> {
    /// How TestMetricFilter names it.
    pub key: FieldKey<'a>,
    /// The 1-based position of its (first) token in the event.
    pub position: usize,
    /// The value, a slice of the message.
    pub value: &'a str,
}

/// The values of one matched event. Borrows from the pattern and the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted<'a> {
    inner: Inner<'a>,
}

#[derive(Debug, Clone, PartialEq)]
enum Inner<'a> {
    /// Match-all, term and regex patterns: nothing to extract.
    Nothing,
    /// Space-delimited patterns: fields in event order.
    Fields(Vec<ExtractedField<'a>>),
    /// JSON patterns: the parsed event, for `$.path` lookups (reports no `extractedValues`).
    Json(Json),
}

impl<'a> Extracted<'a> {
    pub(crate) fn nothing() -> Self {
        Self {
            inner: Inner::Nothing,
        }
    }

    pub(crate) fn from_fields(fields: Vec<ExtractedField<'a>>) -> Self {
        Self {
            inner: Inner::Fields(fields),
        }
    }

    pub(crate) fn json(event: Json) -> Self {
        Self {
            inner: Inner::Json(event),
        }
    }

    /// The fields a space-delimited pattern extracted, in event order; empty for other kinds.
    pub fn fields(&self) -> &[ExtractedField<'a>] {
        match &self.inner {
            Inner::Fields(fields) => fields,
            _ => &[],
        }
    }

    /// TestMetricFilter's `extractedValues`: `{"$ip": "127.0.0.1", "$2": "-", ...}`; empty for
    /// term and JSON patterns.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.fields()
            .iter()
            .map(|f| (f.key.to_string(), f.value.to_owned()))
            .collect()
    }

    /// Resolves a metric value or dimension reference for this event. JSON numbers and
    /// booleans are rendered as text; JSON `null`, arrays, objects and absent paths resolve to
    /// nothing.
    pub fn resolve(&self, reference: &ValueRef) -> Option<Cow<'_, str>> {
        match (&self.inner, reference) {
            (Inner::Fields(fields), ValueRef::Field(name)) => fields
                .iter()
                .find(|f| f.key == FieldKey::Named(name))
                .map(|f| Cow::Borrowed(f.value)),
            (Inner::Fields(fields), ValueRef::Position(n)) => fields
                .iter()
                .find(|f| f.position == *n)
                .map(|f| Cow::Borrowed(f.value)),
            (Inner::Json(event), ValueRef::Json(selector)) => json_text(selector.get(event)?),
            _ => None,
        }
    }

    /// Resolves a reference to a number (for metric values); non-numeric values give `None`.
    pub fn resolve_number(&self, reference: &ValueRef) -> Option<f64> {
        if let (Inner::Json(event), ValueRef::Json(selector)) = (&self.inner, reference)
            && let Some(Json::Number(n)) = selector.get(event)
        {
            return n.as_f64();
        }
        parse_number(&self.resolve(reference)?)
    }
}

/// A selected JSON value as text: strings as they are, numbers and booleans rendered; `null`,
/// arrays and objects resolve to nothing.
pub(crate) fn json_text(value: &Json) -> Option<Cow<'_, str>> {
    match value {
        Json::String(s) => Some(Cow::Borrowed(s.as_str())),
        Json::Number(n) => Some(Cow::Owned(n.to_string())),
        Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// A validated reference to an extracted value, as used by `metricValue` and `dimensions`:
/// `$name`, `$N` (1-based position) or `$.json.path` (no wildcards).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueRef {
    Field(String),
    Position(usize),
    Json(Selector),
}

impl ValueRef {
    /// Parses a reference once, at the edge (PutMetricFilter).
    pub fn parse(reference: &str) -> Result<Self, PatternError> {
        let invalid = |reason| PatternError::InvalidReference {
            reference: reference.to_owned(),
            reason,
        };
        let Some(body) = reference.strip_prefix('$') else {
            return Err(invalid("a reference starts with `$`"));
        };
        if body.starts_with(['.', '[']) {
            let mut cur = Cursor::new(reference);
            let selector = Selector::parse(&mut cur).map_err(|_| invalid("not a JSON path"))?;
            if !cur.at_end() {
                return Err(invalid("not a JSON path"));
            }
            if selector.has_wildcard() {
                return Err(invalid("a JSON path reference cannot contain wildcards"));
            }
            return Ok(Self::Json(selector));
        }
        if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
            return match body.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(Self::Position(n)),
                _ => Err(invalid("positions start at $1")),
            };
        }
        if !body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Ok(Self::Field(body.to_owned()));
        }
        Err(invalid("expected `$name`, `$N` or `$.path`"))
    }
}

impl fmt::Display for ValueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(name) => write!(f, "${name}"),
            Self::Position(n) => write!(f, "${n}"),
            Self::Json(selector) => write!(f, "{selector}"),
        }
    }
}
