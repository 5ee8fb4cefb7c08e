//! Metric filters: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter and
//! TestMetricFilter (`spec/logs-api.md`, `spec/filter-patterns.md` §6–7).

use flowwatch_model::limits::{
    DESCRIBE_LIMIT_MAX, MAX_METRIC_DIMENSIONS, MAX_METRIC_FILTERS_PER_GROUP,
    MAX_REGEX_METRIC_FILTERS_PER_GROUP, MAX_TEST_MESSAGES,
};
use flowwatch_model::logs::{
    DeleteMetricFilterRequest, DescribeMetricFiltersRequest, DescribeMetricFiltersResponse,
    MetricFilter, MetricFilterMatchRecord, MetricTransformation, PutMetricFilterRequest,
    TestMetricFilterRequest, TestMetricFilterResponse, page_limit, required,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, LogGroupName, LogStreamName};
use flowwatch_pattern::{FilterPattern, ValueRef};

use crate::logs::filter::parse_filter_pattern;
use crate::{Engine, storage_error, token};

/// CloudWatch's StandardUnit values.
pub const STANDARD_UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Checks a metric name or namespace: 1–255 characters, none of `:`, `*`, `$`.
fn check_metric_name(member: &str, value: &str) -> ApiResult<()> {
    if value.is_empty() || value.chars().count() > 255 {
        return Err(ApiError::constraint(
            member,
            value,
            "Member must have length between 1 and 255",
        ));
    }
    if value.contains([':', '*', '$']) {
        return Err(ApiError::constraint(
            member,
            value,
            "Member must satisfy regular expression pattern: [^:*$]*",
        ));
    }
    Ok(())
}

/// A metric value or dimension: a number, or a reference the pattern can extract.
fn check_value(
    pattern: &FilterPattern,
    member: &str,
    value: &str,
    allow_number: bool,
) -> ApiResult<()> {
    if allow_number && value.trim().parse::<f64>().is_ok_and(f64::is_finite) {
        return Ok(());
    }
    let reference = ValueRef::parse(value).map_err(|e| {
        ApiError::invalid_parameter(format!(
            "Invalid metric transformation: {member} '{value}': {e}"
        ))
    })?;
    pattern.check_ref(&reference).map_err(|e| {
        ApiError::invalid_parameter(format!(
            "Invalid metric transformation: {member} '{value}': {e}"
        ))
    })
}

/// Validates the one transformation of a PutMetricFilter call against its pattern.
fn check_transformation(
    pattern: &FilterPattern,
    t: &MetricTransformation,
    system_dims: usize,
) -> ApiResult<()> {
    let name = required(
        "metricTransformations.1.member.metricName",
        t.metric_name.as_deref(),
    )?;
    check_metric_name("metricTransformations.1.member.metricName", name)?;
    let namespace = required(
        "metricTransformations.1.member.metricNamespace",
        t.metric_namespace.as_deref(),
    )?;
    check_metric_name("metricTransformations.1.member.metricNamespace", namespace)?;
    let value = required(
        "metricTransformations.1.member.metricValue",
        t.metric_value.as_deref(),
    )?;
    if value.is_empty() || value.chars().count() > 100 {
        return Err(ApiError::constraint(
            "metricTransformations.1.member.metricValue",
            value,
            "Member must have length between 1 and 100",
        ));
    }
    check_value(pattern, "metricValue", value, true)?;
    let dims = t.dimensions.as_ref().map_or(0, |d| d.len()) + system_dims;
    if dims > 0 {
        if t.default_value.is_some() {
            return Err(ApiError::invalid_parameter(
                "Invalid metric transformation: dimensions and default value are mutually exclusive properties",
            ));
        }
        if !pattern.supports_dimensions() {
            return Err(ApiError::invalid_parameter(
                "The specified filter pattern does not support dimensions",
            ));
        }
        if dims > MAX_METRIC_DIMENSIONS {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid metric transformation: at most {MAX_METRIC_DIMENSIONS} dimensions are allowed"
            )));
        }
        for (key, reference) in t.dimensions.iter().flatten() {
            if key.is_empty() || key.chars().count() > 255 {
                return Err(ApiError::invalid_parameter(format!(
                    "Invalid metric transformation: dimension name '{key}' must have 1 to 255 characters"
                )));
            }
            check_value(pattern, "dimension", reference, false)?;
        }
    }
    if let Some(d) = t.default_value
        && !d.is_finite()
    {
        return Err(ApiError::invalid_parameter(
            "Invalid metric transformation: defaultValue must be a finite number",
        ));
    }
    if let Some(unit) = &t.unit
        && !STANDARD_UNITS.contains(&unit.as_str())
    {
        return Err(ApiError::constraint(
            "metricTransformations.1.member.unit",
            unit,
            "Member must satisfy enum value set: [Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, Gigabits/Second, Terabits/Second, Count/Second, None]",
        ));
    }
    Ok(())
}

fn decode_filter(definition: &str) -> ApiResult<MetricFilter> {
    serde_json::from_str(definition).map_err(|e| {
        tracing::error!(error = %e, "stored metric filter does not decode");
        ApiError::internal("A stored metric filter could not be read.")
    })
}

impl Engine {
    pub async fn put_metric_filter(
        &self,
        caller: &Caller,
        req: PutMetricFilterRequest,
    ) -> ApiResult<()> {
        let group = LogGroupName::required("logGroupName", req.log_group_name)?;
        let name = required("filterName", req.filter_name)?;
        LogStreamName::parse("filterName", &name)?;
        let pattern_src = required("filterPattern", req.filter_pattern)?;
        let pattern = parse_filter_pattern(&pattern_src)?;
        let transformations = required("metricTransformations", req.metric_transformations)?;
        if transformations.len() != 1 {
            return Err(ApiError::constraint(
                "metricTransformations",
                &format!("{} transformations", transformations.len()),
                "Member must have length less than or equal to 1 and greater than or equal to 1",
            ));
        }
        let system = req.emit_system_field_dimensions.clone().unwrap_or_default();
        if let Some(bad) = system
            .iter()
            .find(|d| !matches!(d.as_str(), "@aws.account" | "@aws.region"))
        {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid system field dimension '{bad}': only @aws.account and @aws.region are allowed"
            )));
        }
        check_transformation(&pattern, &transformations[0], system.len())?;
        let has_regex = pattern.regex_count() > 0;
        let filter = MetricFilter {
            filter_name: name.clone(),
            filter_pattern: pattern_src,
            metric_transformations: transformations,
            creation_time: self.now(),
            log_group_name: group.as_str().to_owned(),
            apply_on_transformed_logs: req.apply_on_transformed_logs.unwrap_or(false),
            field_selection_criteria: req.field_selection_criteria,
            emit_system_field_dimensions: req.emit_system_field_dimensions,
        };
        let definition = serde_json::to_string(&filter)
            .map_err(|e| ApiError::internal(format!("could not encode the metric filter: {e}")))?;
        let check_name = name.clone();
        self.storage()
            .put_metric_filter(&caller.scope, group.as_str(), &name, definition, move |existing| {
                let others = existing.iter().filter(|(n, _)| *n != check_name);
                if others.clone().count() >= MAX_METRIC_FILTERS_PER_GROUP {
                    return Err(ApiError::new(
                        ErrorCode::LimitExceededException,
                        format!("Resource limit exceeded: at most {MAX_METRIC_FILTERS_PER_GROUP} metric filters per log group."),
                    ));
                }
                let regex_filters = others
                    .filter(|(_, d)| {
                        serde_json::from_str::<MetricFilter>(d)
                            .ok()
                            .and_then(|f| FilterPattern::parse(&f.filter_pattern).ok())
                            .is_some_and(|p| p.regex_count() > 0)
                    })
                    .count();
                if has_regex && regex_filters >= MAX_REGEX_METRIC_FILTERS_PER_GROUP {
                    return Err(ApiError::new(
                        ErrorCode::LimitExceededException,
                        format!("Resource limit exceeded: at most {MAX_REGEX_METRIC_FILTERS_PER_GROUP} metric filters with regular expressions per log group."),
                    ));
                }
                Ok(())
            })
            .await
            .map_err(storage_error)?;
        self.metric_filters_changed(caller, &group).await
    }

    /// Hands a group's new filter set to the observer and flushes, so the checkpoint that
    /// replay after a crash starts from already carries the new set.
    async fn metric_filters_changed(&self, caller: &Caller, group: &LogGroupName) -> ApiResult<()> {
        if let Some(id) = self.storage().log_group_id(&caller.scope, group.as_str()) {
            // Events acknowledged before the change are matched by the filters they met.
            self.metrics_caught_up().await?;
            self.load_metric_filters(id, &caller.scope, group.as_str());
        }
        self.storage().flush().await.map_err(storage_error)
    }

    pub async fn describe_metric_filters(
        &self,
        caller: &Caller,
        req: DescribeMetricFiltersRequest,
    ) -> ApiResult<DescribeMetricFiltersResponse> {
        let limit = page_limit("limit", req.limit, DESCRIBE_LIMIT_MAX, DESCRIBE_LIMIT_MAX)?;
        if req.metric_name.is_some() != req.metric_namespace.is_some() {
            return Err(ApiError::invalid_parameter(
                "metricName and metricNamespace must be specified together.",
            ));
        }
        if req.filter_name_prefix.is_some() && req.log_group_name.is_none() {
            return Err(ApiError::invalid_parameter(
                "filterNamePrefix is only allowed together with logGroupName.",
            ));
        }
        let after = req
            .next_token
            .as_deref()
            .map(|t| token::decode_after("DescribeMetricFilters", t))
            .transpose()?;
        let groups: Vec<String> = match &req.log_group_name {
            Some(name) => {
                let name = LogGroupName::parse("logGroupName", name)?;
                vec![name.as_str().to_owned()]
            }
            None => self
                .storage()
                .log_groups(&caller.scope)
                .into_iter()
                .map(|g| g.name)
                .filter(|name| !crate::is_internal_group(name))
                .collect(),
        };
        let mut filters = Vec::new();
        for group in &groups {
            for (_, definition) in self
                .storage()
                .metric_filters(&caller.scope, group)
                .map_err(storage_error)?
            {
                filters.push(decode_filter(&definition)?);
            }
        }
        let prefix = req.filter_name_prefix.unwrap_or_default();
        filters.retain(|f| {
            f.filter_name.starts_with(&prefix)
                && match (&req.metric_name, &req.metric_namespace) {
                    (Some(n), Some(ns)) => f.metric_transformations.iter().any(|t| {
                        t.metric_name.as_deref() == Some(n.as_str())
                            && t.metric_namespace.as_deref() == Some(ns.as_str())
                    }),
                    _ => true,
                }
        });
        // ASCII order by filter name, then group, so the token (group + name) is a position.
        filters.sort_by(|a, b| {
            (&a.filter_name, &a.log_group_name).cmp(&(&b.filter_name, &b.log_group_name))
        });
        let key = |f: &MetricFilter| format!("{}\u{0}{}", f.filter_name, f.log_group_name);
        let mut rest = filters
            .into_iter()
            .filter(|f| after.as_ref().is_none_or(|a| key(f) > *a));
        let page: Vec<MetricFilter> = rest.by_ref().take(limit).collect();
        let next_token = match (page.last(), rest.next()) {
            (Some(last), Some(_)) => Some(token::encode_after("DescribeMetricFilters", &key(last))),
            _ => None,
        };
        Ok(DescribeMetricFiltersResponse {
            metric_filters: page,
            next_token,
        })
    }

    pub async fn delete_metric_filter(
        &self,
        caller: &Caller,
        req: DeleteMetricFilterRequest,
    ) -> ApiResult<()> {
        let group = LogGroupName::required("logGroupName", req.log_group_name)?;
        let name = required("filterName", req.filter_name)?;
        let deleted = self
            .storage()
            .delete_metric_filter(&caller.scope, group.as_str(), &name)
            .await
            .map_err(storage_error)?;
        if !deleted {
            return Err(ApiError::not_found(
                "The specified metric filter does not exist.",
            ));
        }
        Ok(())
    }

    pub async fn test_metric_filter(
        &self,
        _caller: &Caller,
        req: TestMetricFilterRequest,
    ) -> ApiResult<TestMetricFilterResponse> {
        let pattern = parse_filter_pattern(&required("filterPattern", req.filter_pattern)?)?;
        let messages = required("logEventMessages", req.log_event_messages)?;
        if messages.is_empty() || messages.len() > MAX_TEST_MESSAGES {
            return Err(ApiError::constraint(
                "logEventMessages",
                &format!("{} messages", messages.len()),
                "Member must have length less than or equal to 50 and greater than or equal to 1",
            ));
        }
        let matches = messages
            .iter()
            .enumerate()
            .filter_map(|(i, message)| {
                let extracted = pattern.extract(message)?;
                Some(MetricFilterMatchRecord {
                    event_number: i as u64 + 1,
                    event_message: message.clone(),
                    extracted_values: extracted.to_map(),
                })
            })
            .collect();
        Ok(TestMetricFilterResponse { matches })
    }
}
