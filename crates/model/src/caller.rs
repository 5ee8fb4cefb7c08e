//! Who is calling, and in which account and region.

/// The account and region a request acts in; every resource is scoped by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// Twelve-digit account id.
    pub account: String,
    /// Region from the SigV4 credential scope (default `us-east-1`).
    pub region: String,
}

/// The resolved caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub scope: Scope,
    /// Access key id the request was signed with.
    pub access_key_id: String,
    /// Principal ARN (for now, the account root).
    pub principal_arn: String,
    /// The request's id, echoed in `x-amzn-RequestId`.
    pub request_id: String,
}

/// Default account when none is configured.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// Default region when a request carries none.
pub const DEFAULT_REGION: &str = "us-east-1";
