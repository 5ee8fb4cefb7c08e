//! The one error type of the crate. Every message is meant to be returned to the caller as the
//! text of an `InvalidParameterException`, so it says what is wrong and where (a 0-based
//! character offset into the pattern).

use crate::PatternKind;

/// Why a filter pattern (or a `$field` reference) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The pattern is longer than [`crate::MAX_PATTERN_LEN`] characters.
    #[error("filter pattern is {len} characters long; the maximum is {max}")]
    TooLong { len: usize, max: usize },
    /// Something other than what the grammar allows at this point.
    #[error("invalid filter pattern at offset {offset}: expected {expected}, found {found}")]
    Unexpected {
        offset: usize,
        expected: &'static str,
        found: String,
    },
    /// An opening quote, bracket, brace or `%` without its closing partner.
    #[error("invalid filter pattern at offset {offset}: unterminated {what}")]
    Unterminated { offset: usize, what: &'static str },
    /// A construct the language does not support (`IS NOT`, `==`, a second `...`, ...).
    #[error("invalid filter pattern at offset {offset}: {message}")]
    Unsupported { offset: usize, message: String },
    /// A `%regex%` that AWS would reject (disallowed character or construct) or that does not
    /// compile.
    #[error("invalid regular expression at offset {offset}: {reason}")]
    InvalidRegex { offset: usize, reason: String },
    /// More than [`crate::MAX_REGEX_TERMS`] regex terms in one pattern.
    #[error(
        "invalid filter pattern at offset {offset}: a filter pattern may contain at most {max} regular expressions"
    )]
    TooManyRegex { offset: usize, max: usize },
    /// More wildcard selectors (`$.*`, `[*]`) than allowed, per selector or per pattern.
    #[error("invalid filter pattern at offset {offset}: {message}")]
    TooManyWildcards {
        offset: usize,
        message: &'static str,
    },
    /// A metric value or dimension reference (`$name`, `$3`, `$.path`) that is not well formed.
    #[error("invalid field reference `{reference}`: {reason}")]
    InvalidReference {
        reference: String,
        reason: &'static str,
    },
    /// A reference the pattern cannot resolve: a term pattern extracts nothing, a JSON pattern
    /// only resolves `$.path`, a space-delimited one only `$name` / `$N`.
    #[error("the {kind} filter pattern cannot resolve `{reference}`")]
    ReferenceNotSupported {
        reference: String,
        kind: PatternKind,
    },
    /// `$name` names no field of the space-delimited pattern.
    #[error("`{reference}` names no field of the filter pattern")]
    UnknownField { reference: String },
}
