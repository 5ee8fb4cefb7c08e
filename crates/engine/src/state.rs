//! Engine state kept whole in the catalog (alarms, SNS topics): [`Persisted`] holds a value in
//! memory and replaces its saved copy after every change, before the change is answered.

use serde::Serialize;
use serde::de::DeserializeOwned;

use flowwatch_model::{ApiError, ApiResult};
use flowwatch_storage::Storage;

use crate::error::{EngineError, storage_error};

/// A value the engine changes through [`Persisted::update`]: the change is made on a copy,
/// the copy is saved, and only then does it replace the value in memory. A failed save leaves
/// memory and disk as they were, so a client is never told of a change that would not survive
/// a restart.
#[derive(Debug)]
pub(crate) struct Persisted<T> {
    name: &'static str,
    storage: Storage,
    value: tokio::sync::Mutex<T>,
}

impl<T> Persisted<T>
where
    T: Serialize + DeserializeOwned + Clone + Default + Send,
{
    /// Loads the value saved under `name` (the default when none was). A saved value that
    /// does not decode stops the engine from starting rather than being silently dropped.
    pub(crate) fn load(storage: &Storage, name: &'static str) -> Result<Self, EngineError> {
        let value = match storage.engine_state(name)? {
            None => T::default(),
            Some(text) => {
                serde_json::from_str(&text).map_err(|error| EngineError::CorruptState {
                    name,
                    detail: error.to_string(),
                })?
            }
        };
        Ok(Self {
            name,
            storage: storage.clone(),
            value: tokio::sync::Mutex::new(value),
        })
    }

    /// Reads the value.
    pub(crate) async fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&*self.value.lock().await)
    }

    /// Changes the value: `f` works on a copy; when it succeeds the copy is saved and becomes
    /// the value. Changes are serialised, so saves never overtake each other.
    pub(crate) async fn update<R>(&self, f: impl FnOnce(&mut T) -> ApiResult<R>) -> ApiResult<R> {
        self.update_when(|value| f(value).map(|r| (r, true))).await
    }

    /// Like [`Persisted::update`], but `f` says whether it changed anything; nothing is saved
    /// when it did not.
    pub(crate) async fn update_when<R>(
        &self,
        f: impl FnOnce(&mut T) -> ApiResult<(R, bool)>,
    ) -> ApiResult<R> {
        let mut guard = self.value.lock().await;
        let mut copy = guard.clone();
        let (result, changed) = f(&mut copy)?;
        if changed {
            let text = serde_json::to_string(&copy).map_err(|error| {
                tracing::error!(state = self.name, %error, "engine state does not serialise");
                ApiError::internal("The service cannot complete the request; try again later.")
            })?;
            self.storage
                .save_engine_state(self.name, text)
                .await
                .map_err(storage_error)?;
            *guard = copy;
        }
        Ok(result)
    }
}
