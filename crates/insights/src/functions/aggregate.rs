//! Aggregation functions (only in `stats`), the stats-only value pickers and the
//! time-series extras.

use super::{Arity, FunctionDef, FunctionKind::Aggregate, def};

/// The aggregation family.
pub const FUNCTIONS: &[FunctionDef] = &[
    def(
        "avg",
        Aggregate,
        Arity::exactly(1),
        "avg(f)",
        "numeric mean",
        "stats avg(bytes) by dstAddr",
    ),
    def(
        "count",
        Aggregate,
        Arity::between(0, 1),
        "count() | count(*) | count(f)",
        "all rows, or rows where f is present",
        "stats count(*) by srcAddr",
    ),
    FunctionDef {
        aliases: &["count_distinct"],
        ..def(
            "countDistinct",
            Aggregate,
            Arity::exactly(1),
            "countDistinct(f)",
            "number of distinct values (approximate for high cardinality)",
            "stats countDistinct(remoteIP) as UniqueVisits",
        )
    },
    def(
        "max",
        Aggregate,
        Arity::exactly(1),
        "max(f)",
        "largest value",
        "stats max(bytes)",
    ),
    def(
        "min",
        Aggregate,
        Arity::exactly(1),
        "min(f)",
        "smallest value",
        "stats min(bytes)",
    ),
    def(
        "pct",
        Aggregate,
        Arity::exactly(2),
        "pct(f, p)",
        "the p-th percentile of f",
        "stats pct(@duration, 95)",
    ),
    def(
        "stddev",
        Aggregate,
        Arity::exactly(1),
        "stddev(f)",
        "population standard deviation",
        "stats stddev(bytes)",
    ),
    def(
        "variance",
        Aggregate,
        Arity::exactly(1),
        "variance(f)",
        "population variance",
        "stats variance(bytes)",
    ),
    def(
        "sum",
        Aggregate,
        Arity::exactly(1),
        "sum(f)",
        "sum of the values",
        "stats sum(bytes) as bytesTransferred by bin(5m)",
    ),
    def(
        "values",
        Aggregate,
        Arity::exactly(1),
        "values(f)",
        "distinct values as an array",
        "stats values(action)",
    ),
    def(
        "topk",
        Aggregate,
        Arity::exactly(2),
        "topk(k, f)",
        "the k most frequent values; cannot be combined with by or other aggregates",
        "stats topk(10, srcAddr)",
    ),
    def(
        "earliest",
        Aggregate,
        Arity::exactly(1),
        "earliest(f)",
        "f from the event with the earliest timestamp",
        "stats earliest(action) by srcAddr",
    ),
    def(
        "latest",
        Aggregate,
        Arity::exactly(1),
        "latest(f)",
        "f from the event with the latest timestamp",
        "stats latest(action) by srcAddr",
    ),
    def(
        "sortsFirst",
        Aggregate,
        Arity::exactly(1),
        "sortsFirst(f)",
        "the value of f that sorts first",
        "stats sortsFirst(srcAddr)",
    ),
    def(
        "sortsLast",
        Aggregate,
        Arity::exactly(1),
        "sortsLast(f)",
        "the value of f that sorts last",
        "stats sortsLast(srcAddr)",
    ),
    def(
        "rate",
        Aggregate,
        Arity::exactly(2),
        "rate(f, interval)",
        "per-interval rate of f",
        "stats rate(bytes, 1m) by bin(5m)",
    ),
    def(
        "countOverTime",
        Aggregate,
        Arity::exactly(1),
        "countOverTime(f)",
        "count of f per time bin",
        "stats countOverTime(bytes) by bin(5m)",
    ),
    def(
        "sumOverTime",
        Aggregate,
        Arity::exactly(1),
        "sumOverTime(f)",
        "sum of f per time bin",
        "stats sumOverTime(bytes) by bin(5m)",
    ),
    def(
        "histogram",
        Aggregate,
        Arity::exactly(2),
        "histogram(f, buckets)",
        "distribution of f over buckets",
        "stats histogram(bytes, 10)",
    ),
];

#[cfg(test)]
mod tests {
    use crate::{ErrorKind, compile};

    #[test]
    fn aggregates_are_rejected_outside_stats() {
        for def in super::FUNCTIONS {
            let args = vec!["x"; def.arity.min].join(", ");
            let query = format!("fields {}({args})", def.name);
            let err = compile(&query).expect_err(&query);
            assert_eq!(
                err.kind,
                ErrorKind::AggregateOutsideStats {
                    name: def.name.into()
                },
                "{query}"
            );
        }
    }

    #[test]
    fn count_accepts_no_argument_a_star_or_a_field() {
        for query in ["stats count()", "stats count(*)", "stats count(f)"] {
            compile(query).expect(query);
        }
    }
}
