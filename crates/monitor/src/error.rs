//! The one error type of the crate.

use thiserror::Error;

/// What can go wrong in the metric store and the metric filter observer. Messages are lowercase
/// and name the offending value; the engine maps them to AWS error codes.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MonitorError {
    /// A period that is not a positive multiple of 60 seconds.
    #[error("the period {period_s} must be a positive multiple of 60 seconds")]
    InvalidPeriod { period_s: i64 },
    /// `start` is not before `end`.
    #[error("the start time {start_ms} must be before the end time {end_ms}")]
    InvalidTimeRange { start_ms: i64, end_ms: i64 },
    /// More periods than one call may return.
    #[error("the query would return {periods} datapoints; the limit is {max}")]
    TooManyDatapoints { periods: i64, max: i64 },
    /// A statistic name that is neither a `Statistic` nor a `pNN.NN` percentile.
    #[error("invalid statistic '{statistic}'")]
    InvalidStatistic { statistic: String },
    /// NaN, an infinity, or a value outside CloudWatch's range.
    #[error("invalid metric value {value}")]
    InvalidValue { value: f64 },
    /// A statistic set whose fields contradict each other.
    #[error("invalid statistic set: {reason}")]
    InvalidStatisticSet { reason: &'static str },
    /// A stored metric filter that does not compile (its pattern or a reference).
    #[error("metric filter '{filter}' cannot be compiled: {reason}")]
    InvalidFilter { filter: String, reason: String },
    /// The store holds as many metrics as it may.
    #[error("too many metrics: the store holds at most {max}")]
    TooManyMetrics { max: usize },
    /// A snapshot that cannot be decoded.
    #[error("invalid snapshot: {reason}")]
    InvalidSnapshot { reason: String },
}

/// Shorthand for this crate's results.
pub type Result<T, E = MonitorError> = std::result::Result<T, E>;
