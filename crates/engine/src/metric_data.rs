//! PutMetricData and GetMetricData (`spec/cloudwatch-api.md` §3).
//!
//! PutMetricData validates every datum, then writes each as one event
//! ([`MetricDatumRecord`]) of the internal log stream `metric-data` of the log group
//! [`METRIC_DATA_GROUP`] of the caller's account and region, and answers once that append is
//! durable; the metric-filter observer applies those events to the metric store, exactly once
//! across crashes. The internal group (names starting with `aws/` are reserved to AWS, so no
//! user group can collide) is hidden from the Logs API and keeps its events one day.
//!
//! GetMetricData answers `MetricStat` queries from the store and evaluates simple metric math
//! over them ([`crate::metric_math`]).

use std::collections::{BTreeMap, HashMap};

use flowwatch_model::cloudwatch::{
    GetMetricDataInput, GetMetricDataOutput, MetricDataQuery, MetricDataResult, MetricDatum,
    PutMetricDataInput,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, Scope};
use flowwatch_monitor::metric_data::{DatumValues, MetricDatumRecord};
use flowwatch_monitor::metrics::MAX_ABS_VALUE;
use flowwatch_monitor::{MetricKey, Statistic};
use flowwatch_storage::StreamKey;

use crate::cloudwatch::{dimensions, invalid, millis, missing};
use crate::error::monitor_error;
use crate::logs::metric_filters::STANDARD_UNITS;
use crate::metric_math::{self, Series};
use crate::{Engine, token};

/// The internal log group holding PutMetricData's datums (hidden; `aws/` is reserved).
pub const METRIC_DATA_GROUP: &str = "aws/cloudwatch/metric-data";
const METRIC_DATA_STREAM: &str = "metric-data";
/// Most datums per PutMetricData.
const MAX_DATUMS: usize = 1000;
/// Most values in one datum's `Values`.
const MAX_VALUES: usize = 150;
/// Most queries per GetMetricData.
const MAX_QUERIES: usize = 500;
/// Datapoints per GetMetricData when `MaxDatapoints` is not given (and at most).
const MAX_DATAPOINTS: usize = 100_800;
/// PutMetricData accepts timestamps up to two weeks old and two hours ahead.
const MAX_AGE_MS: i64 = 14 * 24 * 3600 * 1000;
const MAX_AHEAD_MS: i64 = 2 * 3600 * 1000;

fn combination(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterCombinationException, message)
}

fn value_ok(member: &str, v: f64) -> ApiResult<f64> {
    if v.is_finite() && v.abs() <= MAX_ABS_VALUE {
        Ok(v)
    } else {
        Err(invalid(format!(
            "The value {v} for parameter {member} is invalid: values must be finite and within ±2^360."
        )))
    }
}

/// One datum of PutMetricData, validated, as the record the observer applies.
fn record(namespace: &str, i: usize, d: MetricDatum, now: i64) -> ApiResult<MetricDatumRecord> {
    let n = i + 1;
    let metric_name = d
        .metric_name
        .filter(|m| !m.is_empty())
        .ok_or_else(|| missing(&format!("MetricData.member.{n}.MetricName")))?;
    if metric_name.chars().count() > 255 {
        return Err(invalid(format!(
            "The parameter MetricData.member.{n}.MetricName must be at most 255 characters."
        )));
    }
    let dims = dimensions(d.dimensions)?;
    let unit = d.unit.unwrap_or_else(|| "None".to_owned());
    if !STANDARD_UNITS.contains(&unit.as_str()) {
        return Err(invalid(format!(
            "The value {unit} for parameter MetricData.member.{n}.Unit is not valid."
        )));
    }
    if let Some(r) = d.storage_resolution
        && r != 1
        && r != 60
    {
        return Err(invalid(format!(
            "The value {r} for parameter MetricData.member.{n}.StorageResolution is not valid (1 or 60)."
        )));
    }
    let timestamp_ms = match d.timestamp {
        None => now,
        Some(s) => millis(&format!("MetricData.member.{n}.Timestamp"), Some(s))?,
    };
    if timestamp_ms < now - MAX_AGE_MS || timestamp_ms > now + MAX_AHEAD_MS {
        return Err(invalid(format!(
            "The parameter MetricData.member.{n}.Timestamp must specify a time no more than two weeks in the past or two hours in the future."
        )));
    }
    let values = match (d.value, d.statistic_values, d.values) {
        (Some(v), None, None) => {
            if d.counts.is_some() {
                return Err(combination(format!(
                    "The parameters MetricData.member.{n}.Value and MetricData.member.{n}.Counts are mutually exclusive."
                )));
            }
            DatumValues::Values(vec![(value_ok("Value", v)?, 1.0)])
        }
        (None, Some(set), None) => {
            let get = |name: &str, v: Option<f64>| {
                v.ok_or_else(|| missing(&format!("MetricData.member.{n}.StatisticValues.{name}")))
                    .and_then(|v| value_ok(name, v))
            };
            let set = [
                get("SampleCount", set.sample_count)?,
                get("Sum", set.sum)?,
                get("Minimum", set.minimum)?,
                get("Maximum", set.maximum)?,
            ];
            if set[0] <= 0.0 || set[2] > set[3] {
                return Err(invalid(format!(
                    "The parameter MetricData.member.{n}.StatisticValues is invalid: SampleCount must be positive and Minimum at most Maximum."
                )));
            }
            DatumValues::Set(set)
        }
        (None, None, Some(values)) => {
            if values.is_empty() || values.len() > MAX_VALUES {
                return Err(invalid(format!(
                    "The collection MetricData.member.{n}.Values must have 1 to {MAX_VALUES} members."
                )));
            }
            let counts = d.counts.unwrap_or_else(|| vec![1.0; values.len()]);
            if counts.len() != values.len() {
                return Err(combination(format!(
                    "The parameters MetricData.member.{n}.Values and MetricData.member.{n}.Counts must be of the same size."
                )));
            }
            values
                .into_iter()
                .zip(counts)
                .map(|(v, c)| {
                    let c = value_ok("Counts", c)?;
                    if c <= 0.0 {
                        return Err(invalid(format!(
                            "The parameter MetricData.member.{n}.Counts must hold positive numbers."
                        )));
                    }
                    Ok((value_ok("Values", v)?, c))
                })
                .collect::<ApiResult<_>>()
                .map(DatumValues::Values)?
        }
        (None, None, None) => {
            return Err(missing(&format!(
                "MetricData.member.{n}.Value, StatisticValues or Values"
            )));
        }
        _ => {
            return Err(combination(format!(
                "The parameters MetricData.member.{n}.Value, MetricData.member.{n}.StatisticValues and MetricData.member.{n}.Values are mutually exclusive."
            )));
        }
    };
    Ok(MetricDatumRecord {
        namespace: namespace.to_owned(),
        metric_name,
        dimensions: dims,
        timestamp_ms,
        unit,
        values,
    })
}

/// The value of `stat` in a datapoint of the store.
fn stat_value(stat: &Statistic, p: &flowwatch_monitor::Datapoint) -> Option<f64> {
    match stat {
        Statistic::SampleCount => p.sample_count,
        Statistic::Average => p.average,
        Statistic::Sum => p.sum,
        Statistic::Minimum => p.minimum,
        Statistic::Maximum => p.maximum,
        Statistic::Percentile { name, .. } => p.extended_statistics.get(name).copied(),
    }
}

fn query_id(q: &MetricDataQuery, i: usize) -> ApiResult<String> {
    let id =
        q.id.clone()
            .ok_or_else(|| missing(&format!("MetricDataQueries.member.{}.Id", i + 1)))?;
    let mut chars = id.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.len() <= 255;
    if !valid {
        return Err(invalid(format!(
            "The value {id} for parameter MetricDataQueries.member.{}.Id is not valid: it must start with a lowercase letter and hold only letters, numbers and underscores.",
            i + 1
        )));
    }
    Ok(id)
}

impl Engine {
    /// The stream PutMetricData writes to in `scope`, created (with its group) on first use.
    async fn metric_data_stream(&self, scope: &Scope) -> ApiResult<StreamKey> {
        self.internal_stream(scope, METRIC_DATA_GROUP, METRIC_DATA_STREAM, 1, |id| {
            self.metric_filter_observer()
                .set_metric_data_group(id, scope);
        })
        .await
    }

    pub async fn put_metric_data(
        &self,
        caller: &Caller,
        req: PutMetricDataInput,
    ) -> ApiResult<serde_json::Value> {
        let namespace = req
            .namespace
            .filter(|n| !n.is_empty())
            .ok_or_else(|| missing("Namespace"))?;
        if namespace.chars().count() > 255 || namespace.starts_with(':') {
            return Err(invalid(format!(
                "The value {namespace} for parameter Namespace is invalid."
            )));
        }
        if namespace.starts_with("AWS/") {
            return Err(invalid(
                "The value AWS/ for parameter Namespace is invalid: namespaces starting with AWS/ are reserved.",
            ));
        }
        if req.entity_metric_data.is_some_and(|e| !e.is_empty()) {
            return Err(invalid(
                "EntityMetricData is not supported; send MetricData.",
            ));
        }
        let data = req.metric_data.unwrap_or_default();
        if data.is_empty() {
            return Err(missing("MetricData"));
        }
        if data.len() > MAX_DATUMS {
            return Err(invalid(format!(
                "The collection MetricData must not have more than {MAX_DATUMS} members."
            )));
        }
        let now = self.now();
        let records: Vec<String> = data
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let r = record(&namespace, i, d, now)?;
                serde_json::to_string(&r).map_err(|_| ApiError::internal("datum encoding"))
            })
            .collect::<ApiResult<_>>()?;
        let key = self.metric_data_stream(&caller.scope).await?;
        // Registration is idempotent; after a restart it is also in the observer's snapshot.
        self.metric_filter_observer()
            .set_metric_data_group(key.group_id, &caller.scope);
        self.append_internal(key, &records).await?;
        Ok(serde_json::json!({}))
    }

    pub async fn get_metric_data(
        &self,
        caller: &Caller,
        req: GetMetricDataInput,
    ) -> ApiResult<GetMetricDataOutput> {
        let queries = req
            .metric_data_queries
            .ok_or_else(|| missing("MetricDataQueries"))?;
        if queries.is_empty() || queries.len() > MAX_QUERIES {
            return Err(invalid(format!(
                "The collection MetricDataQueries must have 1 to {MAX_QUERIES} members."
            )));
        }
        let start = millis("StartTime", req.start_time)?;
        let end = millis("EndTime", req.end_time)?;
        if start >= end {
            return Err(invalid("The parameter StartTime must be before EndTime."));
        }
        let ascending = match req.scan_by.as_deref() {
            None | Some("TimestampDescending") => false,
            Some("TimestampAscending") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "The value {other} for parameter ScanBy is not valid (TimestampDescending, TimestampAscending)."
                )));
            }
        };
        let max_points = match req.max_datapoints {
            None => MAX_DATAPOINTS,
            Some(n) if n >= 1 => (n as usize).min(MAX_DATAPOINTS),
            Some(n) => {
                return Err(invalid(format!(
                    "The value {n} for parameter MaxDatapoints must be positive."
                )));
            }
        };
        let offset = match req.next_token.as_deref() {
            None => 0,
            Some(t) => token::decode_after("GetMetricData", t)
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidNextToken,
                        "The service couldn't process the NextToken.",
                    )
                })?,
        };

        // Ids first, so expressions can name any query.
        let mut ids = Vec::with_capacity(queries.len());
        for (i, q) in queries.iter().enumerate() {
            let id = query_id(q, i)?;
            if ids.contains(&id) {
                return Err(invalid(format!(
                    "The value {id} for parameter MetricDataQueries.member.{}.Id is used more than once.",
                    i + 1
                )));
            }
            ids.push(id);
        }
        self.metrics_caught_up().await?;
        let mut series: HashMap<String, Series> = HashMap::new();
        let mut labels: Vec<String> = Vec::with_capacity(queries.len());
        // Metric stats, then expressions in order (an expression may use earlier results).
        for (i, q) in queries.iter().enumerate() {
            let n = i + 1;
            match (&q.metric_stat, &q.expression) {
                (Some(stat), None) => {
                    let metric = stat.metric.clone().ok_or_else(|| {
                        missing(&format!("MetricDataQueries.member.{n}.MetricStat.Metric"))
                    })?;
                    let namespace = metric.namespace.ok_or_else(|| {
                        missing(&format!(
                            "MetricDataQueries.member.{n}.MetricStat.Metric.Namespace"
                        ))
                    })?;
                    let name = metric.metric_name.ok_or_else(|| {
                        missing(&format!(
                            "MetricDataQueries.member.{n}.MetricStat.Metric.MetricName"
                        ))
                    })?;
                    let period = stat.period.ok_or_else(|| {
                        missing(&format!("MetricDataQueries.member.{n}.MetricStat.Period"))
                    })?;
                    let stat_name = stat.stat.clone().ok_or_else(|| {
                        missing(&format!("MetricDataQueries.member.{n}.MetricStat.Stat"))
                    })?;
                    let statistic = Statistic::parse(&stat_name).map_err(|_| {
                        invalid(format!(
                            "The value {stat_name} for parameter MetricDataQueries.member.{n}.MetricStat.Stat is not a supported statistic."
                        ))
                    })?;
                    let key = MetricKey::new(
                        &caller.scope,
                        namespace,
                        name.clone(),
                        dimensions(metric.dimensions)?,
                    );
                    let unit = stat.unit.clone();
                    let points = self
                        .metric_filter_observer()
                        .with_store(|store| {
                            store.statistics(
                                &key,
                                unit.as_deref(),
                                start,
                                end,
                                period,
                                std::slice::from_ref(&statistic),
                            )
                        })
                        .map_err(monitor_error)?;
                    let mut s = Series::new();
                    for p in &points {
                        if let Some(v) = stat_value(&statistic, p) {
                            *s.entry(p.timestamp_ms).or_insert(0.0) += v;
                        }
                    }
                    series.insert(ids[i].clone(), s);
                    labels.push(q.label.clone().unwrap_or(name));
                }
                (None, Some(_)) => labels.push(q.label.clone().unwrap_or_else(|| ids[i].clone())),
                _ => {
                    return Err(combination(format!(
                        "Exactly one of MetricDataQueries.member.{n}.MetricStat and MetricDataQueries.member.{n}.Expression must be given."
                    )));
                }
            }
        }
        for (i, q) in queries.iter().enumerate() {
            if let Some(expression) = &q.expression {
                let s = metric_math::evaluate(expression, &series).map_err(|message| {
                    invalid(format!(
                        "Error in expression '{}' (MetricDataQueries.member.{}.Expression): {message}",
                        ids[i],
                        i + 1
                    ))
                })?;
                series.insert(ids[i].clone(), s);
            }
        }

        // The returned results, their points newest first (or oldest), paged by datapoints.
        let mut results = Vec::new();
        let mut skipped = 0usize;
        let mut taken = 0usize;
        let mut more = false;
        for (i, q) in queries.iter().enumerate() {
            if !q.return_data.unwrap_or(true) {
                continue;
            }
            let s: &BTreeMap<i64, f64> = &series[&ids[i]];
            let mut points: Vec<(i64, f64)> = s.iter().map(|(&t, &v)| (t, v)).collect();
            if !ascending {
                points.reverse();
            }
            let skip = (offset - skipped).min(points.len());
            skipped += skip;
            let room = max_points - taken;
            let page: Vec<(i64, f64)> = points[skip..].iter().take(room).copied().collect();
            taken += page.len();
            let remaining = points.len() - skip - page.len();
            more |= remaining > 0;
            results.push(MetricDataResult {
                id: ids[i].clone(),
                label: labels[i].clone(),
                timestamps: page.iter().map(|(t, _)| *t as f64 / 1000.0).collect(),
                values: page.iter().map(|(_, v)| *v).collect(),
                status_code: if remaining > 0 {
                    "PartialData".to_owned()
                } else {
                    "Complete".to_owned()
                },
                messages: Vec::new(),
            });
        }
        Ok(GetMetricDataOutput {
            metric_data_results: results,
            next_token: more
                .then(|| token::encode_after("GetMetricData", &(offset + taken).to_string())),
            messages: Vec::new(),
        })
    }
}
