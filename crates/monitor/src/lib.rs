//! # flowwatch-monitor
//!
//! Layer 1: metric filters applied at ingest, the CloudWatch metric store they publish to,
//! single-metric alarms evaluated as CloudWatch documents, and SNS topics with HTTP and email
//! delivery. (The engine does not serve alarms and SNS over the wire yet.)
//!
//! - [`MetricStore`]: metrics identified by [`MetricKey`] (account, region, namespace, name,
//!   sorted dimensions), one bucket per unit and minute; [`MetricStore::statistics`] answers
//!   with GetMetricStatistics' semantics ([`Statistic`], [`Datapoint`], percentiles `pNN.NN`),
//!   [`MetricStore::list_metrics`] with ListMetrics'.
//! - [`MetricFilterObserver`]: a storage [`IngestObserver`](flowwatch_storage::IngestObserver)
//!   that applies each log group's compiled [`CompiledFilter`]s to every durable batch.
//! - [`alarms`]: PutMetricAlarm definitions with AWS's validation, the evaluator (M of N,
//!   TreatMissingData, the documented reason texts), history and the alarm notification JSON.
//! - [`notify`]: SNS topics and subscriptions ([`TopicSet`]), the exact SNS message formats, and
//!   the [`Notifier`] that delivers publishes over HTTP/S and SMTP off the caller's path with
//!   bounded retries, recording every outcome ([`DeliveryRecord`]).
//!
//! Invariants:
//! - memory is bounded: a number of metrics, a retention window at 1-minute resolution, bounded
//!   buckets (exact values up to 64 per minute, then a histogram with 1 % relative error);
//! - the observer's state is a function of the batches it has seen (and the filter sets it was
//!   given) and is saved whole with the storage's checkpoint, so every event is counted exactly
//!   once across crashes;
//! - the observer and the alarm evaluator do no I/O and never block (the observer runs on the
//!   storage's observer thread, off the acknowledgement path: call
//!   `Storage::observers_caught_up` before reading the store for read-your-writes); only the
//!   [`Notifier`] does network I/O, on its own tasks.
//!
//! Errors: one [`MonitorError`] for the metric store, filters, alarms and SNS; each variant
//! belongs to one service and [`MonitorError::code`] says its AWS code (CloudWatch's query codes,
//! SNS's).
//!
//! ```
//! use flowwatch_model::Scope;
//! use flowwatch_model::logs::{MetricFilter, MetricTransformation};
//! use flowwatch_monitor::{MetricFilterObserver, MetricKey, Statistic};
//! use flowwatch_storage::{DurableBatch, EventRef, IngestObserver, StreamKey};
//!
//! let scope = Scope { account: "123456789012".into(), region: "us-east-1".into() };
//! let observer = MetricFilterObserver::default();
//! let filter = MetricFilter {
//!     filter_name: "errors".into(),
//!     filter_pattern: "ERROR".into(),
//!     metric_transformations: vec![MetricTransformation {
//!         metric_name: Some("Errors".into()),
//!         metric_namespace: Some("App".into()),
//!         metric_value: Some("1".into()),
//!         ..Default::default()
//!     }],
//!     ..Default::default()
//! };
//! observer.set_filters(7, &scope, vec![filter])?;
//!
//! let t = 1_700_000_040_000;
//! let events = [
//!     EventRef { timestamp: t, message: "ERROR disk full" },
//!     EventRef { timestamp: t + 1, message: "INFO ok" },
//!     EventRef { timestamp: t + 2, message: "ERROR again" },
//! ];
//! let key = StreamKey { group_id: 7, stream_id: 1 };
//! observer.on_durable(&DurableBatch { key, first_seq: 1, ingestion_time: t, events: &events });
//!
//! let metric = MetricKey::new(&scope, "App", "Errors", []);
//! let points = observer.with_store(|s| s.statistics(&metric, None, t, t + 60_000, 60, &[Statistic::Sum]))?;
//! assert_eq!(points[0].sum, Some(2.0));
//! # Ok::<(), flowwatch_monitor::MonitorError>(())
//! ```

pub mod alarms;
pub mod error;
pub mod metric_data;
pub mod metric_filters;
pub mod metrics;
pub mod notify;

pub use alarms::{
    AlarmDefinition, AlarmHistoryItem, AlarmSet, AlarmState, ComparisonOperator, StateValue,
    Transition, TreatMissingData,
};
pub use error::{MonitorError, Result};
pub use metric_filters::{CompiledFilter, Counters, MetricFilterObserver, ObserverConfig};
pub use metrics::{
    Datapoint, Dimension, DimensionFilter, MetricKey, MetricStore, MetricStoreConfig, Statistic,
    StatisticSet,
};
pub use notify::{
    DeliveryOutcome, DeliveryRecord, Notifier, NotifierConfig, Protocol, RetryPolicy, SmtpConfig,
    Subscription, Topic, TopicSet,
};
