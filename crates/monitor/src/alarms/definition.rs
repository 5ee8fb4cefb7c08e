//! What PutMetricAlarm stores for a single-metric alarm, and its validation
//! (`spec/cloudwatch-api.md` §3 PutMetricAlarm).

use serde::{Deserialize, Serialize};

use crate::MonitorError;
use crate::metrics::{Dimension, MetricKey, Statistic};
use flowwatch_model::Scope;

/// Most actions in each of OKActions, AlarmActions and InsufficientDataActions.
pub const MAX_ACTIONS: usize = 5;
/// Most dimensions of an alarm's metric.
pub const MAX_DIMENSIONS: usize = 30;
/// Longest alarm name.
pub const MAX_ALARM_NAME: usize = 255;
/// Longest alarm description.
pub const MAX_DESCRIPTION: usize = 1024;
/// Longest action ARN.
pub const MAX_ACTION_ARN: usize = 1024;
/// Longest span `Period × EvaluationPeriods`, in seconds (7 days).
pub const MAX_EVALUATION_SPAN_S: i64 = 604_800;
/// Longest span `Period × EvaluationPeriods` when the period is shorter than an hour (1 day).
pub const MAX_EVALUATION_SPAN_SHORT_PERIOD_S: i64 = 86_400;

/// `ComparisonOperator`. The statistic value is always the left operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
    /// Anomaly-detection operators: accepted by the parser, rejected by
    /// [`AlarmDefinition::validate`] (anomaly detection is not supported).
    LessThanLowerOrGreaterThanUpperThreshold,
    LessThanLowerThreshold,
    GreaterThanUpperThreshold,
}

impl ComparisonOperator {
    pub const ALL: [Self; 7] = [
        Self::GreaterThanOrEqualToThreshold,
        Self::GreaterThanThreshold,
        Self::LessThanThreshold,
        Self::LessThanOrEqualToThreshold,
        Self::LessThanLowerOrGreaterThanUpperThreshold,
        Self::LessThanLowerThreshold,
        Self::GreaterThanUpperThreshold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Self::GreaterThanThreshold => "GreaterThanThreshold",
            Self::LessThanThreshold => "LessThanThreshold",
            Self::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            Self::LessThanLowerOrGreaterThanUpperThreshold => {
                "LessThanLowerOrGreaterThanUpperThreshold"
            }
            Self::LessThanLowerThreshold => "LessThanLowerThreshold",
            Self::GreaterThanUpperThreshold => "GreaterThanUpperThreshold",
        }
    }

    pub fn parse(text: &str) -> Result<Self, MonitorError> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str() == text)
            .ok_or_else(|| {
                MonitorError::value(enum_message(
                    text,
                    "comparisonOperator",
                    &Self::ALL.map(Self::as_str),
                ))
            })
    }

    /// Whether this is one of the anomaly-detection operators.
    pub fn is_anomaly_band(self) -> bool {
        matches!(
            self,
            Self::LessThanLowerOrGreaterThanUpperThreshold
                | Self::LessThanLowerThreshold
                | Self::GreaterThanUpperThreshold
        )
    }

    /// Whether `value <op> threshold` holds (`None` for the anomaly-band operators).
    pub fn breaches(self, value: f64, threshold: f64) -> Option<bool> {
        match self {
            Self::GreaterThanOrEqualToThreshold => Some(value >= threshold),
            Self::GreaterThanThreshold => Some(value > threshold),
            Self::LessThanThreshold => Some(value < threshold),
            Self::LessThanOrEqualToThreshold => Some(value <= threshold),
            _ => None,
        }
    }

    /// The words of the threshold-crossing reason: `greater than or equal to`.
    pub fn words(self) -> &'static str {
        match self {
            Self::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Self::GreaterThanThreshold => "greater than",
            Self::LessThanThreshold => "less than",
            Self::LessThanOrEqualToThreshold => "less than or equal to",
            Self::LessThanLowerOrGreaterThanUpperThreshold => "outside the band of",
            Self::LessThanLowerThreshold => "less than the lower band of",
            Self::GreaterThanUpperThreshold => "greater than the upper band of",
        }
    }
}

/// `TreatMissingData`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreatMissingData {
    #[default]
    Missing,
    NotBreaching,
    Breaching,
    Ignore,
}

impl TreatMissingData {
    pub const ALL: [Self; 4] = [
        Self::Missing,
        Self::NotBreaching,
        Self::Breaching,
        Self::Ignore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::NotBreaching => "notBreaching",
            Self::Breaching => "breaching",
            Self::Ignore => "ignore",
        }
    }

    pub fn parse(text: &str) -> Result<Self, MonitorError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| {
                MonitorError::value(format!(
                    "Invalid value '{text}' for TreatMissingData. Valid values are: missing, notBreaching, breaching, ignore"
                ))
            })
    }
}

/// `EvaluateLowSampleCountPercentile`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LowSampleCountPercentile {
    #[default]
    Evaluate,
    Ignore,
}

impl LowSampleCountPercentile {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evaluate => "evaluate",
            Self::Ignore => "ignore",
        }
    }

    pub fn parse(text: &str) -> Result<Self, MonitorError> {
        match text {
            "evaluate" => Ok(Self::Evaluate),
            "ignore" => Ok(Self::Ignore),
            _ => Err(MonitorError::value(format!(
                "Invalid value '{text}' for EvaluateLowSampleCountPercentile. Valid values are: evaluate, ignore"
            ))),
        }
    }
}

/// A single-metric alarm as PutMetricAlarm stores it (serde: the persisted form, not a wire
/// shape). Optional fields left `None` are the ones DescribeAlarms omits; defaults apply when
/// evaluating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmDefinition {
    pub alarm_name: String,
    pub alarm_description: Option<String>,
    /// Default `true`.
    pub actions_enabled: bool,
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<Dimension>,
    /// `SampleCount | Average | Sum | Minimum | Maximum`; exclusive with `extended_statistic`.
    pub statistic: Option<String>,
    /// `pNN` / `pNN.NN` (the other extended statistics are not supported).
    pub extended_statistic: Option<String>,
    /// Seconds: a multiple of 60 (10, 20 and 30 are high-resolution and not supported).
    pub period: i64,
    pub unit: Option<String>,
    /// N.
    pub evaluation_periods: i64,
    /// M; `None` means N.
    pub datapoints_to_alarm: Option<i64>,
    /// Saved as its exact bits (decimal text may be off by one unit in the last place).
    #[serde(with = "crate::metrics::bits")]
    pub threshold: f64,
    pub comparison_operator: ComparisonOperator,
    pub treat_missing_data: Option<TreatMissingData>,
    pub evaluate_low_sample_count_percentile: Option<LowSampleCountPercentile>,
}

impl AlarmDefinition {
    /// A definition with AWS's defaults for everything optional.
    #[expect(
        clippy::too_many_arguments,
        reason = "the eight members PutMetricAlarm requires of a single-metric alarm"
    )]
    pub fn new(
        alarm_name: impl Into<String>,
        namespace: impl Into<String>,
        metric_name: impl Into<String>,
        statistic: Statistic,
        period: i64,
        evaluation_periods: i64,
        threshold: f64,
        comparison_operator: ComparisonOperator,
    ) -> Self {
        let (statistic, extended_statistic) = match statistic {
            Statistic::Percentile { name, .. } => (None, Some(name)),
            s => (Some(s.name().to_owned()), None),
        };
        Self {
            alarm_name: alarm_name.into(),
            alarm_description: None,
            actions_enabled: true,
            ok_actions: Vec::new(),
            alarm_actions: Vec::new(),
            insufficient_data_actions: Vec::new(),
            namespace: namespace.into(),
            metric_name: metric_name.into(),
            dimensions: Vec::new(),
            statistic,
            extended_statistic,
            period,
            unit: None,
            evaluation_periods,
            datapoints_to_alarm: None,
            threshold,
            comparison_operator,
            treat_missing_data: None,
            evaluate_low_sample_count_percentile: None,
        }
    }

    /// M, the datapoints that must breach (DatapointsToAlarm, default N).
    pub fn datapoints_to_alarm(&self) -> i64 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    pub fn treat_missing_data(&self) -> TreatMissingData {
        self.treat_missing_data.unwrap_or_default()
    }

    pub fn low_sample_count_percentile(&self) -> LowSampleCountPercentile {
        self.evaluate_low_sample_count_percentile
            .unwrap_or_default()
    }

    /// The statistic the alarm evaluates (the definition must be valid).
    pub fn parsed_statistic(&self) -> Result<Statistic, MonitorError> {
        match (&self.statistic, &self.extended_statistic) {
            (Some(s), None) => match Statistic::parse(s) {
                Ok(st) if !matches!(st, Statistic::Percentile { .. }) => Ok(st),
                _ => Err(MonitorError::value(enum_message(
                    s,
                    "statistic",
                    &["SampleCount", "Average", "Sum", "Minimum", "Maximum"],
                ))),
            },
            (None, Some(e)) => match Statistic::parse(e) {
                Ok(st @ Statistic::Percentile { .. }) => Ok(st),
                _ => Err(MonitorError::value(format!(
                    "The value {e} for parameter ExtendedStatistic is not supported."
                ))),
            },
            _ => Err(MonitorError::combination(
                "Exactly one element of the Statistic and ExtendedStatistic parameters must be set.",
            )),
        }
    }

    /// The name of the statistic, as written (`Sum`, `p99`).
    pub fn statistic_name(&self) -> &str {
        self.statistic
            .as_deref()
            .or(self.extended_statistic.as_deref())
            .unwrap_or_default()
    }

    /// The metric the alarm watches in `scope`.
    pub fn metric_key(&self, scope: &Scope) -> MetricKey {
        MetricKey::new(
            scope,
            self.namespace.clone(),
            self.metric_name.clone(),
            self.dimensions
                .iter()
                .map(|d| (d.name.clone(), d.value.clone())),
        )
    }

    /// PutMetricAlarm's checks, with AWS's messages. The first failing check is reported.
    pub fn validate(&self) -> Result<(), MonitorError> {
        let name = &self.alarm_name;
        if name.is_empty() {
            return Err(MonitorError::missing("AlarmName"));
        }
        length("alarmName", name, 1, MAX_ALARM_NAME)?;
        if name.chars().any(|c| c.is_ascii_control()) {
            return Err(MonitorError::value(format!(
                "The parameter AlarmName contains invalid characters: {name:?}"
            )));
        }
        if let Some(d) = &self.alarm_description {
            length("alarmDescription", d, 0, MAX_DESCRIPTION)?;
        }
        for (member, actions) in [
            ("oKActions", &self.ok_actions),
            ("alarmActions", &self.alarm_actions),
            ("insufficientDataActions", &self.insufficient_data_actions),
        ] {
            if actions.len() > MAX_ACTIONS {
                return Err(MonitorError::value(constraint(
                    &format!("{actions:?}"),
                    member,
                    &format!("Member must have length less than or equal to {MAX_ACTIONS}"),
                )));
            }
            for arn in actions {
                length(member, arn, 1, MAX_ACTION_ARN)?;
                if !arn.starts_with("arn:") {
                    return Err(MonitorError::value(format!("Invalid arn syntax: {arn}")));
                }
            }
        }
        if self.namespace.is_empty() {
            return Err(MonitorError::missing("Namespace"));
        }
        length("namespace", &self.namespace, 1, 255)?;
        if self.namespace.starts_with(':') {
            return Err(MonitorError::value(constraint(
                &self.namespace,
                "namespace",
                "Member must satisfy regular expression pattern: [^:].*",
            )));
        }
        if self.metric_name.is_empty() {
            return Err(MonitorError::missing("MetricName"));
        }
        length("metricName", &self.metric_name, 1, 255)?;
        if self.dimensions.len() > MAX_DIMENSIONS {
            return Err(MonitorError::value(constraint(
                &format!("{} dimensions", self.dimensions.len()),
                "dimensions",
                &format!("Member must have length less than or equal to {MAX_DIMENSIONS}"),
            )));
        }
        for d in &self.dimensions {
            length("dimensions.member.name", &d.name, 1, 255)?;
            length("dimensions.member.value", &d.value, 1, 1024)?;
        }
        self.parsed_statistic()?;
        if self.period < 1 {
            return Err(MonitorError::value(constraint(
                &self.period.to_string(),
                "period",
                "Member must have value greater than or equal to 1",
            )));
        }
        if matches!(self.period, 10 | 20 | 30) {
            return Err(MonitorError::value(
                "High-resolution alarms (Period 10, 20 or 30) are not supported: the metric store keeps 1-minute resolution.",
            ));
        }
        if self.period % 60 != 0 {
            return Err(MonitorError::value(
                "The parameter Period must be 10, 20, 30, or a multiple of 60.",
            ));
        }
        if self.evaluation_periods < 1 {
            return Err(MonitorError::value(constraint(
                &self.evaluation_periods.to_string(),
                "evaluationPeriods",
                "Member must have value greater than or equal to 1",
            )));
        }
        if let Some(m) = self.datapoints_to_alarm {
            if m < 1 {
                return Err(MonitorError::value(constraint(
                    &m.to_string(),
                    "datapointsToAlarm",
                    "Member must have value greater than or equal to 1",
                )));
            }
            if m > self.evaluation_periods {
                return Err(MonitorError::value(
                    "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
                ));
            }
        }
        let span = i128::from(self.period) * i128::from(self.evaluation_periods);
        if self.period < 3600 && span > i128::from(MAX_EVALUATION_SPAN_SHORT_PERIOD_S) {
            return Err(MonitorError::value(format!(
                "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= {MAX_EVALUATION_SPAN_SHORT_PERIOD_S})"
            )));
        }
        if span > i128::from(MAX_EVALUATION_SPAN_S) {
            return Err(MonitorError::value(format!(
                "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= {MAX_EVALUATION_SPAN_S})"
            )));
        }
        if !self.threshold.is_finite() {
            return Err(MonitorError::value(format!(
                "The value {} for parameter Threshold is invalid.",
                self.threshold
            )));
        }
        if self.comparison_operator.is_anomaly_band() {
            return Err(MonitorError::combination(format!(
                "The comparison operator {} is only supported for anomaly detection alarms, which are not supported.",
                self.comparison_operator.as_str()
            )));
        }
        if self.evaluate_low_sample_count_percentile.is_some() && self.extended_statistic.is_none()
        {
            return Err(MonitorError::combination(
                "EvaluateLowSampleCountPercentile can only be used with a percentile ExtendedStatistic.",
            ));
        }
        Ok(())
    }
}

/// AWS's validation-exception wording.
fn constraint(value: &str, member: &str, rule: &str) -> String {
    format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    )
}

fn enum_message(value: &str, member: &str, allowed: &[&str]) -> String {
    constraint(
        value,
        member,
        &format!(
            "Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ),
    )
}

fn length(member: &str, value: &str, min: usize, max: usize) -> Result<(), MonitorError> {
    let n = value.chars().count();
    if n < min {
        return Err(MonitorError::value(constraint(
            value,
            member,
            &format!("Member must have length greater than or equal to {min}"),
        )));
    }
    if n > max {
        return Err(MonitorError::value(constraint(
            value,
            member,
            &format!("Member must have length less than or equal to {max}"),
        )));
    }
    Ok(())
}
