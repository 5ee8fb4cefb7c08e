//! Engine configuration.

use std::path::PathBuf;
use std::sync::Arc;

use flowwatch_model::{Clock, SystemClock};
use flowwatch_storage::StorageConfig;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub storage: StorageConfig,
    /// Account every request acts in until IAM resolves principals to accounts.
    pub account_id: String,
    pub clock: Arc<dyn Clock>,
}

impl EngineConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            storage: StorageConfig::new(data_dir),
            account_id: flowwatch_model::caller::DEFAULT_ACCOUNT_ID.to_owned(),
            clock: Arc::new(SystemClock),
        }
    }
}
