//! IAM (users, access keys, roles, inline and customer-managed policies) and STS
//! (GetCallerIdentity, AssumeRole) over one persisted value, `IamState`, saved whole under
//! `iam` in the catalog's engine state.
//!
//! This module also answers the server's two security questions: whose key signed a request
//! ([`Engine::access_key`]: the root key, a user's key, or a session's temporary key) and
//! which identity policies apply to a caller ([`Engine::authorize`]). Policy documents are
//! validated with [`Policy::parse`] when they are stored, and parsed again when a non-root
//! caller is authorized (the root key never reads this state).

mod inline;
mod managed;
mod pages;
mod roles;
mod sts;
mod users;

use std::collections::{BTreeMap, BTreeSet};

use flowwatch_model::{ApiError, ApiResult, ErrorCode};
use flowwatch_security::policy::{
    Decision, Policy, PolicyError, PolicyKind, Principal, PrincipalKind, RequestContext, evaluate,
};
use serde::{Deserialize, Serialize};

use crate::Engine;
use pages::page;

/// Access keys one user may have (IAM: 2).
const MAX_ACCESS_KEYS_PER_USER: usize = 2;
/// Managed policies attached to one user or role (IAM default: 10).
const MAX_ATTACHED_POLICIES: usize = 10;

/// Everything IAM and STS know, persisted whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct IamState {
    users: BTreeMap<String, UserRecord>,
    roles: BTreeMap<String, RoleRecord>,
    /// Customer-managed policies by name (names are unique in an account).
    policies: BTreeMap<String, PolicyRecord>,
    /// Long-term access keys of users, by access key id.
    keys: BTreeMap<String, KeyRecord>,
    /// Temporary credentials from AssumeRole, by access key id, kept until they expire.
    sessions: BTreeMap<String, SessionRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct UserRecord {
    name: String,
    path: String,
    id: String,
    created_ms: i64,
    /// Inline policies: name → document.
    inline: BTreeMap<String, String>,
    /// Attached managed policies by ARN.
    attached: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RoleRecord {
    name: String,
    path: String,
    id: String,
    created_ms: i64,
    trust: String,
    description: Option<String>,
    max_session_duration: i64,
    inline: BTreeMap<String, String>,
    attached: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PolicyRecord {
    name: String,
    path: String,
    id: String,
    arn: String,
    description: Option<String>,
    document: String,
    created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyRecord {
    user: String,
    secret: String,
    active: bool,
    created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionRecord {
    secret: String,
    token: String,
    expires_ms: i64,
    /// When AssumeRole issued it (0 for sessions saved before this was kept).
    #[serde(default)]
    created_ms: i64,
    role_name: String,
    role_path: String,
    role_id: String,
    session_name: String,
}

/// How a key's signature must be accompanied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// A long-term key: no session token; an inactive key is refused.
    LongTerm { active: bool },
    /// Temporary credentials: the request must carry this `X-Amz-Security-Token` and arrive
    /// before `expires_ms`.
    Session { token: String, expires_ms: i64 },
}

impl IamState {
    fn user(&self, name: &str) -> ApiResult<&UserRecord> {
        self.users.get(name).ok_or_else(|| no_user(name))
    }

    fn user_mut(&mut self, name: &str) -> ApiResult<&mut UserRecord> {
        self.users.get_mut(name).ok_or_else(|| no_user(name))
    }

    fn role(&self, name: &str) -> ApiResult<&RoleRecord> {
        self.roles.get(name).ok_or_else(|| no_role(name))
    }

    fn role_mut(&mut self, name: &str) -> ApiResult<&mut RoleRecord> {
        self.roles.get_mut(name).ok_or_else(|| no_role(name))
    }

    /// Every id in use (user, role, policy and access key ids are unique across IAM).
    fn id_taken(&self, id: &str) -> bool {
        self.users.values().any(|u| u.id == id)
            || self.roles.values().any(|r| r.id == id)
            || self.policies.values().any(|p| p.id == id)
            || self.keys.contains_key(id)
            || self.sessions.contains_key(id)
    }

    /// A fresh id: `prefix` and 17 (16 for access keys) uppercase letters and digits.
    fn new_id(&self, prefix: &str, len: usize) -> String {
        loop {
            let id = format!("{prefix}{}", random_text(len, UPPER_ALNUM));
            if !self.id_taken(&id) {
                return id;
            }
        }
    }

    /// How many users and roles have `arn` attached.
    fn attachment_count(&self, arn: &str) -> i64 {
        let users = self.users.values().filter(|u| u.attached.contains(arn));
        let roles = self.roles.values().filter(|r| r.attached.contains(arn));
        (users.count() + roles.count()) as i64
    }

    /// The documents of the identity policies of `principal` (inline, then attached).
    fn identity_documents(&self, principal: &Principal) -> Vec<String> {
        let (inline, attached) = match &principal.kind {
            PrincipalKind::User => match principal
                .username
                .as_deref()
                .and_then(|n| self.users.get(n))
            {
                Some(u) => (&u.inline, &u.attached),
                None => return Vec::new(),
            },
            PrincipalKind::AssumedRole { role_arn } => {
                let name = role_arn.rsplit('/').next().unwrap_or_default();
                match self.roles.get(name) {
                    Some(r) => (&r.inline, &r.attached),
                    None => return Vec::new(),
                }
            }
            _ => return Vec::new(),
        };
        let managed = attached.iter().filter_map(|arn| {
            self.policies
                .values()
                .find(|p| &p.arn == arn)
                .map(|p| p.document.clone())
        });
        inline.values().cloned().chain(managed).collect()
    }
}

/// The secret an access key signs with, whose key it is, and how it must be used.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    pub secret: flowwatch_security::SecretKey,
    pub principal: Principal,
    pub kind: KeyKind,
}

impl Engine {
    /// The identity behind an access key id: the configured root key, an IAM user's key, or
    /// AssumeRole's temporary key.
    pub async fn access_key(&self, access_key_id: &str) -> Option<KeyOwner> {
        let account = &self.config.account_id;
        if let Some(root) = &self.config.auth.root
            && root.access_key_id == access_key_id
        {
            return Some(KeyOwner {
                secret: root.secret_access_key.clone(),
                principal: Principal::root(account),
                kind: KeyKind::LongTerm { active: true },
            });
        }
        self.iam
            .read(|state| {
                if let Some(key) = state.keys.get(access_key_id) {
                    let user = state.users.get(&key.user)?;
                    return Some(KeyOwner {
                        secret: flowwatch_security::SecretKey::new(key.secret.clone()),
                        principal: Principal::user(account, &user.path, &user.name, &user.id),
                        kind: KeyKind::LongTerm { active: key.active },
                    });
                }
                let session = state.sessions.get(access_key_id)?;
                Some(KeyOwner {
                    secret: flowwatch_security::SecretKey::new(session.secret.clone()),
                    principal: Principal::assumed_role(
                        account,
                        &session.role_path,
                        &session.role_name,
                        &session.session_name,
                        &session.role_id,
                    ),
                    kind: KeyKind::Session {
                        token: session.token.clone(),
                        expires_ms: session.expires_ms,
                    },
                })
            })
            .await
    }

    /// When the role session of temporary key `access_key_id` was issued (epoch ms), for the
    /// audit record's `sessionContext`.
    pub async fn session_created_ms(&self, access_key_id: &str) -> Option<i64> {
        self.iam
            .read(|state| state.sessions.get(access_key_id).map(|s| s.created_ms))
            .await
            .filter(|&ms| ms > 0)
    }

    /// Decides a request: the root user is allowed (unless a deny applied, which it cannot
    /// have: root has no identity policies); users and role sessions need an identity policy
    /// (inline or attached) that allows, and no deny.
    pub async fn authorize(&self, context: &RequestContext) -> Decision {
        let documents = if context.principal.is_root() {
            Vec::new()
        } else {
            self.iam
                .read(|state| state.identity_documents(&context.principal))
                .await
        };
        let policies = parse_stored(&documents);
        let refs: Vec<&Policy> = policies.iter().collect();
        evaluate(&refs, None, context)
    }

    /// The path of user (`user`) or role `name`, if it exists (for the ARNs authorization
    /// evaluates).
    pub async fn iam_path(&self, user: bool, name: &str) -> Option<String> {
        self.iam
            .read(|state| {
                if user {
                    state.users.get(name).map(|u| u.path.clone())
                } else {
                    state.roles.get(name).map(|r| r.path.clone())
                }
            })
            .await
    }

    /// The path, name and id (`AROA…`) of the role with ARN `role_arn` in `account`, if it
    /// exists.
    pub(crate) async fn role_identity(
        &self,
        account: &str,
        role_arn: &str,
    ) -> Option<(String, String, String)> {
        let rest = role_arn.strip_prefix(&format!("arn:aws:iam::{account}:role/"))?;
        let name = rest.rsplit('/').next()?.to_owned();
        self.iam
            .read(|state| {
                let role = state.roles.get(&name)?;
                (format!("arn:aws:iam::{account}:role{}{}", role.path, role.name) == role_arn)
                    .then(|| (role.path.clone(), role.name.clone(), role.id.clone()))
            })
            .await
    }

    /// A role may now allow what it did not: held flow-log deliveries are retried at once.
    fn role_changed(&self) {
        self.flow_log_backlog.wake.notify_one();
    }

    /// The clock in milliseconds, for the IAM submodules.
    fn iam_now(&self) -> i64 {
        self.now()
    }
}

/// Parses documents that were validated when stored; one that no longer parses (a newer
/// parser, say) is left out, which can only deny more.
fn parse_stored(documents: &[String]) -> Vec<Policy> {
    documents
        .iter()
        .filter_map(|d| match Policy::parse(d, PolicyKind::Identity) {
            Ok(policy) => Some(policy),
            Err(error) => {
                tracing::warn!(%error, "a stored policy no longer parses; ignored");
                None
            }
        })
        .collect()
}

/// Validates a policy document of `kind` into IAM's errors.
fn check_document(document: Option<&str>, member: &str, kind: PolicyKind) -> ApiResult<String> {
    let document = document.ok_or_else(|| missing(member))?;
    Policy::parse(document, kind).map_err(policy_error)?;
    Ok(document.to_owned())
}

pub(crate) fn policy_error(error: PolicyError) -> ApiError {
    let code = match error {
        PolicyError::Malformed { .. } => ErrorCode::MalformedPolicyDocument,
        PolicyError::LimitExceeded { .. } => ErrorCode::IamLimitExceeded,
    };
    ApiError::new(code, error.message())
}

fn missing(member: &str) -> ApiError {
    let mut lower = member.to_owned();
    if let Some(first) = lower.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    ApiError::new(
        ErrorCode::ValidationError,
        format!(
            "1 validation error detected: Value null at '{lower}' failed to satisfy constraint: Member must not be null"
        ),
    )
}

fn invalid(member: &str, value: &str, constraint: &str) -> ApiError {
    let mut lower = member.to_owned();
    if let Some(first) = lower.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    ApiError::new(
        ErrorCode::ValidationError,
        format!(
            "1 validation error detected: Value '{value}' at '{lower}' failed to satisfy constraint: {constraint}"
        ),
    )
}

/// A user, role or policy name: `[\w+=,.@-]+`, 1 to `max` characters.
fn check_name(member: &str, value: Option<&str>, max: usize) -> ApiResult<String> {
    let value = value.ok_or_else(|| missing(member))?;
    let ok = (1..=max).contains(&value.chars().count())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        return Err(invalid(
            member,
            value,
            &format!(
                "Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and {max}"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// A path: `/` or `/a/b/`, at most 512 characters of printable ASCII.
fn check_path(value: Option<&str>) -> ApiResult<String> {
    let Some(value) = value else {
        return Ok("/".to_owned());
    };
    let ok = value.len() <= 512
        && value.starts_with('/')
        && value.ends_with('/')
        && value.chars().all(|c| ('!'..='~').contains(&c));
    if !ok {
        return Err(invalid(
            "Path",
            value,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ));
    }
    Ok(value.to_owned())
}

fn no_user(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NoSuchEntity,
        format!("The user with name {name} cannot be found."),
    )
}

fn no_role(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NoSuchEntity,
        format!("The role with name {name} cannot be found."),
    )
}

fn secs(ms: i64) -> f64 {
    (ms.div_euclid(1000)) as f64
}

/// A policy document as IAM returns it: percent-encoded (RFC 3986 unreserved kept).
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `len` characters drawn from `alphabet` (at most 64 letters) with the operating system's
/// randomness, through version-4 UUIDs: nine characters from each, which uses only its low 56
/// bits, below the fixed version and variant bits.
fn random_text(len: usize, alphabet: &[u8]) -> String {
    let mut out = String::with_capacity(len);
    let base = alphabet.len() as u128;
    while out.len() < len {
        let mut bits = uuid::Uuid::new_v4().as_u128();
        for _ in 0..9 {
            if out.len() == len {
                break;
            }
            out.push(alphabet[(bits % base) as usize] as char);
            bits /= base;
        }
    }
    out
}

#[cfg(test)]
mod tests;
