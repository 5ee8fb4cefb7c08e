//! Engine errors and the one mapping from each library's errors (storage, monitor) to AWS
//! errors.

use flowwatch_model::{ApiError, ErrorCode};
use flowwatch_monitor::MonitorError;
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
    Notify(#[from] flowwatch_monitor::MonitorError),
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

/// Maps a metric-store, alarm or SNS error to the AWS error a client sees (each variant belongs
/// to one service: CloudWatch's or SNS's codes).
pub(crate) fn monitor_error(error: MonitorError) -> ApiError {
    use MonitorError as E;
    let code = match &error {
        E::TooManyDatapoints { .. }
        | E::InvalidTimeRange { .. }
        | E::InvalidParameterCombination { .. } => ErrorCode::InvalidParameterCombinationException,
        E::InvalidPeriod { period_s } => {
            return ApiError::new(
                ErrorCode::InvalidParameterValueException,
                format!(
                    "The parameter Period must be a multiple of 60 (got {period_s}); flowwatch stores metrics at one-minute resolution."
                ),
            );
        }
        E::InvalidStatistic { .. }
        | E::InvalidValue { .. }
        | E::InvalidStatisticSet { .. }
        | E::InvalidFilter { .. }
        | E::InvalidParameterValue { .. } => ErrorCode::InvalidParameterValueException,
        E::TooManyMetrics { .. } | E::LimitExceeded { .. } => ErrorCode::LimitExceededFault,
        E::MissingParameter { .. } => ErrorCode::MissingRequiredParameterException,
        E::ResourceNotFound { .. } => ErrorCode::ResourceNotFound,
        E::InvalidFormat { .. } => ErrorCode::InvalidFormatFault,
        E::InvalidSnapshot { .. } | E::EvaluationFailed { .. } => {
            tracing::error!(%error, "metric store failure");
            ErrorCode::InternalServiceFault
        }
        // SNS.
        E::InvalidParameter { parameter, reason } => {
            return ApiError::new(
                ErrorCode::InvalidParameter,
                format!("Invalid parameter: {parameter}: {reason}"),
            );
        }
        E::NotFound { what, .. } => {
            let mut what = what.to_string();
            what[..1].make_ascii_uppercase();
            return ApiError::new(ErrorCode::NotFound, format!("{what} does not exist"));
        }
        E::InvalidConfig { .. } => ErrorCode::InvalidParameter,
        E::TopicLimitExceeded { .. } => ErrorCode::TopicLimitExceeded,
        E::SubscriptionLimitExceeded { .. } => ErrorCode::SubscriptionLimitExceeded,
        E::QueueFull { .. } => ErrorCode::Throttled,
        E::Shutdown => ErrorCode::InternalError,
    };
    let mut message = error.to_string();
    if let Some(first) = message.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    ApiError::new(code, message)
}
