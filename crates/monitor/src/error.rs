//! The one error type of the crate: the metric store and the filter observer, alarms
//! (CloudWatch's messages) and SNS topics and delivery. [`MonitorError::code`] is the AWS error
//! code of each; the engine's one mapping turns them into wire errors.

use thiserror::Error;

/// What can go wrong in the metric store, the metric filter observer, alarms and SNS.
///
/// Metric-store and SNS messages are lowercase and name the offending value; alarm messages are
/// AWS's own, as clients see them (capitalised, with periods: they go to the wire unchanged).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MonitorError {
    // The metric store and the metric filter observer.
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

    // Alarms (awsQuery codes, `spec/cloudwatch-api.md` §1.4).
    /// `InvalidParameterValue`.
    #[error("{message}")]
    InvalidParameterValue { message: String },
    /// `InvalidParameterCombination`.
    #[error("{message}")]
    InvalidParameterCombination { message: String },
    /// `MissingParameter`.
    #[error("{message}")]
    MissingParameter { message: String },
    /// `ResourceNotFound` (DeleteAlarms, SetAlarmState).
    #[error("{message}")]
    ResourceNotFound { message: String },
    /// `InvalidFormat` (SetAlarmState's StateReasonData is not JSON).
    #[error("{message}")]
    InvalidFormat { message: String },
    /// `LimitExceeded` (PutMetricAlarm beyond the number of alarms a region may hold).
    #[error("{message}")]
    LimitExceeded { message: String },
    /// The metric store refused an alarm evaluation's query.
    #[error("metric query failed: {reason}")]
    EvaluationFailed { reason: String },

    // SNS topics, subscriptions and delivery.
    /// A parameter that breaks SNS's rules (a topic name, a protocol, an endpoint, an attribute).
    #[error("invalid parameter: {parameter}: {reason}")]
    InvalidParameter {
        parameter: &'static str,
        reason: String,
    },
    /// A topic or subscription that does not exist (or a token that matches none).
    #[error("{what} does not exist: {arn}")]
    NotFound { what: &'static str, arn: String },
    /// An account holds as many topics as it may.
    #[error("too many topics: an account holds at most {max}")]
    TopicLimitExceeded { max: usize },
    /// A topic holds as many subscriptions as it may.
    #[error("too many subscriptions: a topic holds at most {max}")]
    SubscriptionLimitExceeded { max: usize },
    /// The delivery queue is full: the publish was not accepted.
    #[error("the delivery queue is full ({capacity} deliveries)")]
    QueueFull { capacity: usize },
    /// The notifier's workers have stopped.
    #[error("the notifier is shut down")]
    Shutdown,
    /// A delivery configuration that cannot work (an SMTP host, a from address).
    #[error("invalid delivery configuration: {reason}")]
    InvalidConfig { reason: String },
}

impl MonitorError {
    /// The AWS error code of the service the error belongs to (CloudWatch's query codes for
    /// metrics and alarms, SNS's for topics).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidPeriod { .. }
            | Self::InvalidTimeRange { .. }
            | Self::TooManyDatapoints { .. }
            | Self::InvalidStatistic { .. }
            | Self::InvalidValue { .. }
            | Self::InvalidStatisticSet { .. }
            | Self::InvalidFilter { .. }
            | Self::InvalidParameterValue { .. } => "InvalidParameterValue",
            Self::TooManyMetrics { .. } | Self::LimitExceeded { .. } => "LimitExceeded",
            Self::InvalidSnapshot { .. } | Self::EvaluationFailed { .. } => "InternalServiceError",
            Self::InvalidParameterCombination { .. } => "InvalidParameterCombination",
            Self::MissingParameter { .. } => "MissingParameter",
            Self::ResourceNotFound { .. } => "ResourceNotFound",
            Self::InvalidFormat { .. } => "InvalidFormat",
            Self::InvalidParameter { .. } | Self::InvalidConfig { .. } => "InvalidParameter",
            Self::NotFound { .. } => "NotFound",
            Self::TopicLimitExceeded { .. } => "TopicLimitExceeded",
            Self::SubscriptionLimitExceeded { .. } => "SubscriptionLimitExceeded",
            Self::QueueFull { .. } => "Throttled",
            Self::Shutdown => "InternalError",
        }
    }

    pub(crate) fn value(message: impl Into<String>) -> Self {
        Self::InvalidParameterValue {
            message: message.into(),
        }
    }

    pub(crate) fn combination(message: impl Into<String>) -> Self {
        Self::InvalidParameterCombination {
            message: message.into(),
        }
    }

    pub(crate) fn missing(parameter: &str) -> Self {
        Self::MissingParameter {
            message: format!("The parameter {parameter} is required."),
        }
    }

    pub(crate) fn invalid(parameter: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            parameter,
            reason: reason.into(),
        }
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = MonitorError> = std::result::Result<T, E>;
