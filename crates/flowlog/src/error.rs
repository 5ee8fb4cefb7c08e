//! The one error type of this crate.

use crate::fields::Field;

/// Longest value quoted in an error message; longer values are cut (with `...`).
const QUOTE_MAX: usize = 64;

/// Everything that can go wrong parsing a format, decoding a record or converting to and from
/// Arrow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowLogError {
    #[error("the log format is empty")]
    EmptyFormat,
    #[error("invalid log format at byte {offset}: {detail}")]
    FormatSyntax { offset: usize, detail: &'static str },
    #[error("unknown flow-log field ${{{name}}}")]
    UnknownField { name: String },
    #[error("field ${{{field}}} appears more than once in the log format")]
    DuplicateField { field: Field },
    #[error(
        "field ${{{vpc}}} of VPC flow logs and field ${{{transit_gateway}}} of transit gateway flow logs cannot share a format"
    )]
    MixedScopes { vpc: Field, transit_gateway: Field },
    #[error("expected {expected} space-separated values, found {found}")]
    FieldCount { expected: usize, found: usize },
    #[error("invalid value {value:?} for field {field}: expected {expected}")]
    InvalidValue {
        field: Field,
        value: String,
        expected: &'static str,
    },
    #[error("invalid value {value:?}: values are non-empty, without spaces and not `-`")]
    InvalidToken { value: String },
    #[error("column {column}: {detail}")]
    Column { column: String, detail: String },
    #[error("arrow: {0}")]
    Arrow(String),
}

impl From<arrow_schema::ArrowError> for FlowLogError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        Self::Arrow(e.to_string())
    }
}

/// A bounded copy of a bad value, for error messages.
pub(crate) fn quote(value: &str) -> String {
    if value.len() <= QUOTE_MAX {
        return value.to_owned();
    }
    let mut end = QUOTE_MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &value[..end])
}

/// `Result` with [`FlowLogError`].
pub type Result<T, E = FlowLogError> = std::result::Result<T, E>;
