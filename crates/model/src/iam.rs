//! Request and response shapes of IAM (`2010-05-08`) and STS (`2011-06-15`), the subset
//! flowwatch serves: users, access keys, roles, inline and customer-managed policies,
//! GetCallerIdentity and AssumeRole. Both speak awsQuery; the server turns their forms into
//! these JSON shapes (member names as in the AWS models) and the answers back into XML.
//!
//! Every IAM and STS operation reads the one [`IamRequest`]: its members are those of the
//! operations served, each optional, and each operation checks the ones it needs.

use serde::{Deserialize, Serialize};

/// The input of any IAM or STS operation.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamRequest {
    pub user_name: Option<String>,
    pub role_name: Option<String>,
    pub policy_name: Option<String>,
    pub policy_arn: Option<String>,
    pub policy_document: Option<String>,
    pub assume_role_policy_document: Option<String>,
    pub path: Option<String>,
    pub path_prefix: Option<String>,
    pub description: Option<String>,
    pub access_key_id: Option<String>,
    pub status: Option<String>,
    pub version_id: Option<String>,
    pub max_session_duration: Option<i64>,
    pub max_items: Option<i64>,
    pub marker: Option<String>,
    pub scope: Option<String>,
    // STS.
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<i64>,
}

/// An IAM user as GetUser, CreateUser and ListUsers describe it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub path: String,
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    /// Epoch seconds.
    pub create_date: f64,
}

/// An IAM role.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    pub path: String,
    pub role_name: String,
    pub role_id: String,
    pub arn: String,
    pub create_date: f64,
    /// URL-encoded, as IAM returns it.
    pub assume_role_policy_document: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub max_session_duration: i64,
}

/// A customer-managed policy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicy {
    pub policy_name: String,
    pub policy_id: String,
    pub arn: String,
    pub path: String,
    pub default_version_id: String,
    pub attachment_count: i64,
    pub permissions_boundary_usage_count: i64,
    pub is_attachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub create_date: f64,
    pub update_date: f64,
}

/// GetPolicyVersion's version.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersion {
    /// URL-encoded, as IAM returns it.
    pub document: String,
    pub version_id: String,
    pub is_default_version: bool,
    pub create_date: f64,
}

/// An access key's metadata (ListAccessKeys).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyMetadata {
    pub user_name: String,
    pub access_key_id: String,
    pub status: String,
    pub create_date: f64,
}

/// CreateAccessKey's key: the only time the secret is shown.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKey {
    pub user_name: String,
    pub access_key_id: String,
    pub status: String,
    pub secret_access_key: String,
    pub create_date: f64,
}

/// An attached managed policy (ListAttached*Policies).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicy {
    pub policy_name: String,
    pub policy_arn: String,
}

/// The answer of every IAM operation: each member is set by the operations that return it.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<User>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Role>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<ManagedPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<ManagedPolicy>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<PolicyVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<AccessKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_metadata: Option<Vec<AccessKeyMetadata>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_policies: Option<Vec<AttachedPolicy>>,
    /// ListUserPolicies / ListRolePolicies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_names: Option<Vec<String>>,
    /// GetUserPolicy / GetRolePolicy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// URL-encoded, as IAM returns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<String>,
    /// Set by the List* operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_truncated: Option<bool>,
    /// Where the next page of a truncated List* answer starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

/// GetCallerIdentity.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallerIdentity {
    pub user_id: String,
    pub account: String,
    pub arn: String,
}

/// AssumeRole's temporary credentials.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Epoch seconds.
    pub expiration: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumedRoleUser {
    pub assumed_role_id: String,
    pub arn: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleOutput {
    pub credentials: Credentials,
    pub assumed_role_user: AssumedRoleUser,
    pub packed_policy_size: i64,
}
