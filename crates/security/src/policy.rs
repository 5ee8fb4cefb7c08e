//! The IAM policy language: [`Policy::parse`] validates a JSON document once into typed
//! statements (with IAM's `MalformedPolicyDocument` messages); [`evaluate`] decides a
//! [`RequestContext`] against identity policies and an optional resource or trust policy:
//! an explicit deny wins, then an allow, else the implicit deny.
//!
//! ```
//! use flowwatch_security::policy::{evaluate, Policy, PolicyKind, Principal, RequestContext};
//! let policy = Policy::parse(
//!     r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:Describe*",
//!         "Resource":"arn:aws:logs:*:123456789012:log-group:${aws:username}-*"}]}"#,
//!     PolicyKind::Identity,
//! )
//! .unwrap();
//! let alice = Principal::user("123456789012", "/", "alice", "AIDAEXAMPLE");
//! let arn = "arn:aws:logs:us-east-1:123456789012:log-group:alice-app";
//! let context = RequestContext::new(alice, "logs:DescribeLogStreams", arn);
//! assert!(evaluate(&[&policy], None, &context).is_allowed());
//! ```
//!
//! Not modelled: organizations SCPs and RCPs, permissions boundaries and session policies
//! (see `docs/iam-policies.md`).

mod condition;
mod context;
mod eval;
pub mod limits;
mod parse;
mod pattern;

pub use condition::{Condition, Operator, SetQualifier};
pub use context::{ContextValue, Principal, PrincipalKind, RequestContext};
pub use eval::{
    Decision, Grant, PolicyType, StatementRef, access_denied_message, evaluate,
    evaluate_assume_role,
};
pub use pattern::{Pattern, wildcard_match};

/// Where a policy document is attached, which decides which elements it must or must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user, group or role: no `Principal`, `Resource` required.
    Identity,
    /// Attached to a resource (a Logs resource policy, a destination policy): `Principal`
    /// and `Resource` required.
    Resource,
    /// A role's trust policy (`AssumeRolePolicyDocument`): `Principal` required, no
    /// `Resource`.
    Trust,
}

/// The policy language version; only `2012-10-17` substitutes policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2012_10_17,
    /// Also what a document without `Version` gets.
    V2008_10_17,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// The principals a statement names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principals {
    /// `"Principal": "*"`: everyone, including anonymous callers.
    pub everyone: bool,
    /// `AWS`: `*`, account ids, `arn:aws:iam::<acct>:root`, user, role and session ARNs.
    pub aws: Vec<String>,
    /// `Service`: `vpc-flow-logs.amazonaws.com`, …
    pub service: Vec<String>,
    /// `Federated`: identity providers.
    pub federated: Vec<String>,
    /// `CanonicalUser` (kept, never matched: flowwatch has no canonical user ids).
    pub canonical_user: Vec<String>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalBlock {
    Principal(Principals),
    NotPrincipal(Principals),
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: a list and whether it is negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternList {
    pub negated: bool,
    pub patterns: Vec<Pattern>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// Present in resource and trust policies only.
    pub principal: Option<PrincipalBlock>,
    pub action: PatternList,
    /// Absent in trust policies (the role is the resource).
    pub resource: Option<PatternList>,
    /// All must hold (operators and keys AND-ed).
    pub conditions: Vec<Condition>,
}

/// A validated policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub kind: PolicyKind,
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Parses and validates a policy document of the given kind.
    pub fn parse(document: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        parse::parse(document, kind)
    }
}

/// Why a policy document is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// IAM's `MalformedPolicyDocument`; the message is IAM's, ready for the wire.
    #[error("{message}")]
    Malformed { message: String },
    /// IAM's `LimitExceeded` (HTTP 409): a document over its size quota ([`limits`]).
    #[error("{message}")]
    LimitExceeded { message: String },
}

impl PolicyError {
    fn malformed(message: impl Into<String>) -> Self {
        Self::Malformed {
            message: message.into(),
        }
    }

    /// IAM's error code: `MalformedPolicyDocument` or `LimitExceeded`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "MalformedPolicyDocument",
            Self::LimitExceeded { .. } => "LimitExceeded",
        }
    }

    /// The message IAM returns with the code.
    pub fn message(&self) -> &str {
        match self {
            Self::Malformed { message } | Self::LimitExceeded { message } => message,
        }
    }
}

#[cfg(test)]
mod tests;
