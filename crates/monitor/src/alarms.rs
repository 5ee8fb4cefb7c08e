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
