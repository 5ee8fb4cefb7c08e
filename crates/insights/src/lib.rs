//! # flowwatch-insights
//!
//! The front end of the CloudWatch Logs Insights query language (`queryLanguage = CWLI`):
//! text → tokens (`lexer`) → typed AST ([`ast`]) → checks ([`check`]). Lowering the AST to
//! DataFusion plans is the `query` crate's job; this crate has no I/O, no async and no
//! dependency besides `thiserror`.
//!
//! Main types and entry points:
//!
//! - [`parse`] builds a [`Query`] (a pipeline of [`Command`]s over [`Expr`]s) without
//!   checking it; [`compile`] parses and checks, which is what StartQuery wants;
//! - [`functions`]: the registry of every function with its [`FunctionKind`], [`Arity`],
//!   signature and docs;
//! - [`QueryError`]: what went wrong ([`ErrorKind`], whose text is the message) and where
//!   ([`Location`], in characters, ready for `queryCompileError.location`).
//!
//! Invariants:
//!
//! - `parse(&query.to_string()) == Ok(query)` for every parsed query: `Display` prints
//!   canonical text and [`Span`]s never take part in equality;
//! - nothing panics on any input; expression nesting is bounded by [`MAX_DEPTH`], operator
//!   chains by [`MAX_CHAIN`] and query text by [`MAX_QUERY_CHARS`];
//! - commands and keywords are case-insensitive, function names are case-insensitive and
//!   stored canonically, field names are case-sensitive;
//! - documented commands not implemented yet (`pattern`, `diff`, `anomaly`, `lookup`, …) fail
//!   with [`ErrorKind::UnsupportedCommand`], never silently.
//!
//! ```
//! use flowwatch_insights::{compile, CommandKind, ErrorKind};
//!
//! let query = compile("filter action=\"REJECT\" | stats count(*) as n by srcAddr | sort n desc | limit 20")?;
//! assert_eq!(query.commands.len(), 4);
//! assert!(matches!(query.commands[1].kind, CommandKind::Stats(_)));
//! assert_eq!(
//!     query.to_string(),
//!     "filter action = \"REJECT\" | stats count(*) as n by srcAddr | sort n desc | limit 20"
//! );
//!
//! let err = compile("fields sum(bytes)").unwrap_err();
//! assert_eq!(err.kind, ErrorKind::AggregateOutsideStats { name: "sum".into() });
//! assert_eq!((err.location.start, err.location.end), (7, 17));
//! # Ok::<(), flowwatch_insights::QueryError>(())
//! ```

pub mod ast;
pub mod check;
mod display;
pub mod error;
pub mod functions;
mod lexer;
mod parser;
pub mod span;

pub use ast::{Command, CommandKind, Expr, ExprKind, FieldPath, Literal, Query};
pub use error::{ErrorKind, QueryError};
pub use functions::{Arity, FunctionDef, FunctionKind};
pub use parser::{MAX_CHAIN, MAX_DEPTH};
pub use span::{Location, Span};

/// StartQuery accepts query strings of at most this many characters.
pub const MAX_QUERY_CHARS: usize = 10_000;

/// Parses `source` into a [`Query`] without checking functions or command rules.
pub fn parse(source: &str) -> Result<Query, QueryError> {
    parser::parse_query(source).map_err(|diag| diag.locate(source))
}

/// Every problem the checks find in `query` (parsed from `source`), in command order.
pub fn diagnostics(query: &Query, source: &str) -> Vec<QueryError> {
    check::check_query(query)
        .into_iter()
        .map(|diag| diag.locate(source))
        .collect()
}

/// Parses and checks `source`; the error is the first problem found.
pub fn compile(source: &str) -> Result<Query, QueryError> {
    let chars = source.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(QueryError {
            kind: ErrorKind::TooLong {
                max: MAX_QUERY_CHARS,
            },
            location: Location {
                start: MAX_QUERY_CHARS,
                end: chars,
            },
        });
    }
    let query = parse(source)?;
    match diagnostics(&query, source).into_iter().next() {
        Some(error) => Err(error),
        None => Ok(query),
    }
}
