//! PutMetricData made durable: each validated `MetricDatum` is written by the engine as one
//! event ([`MetricDatumRecord`], compact JSON) of an internal log stream, so the write-ahead log
//! makes it durable before PutMetricData answers; the [`MetricFilterObserver`]
//! (crate::MetricFilterObserver) applies the events of the groups registered with
//! [`set_metric_data_group`](crate::MetricFilterObserver::set_metric_data_group) to its store,
//! exactly once across crashes like any sample of a metric filter.

use flowwatch_model::Scope;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::metrics::{MetricKey, MetricStore, StatisticSet};

/// One metric datum as stored in the internal stream; the engine has validated it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDatumRecord {
    #[serde(rename = "ns")]
    pub namespace: String,
    #[serde(rename = "m")]
    pub metric_name: String,
    #[serde(rename = "d", default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<(String, String)>,
    /// Epoch milliseconds.
    #[serde(rename = "t")]
    pub timestamp_ms: i64,
    #[serde(rename = "u")]
    pub unit: String,
    pub values: DatumValues,
}

/// `Value`, `Values`+`Counts` or `StatisticValues`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatumValues {
    /// Values with their counts (a single `Value` is one value with count 1).
    Values(Vec<(f64, f64)>),
    /// SampleCount, Sum, Minimum, Maximum.
    Set([f64; 4]),
}

impl MetricDatumRecord {
    /// Adds the datum to `store` as a metric of `scope`.
    pub fn apply(&self, scope: &Scope, store: &mut MetricStore) -> Result<()> {
        let key = MetricKey::new(
            scope,
            self.namespace.clone(),
            self.metric_name.clone(),
            self.dimensions.iter().cloned(),
        );
        match &self.values {
            DatumValues::Values(values) => {
                for &(value, count) in values {
                    store.put(&key, self.timestamp_ms, value, count, &self.unit)?;
                }
                Ok(())
            }
            DatumValues::Set([sample_count, sum, minimum, maximum]) => store.put_statistic_set(
                &key,
                self.timestamp_ms,
                StatisticSet {
                    sample_count: *sample_count,
                    sum: *sum,
                    minimum: *minimum,
                    maximum: *maximum,
                },
                &self.unit,
            ),
        }
    }
}
