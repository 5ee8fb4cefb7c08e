//! General functions: presence, conditionals, query times.

use super::{Arity, FunctionDef, FunctionKind::Scalar, def};

/// The general family.
pub const FUNCTIONS: &[FunctionDef] = &[
    def(
        "ispresent",
        Scalar,
        Arity::exactly(1),
        "ispresent(f)",
        "true if the field exists",
        "filter ispresent(errorCode)",
    ),
    def(
        "coalesce",
        Scalar,
        Arity::at_least(1),
        "coalesce(f1, f2, …)",
        "the first non-null argument",
        "fields coalesce(a, b, \"none\")",
    ),
    def(
        "case",
        Scalar,
        Arity::between(2, 21),
        "case(c1, v1, c2, v2, …, [default])",
        "the value of the first true condition (at most 10 branches)",
        "fields case(bytes > 1000, \"big\", \"small\")",
    ),
    def(
        "if",
        Scalar,
        Arity::exactly(3),
        "if(cond, a, b)",
        "a when cond is true, else b",
        "fields if(action = \"REJECT\", 1, 0)",
    ),
    def(
        "isNumeric",
        Scalar,
        Arity::exactly(1),
        "isNumeric(f)",
        "true if f is a number",
        "filter isNumeric(dstPort)",
    ),
    def(
        "messageSize",
        Scalar,
        Arity::exactly(1),
        "messageSize(f)",
        "the size of f in bytes",
        "fields messageSize(@message)",
    ),
    def(
        "queryStartTime",
        Scalar,
        Arity::exactly(0),
        "queryStartTime()",
        "the query's start time in epoch milliseconds",
        "fields queryStartTime()",
    ),
    def(
        "queryEndTime",
        Scalar,
        Arity::exactly(0),
        "queryEndTime()",
        "the query's end time in epoch milliseconds",
        "fields queryEndTime()",
    ),
    def(
        "queryTimeRange",
        Scalar,
        Arity::exactly(0),
        "queryTimeRange()",
        "the query's time range in milliseconds",
        "fields queryTimeRange()",
    ),
];

#[cfg(test)]
mod tests {
    use crate::{ErrorKind, compile};

    #[test]
    fn case_allows_ten_branches_and_a_default() {
        let branches: Vec<String> = (0..10).map(|i| format!("x = {i}, {i}")).collect();
        compile(&format!("fields case({}, -1)", branches.join(", "))).expect("10 branches");
        let branches: Vec<String> = (0..11).map(|i| format!("x = {i}, {i}")).collect();
        let err = compile(&format!("fields case({})", branches.join(", "))).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::WrongArity { .. }), "{err}");
    }
}
