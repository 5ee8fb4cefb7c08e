//! # flowwatch-engine
//!
//! The composition layer: one async method per AWS action, HTTP-agnostic. Each takes the
//! resolved [`Caller`](flowwatch_model::Caller) and the action's request shape from
//! [`flowwatch_model`], validates it at the edge into newtypes, calls the storage (and later the
//! monitor, capture, query and security engines) and returns the response shape or an
//! [`ApiError`](flowwatch_model::ApiError). The engine owns the clock and the background work;
//! [`Engine::shutdown`] flushes.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use flowwatch_engine::{Engine, EngineConfig};
//! let engine = Engine::open(EngineConfig::new("./flowwatch-data")).await?;
//! engine.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod alarms;
pub mod audit;
pub mod auth;
pub mod cloudwatch;
mod config;
mod error;
pub mod flow_logs;
pub mod iam;
mod internal;
pub mod logs;
pub mod metric_data;
mod metric_math;
mod monitoring;
pub mod sns;
mod state;
pub mod throttle;
mod token;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use flowwatch_model::Clock;
use flowwatch_model::logs::MetricFilter;
use flowwatch_monitor::notify::Notifier;
use flowwatch_monitor::{MetricFilterObserver, ObserverConfig};
use flowwatch_storage::{IngestObserver, Storage};

use crate::monitoring::Monitoring;
use crate::state::Persisted;

pub use config::{AuthConfig, EngineConfig, RootCredentials};
pub use error::{EngineError, storage_error};
pub(crate) use internal::is_internal_group;

/// The flowwatch engine: every AWS action, over the storage.
#[derive(Debug, Clone)]
pub struct Engine {
    storage: Storage,
    clock: Arc<dyn Clock>,
    config: Arc<EngineConfig>,
    /// Metric filters applied to every durable event (an ingest observer of the storage).
    metric_filters: Arc<MetricFilterObserver>,
    /// Alarms, SNS topics and the notifier.
    monitoring: Arc<Monitoring>,
    /// Logs Insights queries: status, results, execution slots.
    queries: Arc<logs::queries::QueryRegistry>,
    /// Saved Logs Insights queries.
    query_definitions: Arc<Persisted<logs::query_definitions::QueryDefinitions>>,
    /// VPC flow logs (EC2 resources).
    flow_logs: Arc<Persisted<flow_logs::FlowLogSet>>,
    /// IAM users, keys, roles and policies, and STS sessions.
    iam: Arc<Persisted<iam::IamState>>,
    /// CloudTrail trails, and their latest deliveries (in memory).
    trails: Arc<Persisted<audit::trails::TrailSet>>,
    trail_deliveries: Arc<audit::trails::Deliveries>,
    /// What trails delivered to S3 (marks, digest chains), their latest S3 deliveries (in
    /// memory), and the lock that keeps delivery passes from overlapping.
    trail_files: Arc<Persisted<audit::trails::TrailFiles>>,
    trail_s3_statuses: Arc<Mutex<std::collections::HashMap<String, audit::trails::S3Status>>>,
    trail_files_running: Arc<tokio::sync::Mutex<()>>,
    /// The keys that sign CloudTrail digests.
    signing_keys: Arc<Persisted<audit::keys::SigningKeys>>,
    /// Flow-log records buffered for S3 and the buckets they are written to.
    s3: Arc<flow_logs::S3Delivery>,
    /// Flow-log records held until their role lets them be delivered to CloudWatch Logs.
    flow_log_backlog: Arc<flow_logs::Backlog>,
    /// Every principal's rate-limit buckets.
    throttle: Arc<throttle::Throttle>,
    /// Background tasks, stopped by [`Engine::shutdown`].
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Engine {
    /// Opens the storage in the configured data directory and starts background work.
    pub async fn open(config: EngineConfig) -> Result<Self, EngineError> {
        let clock = config.clock.clone();
        let metric_filters = Arc::new(MetricFilterObserver::new(ObserverConfig::default()));
        let observer: Arc<dyn IngestObserver> = metric_filters.clone();
        let storage =
            Storage::open_with_observers(config.storage.clone(), clock.clone(), vec![observer])
                .await?;
        let monitoring = Arc::new(Monitoring {
            alarms: Persisted::load(&storage, "alarms")?,
            topics: Persisted::load(&storage, "sns_topics")?,
            notifier: Notifier::new(config.notifier.clone(), clock.clone())?,
            failed_deliveries: Default::default(),
        });
        let flow_logs = Arc::new(Persisted::load(&storage, "flow_logs")?);
        let query_definitions = Arc::new(Persisted::load(&storage, "query_definitions")?);
        let iam = Arc::new(Persisted::load(&storage, "iam")?);
        let trails = Arc::new(Persisted::load(&storage, "cloudtrail_trails")?);
        let trail_files = Arc::new(Persisted::load(&storage, "cloudtrail_files")?);
        let signing_keys = Arc::new(Persisted::load(&storage, "cloudtrail_signing_keys")?);
        let s3 = Arc::new(flow_logs::S3Delivery::new(
            config.s3_delivery.clone(),
            Persisted::load(&storage, "s3_written")?,
        ));
        let flow_log_backlog = Arc::new(flow_logs::Backlog::new(Persisted::load(
            &storage,
            "flow_log_backlog",
        )?));
        let engine = Self {
            storage,
            clock,
            config: Arc::new(config),
            metric_filters,
            monitoring,
            queries: Arc::new(logs::queries::QueryRegistry::new(
                logs::queries::MAX_RUNNING,
            )),
            query_definitions,
            flow_logs,
            iam,
            trails,
            trail_deliveries: Arc::default(),
            trail_files,
            trail_s3_statuses: Arc::default(),
            trail_files_running: Arc::default(),
            signing_keys,
            s3,
            flow_log_backlog,
            throttle: Arc::default(),
            tasks: Arc::default(),
        };
        for group in engine.storage.all_log_groups() {
            engine.load_metric_filters(group.id, &group.scope, &group.name);
        }
        engine.replay_s3_pending().await;
        engine.load_flow_log_backlogs().await;
        // Closes quiet minutes (defaultValue) and expires old metric data.
        let ticking = engine.clone();
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(15)).await;
                // Minutes close after the batches acknowledged before them are applied.
                if let Err(error) = ticking.storage.observers_caught_up().await {
                    tracing::warn!(%error, "metric minutes closed before observers caught up");
                }
                ticking.metric_filters.tick(ticking.now());
            }
        });
        // Evaluates every alarm each interval (CloudWatch: each minute).
        let evaluating = engine.clone();
        let interval = engine.config.alarm_evaluation_interval;
        let evaluator = tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                evaluating.evaluate_alarms().await;
            }
        });
        let deliveries = tokio::spawn(monitoring::log_deliveries(
            engine.monitoring.notifier.subscribe_records(),
            engine.monitoring.clone(),
        ));
        // Writes the S3 flow-log files of closed windows and retries held CloudWatch Logs
        // deliveries (at once when a role changed). Each round runs in its own task so that
        // stopping this loop never interrupts a write (shutdown waits for it).
        let flushing = engine.clone();
        let s3_flusher = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(flushing.s3.tick()) => {}
                    () = flushing.flow_log_backlog.wake.notified() => {}
                }
                let engine = flushing.clone();
                let _ = tokio::spawn(async move {
                    engine.flush_s3(false).await;
                    engine.drain_flow_log_backlogs().await;
                })
                .await;
            }
        });
        // Writes trails' log files and digests, each pass in its own task like the flushes.
        let delivering = engine.clone();
        let trail_files = tokio::spawn(async move {
            loop {
                tokio::time::sleep(delivering.config.trail_files.delivery_period).await;
                let engine = delivering.clone();
                let _ = tokio::spawn(async move { engine.deliver_trail_files(false).await }).await;
            }
        });
        engine
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend([ticker, evaluator, deliveries, s3_flusher, trail_files]);
        Ok(engine)
    }

    /// Gives the metric-filter observer a group's current filters from the catalog.
    pub(crate) fn load_metric_filters(
        &self,
        group_id: i64,
        scope: &flowwatch_model::Scope,
        group: &str,
    ) {
        let filters: Vec<MetricFilter> = self
            .storage
            .metric_filters(scope, group)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(name, definition)| match serde_json::from_str(&definition) {
                Ok(filter) => Some(filter),
                Err(error) => {
                    tracing::error!(%group, filter = %name, %error, "stored metric filter does not decode");
                    None
                }
            })
            .collect();
        if let Err(error) = self.metric_filters.set_filters(group_id, scope, filters) {
            tracing::error!(%group, %error, "metric filters of the group could not be applied");
        }
    }

    /// Waits until the metric store holds every event acknowledged before the call (metric
    /// filters and PutMetricData are applied on the storage's observer thread): call it before
    /// reading metrics, for read-your-writes.
    pub(crate) async fn metrics_caught_up(&self) -> flowwatch_model::ApiResult<()> {
        self.storage
            .observers_caught_up()
            .await
            .map_err(storage_error)
    }

    /// The metric-filter observer (its metric store answers CloudWatch metric queries).
    pub fn metric_filter_observer(&self) -> &MetricFilterObserver {
        &self.metric_filters
    }

    /// The storage engine underneath.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_millis()
    }

    /// Writes every buffered S3 flow-log window and trails' pending log files, flushes memory
    /// to segments and stops background work.
    pub async fn shutdown(&self) -> Result<(), EngineError> {
        let tasks = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for task in tasks {
            task.abort();
        }
        self.flush_s3(true).await;
        self.deliver_trail_files(true).await;
        self.storage.close().await?;
        Ok(())
    }
}
