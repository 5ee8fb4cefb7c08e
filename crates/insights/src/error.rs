//! The one error type of the crate: what went wrong ([`ErrorKind`]) and where ([`Location`]).

use crate::span::{Location, Span};

/// What is wrong with a query. The `Display` text is the `queryCompileError.message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The query text is longer than StartQuery accepts.
    #[error("query is longer than {max} characters")]
    TooLong { max: usize },
    /// The query has no command.
    #[error("query is empty")]
    Empty,
    /// A character that starts no token.
    #[error("unexpected character `{ch}`")]
    UnexpectedChar { ch: char },
    /// A string literal without its closing quote.
    #[error("unterminated string literal")]
    UnterminatedString,
    /// A regex literal without its closing `/`.
    #[error("unterminated regex literal")]
    UnterminatedRegex,
    /// A backquoted field name without its closing backquote.
    #[error("unterminated backquoted name")]
    UnterminatedBackquote,
    /// A backquoted field name with nothing inside.
    #[error("empty field name")]
    EmptyName,
    /// A malformed number or duration such as `5x` or `1.5m`.
    #[error("invalid number `{text}`")]
    InvalidNumber { text: String },
    /// A regex literal flag other than `i`, `m`, `s`, `u`, `x`.
    #[error("unknown regex flag `{flag}`")]
    UnknownRegexFlag { flag: char },
    /// The parser found one token where it needed another.
    #[error("expected {expected}, found {found}")]
    Unexpected { expected: String, found: String },
    /// A `(` or `[` that is never closed.
    #[error("unclosed `{open}`")]
    Unclosed { open: char },
    /// Expressions nested deeper than the parser accepts.
    #[error("expression nested too deeply")]
    TooDeep,
    /// A command name that does not exist.
    #[error("unknown command `{name}`")]
    UnknownCommand { name: String },
    /// A documented command flowwatch does not implement yet.
    #[error("command `{name}` is not supported yet")]
    UnsupportedCommand { name: String },
    /// `SOURCE` anywhere but at the start.
    #[error("SOURCE must be the first command of the query")]
    MisplacedSource,
    /// A function name that does not exist.
    #[error("unknown function `{name}`")]
    UnknownFunction { name: String },
    /// A call with too few or too many arguments.
    #[error("function `{name}` expects {expected} argument(s), found {found}")]
    WrongArity {
        name: String,
        expected: String,
        found: usize,
    },
    /// An aggregate or stats-only function outside `stats`.
    #[error("aggregate function `{name}` can only be used in stats")]
    AggregateOutsideStats { name: String },
    /// An aggregate inside another aggregate, or inside a `by` key.
    #[error("aggregate function `{name}` cannot be used here")]
    MisplacedAggregate { name: String },
    /// A later `stats` refers to a field the previous `stats` does not produce.
    #[error("field `{name}` is not produced by the previous stats")]
    UnavailableField { name: String },
    /// `bin()` anywhere but as a `stats … by` key.
    #[error("bin() can only be used as a group key in stats ... by")]
    BinOutsideBy,
    /// `*` anywhere but in `count(*)`.
    #[error("`*` is only allowed in count(*)")]
    MisplacedWildcard,
    /// A function argument of the wrong shape (`bin(x)`, `pct(f, 200)`).
    #[error("invalid argument to `{name}`: {reason}")]
    InvalidArgument { name: String, reason: String },
    /// A command used in a way the language forbids.
    #[error("{message}")]
    InvalidCommand { message: String },
}

/// A compile error with its place in the query text, ready for `MalformedQueryException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (characters {}..{})", location.start, location.end)]
pub struct QueryError {
    /// What is wrong.
    pub kind: ErrorKind,
    /// Where, in characters (end exclusive).
    pub location: Location,
}

impl QueryError {
    /// The message without the location, for `queryCompileError.message`.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// An error located by bytes, before the source is at hand to count characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diag {
    pub kind: ErrorKind,
    pub span: Span,
}

impl Diag {
    pub fn new(kind: ErrorKind, span: Span) -> Self {
        Self { kind, span }
    }

    pub fn locate(self, source: &str) -> QueryError {
        // Report exact byte spans; an empty span still points at one character when it can.
        let mut location = self.span.location(source);
        if location.start == location.end && location.start < source.chars().count() {
            location.end += 1;
        }
        QueryError {
            kind: self.kind,
            location,
        }
    }
}

pub(crate) type DResult<T> = Result<T, Diag>;
