//! Datetime functions, including `bin` (a `stats … by` key only).

use super::{
    Arity, FunctionDef,
    FunctionKind::{Bin, Scalar},
    def,
};

/// The datetime family.
pub const FUNCTIONS: &[FunctionDef] = &[
    def(
        "bin",
        Bin,
        Arity::exactly(1),
        "bin(period)",
        "@timestamp rounded down to the period",
        "stats count(*) by bin(5m)",
    ),
    def(
        "datefloor",
        Scalar,
        Arity::exactly(2),
        "datefloor(ts, period)",
        "ts rounded down to the period",
        "fields datefloor(@timestamp, 1h)",
    ),
    def(
        "dateceil",
        Scalar,
        Arity::exactly(2),
        "dateceil(ts, period)",
        "ts rounded up to the period",
        "fields dateceil(@timestamp, 1h)",
    ),
    def(
        "fromMillis",
        Scalar,
        Arity::exactly(1),
        "fromMillis(n)",
        "epoch milliseconds as a timestamp",
        "fields fromMillis(1642195111000)",
    ),
    def(
        "toMillis",
        Scalar,
        Arity::exactly(1),
        "toMillis(ts)",
        "a timestamp as epoch milliseconds",
        "filter toMillis(@timestamp) >= now() * 1000 - 7200000",
    ),
    def(
        "now",
        Scalar,
        Arity::exactly(0),
        "now()",
        "the query start time in epoch seconds",
        "fields now()",
    ),
    def(
        "parseDate",
        Scalar,
        Arity::between(2, 3),
        "parseDate(str, pattern[, tz])",
        "parses a date with a Java DateTimeFormatter pattern into epoch milliseconds",
        "fields parseDate(t, \"yyyy-MM-dd\")",
    ),
    FunctionDef {
        aliases: &["strftime"],
        ..def(
            "formatDate",
            Scalar,
            Arity::between(2, 3),
            "formatDate(ts, format[, tz])",
            "formats a timestamp with a strftime format",
            "fields formatDate(@timestamp, \"%Y-%m-%d\")",
        )
    },
];

#[cfg(test)]
mod tests {
    use crate::{ErrorKind, compile};

    #[test]
    fn bin_is_only_a_group_key() {
        compile("stats count(*) by bin(1h) as t").expect("by key");
        let err = compile("fields bin(5m)").unwrap_err();
        assert_eq!(err.kind, ErrorKind::BinOutsideBy);
        let err = compile("stats count(bin(5m))").unwrap_err();
        assert_eq!(err.kind, ErrorKind::BinOutsideBy);
    }

    #[test]
    fn bin_needs_a_duration() {
        let err = compile("stats count(*) by bin(5)").unwrap_err();
        assert!(
            matches!(err.kind, ErrorKind::InvalidArgument { .. }),
            "{err}"
        );
    }
}
