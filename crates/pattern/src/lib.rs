//! # flowwatch-pattern
//!
//! The CloudWatch Logs filter-pattern language (metric filters, subscription filters,
//! FilterLogEvents, TestMetricFilter), as a library with no I/O and no async. The semantics
//! follow `spec/filter-patterns.md`.
//!
//! - [`FilterPattern::parse`] validates a pattern once into a typed AST: match-all, a
//!   [`TermPattern`], a standalone [`PatternRegex`], a [`JsonPattern`] or a
//!   [`DelimitedPattern`]. Rejections are [`PatternError`]s whose text says what is wrong and
//!   at which (0-based) character offset, ready for an `InvalidParameterException`.
//! - [`FilterPattern::matches`] tests one event message.
//! - [`FilterPattern::extract`] returns the [`Extracted`] values of a matching event:
//!   TestMetricFilter's `extractedValues` and the lookup of a [`ValueRef`] (`$name`, `$3`,
//!   `$.path`) for metric values and dimensions.
//! - `Display` prints a pattern that parses back to an equal AST.
//! - [`PatternSet`] matches many patterns (a log group's metric filters) against each event at
//!   once: one tokenisation and at most one JSON parse per event, and an index on exact field
//!   values so that an event is only checked against the patterns it could match.
//!
//! Invariants:
//! - a parsed pattern is at most [`MAX_PATTERN_LEN`] characters long and holds at most
//!   [`MAX_REGEX_TERMS`] regexes, each already validated and compiled;
//! - matching never panics, whatever the message;
//! - matching term, regex and space-delimited patterns does not allocate (regexes use the
//!   `regex` crate's internal cache), nor does [`PatternSet::matching`] once its
//!   [`SetScratch`] has grown. JSON patterns parse each message into a [`serde_json::Value`],
//!   and [`FilterPattern::extract`] allocates its result.
//!
//! Where the spec leaves room, this crate decides (and its tests pin down):
//! - a `%regex%` in a term pattern must be the whole pattern; a space is allowed in a regex;
//! - quoted strings take `\"` and `\\` as escapes; `*` in a value is always a wildcard;
//! - JSON: `=`/`!=` need the selected value to exist with a comparable type (so `!=` is false
//!   for an absent field); a numeric value also compares with a string holding a number; `*`
//!   alone matches any string, number or boolean; regexes only match strings;
//! - space-delimited: events split on ASCII whitespace; at most one `...`; without `...` the
//!   last field absorbs the rest of the line (its value is that raw text); a numeric `=`/`!=`
//!   compares text when the token is not a number; `$N` reaches named fields too.
//!
//! ```
//! use flowwatch_pattern::{FilterPattern, PatternKind, ValueRef};
//!
//! let pattern = FilterPattern::parse("[ip, user, ..., status_code = 4*, bytes > 1000]")?;
//! assert_eq!(pattern.kind(), PatternKind::Delimited);
//! assert!(pattern.supports_dimensions());
//!
//! let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a HTTP/1.0" 404 1534"#;
//! assert!(pattern.matches(line));
//! let values = pattern.extract(line).expect("it matched");
//! assert_eq!(values.to_map()["$status_code"], "404");
//! assert_eq!(values.to_map()["$3"], "frank");
//! assert_eq!(values.resolve_number(&ValueRef::parse("$bytes")?), Some(1534.0));
//!
//! let json = FilterPattern::parse(r#"{ $.eventType = "UpdateTrail" && $.latency > 10 }"#)?;
//! assert!(json.matches(r#"{"eventType": "UpdateTrail", "latency": 50}"#));
//! assert!(!json.matches("not json"));
//! assert_eq!(json.to_string(), r#"{ $.eventType = UpdateTrail && $.latency > 10 }"#);
//!
//! let err = FilterPattern::parse("{ $.a = %x(y)% }").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "invalid regular expression at offset 10: parentheses (groups) are not allowed"
//! );
//! # Ok::<(), flowwatch_pattern::PatternError>(())
//! ```

mod delimited;
mod error;
mod extract;
mod json;
mod json_eval;
mod lexer;
mod regex;
mod set;
mod term;
mod tokens;
mod value;

use std::fmt;

pub use delimited::{DelimitedPattern, FieldSpec, FieldTest};
pub use error::PatternError;
pub use extract::{Extracted, ExtractedField, FieldKey, ValueRef};
pub use json::{Condition, JsonExpr, JsonPattern, Selector, Step, Test};
pub use regex::PatternRegex;
pub use set::{Located, MatchedEvent, PatternSet, SetScratch};
pub use term::{Term, TermMode, TermPattern};
pub use value::{CmpOp, Number, Value};

use crate::lexer::Cursor;
use crate::tokens::Slot;

/// Longest filter pattern AWS accepts, in characters (`FilterPattern`, 0–1024).
pub const MAX_PATTERN_LEN: usize = 1024;

/// Most `%regex%` terms one filter pattern may contain.
pub const MAX_REGEX_TERMS: usize = 2;

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterPattern {
    /// `""`, blanks, or only quoted blanks (`" "`): every event matches.
    MatchAll,
    /// Unstructured terms: `ERROR -ARGUMENTS`, `"[ERROR]" Exception`, `?ERROR ?WARN`.
    Terms(TermPattern),
    /// A whole-pattern regex: `%AUTHORIZED%`.
    Regex(PatternRegex),
    /// `{ $.field = value && ... }`.
    Json(JsonPattern),
    /// `[field, field = value, ...]`.
    Delimited(DelimitedPattern),
}

/// The kind of a pattern, decided by its first non-blank character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatternKind {
    MatchAll,
    Terms,
    Regex,
    Json,
    Delimited,
}

impl fmt::Display for PatternKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MatchAll => "match-all",
            Self::Terms => "term",
            Self::Regex => "regex",
            Self::Json => "JSON",
            Self::Delimited => "space-delimited",
        })
    }
}

impl FilterPattern {
    /// Parses and validates a pattern.
    pub fn parse(src: &str) -> Result<Self, PatternError> {
        let len = src.chars().count();
        if len > MAX_PATTERN_LEN {
            return Err(PatternError::TooLong {
                len,
                max: MAX_PATTERN_LEN,
            });
        }
        match src.trim_start().chars().next() {
            None => Ok(Self::MatchAll),
            Some('{') => JsonPattern::parse(src).map(Self::Json),
            Some('[') => DelimitedPattern::parse(src).map(Self::Delimited),
            Some('%') => parse_standalone_regex(src).map(Self::Regex),
            Some(_) => Ok(TermPattern::parse(src)?.map_or(Self::MatchAll, Self::Terms)),
        }
    }

    pub fn kind(&self) -> PatternKind {
        match self {
            Self::MatchAll => PatternKind::MatchAll,
            Self::Terms(_) => PatternKind::Terms,
            Self::Regex(_) => PatternKind::Regex,
            Self::Json(_) => PatternKind::Json,
            Self::Delimited(_) => PatternKind::Delimited,
        }
    }

    /// How many `%regex%` terms the pattern holds (AWS allows 2 per pattern and 5 regex-holding
    /// metric or subscription filters per log group).
    pub fn regex_count(&self) -> usize {
        fn json(e: &json::JsonExpr) -> usize {
            match e {
                json::JsonExpr::Condition(c) => usize::from(matches!(
                    &c.test,
                    json::Test::Compare(_, value::Value::Regex(_))
                )),
                json::JsonExpr::And(v) | json::JsonExpr::Or(v) => v.iter().map(json).sum(),
            }
        }
        match self {
            Self::MatchAll | Self::Terms(_) => 0,
            Self::Regex(_) => 1,
            Self::Json(p) => json(&p.expr),
            Self::Delimited(p) => p
                .specs()
                .iter()
                .map(|spec| match spec {
                    delimited::FieldSpec::Field { any_of, .. } => any_of
                        .iter()
                        .flatten()
                        .filter(|t| matches!(t.value, value::Value::Regex(_)))
                        .count(),
                    delimited::FieldSpec::Ellipsis => 0,
                })
                .sum(),
        }
    }

    /// Whether metric filters with this pattern may have dimensions (JSON and space-delimited
    /// patterns only; otherwise AWS answers "The specified filter pattern does not support
    /// dimensions").
    pub fn supports_dimensions(&self) -> bool {
        matches!(self, Self::Json(_) | Self::Delimited(_))
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Self::MatchAll => true,
            Self::Terms(t) => t.matches(message),
            Self::Regex(r) => r.is_match(message),
            Self::Json(j) => j.matches(message),
            Self::Delimited(d) => d.walk(message, |_, _, _| {}),
        }
    }

    /// The extracted values of `message` if it matches, `None` otherwise.
    pub fn extract<'a>(&'a self, message: &'a str) -> Option<Extracted<'a>> {
        match self {
            Self::Json(j) => j.match_event(message).map(Extracted::json),
            Self::Delimited(d) => {
                let mut fields = Vec::new();
                let matched = d.walk(message, |slot, position, value| {
                    let key = match slot {
                        Slot::Named(name) => FieldKey::Named(name),
                        Slot::Unnamed => FieldKey::Position(position),
                    };
                    fields.push(ExtractedField {
                        key,
                        position,
                        value,
                    });
                });
                matched.then(|| Extracted::from_fields(fields))
            }
            other => other.matches(message).then(Extracted::nothing),
        }
    }

    /// Checks, once, that `reference` (a metric value or dimension) can be resolved for events
    /// this pattern matches: `$.path` for JSON patterns, `$name` naming one of its fields or
    /// `$N` for space-delimited ones.
    pub fn check_ref(&self, reference: &ValueRef) -> Result<(), PatternError> {
        match (self, reference) {
            (Self::Json(_), ValueRef::Json(_)) => Ok(()),
            (Self::Delimited(_), ValueRef::Position(_)) => Ok(()),
            (Self::Delimited(d), ValueRef::Field(name)) if d.has_field(name) => Ok(()),
            (Self::Delimited(_), ValueRef::Field(_)) => Err(PatternError::UnknownField {
                reference: reference.to_string(),
            }),
            _ => Err(PatternError::ReferenceNotSupported {
                reference: reference.to_string(),
                kind: self.kind(),
            }),
        }
    }
}

/// A pattern starting with `%` must be exactly one `%regex%`.
fn parse_standalone_regex(src: &str) -> Result<PatternRegex, PatternError> {
    let mut cur = Cursor::new(src);
    cur.skip_ws();
    let regex = cur.regex()?;
    cur.skip_ws();
    if !cur.at_end() {
        return Err(cur.unexpected(
            "end of pattern after a `%regex%` (a regex must be the whole term pattern)",
        ));
    }
    Ok(regex)
}

impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MatchAll => Ok(()),
            Self::Terms(t) => write!(f, "{t}"),
            Self::Regex(r) => write!(f, "{r}"),
            Self::Json(j) => write!(f, "{j}"),
            Self::Delimited(d) => write!(f, "{d}"),
        }
    }
}

impl std::str::FromStr for FilterPattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
