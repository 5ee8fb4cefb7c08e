//! Engine configuration.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use flowwatch_model::{Clock, SystemClock};
use flowwatch_monitor::notify::NotifierConfig;
use flowwatch_security::SecretKey;
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
    /// Bytes one Logs Insights query may hold: its input table, and separately DataFusion's
    /// operators (sorts, aggregations). A query past it fails.
    pub query_memory_limit: usize,
    /// The network interfaces flow logs on VPCs and subnets cover; without one, CreateFlowLogs
    /// takes any well-formed resource id and only interface flow logs match records.
    pub inventory: Option<Arc<crate::flow_logs::Inventory>>,
    /// Request authentication (SigV4 verification, the root credentials).
    pub auth: AuthConfig,
    /// Flow-log delivery to S3: where buckets are, when windows are written.
    pub s3_delivery: crate::flow_logs::S3DeliveryConfig,
    /// When trails write their log files and digests (to the buckets of `s3_delivery.store`).
    pub trail_files: crate::audit::trails::TrailFilesConfig,
    /// Rate limits as a multiple of AWS's quotas (`crate::throttle`); 0 turns them off.
    pub rate_limit_scale: f64,
}

/// How requests are authenticated.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// Verify every request's SigV4 signature (`flowwatch serve --auth off` turns it off for
    /// development: any well-formed signature then acts as the account root).
    pub verify: bool,
    /// The account root's access key: always allowed everything.
    pub root: Option<RootCredentials>,
}

/// The root user's long-term access key.
#[derive(Debug, Clone)]
pub struct RootCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretKey,
}

impl EngineConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            s3_delivery: crate::flow_logs::S3DeliveryConfig::new(&data_dir),
            storage: StorageConfig::new(data_dir),
            account_id: flowwatch_model::caller::DEFAULT_ACCOUNT_ID.to_owned(),
            clock: Arc::new(SystemClock),
            notifier: NotifierConfig::default(),
            sns_auto_confirm: false,
            alarm_evaluation_interval: Duration::from_secs(60),
            query_memory_limit: 1 << 30,
            inventory: None,
            auth: AuthConfig::default(),
            trail_files: Default::default(),
            rate_limit_scale: 1.0,
        }
    }
}
