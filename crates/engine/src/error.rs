//! Engine errors and the one mapping from storage errors to AWS errors.

use flowwatch_model::{ApiError, ErrorCode};
use flowwatch_storage::StorageError;

/// Errors opening or closing the engine (per-request errors are [`ApiError`]s).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Saved engine state (alarms, topics) that does not decode.
    #[error("saved {name} state does not decode: {detail}")]
    CorruptState { name: &'static str, detail: String },
    /// The notifier cannot start (an invalid SMTP configuration).
    #[error("notifications: {0}")]
    Notify(#[from] flowwatch_monitor::notify::NotifyError),
}

/// Maps a storage error to the AWS error a client sees; internal failures are logged here,
/// once, and answered with a generic ServiceUnavailableException.
pub fn storage_error(error: StorageError) -> ApiError {
    match error {
        StorageError::LogGroupExists => {
            ApiError::already_exists("The specified log group already exists")
        }
        StorageError::LogGroupNotFound => ApiError::log_group_not_found(),
        StorageError::LogStreamExists => {
            ApiError::already_exists("The specified log stream already exists")
        }
        StorageError::LogStreamNotFound => ApiError::log_stream_not_found(),
        StorageError::TooManyLogGroups { limit } => ApiError::new(
            ErrorCode::LimitExceededException,
            format!("Resource limit exceeded: at most {limit} log groups per account and region."),
        ),
        StorageError::Refused(error) => error,
        StorageError::Closed => {
            ApiError::internal("The service is shutting down or cannot write; try again later.")
        }
        other => {
            tracing::error!(error = %other, "storage failure");
            ApiError::internal("The service cannot complete the request; try again later.")
        }
    }
}
