//! Engine configuration.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use flowwatch_model::{Clock, SystemClock};
use flowwatch_monitor::notify::NotifierConfig;
use flowwatch_storage::StorageConfig;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub storage: StorageConfig,
    /// Account every request acts in until IAM resolves principals to accounts.
    pub account_id: String,
    pub clock: Arc<dyn Clock>,
    /// How SNS deliveries are made (SMTP relay, retries, the URLs messages link to).
    pub notifier: NotifierConfig,
    /// Confirm new SNS subscriptions at once, without a confirmation message (closed
    /// networks); off by default, as in SNS.
    pub sns_auto_confirm: bool,
    /// How often every alarm is evaluated (CloudWatch: every minute).
    pub alarm_evaluation_interval: Duration,
    /// The network interfaces flow logs on VPCs and subnets cover; without one, CreateFlowLogs
    /// takes any well-formed resource id and only interface flow logs match records.
    pub inventory: Option<Arc<crate::flow_logs::Inventory>>,
}

impl EngineConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            storage: StorageConfig::new(data_dir),
            account_id: flowwatch_model::caller::DEFAULT_ACCOUNT_ID.to_owned(),
            clock: Arc::new(SystemClock),
            notifier: NotifierConfig::default(),
            sns_auto_confirm: false,
            alarm_evaluation_interval: Duration::from_secs(60),
            inventory: None,
        }
    }
}
