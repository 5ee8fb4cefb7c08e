//! CloudWatch metric actions (`spec/cloudwatch-api.md`): GetMetricStatistics and ListMetrics
//! over the metrics that metric filters publish.

use flowwatch_model::cloudwatch::{
    Datapoint, Dimension, GetMetricStatisticsInput, GetMetricStatisticsOutput, ListMetricsInput,
    ListMetricsOutput, Metric,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};
use flowwatch_monitor::{DimensionFilter, MetricKey, Statistic};

use crate::error::monitor_error;
use crate::{Engine, token};

const BASIC_STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
/// Metrics on one ListMetrics page.
const LIST_METRICS_PAGE: usize = 500;

pub(crate) fn missing(member: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MissingRequiredParameterException,
        format!("The parameter {member} is required."),
    )
}

pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterValueException, message)
}

/// Seconds (as awsJson1.0 carries timestamps) to milliseconds.
pub(crate) fn millis(member: &str, seconds: Option<f64>) -> ApiResult<i64> {
    let s = seconds.ok_or_else(|| missing(member))?;
    if !s.is_finite() || !(0.0..=32_503_680_000.0).contains(&s) {
        return Err(invalid(format!(
            "The parameter {member} is not a valid timestamp."
        )));
    }
    Ok((s * 1000.0).round() as i64)
}

pub(crate) fn dimensions(dims: Option<Vec<Dimension>>) -> ApiResult<Vec<(String, String)>> {
    let dims = dims.unwrap_or_default();
    if dims.len() > 30 {
        return Err(invalid(
            "The collection Dimensions must not have more than 30 members.",
        ));
    }
    dims.into_iter()
        .map(|d| match (d.name, d.value) {
            (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => Ok((n, v)),
            _ => Err(missing(
                "Dimensions.member.Name and Dimensions.member.Value",
            )),
        })
        .collect()
}

impl Engine {
    pub async fn get_metric_statistics(
        &self,
        caller: &Caller,
        req: GetMetricStatisticsInput,
    ) -> ApiResult<GetMetricStatisticsOutput> {
        let namespace = req.namespace.ok_or_else(|| missing("Namespace"))?;
        let name = req.metric_name.ok_or_else(|| missing("MetricName"))?;
        let start = millis("StartTime", req.start_time)?;
        let end = millis("EndTime", req.end_time)?;
        let period = req.period.ok_or_else(|| missing("Period"))?;
        if period < 1 {
            return Err(invalid("The parameter Period must be greater than 0."));
        }
        let stats: Vec<Statistic> = match (req.statistics, req.extended_statistics) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameterCombinationException,
                    "Exactly one of the parameters Statistics or ExtendedStatistics must be specified.",
                ));
            }
            (Some(basic), None) => {
                if basic.is_empty() || basic.len() > 5 {
                    return Err(invalid(
                        "The collection Statistics must have 1 to 5 members.",
                    ));
                }
                basic
                    .iter()
                    .map(|s| {
                        if BASIC_STATISTICS.contains(&s.as_str()) {
                            Statistic::parse(s).map_err(monitor_error)
                        } else {
                            Err(invalid(format!(
                                "The parameter Statistics contains '{s}'; allowed: SampleCount, Average, Sum, Minimum, Maximum."
                            )))
                        }
                    })
                    .collect::<ApiResult<_>>()?
            }
            (None, Some(extended)) => {
                if extended.is_empty() || extended.len() > 10 {
                    return Err(invalid(
                        "The collection ExtendedStatistics must have 1 to 10 members.",
                    ));
                }
                extended
                    .iter()
                    .map(|s| match Statistic::parse(s) {
                        Ok(stat @ Statistic::Percentile { .. }) => Ok(stat),
                        _ => Err(invalid(format!(
                            "The parameter ExtendedStatistics contains '{s}', which is not a percentile (pNN.NN)."
                        ))),
                    })
                    .collect::<ApiResult<_>>()?
            }
        };
        let key = MetricKey::new(
            &caller.scope,
            namespace,
            name.clone(),
            dimensions(req.dimensions)?,
        );
        let unit = req.unit;
        self.metrics_caught_up().await?;
        let points = self
            .metric_filter_observer()
            .with_store(|store| store.statistics(&key, unit.as_deref(), start, end, period, &stats))
            .map_err(monitor_error)?;
        let extended = stats
            .iter()
            .any(|s| matches!(s, Statistic::Percentile { .. }));
        Ok(GetMetricStatisticsOutput {
            label: name,
            datapoints: points
                .into_iter()
                .map(|p| Datapoint {
                    timestamp: p.timestamp_ms as f64 / 1000.0,
                    sample_count: p.sample_count,
                    average: p.average,
                    sum: p.sum,
                    minimum: p.minimum,
                    maximum: p.maximum,
                    unit: p.unit,
                    extended_statistics: extended.then_some(p.extended_statistics),
                })
                .collect(),
        })
    }

    pub async fn list_metrics(
        &self,
        caller: &Caller,
        req: ListMetricsInput,
    ) -> ApiResult<ListMetricsOutput> {
        if req.recently_active.as_deref().is_some_and(|r| r != "PT3H") {
            return Err(invalid("The parameter RecentlyActive must be PT3H."));
        }
        let filters = req
            .dimensions
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                Ok(DimensionFilter {
                    name: d
                        .name
                        .filter(|n| !n.is_empty())
                        .ok_or_else(|| missing("Dimensions.member.Name"))?,
                    value: d.value,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        if filters.len() > 10 {
            return Err(invalid(
                "The collection Dimensions must not have more than 10 members.",
            ));
        }
        let after = req
            .next_token
            .as_deref()
            .map(|t| {
                token::decode_after("ListMetrics", t).map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidNextToken,
                        "The service couldn't process the NextToken.",
                    )
                })
            })
            .transpose()?;
        self.metrics_caught_up().await?;
        let keys = self.metric_filter_observer().with_store(|store| {
            store.list_metrics(
                &caller.scope,
                req.namespace.as_deref(),
                req.metric_name.as_deref(),
                &filters,
            )
        });
        let position = |k: &MetricKey| {
            let dims: Vec<String> = k
                .dimensions()
                .iter()
                .map(|d| format!("{}={}", d.name, d.value))
                .collect();
            format!("{}\u{0}{}\u{0}{}", k.namespace, k.name, dims.join("\u{0}"))
        };
        let mut keyed: Vec<(String, MetricKey)> =
            keys.into_iter().map(|k| (position(&k), k)).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut rest = keyed
            .into_iter()
            .filter(|(p, _)| after.as_ref().is_none_or(|a| p > a));
        let page: Vec<(String, MetricKey)> = rest.by_ref().take(LIST_METRICS_PAGE).collect();
        let next_token = match (page.last(), rest.next()) {
            (Some((p, _)), Some(_)) => Some(token::encode_after("ListMetrics", p)),
            _ => None,
        };
        Ok(ListMetricsOutput {
            metrics: page
                .into_iter()
                .map(|(_, k)| Metric {
                    dimensions: k
                        .dimensions()
                        .iter()
                        .map(|d| Dimension {
                            name: Some(d.name.clone()),
                            value: Some(d.value.clone()),
                        })
                        .collect(),
                    namespace: k.namespace,
                    metric_name: k.name,
                })
                .collect(),
            next_token,
        })
    }
}
