//! Numeric functions.

use super::{Arity, FunctionDef, FunctionKind::Scalar, def};

/// The numeric family.
pub const FUNCTIONS: &[FunctionDef] = &[
    def(
        "abs",
        Scalar,
        Arity::exactly(1),
        "abs(a)",
        "absolute value",
        "fields abs(x)",
    ),
    def(
        "ceil",
        Scalar,
        Arity::exactly(1),
        "ceil(a)",
        "rounded up",
        "fields ceil(x)",
    ),
    def(
        "floor",
        Scalar,
        Arity::exactly(1),
        "floor(a)",
        "rounded down",
        "fields floor(x)",
    ),
    def(
        "greatest",
        Scalar,
        Arity::at_least(1),
        "greatest(a, …)",
        "the largest argument",
        "fields greatest(a, b, c)",
    ),
    def(
        "least",
        Scalar,
        Arity::at_least(1),
        "least(a, …)",
        "the smallest argument",
        "fields least(a, b, c)",
    ),
    def(
        "log",
        Scalar,
        Arity::exactly(1),
        "log(a)",
        "natural logarithm",
        "fields log(bytes)",
    ),
    def(
        "round",
        Scalar,
        Arity::between(1, 2),
        "round(a[, digits])",
        "rounded to digits decimal places",
        "fields round(x, 2)",
    ),
    def(
        "sqrt",
        Scalar,
        Arity::exactly(1),
        "sqrt(a)",
        "square root",
        "fields sqrt(x)",
    ),
    def(
        "haversine",
        Scalar,
        Arity::exactly(4),
        "haversine(lat1, lon1, lat2, lon2)",
        "great-circle distance in km",
        "fields haversine(a, b, c, d)",
    ),
    def(
        "toNumber",
        Scalar,
        Arity::exactly(1),
        "toNumber(s)",
        "a string as a number",
        "fields toNumber(s)",
    ),
    def(
        "toInt",
        Scalar,
        Arity::exactly(1),
        "toInt(s)",
        "a value as a 32-bit integer",
        "fields toInt(s)",
    ),
    def(
        "toLong",
        Scalar,
        Arity::exactly(1),
        "toLong(s)",
        "a value as a 64-bit integer",
        "fields toLong(s)",
    ),
    def(
        "toDouble",
        Scalar,
        Arity::exactly(1),
        "toDouble(s)",
        "a value as a double",
        "fields toDouble(s)",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn round_takes_one_or_two_arguments() {
        crate::compile("fields round(x)").expect("one");
        let err = crate::compile("fields round(x, 1, 2)").unwrap_err();
        assert_eq!(
            err.message(),
            "function `round` expects 1 to 2 argument(s), found 3"
        );
        assert_eq!((err.location.start, err.location.end), (7, 21));
    }
}
