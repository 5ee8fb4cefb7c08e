//! The evaluator: one alarm, the datapoints of its evaluation range, the current state → the
//! transition CloudWatch would make, if any (`spec/cloudwatch-api.md` §4). Pure: the instant of
//! evaluation is an argument.

use serde::{Deserialize, Serialize};

use super::definition::{AlarmDefinition, TreatMissingData};
use super::format::{iso_millis, java_double, reason_date};
use crate::MonitorError;
use crate::metrics::{Datapoint, MAX_DATAPOINTS, MINUTE_MS, MetricStore, Statistic, minute_of};
use flowwatch_model::Scope;

/// The periods fetched beyond the N evaluated ones: the "evaluation range" of the user guide is
/// N + 2 in every documented example (N = 3 → 5).
pub const EXTRA_RANGE_PERIODS: i64 = 2;

/// The reason of a new alarm.
pub const INITIAL_REASON: &str = "Unchecked: Initial alarm creation";

/// `StateValue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum StateValue {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl StateValue {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn parse(text: &str) -> Result<Self, MonitorError> {
        match text {
            "OK" => Ok(Self::Ok),
            "ALARM" => Ok(Self::Alarm),
            "INSUFFICIENT_DATA" => Ok(Self::InsufficientData),
            _ => Err(MonitorError::value(format!(
                "1 validation error detected: Value '{text}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
            ))),
        }
    }
}

impl std::fmt::Display for StateValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alarm's state: value, `StateReason`, `StateReasonData` (a JSON text, empty when none) and
/// when it was set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmState {
    pub value: StateValue,
    pub reason: String,
    pub reason_data: String,
    pub updated_ms: i64,
}

impl AlarmState {
    /// The state of an alarm created at `now_ms`.
    pub fn initial(now_ms: i64) -> Self {
        Self {
            value: StateValue::InsufficientData,
            reason: INITIAL_REASON.into(),
            reason_data: String::new(),
            updated_ms: now_ms,
        }
    }
}

/// A change of state value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub alarm_name: String,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
}

impl Transition {
    pub fn timestamp_ms(&self) -> i64 {
        self.new_state.updated_ms
    }
}

/// One period of the evaluation range: its start, and the statistic's value and sample count
/// when the period has data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    pub timestamp_ms: i64,
    pub value: Option<f64>,
    pub sample_count: Option<f64>,
}

/// The range `[start_ms, end_ms)` of `range` periods evaluated at `now_ms`: periods end at the
/// start of the current minute (the alarm is evaluated every minute over a sliding window).
pub fn evaluation_range(def: &AlarmDefinition, now_ms: i64) -> (i64, i64, i64) {
    let range = def.evaluation_periods.max(1) + EXTRA_RANGE_PERIODS;
    let end = minute_of(now_ms);
    let start = end.saturating_sub(range.saturating_mul(def.period.saturating_mul(1000)));
    (start, end, range)
}

/// Evaluates an alarm of `scope` against the store. `Ok(None)`: the state value stays.
pub fn evaluate(
    def: &AlarmDefinition,
    scope: &Scope,
    store: &MetricStore,
    now_ms: i64,
    previous: &AlarmState,
) -> Result<Option<Transition>, MonitorError> {
    let statistic = def.parsed_statistic()?;
    let mut stats = vec![statistic.clone()];
    if statistic != Statistic::SampleCount {
        stats.push(Statistic::SampleCount);
    }
    let key = def.metric_key(scope);
    let (start, end, _) = evaluation_range(def, now_ms);
    let period_ms = def.period * 1000;
    let chunk = (MAX_DATAPOINTS * period_ms).max(MINUTE_MS);
    let mut points = Vec::new();
    let mut from = start;
    while from < end {
        let to = from.saturating_add(chunk).min(end);
        let got = store
            .statistics(&key, def.unit.as_deref(), from, to, def.period, &stats)
            .map_err(|e| MonitorError::EvaluationFailed {
                reason: e.to_string(),
            })?;
        points.extend(got);
        from = to;
    }
    Ok(evaluate_datapoints(def, &points, now_ms, previous))
}

/// Evaluates an alarm against datapoints of its metric (as [`MetricStore::statistics`] returns
/// them for the [`evaluation_range`]; others are ignored). Of several datapoints of one period
/// (several units, no unit on the alarm) the first is used.
pub fn evaluate_datapoints(
    def: &AlarmDefinition,
    points: &[Datapoint],
    now_ms: i64,
    previous: &AlarmState,
) -> Option<Transition> {
    let statistic = def.parsed_statistic().ok()?;
    let (start, _, range) = evaluation_range(def, now_ms);
    let period_ms = def.period * 1000;
    let mut by_start: std::collections::BTreeMap<i64, &Datapoint> = Default::default();
    for p in points {
        by_start.entry(p.timestamp_ms).or_insert(p);
    }
    let slots: Vec<Slot> = (0..range)
        .map(|i| {
            let timestamp_ms = start + i * period_ms;
            let point = by_start.get(&timestamp_ms).copied();
            Slot {
                timestamp_ms,
                value: point.and_then(|p| p.get(&statistic)),
                sample_count: point.and_then(|p| p.sample_count),
            }
        })
        .collect();
    evaluate_slots(def, &slots, now_ms, previous)
}

/// What the documented algorithm decides.
#[derive(Debug, Clone, PartialEq)]
enum Decision {
    /// Keep the current state.
    Retain,
    /// Every datapoint of the range is missing and missing data is `missing`.
    Insufficient,
    /// No datapoint at all; the N missing ones treated as breaching or not.
    AllTreated(StateValue),
    /// From the datapoints evaluated (filled ones have no value).
    Threshold(StateValue, Vec<Evaluated>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Evaluated {
    slot: Slot,
    breaching: bool,
}

/// Evaluates an alarm over its evaluation range, oldest period first (N + 2 periods).
pub fn evaluate_slots(
    def: &AlarmDefinition,
    slots: &[Slot],
    now_ms: i64,
    previous: &AlarmState,
) -> Option<Transition> {
    let n = usize::try_from(def.evaluation_periods).ok()?.max(1);
    let m = usize::try_from(def.datapoints_to_alarm()).ok()?.clamp(1, n);
    let breaches = |v: f64| {
        def.comparison_operator
            .breaches(v, def.threshold)
            .unwrap_or(false)
    };
    let decision = decide(slots, n, m, def.treat_missing_data(), breaches);
    if let Decision::Threshold(_, evaluated) = &decision
        && low_sample_count(def, evaluated)
    {
        return None;
    }
    let (value, reason, data) = match decision {
        Decision::Retain => return None,
        Decision::Insufficient => (
            StateValue::InsufficientData,
            format!(
                "Insufficient Data: {n} {} unknown.",
                if n == 1 {
                    "datapoint was"
                } else {
                    "datapoints were"
                }
            ),
            reason_data(def, now_ms, slots.get(slots.len().saturating_sub(n)), &[]),
        ),
        Decision::AllTreated(value) => (
            value,
            format!(
                "Threshold Crossed: no datapoints were received for {n} {} and {n} missing {} treated as [{}].",
                plural(n, "period"),
                if n == 1 {
                    "datapoint was"
                } else {
                    "datapoints were"
                },
                if value == StateValue::Alarm {
                    "Breaching"
                } else {
                    "NonBreaching"
                }
            ),
            reason_data(def, now_ms, slots.get(slots.len().saturating_sub(n)), &[]),
        ),
        Decision::Threshold(value, evaluated) => (
            value,
            threshold_reason(def, previous.value, value, n, m, &evaluated),
            reason_data(def, now_ms, evaluated.first().map(|e| &e.slot), &evaluated),
        ),
    };
    if value == previous.value {
        return None;
    }
    Some(Transition {
        alarm_name: def.alarm_name.clone(),
        old_state: previous.clone(),
        new_state: AlarmState {
            value,
            reason,
            reason_data: data,
            updated_ms: now_ms,
        },
    })
}

/// The documented algorithm over the evaluation range (oldest first).
fn decide(
    slots: &[Slot],
    n: usize,
    m: usize,
    treat: TreatMissingData,
    breaches: impl Fn(f64) -> bool,
) -> Decision {
    let eval = |slot: &Slot| Evaluated {
        slot: *slot,
        breaching: slot.value.is_some_and(&breaches),
    };
    let threshold = |evaluated: Vec<Evaluated>| {
        let bad = evaluated.iter().filter(|e| e.breaching).count();
        let value = if bad >= m {
            StateValue::Alarm
        } else {
            StateValue::Ok
        };
        Decision::Threshold(value, evaluated)
    };
    let real: Vec<(usize, Evaluated)> = slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.value.is_some())
        .map(|(i, s)| (i, eval(s)))
        .collect();
    // Enough real datapoints: the most recent N of them, missing data plays no part.
    if real.len() >= n {
        return threshold(real[real.len() - n..].iter().map(|(_, e)| *e).collect());
    }
    if real.is_empty() {
        return match treat {
            TreatMissingData::Missing => Decision::Insufficient,
            TreatMissingData::Ignore => Decision::Retain,
            TreatMissingData::Breaching => Decision::AllTreated(StateValue::Alarm),
            TreatMissingData::NotBreaching => Decision::AllTreated(StateValue::Ok),
        };
    }
    match treat {
        TreatMissingData::Breaching | TreatMissingData::NotBreaching => {
            // Fill as few slots as needed, the most recent missing ones.
            let fill = n - real.len();
            let mut filled: Vec<Evaluated> = slots
                .iter()
                .rev()
                .filter(|s| s.value.is_none())
                .take(fill)
                .map(|s| Evaluated {
                    slot: *s,
                    breaching: treat == TreatMissingData::Breaching,
                })
                .collect();
            filled.extend(real.iter().map(|(_, e)| *e));
            filled.sort_by_key(|e| e.slot.timestamp_ms);
            threshold(filled)
        }
        TreatMissingData::Missing | TreatMissingData::Ignore => {
            let evaluated: Vec<Evaluated> = real.iter().map(|(_, e)| *e).collect();
            let bad = evaluated.iter().filter(|e| e.breaching).count();
            if bad >= m {
                return Decision::Threshold(StateValue::Alarm, evaluated);
            }
            // A real good datapoint in range decides OK.
            if bad < evaluated.len() {
                return Decision::Threshold(StateValue::Ok, evaluated);
            }
            if treat == TreatMissingData::Ignore {
                return Decision::Retain;
            }
            // Premature alarm: the oldest breaching datapoint within the last N periods is at
            // least M periods old, and every later one is breaching or missing (all real ones
            // are breaching here).
            let last_n = slots.len().saturating_sub(n);
            let recent: Vec<&(usize, Evaluated)> =
                real.iter().filter(|(i, _)| *i >= last_n).collect();
            match recent.first() {
                Some((oldest, _)) if slots.len() - oldest >= m => {
                    Decision::Threshold(StateValue::Alarm, recent.iter().map(|(_, e)| *e).collect())
                }
                _ => Decision::Retain,
            }
        }
    }
}

/// `EvaluateLowSampleCountPercentile=ignore` and a percentile datapoint from fewer samples than
/// `10 / (1 - p)` (p ≥ 0.5) or `10 / p` (p < 0.5).
fn low_sample_count(def: &AlarmDefinition, evaluated: &[Evaluated]) -> bool {
    use super::definition::LowSampleCountPercentile;
    if def.low_sample_count_percentile() != LowSampleCountPercentile::Ignore {
        return false;
    }
    let Ok(Statistic::Percentile { p, .. }) = def.parsed_statistic() else {
        return false;
    };
    let f = p / 100.0;
    let needed = if f <= 0.0 || f >= 1.0 {
        1.0
    } else if f >= 0.5 {
        10.0 / (1.0 - f)
    } else {
        10.0 / f
    };
    evaluated
        .iter()
        .any(|e| e.slot.value.is_some() && e.slot.sample_count.is_some_and(|c| c < needed - 1e-9))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// `Threshold Crossed: <k> out of the last <n> datapoints [<v> (<dd/MM/yy HH:mm:ss>), ...]
/// was|were [not ]<op> the threshold (<T>) (minimum <M> datapoint[s] for <OLD> -> <NEW>
/// transition).` The listed datapoints are the real ones that agree with the new state, newest
/// first; the minimum is M into ALARM and N − M + 1 into OK.
fn threshold_reason(
    def: &AlarmDefinition,
    old: StateValue,
    new: StateValue,
    n: usize,
    m: usize,
    evaluated: &[Evaluated],
) -> String {
    let alarm = new == StateValue::Alarm;
    let agreeing: Vec<&Evaluated> = evaluated.iter().filter(|e| e.breaching == alarm).collect();
    let k = agreeing.len();
    let listed: Vec<String> = agreeing
        .iter()
        .rev()
        .filter_map(|e| {
            e.slot
                .value
                .map(|v| format!("{} ({})", java_double(v), reason_date(e.slot.timestamp_ms)))
        })
        .collect();
    let minimum = if alarm { m } else { n - m + 1 };
    format!(
        "Threshold Crossed: {k} out of the last {} datapoints [{}] {} {}{} the threshold ({}) (minimum {minimum} {} for {old} -> {new} transition).",
        evaluated.len(),
        listed.join(", "),
        if k == 1 { "was" } else { "were" },
        if alarm { "" } else { "not " },
        def.comparison_operator.words(),
        java_double(def.threshold),
        plural(minimum, "datapoint"),
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReasonData<'a> {
    version: &'static str,
    query_date: String,
    start_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
    statistic: &'a str,
    period: i64,
    recent_datapoints: Vec<f64>,
    threshold: f64,
    evaluated_datapoints: Vec<EvaluatedDatapoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EvaluatedDatapoint {
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
}

/// StateReasonData: `recentDatapoints` oldest first, `evaluatedDatapoints` newest first.
fn reason_data(
    def: &AlarmDefinition,
    now_ms: i64,
    first: Option<&Slot>,
    evaluated: &[Evaluated],
) -> String {
    let data = ReasonData {
        version: "1.0",
        query_date: iso_millis(now_ms),
        start_date: iso_millis(first.map_or(minute_of(now_ms), |s| s.timestamp_ms)),
        unit: def.unit.as_deref(),
        statistic: def.statistic_name(),
        period: def.period,
        recent_datapoints: evaluated.iter().filter_map(|e| e.slot.value).collect(),
        threshold: def.threshold,
        evaluated_datapoints: evaluated
            .iter()
            .rev()
            .map(|e| EvaluatedDatapoint {
                timestamp: iso_millis(e.slot.timestamp_ms),
                sample_count: e.slot.value.and(e.slot.sample_count),
                value: e.slot.value,
            })
            .collect(),
    };
    serde_json::to_string(&data).unwrap_or_default()
}

#[cfg(test)]
mod tests;
