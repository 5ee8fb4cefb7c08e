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

mod config;
mod error;
pub mod logs;
mod token;

use std::sync::Arc;

use flowwatch_model::Clock;
use flowwatch_storage::Storage;

pub use config::EngineConfig;
pub use error::{EngineError, storage_error};

/// The flowwatch engine: every AWS action, over the storage.
#[derive(Debug, Clone)]
pub struct Engine {
    storage: Storage,
    clock: Arc<dyn Clock>,
    config: Arc<EngineConfig>,
}

impl Engine {
    /// Opens the storage in the configured data directory and starts background work.
    pub async fn open(config: EngineConfig) -> Result<Self, EngineError> {
        let clock = config.clock.clone();
        let storage = Storage::open(config.storage.clone(), clock.clone()).await?;
        Ok(Self {
            storage,
            clock,
            config: Arc::new(config),
        })
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

    /// Flushes memory to segments and stops background work.
    pub async fn shutdown(&self) -> Result<(), EngineError> {
        self.storage.close().await?;
        Ok(())
    }
}
