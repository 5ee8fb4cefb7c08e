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
        "the k most frequent values of f (k from 1 to 10000), one row each: f and its count, \
         most frequent first; the whole stats item, without by or other aggregates",
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
        "per-interval rate of f: its sum over the group's time span in intervals (the bin's \
         width with by bin(), else from the first to the last event, null when that is zero)",
        "stats rate(bytes, 1m) by bin(5m)",
    ),
    FunctionDef {
        aliases: &["count_over_time"],
        ..def(
            "countOverTime",
            Aggregate,
            Arity::exactly(1),
            "countOverTime(f) | count_over_time(f)",
            "events where f is present, per time bin with by bin()",
            "stats countOverTime(bytes) by bin(5m)",
        )
    },
    FunctionDef {
        aliases: &["sum_over_time"],
        ..def(
            "sumOverTime",
            Aggregate,
            Arity::exactly(1),
            "sumOverTime(f) | sum_over_time(f)",
            "sum of f, per time bin with by bin()",
            "stats sumOverTime(bytes) by bin(5m)",
        )
    },
    def(
        "histogram",
        Aggregate,
        Arity::exactly(2),
        "histogram(f, buckets)",
        "a map from each of `buckets` equal-width ranges between the group's least and \
         greatest f (\"[lo, hi)\", the last closed) to its count, as JSON",
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
    fn the_time_series_functions_have_their_snake_case_spellings() {
        let query = compile(
            "stats count_over_time(bytes) as c, SUM_OVER_TIME(bytes) as s by bin(5m) offset 1m",
        )
        .unwrap();
        assert_eq!(
            query.to_string(),
            "stats countOverTime(bytes) as c, sumOverTime(bytes) as s by bin(5m) offset 1m"
        );
    }

    #[test]
    fn topk_stands_alone_with_k_in_range() {
        compile("stats topk(10000, srcAddr)").unwrap();
        compile("filter a = 1 | stats topk(1, srcAddr) as n | sort n").unwrap();
        compile("stats topk(5, srcAddr) as n | stats sum(n) by srcAddr").unwrap();
        for (query, message) in [
            (
                "stats topk(0, a)",
                "invalid argument to `topk`: k must be an integer from 1 to 10000",
            ),
            (
                "stats topk(10001, a)",
                "invalid argument to `topk`: k must be an integer from 1 to 10000",
            ),
            (
                "stats topk(3, a) by b",
                "topk cannot be combined with by or with other aggregates",
            ),
            (
                "stats topk(3, a) * 2",
                "topk must be the whole stats item, not part of an expression",
            ),
        ] {
            let err = compile(query).expect_err(query);
            assert_eq!(err.kind.to_string(), message, "{query}");
        }
    }

    #[test]
    fn histogram_buckets_and_rate_intervals_are_checked() {
        compile("stats histogram(bytes, 1000), rate(bytes, 1h) by srcAddr").unwrap();
        for (query, message) in [
            (
                "stats histogram(bytes, 0)",
                "invalid argument to `histogram`: buckets must be an integer from 1 to 1000",
            ),
            (
                "stats histogram(bytes, 2.5)",
                "invalid argument to `histogram`: buckets must be an integer from 1 to 1000",
            ),
            (
                "stats rate(bytes, 60)",
                "invalid argument to `rate`: expected a period such as 5m",
            ),
        ] {
            let err = compile(query).expect_err(query);
            assert_eq!(err.kind.to_string(), message, "{query}");
        }
    }

    #[test]
    fn count_accepts_no_argument_a_star_or_a_field() {
        for query in ["stats count()", "stats count(*)", "stats count(f)"] {
            compile(query).expect(query);
        }
    }
}
