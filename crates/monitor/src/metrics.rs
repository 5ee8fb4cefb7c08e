//! The metric store: metrics identified by (account, region, namespace, name, sorted
//! dimensions), one bucket of statistics per unit and minute, read back with CloudWatch's
//! GetMetricStatistics semantics (`spec/cloudwatch-api.md` §2–3).
//!
//! - **Resolution**: 60 s is the finest; high-resolution (1 s) PutMetricData is not kept apart,
//!   its samples land in their minute.
//! - **Retention**: one window at 1-minute resolution, [`MetricStoreConfig::retention_ms`]
//!   (15 days by default, CloudWatch's 1-minute retention); [`MetricStore::expire`] drops older
//!   buckets and metrics left without data, and later samples older than the window are dropped
//!   (counted). The 5-minute and 1-hour roll-ups CloudWatch keeps up to 15 months are not kept.
//! - **Memory** is bounded: at most [`MetricStoreConfig::max_metrics`] metrics, each with at most
//!   one bucket per unit and minute of the window, each bucket bounded (see [`bucket`]).

pub(crate) mod bits;
pub mod bucket;
pub mod statistics;

use std::collections::{BTreeMap, HashMap};

use flowwatch_model::Scope;
use serde::{Deserialize, Serialize};

use crate::error::{MonitorError, Result};
use bucket::Bucket;
pub use statistics::{Datapoint, Statistic};

/// One minute, in milliseconds.
pub const MINUTE_MS: i64 = 60_000;
/// Most datapoints one statistics query may return (GetMetricStatistics).
pub const MAX_DATAPOINTS: i64 = 1_440;
/// CloudWatch's bound on the magnitude of a value, 2^360.
pub const MAX_ABS_VALUE: f64 = 2.348_542_582_773_833_3e108;
/// The unit of samples published without one.
pub const DEFAULT_UNIT: &str = "None";

/// The start of the minute holding `ms` (saturating at the far past).
pub fn minute_of(ms: i64) -> i64 {
    ms.saturating_sub(ms.rem_euclid(MINUTE_MS))
}

/// A dimension of a metric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

/// The identity of a metric. Dimensions are sorted by name and unique, so two keys built from
/// the same dimensions in any order are equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MetricKey {
    pub account: String,
    pub region: String,
    pub namespace: String,
    pub name: String,
    dimensions: Vec<Dimension>,
}

impl MetricKey {
    /// Builds a key; of two dimensions with the same name the first is kept.
    pub fn new(
        scope: &Scope,
        namespace: impl Into<String>,
        name: impl Into<String>,
        dimensions: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let mut dims: Vec<Dimension> = dimensions
            .into_iter()
            .map(|(name, value)| Dimension { name, value })
            .collect();
        dims.sort_by(|a, b| a.name.cmp(&b.name));
        dims.dedup_by(|b, a| a.name == b.name);
        Self {
            account: scope.account.clone(),
            region: scope.region.clone(),
            namespace: namespace.into(),
            name: name.into(),
            dimensions: dims,
        }
    }

    /// The dimensions, sorted by name.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }
}

/// ListMetrics' `DimensionFilter`: the metric has a dimension of this name (with this value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionFilter {
    pub name: String,
    pub value: Option<String>,
}

/// PutMetricData's `StatisticValues`: a summary of samples published at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatisticSet {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

/// Bounds of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricStoreConfig {
    /// How long 1-minute data is kept, in milliseconds (default 15 days).
    pub retention_ms: i64,
    /// Most distinct metrics; samples of further metrics are refused.
    pub max_metrics: usize,
}

impl Default for MetricStoreConfig {
    fn default() -> Self {
        Self {
            retention_ms: 15 * 24 * 3600 * 1000,
            max_metrics: 100_000,
        }
    }
}

/// The buckets of one metric: unit → minute → bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Series {
    units: BTreeMap<String, BTreeMap<i64, Bucket>>,
}

/// The store. Not synchronised: its owner (the observer, or the engine) wraps it in a lock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricStore {
    config: MetricStoreConfig,
    /// Hashed: publishing looks a metric up per run of samples, and ordering keys compared
    /// their long equal prefixes (account, region, namespace) string by string at every level
    /// of a tree. Listing and saving sort.
    series: HashMap<MetricKey, Series>,
    /// Buckets of minutes before this are gone.
    horizon_ms: i64,
    /// Samples dropped for being older than the window.
    expired_samples: u64,
}

/// How a store is saved: every field, floats as exact bits.
#[derive(Serialize)]
struct SavedRef<'a> {
    series: Vec<(&'a MetricKey, &'a Series)>,
    horizon_ms: i64,
    expired_samples: u64,
}

#[derive(Deserialize)]
struct Saved {
    series: Vec<(MetricKey, Series)>,
    horizon_ms: i64,
    expired_samples: u64,
}

impl MetricStore {
    pub fn new(config: MetricStoreConfig) -> Self {
        Self {
            config,
            series: HashMap::new(),
            horizon_ms: i64::MIN,
            expired_samples: 0,
        }
    }

    pub fn config(&self) -> &MetricStoreConfig {
        &self.config
    }

    /// Number of metrics held.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Samples dropped because they were older than the retention window.
    pub fn expired_samples(&self) -> u64 {
        self.expired_samples
    }

    /// The bucket a sample at `timestamp_ms` goes to, or `None` (counted) if it is older than
    /// the window.
    fn bucket(
        &mut self,
        key: &MetricKey,
        timestamp_ms: i64,
        unit: &str,
    ) -> Result<Option<&mut Bucket>> {
        let minute = minute_of(timestamp_ms);
        if minute < self.horizon_ms {
            self.expired_samples += 1;
            return Ok(None);
        }
        if !self.series.contains_key(key) {
            if self.series.len() >= self.config.max_metrics {
                return Err(MonitorError::TooManyMetrics {
                    max: self.config.max_metrics,
                });
            }
            self.series.insert(key.clone(), Series::default());
        }
        let series = self.series.get_mut(key).expect("inserted above");
        if !series.units.contains_key(unit) {
            series.units.insert(unit.to_owned(), BTreeMap::new());
        }
        let minutes = series.units.get_mut(unit).expect("inserted above");
        Ok(Some(minutes.entry(minute).or_insert_with(Bucket::empty)))
    }

    /// Adds `count` samples of `value` at `timestamp_ms` (`count` is 1 for a plain value,
    /// PutMetricData's `Counts` otherwise).
    pub fn put(
        &mut self,
        key: &MetricKey,
        timestamp_ms: i64,
        value: f64,
        count: f64,
        unit: &str,
    ) -> Result<()> {
        if !value.is_finite() || value.abs() > MAX_ABS_VALUE {
            return Err(MonitorError::InvalidValue { value });
        }
        if !count.is_finite() || count <= 0.0 {
            return Err(MonitorError::InvalidValue { value: count });
        }
        if let Some(b) = self.bucket(key, timestamp_ms, unit)? {
            b.add(value, count);
        }
        Ok(())
    }

    /// Adds samples `(timestamp, value)` of one metric, each counted once, as [`put`] would one
    /// by one but looking the metric up once. Returns how many were accepted (including those
    /// too old to keep, as `put` accepts them) and how many refused (an invalid value, or a new
    /// metric past the limit).
    ///
    /// [`put`]: MetricStore::put
    pub fn put_values(
        &mut self,
        key: &MetricKey,
        unit: &str,
        samples: impl IntoIterator<Item = (i64, f64)>,
    ) -> (u64, u64) {
        let Self {
            config,
            series,
            horizon_ms,
            expired_samples,
        } = self;
        let (mut accepted, mut refused) = (0, 0);
        let mut samples = samples.into_iter();
        // Whether a sample is kept: (kept, refused, expired).
        let horizon = *horizon_ms;
        let keep = |value: f64, minute: i64| {
            if !value.is_finite() || value.abs() > MAX_ABS_VALUE {
                (false, 1, 0)
            } else if minute < horizon {
                (false, 0, 1)
            } else {
                (true, 0, 0)
            }
        };
        // The metric is looked up (or created) for the first sample that is kept.
        let (minutes, first) = loop {
            let Some((timestamp_ms, value)) = samples.next() else {
                return (accepted, refused);
            };
            let minute = minute_of(timestamp_ms);
            let (kept, bad, old) = keep(value, minute);
            refused += bad;
            accepted += old;
            *expired_samples += old;
            if !kept {
                continue;
            }
            if !series.contains_key(key) {
                if series.len() >= config.max_metrics {
                    refused += 1;
                    continue;
                }
                series.insert(key.clone(), Series::default());
            }
            let s = series.get_mut(key).expect("inserted above");
            if !s.units.contains_key(unit) {
                s.units.insert(unit.to_owned(), BTreeMap::new());
            }
            let minutes = s.units.get_mut(unit).expect("inserted above");
            break (minutes, (minute, value));
        };
        accepted += 1;
        // Samples arrive mostly in runs of one minute, often of one value (a filter's literal
        // `1`): a minute is looked up once per run, and a run of equal values is added at once
        // (the same bucket as adding them one by one).
        let (mut minute, mut value) = first;
        let mut run = 1u64;
        let mut bucket = minutes.entry(minute).or_insert_with(Bucket::empty);
        for (timestamp_ms, next_value) in samples {
            let next_minute = minute_of(timestamp_ms);
            let (kept, bad, old) = keep(next_value, next_minute);
            refused += bad;
            accepted += old;
            *expired_samples += old;
            if !kept {
                continue;
            }
            accepted += 1;
            if next_minute == minute && next_value.to_bits() == value.to_bits() {
                run += 1;
                continue;
            }
            bucket.add_repeated(value, run);
            if next_minute != minute {
                minute = next_minute;
                bucket = minutes.entry(minute).or_insert_with(Bucket::empty);
            }
            (value, run) = (next_value, 1);
        }
        bucket.add_repeated(value, run);
        (accepted, refused)
    }

    /// Adds a statistic set (PutMetricData's `StatisticValues`).
    pub fn put_statistic_set(
        &mut self,
        key: &MetricKey,
        timestamp_ms: i64,
        set: StatisticSet,
        unit: &str,
    ) -> Result<()> {
        let StatisticSet {
            sample_count,
            sum,
            minimum,
            maximum,
        } = set;
        for v in [sample_count, sum, minimum, maximum] {
            if !v.is_finite() || v.abs() > MAX_ABS_VALUE {
                return Err(MonitorError::InvalidValue { value: v });
            }
        }
        if sample_count <= 0.0 {
            return Err(MonitorError::InvalidStatisticSet {
                reason: "SampleCount must be positive",
            });
        }
        if minimum > maximum {
            return Err(MonitorError::InvalidStatisticSet {
                reason: "Minimum must not exceed Maximum",
            });
        }
        if let Some(b) = self.bucket(key, timestamp_ms, unit)? {
            b.add_set(sample_count, sum, minimum, maximum);
        }
        Ok(())
    }

    /// GetMetricStatistics over `[start_ms, end_ms)`: `start_ms` is rounded down to the minute,
    /// periods of `period_s` (a positive multiple of 60) are aligned on it and stamped with
    /// their start, a minute counts in full when it starts before `end_ms`, and only periods with
    /// data are returned, oldest first, per unit (`unit` = `None`: every unit, each on its own).
    pub fn statistics(
        &self,
        key: &MetricKey,
        unit: Option<&str>,
        start_ms: i64,
        end_ms: i64,
        period_s: i64,
        stats: &[Statistic],
    ) -> Result<Vec<Datapoint>> {
        if period_s <= 0 || period_s % 60 != 0 {
            return Err(MonitorError::InvalidPeriod { period_s });
        }
        if start_ms >= end_ms {
            return Err(MonitorError::InvalidTimeRange { start_ms, end_ms });
        }
        let start = minute_of(start_ms);
        let period_ms = period_s * 1000;
        let span = i128::from(end_ms) - i128::from(start);
        let periods = (span + i128::from(period_ms) - 1) / i128::from(period_ms);
        let periods = i64::try_from(periods).unwrap_or(i64::MAX);
        if periods > MAX_DATAPOINTS {
            return Err(MonitorError::TooManyDatapoints {
                periods,
                max: MAX_DATAPOINTS,
            });
        }
        let Some(series) = self.series.get(key) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (u, minutes) in &series.units {
            if unit.is_some_and(|want| want != u) {
                continue;
            }
            let mut current: Option<(i64, Bucket)> = None;
            for (&minute, bucket) in minutes.range(start..end_ms) {
                let slot = start + (minute - start) / period_ms * period_ms;
                match &mut current {
                    Some((s, acc)) if *s == slot => acc.merge(bucket),
                    _ => {
                        if let Some((s, mut acc)) = current.take() {
                            out.push(Datapoint::from_bucket(s, u, &mut acc, stats));
                        }
                        current = Some((slot, bucket.clone()));
                    }
                }
            }
            if let Some((s, mut acc)) = current {
                out.push(Datapoint::from_bucket(s, u, &mut acc, stats));
            }
        }
        out.sort_by(|a, b| (a.timestamp_ms, &a.unit).cmp(&(b.timestamp_ms, &b.unit)));
        Ok(out)
    }

    /// ListMetrics: the metrics of `scope` with this namespace and name (when given) having
    /// every filtered dimension (possibly among others), sorted.
    pub fn list_metrics(
        &self,
        scope: &Scope,
        namespace: Option<&str>,
        name: Option<&str>,
        dimensions: &[DimensionFilter],
    ) -> Vec<MetricKey> {
        let mut keys: Vec<MetricKey> = self
            .series
            .keys()
            .filter(|k| k.account == scope.account && k.region == scope.region)
            .filter(|k| namespace.is_none_or(|n| n == k.namespace))
            .filter(|k| name.is_none_or(|n| n == k.name))
            .filter(|k| {
                dimensions.iter().all(|f| {
                    k.dimensions
                        .iter()
                        .any(|d| d.name == f.name && f.value.as_ref().is_none_or(|v| *v == d.value))
                })
            })
            .cloned()
            .collect();
        keys.sort_unstable();
        keys
    }

    /// Drops the buckets of minutes that start before `now_ms - retention`, and the metrics
    /// left without any; later samples older than that are dropped too. Never moves back.
    pub fn expire(&mut self, now_ms: i64) {
        let horizon = minute_of(now_ms.saturating_sub(self.config.retention_ms));
        if horizon <= self.horizon_ms {
            return;
        }
        self.horizon_ms = horizon;
        self.series.retain(|_, s| {
            s.units.retain(|_, minutes| {
                *minutes = minutes.split_off(&horizon);
                !minutes.is_empty()
            });
            !s.units.is_empty()
        });
    }

    /// Approximate heap bytes held by buckets.
    pub fn heap_bytes(&self) -> usize {
        self.series
            .values()
            .flat_map(|s| s.units.values())
            .flat_map(|m| m.values())
            .map(|b| std::mem::size_of::<Bucket>() + 16 + b.heap_bytes())
            .sum()
    }

    /// Serialises everything (JSON, floats as exact bits).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut series: Vec<_> = self.series.iter().collect();
        series.sort_unstable_by_key(|(k, _)| *k);
        let saved = SavedRef {
            series,
            horizon_ms: self.horizon_ms,
            expired_samples: self.expired_samples,
        };
        serde_json::to_vec(&saved).unwrap_or_default()
    }

    /// Restores what [`to_bytes`](Self::to_bytes) saved, under `config`.
    pub fn from_bytes(config: MetricStoreConfig, bytes: &[u8]) -> Result<Self> {
        let saved: Saved =
            serde_json::from_slice(bytes).map_err(|e| MonitorError::InvalidSnapshot {
                reason: e.to_string(),
            })?;
        Ok(Self {
            config,
            series: saved.series.into_iter().collect(),
            horizon_ms: saved.horizon_ms,
            expired_samples: saved.expired_samples,
        })
    }
}

#[cfg(test)]
mod tests;
