//! The errors of SNS topics, subscriptions and delivery, shaped like SNS's own.

use thiserror::Error;

/// What can go wrong with topics and subscriptions. [`NotifyError::code`] gives the AWS error
/// code the wire layer answers with; messages are lowercase and name the offending value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotifyError {
    /// A parameter that breaks SNS's rules (a topic name, a protocol, an endpoint, an attribute).
    #[error("invalid parameter: {parameter}: {reason}")]
    InvalidParameter {
        parameter: &'static str,
        reason: String,
    },
    /// A topic or subscription that does not exist (or a token that matches none).
    #[error("{what} does not exist: {arn}")]
    NotFound { what: &'static str, arn: String },
    /// An account holds as many topics as it may.
    #[error("too many topics: an account holds at most {max}")]
    TopicLimitExceeded { max: usize },
    /// A topic holds as many subscriptions as it may.
    #[error("too many subscriptions: a topic holds at most {max}")]
    SubscriptionLimitExceeded { max: usize },
    /// The delivery queue is full: the publish was not accepted.
    #[error("the delivery queue is full ({capacity} deliveries)")]
    QueueFull { capacity: usize },
    /// The notifier's workers have stopped.
    #[error("the notifier is shut down")]
    Shutdown,
    /// A delivery configuration that cannot work (an SMTP host, a from address).
    #[error("invalid delivery configuration: {reason}")]
    InvalidConfig { reason: String },
}

impl NotifyError {
    /// The AWS error code SNS answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameter { .. } | Self::InvalidConfig { .. } => "InvalidParameter",
            Self::NotFound { .. } => "NotFound",
            Self::TopicLimitExceeded { .. } => "TopicLimitExceeded",
            Self::SubscriptionLimitExceeded { .. } => "SubscriptionLimitExceeded",
            Self::QueueFull { .. } => "Throttled",
            Self::Shutdown => "InternalError",
        }
    }

    pub(crate) fn invalid(parameter: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            parameter,
            reason: reason.into(),
        }
    }
}
