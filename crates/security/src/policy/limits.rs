//! IAM's size quotas for policy documents. IAM counts characters with the whitespace left
//! out, and answers `LimitExceeded` (HTTP 409).

use super::PolicyError;

/// A managed policy (`CreatePolicy`, `CreatePolicyVersion`).
pub const MANAGED_POLICY_MAX_CHARS: usize = 6144;
/// A role's trust policy (the default quota; AWS lets it be raised to 4,096).
pub const TRUST_POLICY_MAX_CHARS: usize = 2048;
/// All the inline policies of one role together.
pub const ROLE_INLINE_POLICIES_MAX_CHARS: usize = 10240;
/// All the inline policies of one user together.
pub const USER_INLINE_POLICIES_MAX_CHARS: usize = 2048;
/// All the inline policies of one group together.
pub const GROUP_INLINE_POLICIES_MAX_CHARS: usize = 5120;

/// The size IAM counts: characters other than whitespace.
pub fn policy_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

fn limit_exceeded(message: String) -> PolicyError {
    PolicyError::LimitExceeded { message }
}

/// `Cannot exceed quota for PolicySize: 6144`.
pub fn check_managed_policy_size(document: &str) -> Result<(), PolicyError> {
    if policy_size(document) > MANAGED_POLICY_MAX_CHARS {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX_CHARS}"
        )));
    }
    Ok(())
}

/// `Cannot exceed quota for ACLSizePerRole: 2048`.
pub fn check_trust_policy_size(document: &str) -> Result<(), PolicyError> {
    if policy_size(document) > TRUST_POLICY_MAX_CHARS {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX_CHARS}"
        )));
    }
    Ok(())
}

/// For `PutRolePolicy`: `documents` are all the role's inline policies after the change.
/// `Maximum policy size of 10240 bytes exceeded for role <name>`.
pub fn check_role_inline_size<'a>(
    role: &str,
    documents: impl IntoIterator<Item = &'a str>,
) -> Result<(), PolicyError> {
    check_inline_size("role", role, ROLE_INLINE_POLICIES_MAX_CHARS, documents)
}

/// For `PutUserPolicy`: `documents` are all the user's inline policies after the change.
/// `Maximum policy size of 2048 bytes exceeded for user <name>`.
pub fn check_user_inline_size<'a>(
    user: &str,
    documents: impl IntoIterator<Item = &'a str>,
) -> Result<(), PolicyError> {
    check_inline_size("user", user, USER_INLINE_POLICIES_MAX_CHARS, documents)
}

fn check_inline_size<'a>(
    kind: &str,
    name: &str,
    max: usize,
    documents: impl IntoIterator<Item = &'a str>,
) -> Result<(), PolicyError> {
    let total: usize = documents.into_iter().map(policy_size).sum();
    if total > max {
        return Err(limit_exceeded(format!(
            "Maximum policy size of {max} bytes exceeded for {kind} {name}"
        )));
    }
    Ok(())
}
