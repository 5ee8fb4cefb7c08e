//! The monitoring half of the engine: the persisted alarms and SNS topics, the evaluation of
//! every alarm each interval, and the actions a transition runs (publishing CloudWatch's alarm
//! message to SNS topics through the [`Notifier`]).
//!
//! Order of a transition: the evaluation's new states and `StateUpdate` history are saved
//! first; then each action of the new state is run and recorded as an `Action` history item
//! (`Successfully executed action ...` when the publish was accepted for delivery). Delivery
//! outcomes are logged by [`log_deliveries`]; a failed delivery is logged with its reason,
//! never dropped silently.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flowwatch_model::Scope;
use flowwatch_monitor::alarms::{
    AlarmHistoryItem, AlarmSet, FiredTransition, StateValue, alarm_notification_message,
    alarm_notification_subject,
};
use flowwatch_monitor::notify::{DeliveryOutcome, Notifier, TopicSet};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::state::Persisted;

/// The SNS topics of every (account, region), saved whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Topics {
    sets: Vec<TopicSet>,
}

impl Topics {
    pub(crate) fn get(&self, scope: &Scope) -> Option<&TopicSet> {
        self.get_by(&scope.account, &scope.region)
    }

    fn get_by(&self, account: &str, region: &str) -> Option<&TopicSet> {
        self.sets
            .iter()
            .find(|s| s.account == account && s.region == region)
    }

    /// The topic set of `scope`, created on first use.
    pub(crate) fn get_mut(&mut self, scope: &Scope, auto_confirm: bool) -> &mut TopicSet {
        let index = match self
            .sets
            .iter()
            .position(|s| s.account == scope.account && s.region == scope.region)
        {
            Some(i) => i,
            None => {
                self.sets.push(
                    TopicSet::new(&scope.account, &scope.region).with_auto_confirm(auto_confirm),
                );
                self.sets.len() - 1
            }
        };
        &mut self.sets[index]
    }

    /// The topic set an SNS topic ARN (`arn:aws:sns:<region>:<account>:<name>`) belongs to.
    pub(crate) fn for_arn(&self, arn: &str) -> Option<&TopicSet> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(_partition), Some("sns"), Some(region), Some(account)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        self.get_by(account, region)
    }
}

/// The monitoring state the engine holds.
#[derive(Debug)]
pub(crate) struct Monitoring {
    pub(crate) alarms: Persisted<AlarmSet>,
    pub(crate) topics: Persisted<Topics>,
    pub(crate) notifier: Notifier,
    /// Deliveries that ended in failure since start.
    pub(crate) failed_deliveries: AtomicU64,
}

impl Engine {
    pub(crate) fn alarms(&self) -> &Persisted<AlarmSet> {
        &self.monitoring.alarms
    }

    pub(crate) fn topics(&self) -> &Persisted<Topics> {
        &self.monitoring.topics
    }

    pub(crate) fn notifier(&self) -> &Notifier {
        &self.monitoring.notifier
    }

    /// Deliveries to SNS subscribers that failed for good since the engine started.
    pub fn failed_deliveries(&self) -> u64 {
        self.monitoring.failed_deliveries.load(Ordering::Relaxed)
    }

    /// Evaluates every alarm at the engine's current time, saves the transitions and runs
    /// their actions. Returns how many alarms changed state.
    pub async fn evaluate_alarms(&self) -> usize {
        // Alarms are not evaluated on metrics known to miss acknowledged data.
        if let Err(error) = self.storage().observers_caught_up().await {
            tracing::error!(%error, "alarms not evaluated: metrics are not up to date");
            return 0;
        }
        let now = self.now();
        let observer = self.metric_filter_observer();
        let fired = self
            .alarms()
            .update_when(|set| {
                let fired = observer.with_store(|store| set.evaluate_all(store, now));
                let before = set.clone();
                set.expire_history(now);
                let changed = !fired.is_empty() || *set != before;
                Ok((fired, changed))
            })
            .await;
        match fired {
            Ok(fired) => {
                let n = fired.len();
                self.run_alarm_actions(fired).await;
                n
            }
            Err(error) => {
                tracing::error!(%error, "alarm evaluation could not be saved; will retry");
                0
            }
        }
    }

    /// Runs the actions of each transition whose alarm has actions enabled, and records each
    /// as an `Action` history item.
    pub(crate) async fn run_alarm_actions(&self, fired: Vec<FiredTransition>) {
        let mut records: Vec<(Scope, AlarmHistoryItem)> = Vec::new();
        for f in &fired {
            let def = &f.definition;
            tracing::info!(
                alarm = %def.alarm_name,
                from = %f.transition.old_state.value,
                to = %f.transition.new_state.value,
                "alarm state changed"
            );
            if !def.actions_enabled {
                continue;
            }
            let actions = match f.transition.new_state.value {
                StateValue::Ok => &def.ok_actions,
                StateValue::Alarm => &def.alarm_actions,
                StateValue::InsufficientData => &def.insufficient_data_actions,
            };
            for arn in actions {
                let outcome = self.publish_alarm(f, arn).await;
                if let Err(reason) = &outcome {
                    tracing::warn!(alarm = %def.alarm_name, action = %arn, %reason, "alarm action failed");
                }
                records.push((
                    f.scope.clone(),
                    AlarmHistoryItem::action(
                        &def.alarm_name,
                        self.now(),
                        arn,
                        outcome.is_ok(),
                        outcome.as_ref().err().map_or("", String::as_str),
                    ),
                ));
            }
        }
        if records.is_empty() {
            return;
        }
        let saved = self
            .alarms()
            .update(|set| {
                for (scope, item) in records {
                    set.record_history(&scope, item);
                }
                Ok(())
            })
            .await;
        if let Err(error) = saved {
            tracing::error!(%error, "alarm action history could not be saved");
        }
    }

    /// Publishes CloudWatch's alarm message to the SNS topic `arn`.
    async fn publish_alarm(&self, f: &FiredTransition, arn: &str) -> Result<String, String> {
        if !arn.starts_with("arn:aws:sns:") {
            return Err(format!(
                "flowwatch runs SNS topic actions only; {arn} is not an SNS topic"
            ));
        }
        let subject = alarm_notification_subject(&f.definition, &f.scope.region, &f.transition);
        let message = alarm_notification_message(
            &f.definition,
            &f.scope.account,
            &f.scope.region,
            f.configuration_updated_ms,
            &f.transition,
        )
        .to_string();
        self.topics()
            .read(|topics| {
                let set = topics
                    .for_arn(arn)
                    .ok_or_else(|| format!("SNS topic {arn} does not exist"))?;
                let topic = set.topic(arn).map_err(|e| e.to_string())?;
                self.notifier()
                    .publish(topic, Some(&subject), &message)
                    .map_err(|e| e.to_string())
            })
            .await
    }
}

/// Logs every delivery outcome of the notifier and counts the failures, until the notifier
/// goes away.
pub(crate) async fn log_deliveries(
    mut records: tokio::sync::broadcast::Receiver<flowwatch_monitor::notify::DeliveryRecord>,
    failed: Arc<Monitoring>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match records.recv().await {
            Ok(record) => match &record.outcome {
                DeliveryOutcome::Delivered { .. } => tracing::info!(
                    topic = %record.topic_arn,
                    endpoint = %record.endpoint,
                    protocol = %record.protocol,
                    message_id = %record.message_id,
                    "notification delivered"
                ),
                other => {
                    failed.failed_deliveries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        topic = %record.topic_arn,
                        endpoint = %record.endpoint,
                        protocol = %record.protocol,
                        message_id = %record.message_id,
                        outcome = ?other,
                        "notification delivery failed"
                    );
                }
            },
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "delivery log fell behind; outcomes were not logged"
                );
            }
            Err(RecvError::Closed) => return,
        }
    }
}
