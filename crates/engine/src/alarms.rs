//! CloudWatch alarm actions (`spec/cloudwatch-api.md` §3): PutMetricAlarm, DescribeAlarms,
//! DescribeAlarmsForMetric, DeleteAlarms, SetAlarmState, DescribeAlarmHistory and
//! Enable/DisableAlarmActions over the persisted [`AlarmSet`]. Evaluation and the actions a
//! transition runs are in [`crate::monitoring`].

use flowwatch_model::cloudwatch::{
    AlarmHistoryItem as WireHistoryItem, AlarmNamesInput, DescribeAlarmHistoryInput,
    DescribeAlarmHistoryOutput, DescribeAlarmsForMetricInput, DescribeAlarmsForMetricOutput,
    DescribeAlarmsInput, DescribeAlarmsOutput, Dimension as WireDimension,
    MetricAlarm as WireAlarm, PutMetricAlarmInput, SetAlarmStateInput,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};
use flowwatch_monitor::alarms::{
    AlarmDefinition, AlarmSet, ComparisonOperator, DescribeFilter, FiredTransition,
    HistoryItemType, LowSampleCountPercentile, MetricAlarm, StateValue, TreatMissingData,
    alarm_arn,
};
use flowwatch_monitor::metrics::Dimension;

use crate::error::monitor_error;
use crate::{Engine, token};

/// Most names DeleteAlarms, DescribeAlarms and Enable/DisableAlarmActions take.
const MAX_ALARM_NAMES: usize = 100;
/// Most tags PutMetricAlarm takes.
const MAX_TAGS: usize = 50;
/// History items per DescribeAlarmHistory page: at most, and when MaxRecords is not given.
const MAX_HISTORY_RECORDS: usize = 100;

fn missing(member: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MissingRequiredParameterException,
        format!("The parameter {member} is required."),
    )
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterValueException, message)
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Seconds (as the JSON protocol carries timestamps) to milliseconds.
fn millis(member: &str, seconds: f64) -> ApiResult<i64> {
    if !seconds.is_finite() || !(0.0..=32_503_680_000.0).contains(&seconds) {
        return Err(invalid(format!(
            "The parameter {member} is not a valid timestamp."
        )));
    }
    Ok((seconds * 1000.0).round() as i64)
}

/// AlarmNames of DeleteAlarms and Enable/DisableAlarmActions: required, 1–100 names.
fn alarm_names(names: Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let names = names.ok_or_else(|| missing("AlarmNames"))?;
    if names.len() > MAX_ALARM_NAMES {
        return Err(invalid(format!(
            "The collection AlarmNames must not have more than {MAX_ALARM_NAMES} members."
        )));
    }
    Ok(names)
}

fn dimensions(dims: Option<Vec<WireDimension>>) -> ApiResult<Vec<Dimension>> {
    dims.unwrap_or_default()
        .into_iter()
        .map(|d| match (d.name, d.value) {
            (Some(name), Some(value)) => Ok(Dimension { name, value }),
            _ => Err(missing(
                "Dimensions.member.Name and Dimensions.member.Value",
            )),
        })
        .collect()
}

/// PutMetricAlarm's input as the alarm library's definition (which validates the rest).
fn definition(req: PutMetricAlarmInput) -> ApiResult<AlarmDefinition> {
    if req.metrics.is_some() || req.threshold_metric_id.is_some() {
        return Err(invalid(
            "Metric math and anomaly-detection alarms (Metrics, ThresholdMetricId) are not supported; define a single-metric alarm with Namespace, MetricName and Statistic.",
        ));
    }
    if req.evaluation_criteria.is_some() {
        return Err(invalid(
            "PromQL alarms (EvaluationCriteria) are not supported; define a single-metric alarm.",
        ));
    }
    if req.tags.as_ref().is_some_and(|t| t.len() > MAX_TAGS) {
        return Err(invalid(format!(
            "The collection Tags must not have more than {MAX_TAGS} members."
        )));
    }
    let comparison = req
        .comparison_operator
        .ok_or_else(|| missing("ComparisonOperator"))?;
    Ok(AlarmDefinition {
        alarm_name: req.alarm_name.ok_or_else(|| missing("AlarmName"))?,
        alarm_description: req.alarm_description,
        actions_enabled: req.actions_enabled.unwrap_or(true),
        ok_actions: req.ok_actions.unwrap_or_default(),
        alarm_actions: req.alarm_actions.unwrap_or_default(),
        insufficient_data_actions: req.insufficient_data_actions.unwrap_or_default(),
        namespace: req.namespace.ok_or_else(|| missing("Namespace"))?,
        metric_name: req.metric_name.ok_or_else(|| missing("MetricName"))?,
        dimensions: dimensions(req.dimensions)?,
        statistic: req.statistic,
        extended_statistic: req.extended_statistic,
        period: req.period.ok_or_else(|| missing("Period"))?,
        unit: req.unit,
        evaluation_periods: req
            .evaluation_periods
            .ok_or_else(|| missing("EvaluationPeriods"))?,
        datapoints_to_alarm: req.datapoints_to_alarm,
        threshold: req.threshold.ok_or_else(|| missing("Threshold"))?,
        comparison_operator: ComparisonOperator::parse(&comparison).map_err(monitor_error)?,
        treat_missing_data: req
            .treat_missing_data
            .as_deref()
            .map(TreatMissingData::parse)
            .transpose()
            .map_err(monitor_error)?,
        evaluate_low_sample_count_percentile: req
            .evaluate_low_sample_count_percentile
            .as_deref()
            .map(LowSampleCountPercentile::parse)
            .transpose()
            .map_err(monitor_error)?,
    })
}

/// A stored alarm as DescribeAlarms shows it.
fn wire_alarm(caller: &Caller, alarm: &MetricAlarm) -> WireAlarm {
    let d = &alarm.definition;
    let s = &alarm.state;
    WireAlarm {
        alarm_name: d.alarm_name.clone(),
        alarm_arn: alarm_arn(&caller.scope.account, &caller.scope.region, &d.alarm_name),
        alarm_description: d.alarm_description.clone(),
        alarm_configuration_updated_timestamp: seconds(alarm.configuration_updated_ms),
        actions_enabled: d.actions_enabled,
        ok_actions: d.ok_actions.clone(),
        alarm_actions: d.alarm_actions.clone(),
        insufficient_data_actions: d.insufficient_data_actions.clone(),
        state_value: s.value.as_str().to_owned(),
        state_reason: s.reason.clone(),
        state_reason_data: (!s.reason_data.is_empty()).then(|| s.reason_data.clone()),
        state_updated_timestamp: seconds(s.updated_ms),
        metric_name: d.metric_name.clone(),
        namespace: d.namespace.clone(),
        statistic: d.statistic.clone(),
        extended_statistic: d.extended_statistic.clone(),
        dimensions: d
            .dimensions
            .iter()
            .map(|x| WireDimension {
                name: Some(x.name.clone()),
                value: Some(x.value.clone()),
            })
            .collect(),
        period: d.period,
        unit: d.unit.clone(),
        evaluation_periods: d.evaluation_periods,
        datapoints_to_alarm: d.datapoints_to_alarm,
        threshold: d.threshold,
        comparison_operator: d.comparison_operator.as_str().to_owned(),
        treat_missing_data: d.treat_missing_data.map(|t| t.as_str().to_owned()),
        evaluate_low_sample_count_percentile: d
            .evaluate_low_sample_count_percentile
            .map(|e| e.as_str().to_owned()),
        state_transitioned_timestamp: seconds(alarm.state_transitioned_ms),
    }
}

fn history_item_type(text: &str) -> ApiResult<HistoryItemType> {
    match text {
        "ConfigurationUpdate" => Ok(HistoryItemType::ConfigurationUpdate),
        "StateUpdate" => Ok(HistoryItemType::StateUpdate),
        "Action" => Ok(HistoryItemType::Action),
        other => Err(invalid(format!(
            "1 validation error detected: Value '{other}' at 'historyItemType' failed to satisfy constraint: Member must satisfy enum value set: [ConfigurationUpdate, StateUpdate, Action, AlarmContributorStateUpdate, AlarmContributorAction]"
        ))),
    }
}

fn max_records(value: Option<i64>, default: usize) -> ApiResult<usize> {
    match value {
        None => Ok(default),
        Some(n) if (1..=100).contains(&n) => Ok(n as usize),
        Some(n) => Err(invalid(format!(
            "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100"
        ))),
    }
}

fn bad_token() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidNextToken,
        "The service couldn't process the NextToken.",
    )
}

impl Engine {
    pub async fn put_metric_alarm(
        &self,
        caller: &Caller,
        req: PutMetricAlarmInput,
    ) -> ApiResult<serde_json::Value> {
        let definition = definition(req)?;
        let now = self.now();
        self.alarms()
            .update(|set| {
                set.put(&caller.scope, definition, now)
                    .map_err(monitor_error)
            })
            .await?;
        Ok(serde_json::json!({}))
    }

    pub async fn describe_alarms(
        &self,
        caller: &Caller,
        req: DescribeAlarmsInput,
    ) -> ApiResult<DescribeAlarmsOutput> {
        if req
            .alarm_names
            .as_ref()
            .is_some_and(|n| n.len() > MAX_ALARM_NAMES)
        {
            return Err(invalid(format!(
                "The collection AlarmNames must not have more than {MAX_ALARM_NAMES} members."
            )));
        }
        let types = req.alarm_types.unwrap_or_default();
        for t in &types {
            if t != "MetricAlarm" && t != "CompositeAlarm" {
                return Err(invalid(format!(
                    "1 validation error detected: Value '{t}' at 'alarmTypes' failed to satisfy constraint: Member must satisfy enum value set: [CompositeAlarm, MetricAlarm]"
                )));
            }
        }
        // Only metric alarms exist; the composite-only filters match none.
        let wants_metric = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
        let composite_only =
            req.children_of_alarm_name.is_some() || req.parents_of_alarm_name.is_some();
        let filter = DescribeFilter {
            alarm_names: req.alarm_names.unwrap_or_default(),
            alarm_name_prefix: req.alarm_name_prefix,
            state_value: req
                .state_value
                .as_deref()
                .map(StateValue::parse)
                .transpose()
                .map_err(monitor_error)?,
            action_prefix: req.action_prefix,
        };
        let max = max_records(req.max_records, 50)?;
        let after = req
            .next_token
            .as_deref()
            .map(|t| token::decode_after("DescribeAlarms", t).map_err(|_| bad_token()))
            .transpose()?;
        if !wants_metric || composite_only {
            return Ok(DescribeAlarmsOutput::default());
        }
        self.alarms()
            .read(|set: &AlarmSet| {
                let (page, next) = set
                    .describe_page(&caller.scope, &filter, Some(max), after.as_deref())
                    .map_err(monitor_error)?;
                Ok(DescribeAlarmsOutput {
                    metric_alarms: page.into_iter().map(|a| wire_alarm(caller, a)).collect(),
                    composite_alarms: Vec::new(),
                    next_token: next.map(|n| token::encode_after("DescribeAlarms", &n)),
                })
            })
            .await
    }

    pub async fn describe_alarms_for_metric(
        &self,
        caller: &Caller,
        req: DescribeAlarmsForMetricInput,
    ) -> ApiResult<DescribeAlarmsForMetricOutput> {
        let namespace = req.namespace.ok_or_else(|| missing("Namespace"))?;
        let metric_name = req.metric_name.ok_or_else(|| missing("MetricName"))?;
        let dims = req.dimensions.map(|d| dimensions(Some(d))).transpose()?;
        self.alarms()
            .read(|set: &AlarmSet| {
                let all = set
                    .describe(&caller.scope, &DescribeFilter::default())
                    .map_err(monitor_error)?;
                let matching = all.into_iter().filter(|a| {
                    let d = &a.definition;
                    d.namespace == namespace
                        && d.metric_name == metric_name
                        && req
                            .statistic
                            .as_ref()
                            .is_none_or(|s| d.statistic.as_ref() == Some(s))
                        && req
                            .extended_statistic
                            .as_ref()
                            .is_none_or(|s| d.extended_statistic.as_ref() == Some(s))
                        && req.period.is_none_or(|p| d.period == p)
                        && req.unit.as_ref().is_none_or(|u| d.unit.as_ref() == Some(u))
                        && dims.as_ref().is_none_or(|want| {
                            let mut want = want.clone();
                            let mut have = d.dimensions.clone();
                            want.sort_by(|a, b| a.name.cmp(&b.name));
                            have.sort_by(|a, b| a.name.cmp(&b.name));
                            want == have
                        })
                });
                Ok(DescribeAlarmsForMetricOutput {
                    metric_alarms: matching.map(|a| wire_alarm(caller, a)).collect(),
                })
            })
            .await
    }

    pub async fn delete_alarms(
        &self,
        caller: &Caller,
        req: AlarmNamesInput,
    ) -> ApiResult<serde_json::Value> {
        let names = alarm_names(req.alarm_names)?;
        let now = self.now();
        // The names that exist are deleted even when others do not: save, then report.
        let outcome = self
            .alarms()
            .update(|set| Ok(set.delete(&caller.scope, &names, now)))
            .await?;
        outcome.map_err(monitor_error)?;
        Ok(serde_json::json!({}))
    }

    pub async fn set_alarm_state(
        &self,
        caller: &Caller,
        req: SetAlarmStateInput,
    ) -> ApiResult<serde_json::Value> {
        let name = req.alarm_name.ok_or_else(|| missing("AlarmName"))?;
        let value = StateValue::parse(&req.state_value.ok_or_else(|| missing("StateValue"))?)
            .map_err(monitor_error)?;
        let reason = req.state_reason.ok_or_else(|| missing("StateReason"))?;
        let now = self.now();
        let fired = self
            .alarms()
            .update_when(|set| {
                let transition = set
                    .set_state(
                        &caller.scope,
                        &name,
                        value,
                        &reason,
                        req.state_reason_data.as_deref(),
                        now,
                    )
                    .map_err(monitor_error)?;
                let fired = transition.and_then(|transition| {
                    let alarm = set.get(&caller.scope, &name)?;
                    Some(FiredTransition {
                        scope: caller.scope.clone(),
                        definition: alarm.definition.clone(),
                        configuration_updated_ms: alarm.configuration_updated_ms,
                        transition,
                    })
                });
                // The reason is replaced even without a transition: always saved.
                Ok((fired, true))
            })
            .await?;
        if let Some(fired) = fired {
            self.run_alarm_actions(vec![fired]).await;
        }
        Ok(serde_json::json!({}))
    }

    pub async fn describe_alarm_history(
        &self,
        caller: &Caller,
        req: DescribeAlarmHistoryInput,
    ) -> ApiResult<DescribeAlarmHistoryOutput> {
        let item_type = req
            .history_item_type
            .as_deref()
            .map(history_item_type)
            .transpose()?;
        let start = req
            .start_date
            .map(|s| millis("StartDate", s))
            .transpose()?
            .unwrap_or(i64::MIN);
        let end = req
            .end_date
            .map(|s| millis("EndDate", s))
            .transpose()?
            .unwrap_or(i64::MAX);
        let ascending = match req.scan_by.as_deref() {
            None | Some("TimestampDescending") => false,
            Some("TimestampAscending") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "1 validation error detected: Value '{other}' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]"
                )));
            }
        };
        let types = req.alarm_types.unwrap_or_default();
        let max = max_records(req.max_records, MAX_HISTORY_RECORDS)?;
        let skip = match req.next_token.as_deref() {
            None => 0,
            Some(t) => token::decode_after("DescribeAlarmHistory", t)
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(bad_token)?,
        };
        if !types.is_empty() && !types.iter().any(|t| t == "MetricAlarm") {
            return Ok(DescribeAlarmHistoryOutput::default());
        }
        self.alarms()
            .read(|set: &AlarmSet| {
                let mut items = set.history(
                    &caller.scope,
                    req.alarm_name.as_deref(),
                    item_type,
                    start,
                    end,
                );
                if ascending {
                    items.reverse();
                }
                let total = items.len();
                let page: Vec<WireHistoryItem> = items
                    .into_iter()
                    .skip(skip)
                    .take(max)
                    .map(|i| WireHistoryItem {
                        alarm_name: i.alarm_name.clone(),
                        alarm_type: "MetricAlarm".to_owned(),
                        timestamp: seconds(i.timestamp_ms),
                        history_item_type: i.history_item_type.as_str().to_owned(),
                        history_summary: i.summary.clone(),
                        history_data: i.history_data.clone(),
                    })
                    .collect();
                let next = skip + page.len();
                Ok(DescribeAlarmHistoryOutput {
                    alarm_history_items: page,
                    next_token: (next < total)
                        .then(|| token::encode_after("DescribeAlarmHistory", &next.to_string())),
                })
            })
            .await
    }

    pub async fn enable_alarm_actions(
        &self,
        caller: &Caller,
        req: AlarmNamesInput,
    ) -> ApiResult<serde_json::Value> {
        self.set_alarm_actions(caller, req, true).await
    }

    pub async fn disable_alarm_actions(
        &self,
        caller: &Caller,
        req: AlarmNamesInput,
    ) -> ApiResult<serde_json::Value> {
        self.set_alarm_actions(caller, req, false).await
    }

    async fn set_alarm_actions(
        &self,
        caller: &Caller,
        req: AlarmNamesInput,
        enabled: bool,
    ) -> ApiResult<serde_json::Value> {
        let names = alarm_names(req.alarm_names)?;
        self.alarms()
            .update(|set| {
                set.set_actions_enabled(&caller.scope, &names, enabled);
                Ok(())
            })
            .await?;
        Ok(serde_json::json!({}))
    }
}
