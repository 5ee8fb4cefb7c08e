//! The closed set of AWS error codes flowwatch answers with, and their HTTP status.

use std::fmt;

/// Every error code flowwatch can put on the wire. Adding a code here is the only way to answer
/// with a new one; its HTTP status is decided here, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidParameterException,
    ResourceNotFoundException,
    ResourceAlreadyExistsException,
    LimitExceededException,
    OperationAbortedException,
    InvalidOperationException,
    MalformedQueryException,
    TooManyTagsException,
    ValidationException,
    AccessDeniedException,
    ThrottlingException,
    ServiceUnavailableException,
    UnrecognizedClientException,
    UnknownOperationException,
    SerializationException,
    MissingAuthenticationToken,
    IncompleteSignature,
    InvalidSignatureException,
    /// The request's timestamp is more than five minutes from the server's clock, or a
    /// presigned request has expired: InvalidSignatureException on the JSON protocols,
    /// RequestExpired on the query protocols.
    RequestExpired,
    /// Temporary credentials past their expiry (query code `ExpiredToken`).
    ExpiredTokenException,
    RequestEntityTooLargeException,
    InternalFailure,
    // CloudWatch (query-compatible: see `query_code`).
    InvalidParameterValueException,
    MissingRequiredParameterException,
    InvalidParameterCombinationException,
    InvalidNextToken,
    InternalServiceFault,
    /// An alarm that does not exist (DeleteAlarms, SetAlarmState): 404.
    ResourceNotFound,
    /// SetAlarmState's StateReasonData is not JSON (query code `InvalidFormat`).
    InvalidFormatFault,
    /// PutMetricAlarm beyond the alarms a region may hold (query code `LimitExceeded`).
    LimitExceededFault,
    // SNS (awsQuery).
    NotFound,
    InvalidParameter,
    TopicLimitExceeded,
    SubscriptionLimitExceeded,
    Throttled,
    InternalError,
    AuthorizationError,
    /// A rate limit (CloudWatch, IAM and STS spell it `Throttling`; 400).
    Throttling,
    /// EC2's rate limit (503).
    RequestLimitExceeded,
    // The query protocols (awsQuery, ec2Query): the request itself is not an operation call.
    /// The `Action` parameter names no operation of the service.
    InvalidAction,
    /// The request has no `Action` parameter.
    MissingAction,
    /// The form's parameter names do not follow the protocol (`X.member.N`, `X.entry.N.key`).
    InvalidQueryParameter,
    // IAM and STS (awsQuery).
    NoSuchEntity,
    EntityAlreadyExists,
    DeleteConflict,
    MalformedPolicyDocument,
    InvalidInput,
    /// IAM's quota errors (query code `LimitExceeded`, 409).
    IamLimitExceeded,
    /// IAM's and STS's ValidationError (400).
    ValidationError,
    /// A denied request to IAM, STS or CloudWatch (403, on every protocol).
    AccessDenied,
    // EC2 (ec2Query) authorization.
    /// A denied EC2 request (403).
    UnauthorizedOperation,
    // EC2 (ec2Query).
    /// DryRun=true on a request that would have succeeded: 412.
    DryRunOperation,
    /// A flow-log id that names no flow log (`InvalidFlowLogId.NotFound`).
    InvalidFlowLogIdNotFound,
    /// A flow log with the same configuration exists.
    FlowLogAlreadyExists,
    /// More flow logs on one resource than the quota allows.
    FlowLogsLimitExceeded,
    /// A ClientToken reused with different parameters.
    IdempotentParameterMismatch,
    /// A request flowwatch understands but does not serve (Transit Gateway flow logs, Firehose).
    UnsupportedOperation,
    /// `InvalidVpcID.NotFound`: a VPC the inventory does not list.
    InvalidVpcIdNotFound,
    /// `InvalidSubnetID.NotFound`.
    InvalidSubnetIdNotFound,
    /// `InvalidNetworkInterfaceID.NotFound`.
    InvalidNetworkInterfaceIdNotFound,
    // CloudTrail (awsJson1.1): LookupEvents.
    InvalidLookupAttributesException,
    InvalidTimeRangeException,
    InvalidMaxResultsException,
    InvalidNextTokenException,
    InvalidEventCategoryException,
    // CloudTrail trails.
    TrailAlreadyExistsException,
    TrailNotFoundException,
    InvalidTrailNameException,
    InvalidCloudWatchLogsLogGroupArnException,
    InvalidCloudWatchLogsRoleArnException,
    InvalidS3BucketNameException,
    InvalidS3PrefixException,
    MaximumNumberOfTrailsExceededException,
    InvalidEventSelectorsException,
    InvalidHomeRegionException,
}

impl ErrorCode {
    /// The `__type` / `Code` string clients read.
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidParameterException => "InvalidParameterException",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::ResourceAlreadyExistsException => "ResourceAlreadyExistsException",
            Self::LimitExceededException => "LimitExceededException",
            Self::OperationAbortedException => "OperationAbortedException",
            Self::InvalidOperationException => "InvalidOperationException",
            Self::MalformedQueryException => "MalformedQueryException",
            Self::TooManyTagsException => "TooManyTagsException",
            Self::ValidationException => "ValidationException",
            Self::AccessDeniedException => "AccessDeniedException",
            Self::ThrottlingException => "ThrottlingException",
            Self::ServiceUnavailableException => "ServiceUnavailableException",
            Self::UnrecognizedClientException => "UnrecognizedClientException",
            Self::UnknownOperationException => "UnknownOperationException",
            Self::SerializationException => "SerializationException",
            Self::MissingAuthenticationToken => "MissingAuthenticationToken",
            Self::IncompleteSignature => "IncompleteSignature",
            Self::InvalidSignatureException | Self::RequestExpired => "InvalidSignatureException",
            Self::ExpiredTokenException => "ExpiredTokenException",
            Self::RequestEntityTooLargeException => "RequestEntityTooLargeException",
            Self::InternalFailure => "InternalFailure",
            Self::InvalidParameterValueException => "InvalidParameterValueException",
            Self::MissingRequiredParameterException => "MissingRequiredParameterException",
            Self::InvalidParameterCombinationException => "InvalidParameterCombinationException",
            Self::InvalidNextToken => "InvalidNextToken",
            Self::InternalServiceFault => "InternalServiceFault",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::InvalidFormatFault => "InvalidFormatFault",
            Self::LimitExceededFault => "LimitExceededFault",
            Self::NotFound => "NotFound",
            Self::InvalidParameter => "InvalidParameter",
            Self::TopicLimitExceeded => "TopicLimitExceeded",
            Self::SubscriptionLimitExceeded => "SubscriptionLimitExceeded",
            Self::Throttled => "Throttled",
            Self::InternalError => "InternalError",
            Self::AuthorizationError => "AuthorizationError",
            Self::Throttling => "Throttling",
            Self::RequestLimitExceeded => "RequestLimitExceeded",
            Self::InvalidAction => "InvalidAction",
            Self::MissingAction => "MissingAction",
            Self::InvalidQueryParameter => "InvalidQueryParameter",
            Self::NoSuchEntity => "NoSuchEntity",
            Self::EntityAlreadyExists => "EntityAlreadyExists",
            Self::DeleteConflict => "DeleteConflict",
            Self::MalformedPolicyDocument => "MalformedPolicyDocument",
            Self::InvalidInput => "InvalidInput",
            Self::IamLimitExceeded => "LimitExceeded",
            Self::ValidationError => "ValidationError",
            Self::AccessDenied => "AccessDenied",
            Self::UnauthorizedOperation => "UnauthorizedOperation",
            Self::DryRunOperation => "DryRunOperation",
            Self::InvalidFlowLogIdNotFound => "InvalidFlowLogId.NotFound",
            Self::FlowLogAlreadyExists => "FlowLogAlreadyExists",
            Self::FlowLogsLimitExceeded => "FlowLogsLimitExceeded",
            Self::IdempotentParameterMismatch => "IdempotentParameterMismatch",
            Self::UnsupportedOperation => "UnsupportedOperation",
            Self::InvalidVpcIdNotFound => "InvalidVpcID.NotFound",
            Self::InvalidSubnetIdNotFound => "InvalidSubnetID.NotFound",
            Self::InvalidNetworkInterfaceIdNotFound => "InvalidNetworkInterfaceID.NotFound",
            Self::InvalidLookupAttributesException => "InvalidLookupAttributesException",
            Self::InvalidTimeRangeException => "InvalidTimeRangeException",
            Self::InvalidMaxResultsException => "InvalidMaxResultsException",
            Self::InvalidNextTokenException => "InvalidNextTokenException",
            Self::InvalidEventCategoryException => "InvalidEventCategoryException",
            Self::TrailAlreadyExistsException => "TrailAlreadyExistsException",
            Self::TrailNotFoundException => "TrailNotFoundException",
            Self::InvalidTrailNameException => "InvalidTrailNameException",
            Self::InvalidCloudWatchLogsLogGroupArnException => {
                "InvalidCloudWatchLogsLogGroupArnException"
            }
            Self::InvalidCloudWatchLogsRoleArnException => "InvalidCloudWatchLogsRoleArnException",
            Self::InvalidS3BucketNameException => "InvalidS3BucketNameException",
            Self::InvalidS3PrefixException => "InvalidS3PrefixException",
            Self::MaximumNumberOfTrailsExceededException => {
                "MaximumNumberOfTrailsExceededException"
            }
            Self::InvalidEventSelectorsException => "InvalidEventSelectorsException",
            Self::InvalidHomeRegionException => "InvalidHomeRegionException",
        }
    }

    /// The awsQuery error code of a query-compatible service's error (what awsQuery clients
    /// read from `<Code>` and JSON/CBOR clients from `x-amzn-query-error`).
    pub fn query_code(self) -> &'static str {
        match self {
            Self::InvalidParameterValueException => "InvalidParameterValue",
            Self::MissingRequiredParameterException => "MissingParameter",
            Self::InvalidParameterCombinationException => "InvalidParameterCombination",
            Self::InternalServiceFault => "InternalServiceError",
            Self::InvalidFormatFault => "InvalidFormat",
            Self::LimitExceededFault => "LimitExceeded",
            Self::UnrecognizedClientException => "InvalidClientTokenId",
            Self::InvalidSignatureException => "SignatureDoesNotMatch",
            Self::RequestExpired => "RequestExpired",
            Self::ExpiredTokenException => "ExpiredToken",
            Self::AccessDeniedException => "AccessDenied",
            other => other.name(),
        }
    }

    /// HTTP status for the JSON protocols (awsJson1.0/1.1). Logs errors are 400 except the
    /// service-side ones (`spec/logs-api.md` §1.1).
    pub fn http_status(self) -> u16 {
        match self {
            Self::MissingAuthenticationToken
            | Self::AuthorizationError
            | Self::AccessDenied
            | Self::UnauthorizedOperation
            | Self::TopicLimitExceeded
            | Self::SubscriptionLimitExceeded => 403,
            Self::ResourceNotFound | Self::NotFound | Self::NoSuchEntity => 404,
            Self::EntityAlreadyExists | Self::DeleteConflict | Self::IamLimitExceeded => 409,
            Self::RequestEntityTooLargeException => 413,
            Self::DryRunOperation => 412,
            Self::Throttled => 429,
            Self::ServiceUnavailableException
            | Self::InternalFailure
            | Self::InternalServiceFault
            | Self::InternalError => 500,
            Self::RequestLimitExceeded => 503,
            _ => 400,
        }
    }

    /// HTTP status for the query protocols (awsQuery, ec2Query), where the authentication and
    /// authorization errors are 403 (`InvalidClientTokenId`, `SignatureDoesNotMatch`,
    /// `AccessDenied`, `ExpiredToken`).
    pub fn query_status(self) -> u16 {
        match self {
            Self::UnrecognizedClientException
            | Self::InvalidSignatureException
            | Self::ExpiredTokenException
            | Self::AccessDeniedException => 403,
            other => other.http_status(),
        }
    }

    /// Whether the fault lies with the sender (`Sender`) or the service (`Receiver`).
    pub fn is_sender_fault(self) -> bool {
        !matches!(
            self,
            Self::ServiceUnavailableException
                | Self::InternalFailure
                | Self::InternalServiceFault
                | Self::InternalError
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error that reaches the wire: an AWS code, a message for the user and, for the few shapes
/// that model more members, those members.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Extra modelled members of the error shape (for example `resourceName`).
    pub members: Vec<(&'static str, serde_json::Value)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            members: Vec::new(),
        }
    }

    pub fn with_member(mut self, name: &'static str, value: impl Into<serde_json::Value>) -> Self {
        self.members.push((name, value.into()));
        self
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterException, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceNotFoundException, message)
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceAlreadyExistsException, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ServiceUnavailableException, message)
    }

    pub fn log_group_not_found() -> Self {
        Self::not_found("The specified log group does not exist.")
    }

    pub fn log_stream_not_found() -> Self {
        Self::not_found("The specified log stream does not exist.")
    }

    /// AWS's model-validation message: `1 validation error detected: Value '...' at 'member'
    /// failed to satisfy constraint: ...`.
    pub fn constraint(member: &str, value: &str, constraint: &str) -> Self {
        Self::invalid_parameter(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ))
    }
}

/// Result with an [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;
