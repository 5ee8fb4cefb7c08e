//! CloudWatch metric alarms over the [`MetricStore`](crate::MetricStore)
//! (`spec/cloudwatch-api.md` §3–4): what PutMetricAlarm stores ([`AlarmDefinition`], checked by
//! [`AlarmDefinition::validate`] with AWS's messages), the documented evaluation algorithm
//! ([`evaluate()`], pure: the instant is an argument), the history items and SNS message a
//! transition produces, and the [`AlarmSet`] of every account and region.
//!
//! Invariants:
//! - only valid definitions are stored; a new alarm starts in `INSUFFICIENT_DATA` with
//!   `Unchecked: Initial alarm creation`, an update keeps the state;
//! - a [`Transition`] is produced only when the state value changes, and every transition is
//!   recorded as a `StateUpdate` history item;
//! - time comes only from the `now_ms` arguments; the set is plain data (serde) the engine
//!   persists.
//!
//! ```
//! use flowwatch_model::Scope;
//! use flowwatch_monitor::alarms::{AlarmDefinition, AlarmSet, ComparisonOperator, StateValue};
//! use flowwatch_monitor::{MetricStore, Statistic};
//!
//! let scope = Scope { account: "123456789012".into(), region: "us-east-1".into() };
//! let t0 = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000;
//! let mut alarms = AlarmSet::default();
//! let def = AlarmDefinition::new(
//!     "errors", "App", "Errors", Statistic::Sum, 3600, 1, 10.0,
//!     ComparisonOperator::GreaterThanOrEqualToThreshold,
//! );
//! alarms.put(&scope, def, t0)?;
//!
//! let mut store = MetricStore::default();
//! let key = alarms.get(&scope, "errors").unwrap().definition.metric_key(&scope);
//! for i in 0..10 {
//!     store.put(&key, t0 + i * 60_000, 1.0, 1.0, "None")?;
//! }
//! let fired = alarms.evaluate_all(&store, t0 + 10 * 60_000);
//! assert_eq!(fired[0].transition.new_state.value, StateValue::Alarm);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod definition;
pub mod evaluate;
pub mod format;
pub mod history;
pub mod set;

use thiserror::Error;

pub use definition::{
    AlarmDefinition, ComparisonOperator, LowSampleCountPercentile, TreatMissingData,
};
pub use evaluate::{
    AlarmState, INITIAL_REASON, Slot, StateValue, Transition, evaluate, evaluate_datapoints,
    evaluate_slots, evaluation_range,
};
pub use history::{
    AlarmHistoryItem, ConfigurationChange, HistoryItemType, alarm_arn, alarm_notification_message,
    alarm_notification_subject, region_long_name,
};
pub use set::{AlarmSet, DescribeFilter, FiredTransition, MetricAlarm};

/// Why an alarm operation was refused. The messages are AWS's, as clients see them (capitalised,
/// with periods: they go to the wire unchanged); [`AlarmError::code`] is the query error code.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AlarmError {
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
    /// The metric store refused the evaluation's query.
    #[error("metric query failed: {0}")]
    Metrics(String),
}

impl AlarmError {
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

    /// The awsQuery error code (`spec/cloudwatch-api.md` §1.4).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameterValue { .. } => "InvalidParameterValue",
            Self::InvalidParameterCombination { .. } => "InvalidParameterCombination",
            Self::MissingParameter { .. } => "MissingParameter",
            Self::ResourceNotFound { .. } => "ResourceNotFound",
            Self::InvalidFormat { .. } => "InvalidFormat",
            Self::LimitExceeded { .. } => "LimitExceeded",
            Self::Metrics(_) => "InternalServiceError",
        }
    }
}
