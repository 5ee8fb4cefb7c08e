//! The alarms of every account and region, their history, and the evaluation of them all.

use std::collections::{BTreeMap, VecDeque};

use flowwatch_model::Scope;
use serde::{Deserialize, Serialize};

use super::definition::AlarmDefinition;
use super::evaluate::{AlarmState, StateValue, Transition, evaluate};
use super::history::{AlarmHistoryItem, ConfigurationChange, HistoryItemType};
use crate::MonitorError;
use crate::metrics::MetricStore;

/// Most alarms one account and region may hold (PutMetricAlarm answers `LimitExceeded`).
pub const MAX_ALARMS_PER_SCOPE: usize = 10_000;
/// How long history is kept (two weeks).
pub const HISTORY_RETENTION_MS: i64 = 14 * 24 * 3600 * 1000;
/// Most history items kept over all scopes; the oldest go first.
pub const MAX_HISTORY_ITEMS: usize = 100_000;
/// Most alarms per DescribeAlarms page.
pub const MAX_RECORDS: usize = 100;
/// Alarms per DescribeAlarms page when `MaxRecords` is not given.
pub const DEFAULT_MAX_RECORDS: usize = 50;
/// Longest `StateReason` of SetAlarmState.
pub const MAX_STATE_REASON: usize = 1023;
/// Longest `StateReasonData` of SetAlarmState.
pub const MAX_STATE_REASON_DATA: usize = 4000;

/// A stored alarm: its definition and state (DescribeAlarms' `MetricAlarm`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricAlarm {
    pub definition: AlarmDefinition,
    pub state: AlarmState,
    /// `AlarmConfigurationUpdatedTimestamp`.
    pub configuration_updated_ms: i64,
    /// `StateTransitionedTimestamp`: when the state value last changed.
    pub state_transitioned_ms: i64,
}

/// DescribeAlarms' filters; empty matches every alarm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeFilter {
    pub alarm_names: Vec<String>,
    pub alarm_name_prefix: Option<String>,
    pub state_value: Option<StateValue>,
    pub action_prefix: Option<String>,
}

/// A transition made by [`AlarmSet::evaluate_all`], with what its notification needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredTransition {
    pub scope: Scope,
    pub definition: AlarmDefinition,
    pub configuration_updated_ms: i64,
    pub transition: Transition,
}

type ScopeKey = (String, String);

fn key(scope: &Scope) -> ScopeKey {
    (scope.account.clone(), scope.region.clone())
}

/// Every alarm, per (account, region) and name, and the history of them all (oldest first).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Saved", into = "Saved")]
pub struct AlarmSet {
    alarms: BTreeMap<ScopeKey, BTreeMap<String, MetricAlarm>>,
    history: VecDeque<(ScopeKey, AlarmHistoryItem)>,
}

/// The saved form: JSON maps cannot have tuple keys.
#[derive(Serialize, Deserialize)]
struct Saved {
    scopes: Vec<SavedScope>,
    history: Vec<SavedHistory>,
}

#[derive(Serialize, Deserialize)]
struct SavedScope {
    account: String,
    region: String,
    alarms: Vec<MetricAlarm>,
}

#[derive(Serialize, Deserialize)]
struct SavedHistory {
    account: String,
    region: String,
    item: AlarmHistoryItem,
}

impl From<AlarmSet> for Saved {
    fn from(set: AlarmSet) -> Self {
        Self {
            scopes: set
                .alarms
                .into_iter()
                .map(|((account, region), alarms)| SavedScope {
                    account,
                    region,
                    alarms: alarms.into_values().collect(),
                })
                .collect(),
            history: set
                .history
                .into_iter()
                .map(|((account, region), item)| SavedHistory {
                    account,
                    region,
                    item,
                })
                .collect(),
        }
    }
}

impl From<Saved> for AlarmSet {
    fn from(saved: Saved) -> Self {
        Self {
            alarms: saved
                .scopes
                .into_iter()
                .map(|s| {
                    let alarms = s
                        .alarms
                        .into_iter()
                        .map(|a| (a.definition.alarm_name.clone(), a))
                        .collect();
                    ((s.account, s.region), alarms)
                })
                .collect(),
            history: saved
                .history
                .into_iter()
                .map(|h| ((h.account, h.region), h.item))
                .collect(),
        }
    }
}

fn not_found(name: &str) -> MonitorError {
    MonitorError::ResourceNotFound {
        message: format!("Alarm {name} does not exist"),
    }
}

impl AlarmSet {
    /// Number of alarms over all scopes.
    pub fn len(&self) -> usize {
        self.alarms.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, scope: &Scope, name: &str) -> Option<&MetricAlarm> {
        self.alarms.get(&key(scope))?.get(name)
    }

    fn record(&mut self, scope: ScopeKey, item: AlarmHistoryItem) {
        if self.history.len() >= MAX_HISTORY_ITEMS {
            self.history.pop_front();
        }
        self.history.push_back((scope, item));
    }

    /// PutMetricAlarm: validates, then creates the alarm (in `INSUFFICIENT_DATA`) or replaces
    /// the configuration of an existing one (keeping its state).
    pub fn put(
        &mut self,
        scope: &Scope,
        definition: AlarmDefinition,
        now_ms: i64,
    ) -> Result<(), MonitorError> {
        definition.validate()?;
        let k = key(scope);
        let alarms = self.alarms.entry(k.clone()).or_default();
        let item = match alarms.get_mut(&definition.alarm_name) {
            Some(existing) => {
                let item = AlarmHistoryItem::configuration_update(
                    ConfigurationChange::Update,
                    &definition,
                    Some(&existing.definition),
                    now_ms,
                );
                existing.definition = definition;
                existing.configuration_updated_ms = now_ms;
                item
            }
            None => {
                if alarms.len() >= MAX_ALARMS_PER_SCOPE {
                    return Err(MonitorError::LimitExceeded {
                        message: format!(
                            "The maximum number of alarms ({MAX_ALARMS_PER_SCOPE}) has been reached."
                        ),
                    });
                }
                let item = AlarmHistoryItem::configuration_update(
                    ConfigurationChange::Create,
                    &definition,
                    None,
                    now_ms,
                );
                alarms.insert(
                    definition.alarm_name.clone(),
                    MetricAlarm {
                        definition,
                        state: AlarmState::initial(now_ms),
                        configuration_updated_ms: now_ms,
                        state_transitioned_ms: now_ms,
                    },
                );
                item
            }
        };
        self.record(k, item);
        Ok(())
    }

    /// DeleteAlarms: deletes the alarms that exist; names that do not exist are reported
    /// (`ResourceNotFound`) after the others are deleted. History survives deletion.
    pub fn delete(
        &mut self,
        scope: &Scope,
        names: &[String],
        now_ms: i64,
    ) -> Result<(), MonitorError> {
        let k = key(scope);
        let mut missing = Vec::new();
        for name in names {
            let removed = self.alarms.get_mut(&k).and_then(|a| a.remove(name));
            match removed {
                Some(alarm) => {
                    let item = AlarmHistoryItem::configuration_update(
                        ConfigurationChange::Delete,
                        &alarm.definition,
                        None,
                        now_ms,
                    );
                    self.record(k.clone(), item);
                }
                None => missing.push(name.as_str()),
            }
        }
        if self.alarms.get(&k).is_some_and(BTreeMap::is_empty) {
            self.alarms.remove(&k);
        }
        match missing.as_slice() {
            [] => Ok(()),
            [one] => Err(not_found(one)),
            many => Err(MonitorError::ResourceNotFound {
                message: format!("Alarms {} do not exist", many.join(", ")),
            }),
        }
    }

    /// DescribeAlarms (metric alarms), sorted by name. `AlarmNames` and `AlarmNamePrefix` are
    /// exclusive; `ActionPrefix` matches any action of any of the three lists.
    pub fn describe(
        &self,
        scope: &Scope,
        filter: &DescribeFilter,
    ) -> Result<Vec<&MetricAlarm>, MonitorError> {
        if !filter.alarm_names.is_empty() && filter.alarm_name_prefix.is_some() {
            return Err(MonitorError::combination(
                "AlarmNames and AlarmNamePrefix cannot be specified together.",
            ));
        }
        let Some(alarms) = self.alarms.get(&key(scope)) else {
            return Ok(Vec::new());
        };
        Ok(alarms
            .values()
            .filter(|a| {
                let d = &a.definition;
                (filter.alarm_names.is_empty() || filter.alarm_names.contains(&d.alarm_name))
                    && filter
                        .alarm_name_prefix
                        .as_ref()
                        .is_none_or(|p| d.alarm_name.starts_with(p.as_str()))
                    && filter.state_value.is_none_or(|s| s == a.state.value)
                    && filter.action_prefix.as_ref().is_none_or(|p| {
                        d.ok_actions
                            .iter()
                            .chain(&d.alarm_actions)
                            .chain(&d.insufficient_data_actions)
                            .any(|arn| arn.starts_with(p.as_str()))
                    })
            })
            .collect())
    }

    /// DescribeAlarms with `MaxRecords` (1–100, default 50) and `NextToken` (the name of the
    /// last alarm returned): a page, and the token of the next one when more match.
    pub fn describe_page(
        &self,
        scope: &Scope,
        filter: &DescribeFilter,
        max_records: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<(Vec<&MetricAlarm>, Option<String>), MonitorError> {
        let max = max_records.unwrap_or(DEFAULT_MAX_RECORDS);
        if !(1..=MAX_RECORDS).contains(&max) {
            return Err(MonitorError::value(format!(
                "1 validation error detected: Value '{max}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and {MAX_RECORDS}"
            )));
        }
        let all = self.describe(scope, filter)?;
        let from = match next_token {
            None => 0,
            Some(token) => all.partition_point(|a| a.definition.alarm_name.as_str() <= token),
        };
        let page: Vec<&MetricAlarm> = all[from..].iter().take(max).copied().collect();
        let next = (from + page.len() < all.len())
            .then(|| page.last().map(|a| a.definition.alarm_name.clone()))
            .flatten();
        Ok((page, next))
    }

    /// SetAlarmState: sets the state until the next evaluation. A transition (and its history
    /// item) only when the value changes; otherwise the reason is replaced.
    pub fn set_state(
        &mut self,
        scope: &Scope,
        name: &str,
        value: StateValue,
        reason: &str,
        reason_data: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<Transition>, MonitorError> {
        if reason.chars().count() > MAX_STATE_REASON {
            return Err(MonitorError::value(format!(
                "1 validation error detected: Value at 'stateReason' failed to satisfy constraint: Member must have length less than or equal to {MAX_STATE_REASON}"
            )));
        }
        let reason_data = reason_data.unwrap_or_default();
        if reason_data.chars().count() > MAX_STATE_REASON_DATA {
            return Err(MonitorError::value(format!(
                "1 validation error detected: Value at 'stateReasonData' failed to satisfy constraint: Member must have length less than or equal to {MAX_STATE_REASON_DATA}"
            )));
        }
        if !reason_data.is_empty()
            && serde_json::from_str::<serde_json::Value>(reason_data).is_err()
        {
            return Err(MonitorError::InvalidFormat {
                message: "Invalid JSON in StateReasonData".into(),
            });
        }
        let k = key(scope);
        let alarm = self
            .alarms
            .get_mut(&k)
            .and_then(|a| a.get_mut(name))
            .ok_or_else(|| not_found(name))?;
        let new_state = AlarmState {
            value,
            reason: reason.to_owned(),
            reason_data: reason_data.to_owned(),
            updated_ms: now_ms,
        };
        if alarm.state.value == value {
            alarm.state = new_state;
            return Ok(None);
        }
        let transition = Transition {
            alarm_name: name.to_owned(),
            old_state: std::mem::replace(&mut alarm.state, new_state.clone()),
            new_state,
        };
        alarm.state_transitioned_ms = now_ms;
        self.record(k, AlarmHistoryItem::state_update(&transition));
        Ok(Some(transition))
    }

    /// Enable/DisableAlarmActions; names that do not exist are skipped.
    pub fn set_actions_enabled(&mut self, scope: &Scope, names: &[String], enabled: bool) {
        if let Some(alarms) = self.alarms.get_mut(&key(scope)) {
            for name in names {
                if let Some(a) = alarms.get_mut(name) {
                    a.definition.actions_enabled = enabled;
                }
            }
        }
    }

    /// Evaluates every alarm at `now_ms`, applies the transitions, records them in the history
    /// and returns them. An alarm whose query fails keeps its state (logged).
    pub fn evaluate_all(&mut self, store: &MetricStore, now_ms: i64) -> Vec<FiredTransition> {
        let mut fired = Vec::new();
        for ((account, region), alarms) in &mut self.alarms {
            let scope = Scope {
                account: account.clone(),
                region: region.clone(),
            };
            for alarm in alarms.values_mut() {
                match evaluate(&alarm.definition, &scope, store, now_ms, &alarm.state) {
                    Ok(Some(transition)) => {
                        alarm.state = transition.new_state.clone();
                        alarm.state_transitioned_ms = now_ms;
                        fired.push(FiredTransition {
                            scope: scope.clone(),
                            definition: alarm.definition.clone(),
                            configuration_updated_ms: alarm.configuration_updated_ms,
                            transition,
                        });
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(alarm = %alarm.definition.alarm_name, %error, "alarm evaluation failed");
                    }
                }
            }
        }
        for f in &fired {
            self.record(key(&f.scope), AlarmHistoryItem::state_update(&f.transition));
        }
        fired
    }

    /// Records an item (an `Action` outcome from the notifier).
    pub fn record_history(&mut self, scope: &Scope, item: AlarmHistoryItem) {
        self.record(key(scope), item);
    }

    /// DescribeAlarmHistory: items of `scope` in `[start_ms, end_ms)`, newest first.
    pub fn history(
        &self,
        scope: &Scope,
        alarm_name: Option<&str>,
        item_type: Option<HistoryItemType>,
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<&AlarmHistoryItem> {
        let k = key(scope);
        self.history
            .iter()
            .rev()
            .filter(|(s, _)| *s == k)
            .map(|(_, item)| item)
            .filter(|i| alarm_name.is_none_or(|n| n == i.alarm_name))
            .filter(|i| item_type.is_none_or(|t| t == i.history_item_type))
            .filter(|i| (start_ms..end_ms).contains(&i.timestamp_ms))
            .collect()
    }

    /// Drops history older than two weeks before `now_ms`.
    pub fn expire_history(&mut self, now_ms: i64) {
        let horizon = now_ms.saturating_sub(HISTORY_RETENTION_MS);
        self.history.retain(|(_, i)| i.timestamp_ms >= horizon);
    }
}
