//! STS: GetCallerIdentity, and AssumeRole's temporary credentials (`ASIA…` keys that need
//! their session token and expire). Sessions are persisted with the rest of IAM, so a restart
//! keeps them until they expire; expired ones are dropped at the next AssumeRole.

use flowwatch_model::iam::{
    AssumeRoleOutput, AssumedRoleUser, CallerIdentity, Credentials, IamRequest,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};
use flowwatch_security::policy::{
    Decision, Policy, PolicyKind, PolicyType, Principal, RequestContext, evaluate_assume_role,
};

use super::roles::MAX_SESSION_SECS;
use super::{SECRET_CHARS, SessionRecord, invalid, missing, parse_stored, random_text};
use crate::Engine;

/// AssumeRole's shortest session and default (STS: 15 minutes, 1 hour).
const MIN_DURATION_SECS: i64 = 900;
const DEFAULT_DURATION_SECS: i64 = 3600;
/// Length of the random part of a session token.
const TOKEN_CHARS: usize = 180;

impl Engine {
    /// The caller as a policy principal: the root user, or the owner of the access key that
    /// signed (a user, or a role session).
    pub async fn caller_principal(&self, caller: &Caller) -> Principal {
        let account = &caller.scope.account;
        if caller.principal_arn != format!("arn:aws:iam::{account}:root")
            && let Some(owner) = self.access_key(&caller.access_key_id).await
            && owner.principal.arn == caller.principal_arn
        {
            return owner.principal;
        }
        Principal::root(account)
    }

    /// GetCallerIdentity: always allowed, as in AWS.
    pub async fn sts_get_caller_identity(&self, caller: &Caller) -> ApiResult<CallerIdentity> {
        let principal = self.caller_principal(caller).await;
        Ok(CallerIdentity {
            user_id: principal.user_id,
            account: caller.scope.account.clone(),
            arn: principal.arn,
        })
    }

    /// The `sts:AssumeRole` decision on the role `context.resource` names: its trust policy
    /// must allow the caller, and when it names only the account, so must the caller's identity
    /// policies. A role that does not exist is an implicit deny (AWS says no more).
    pub async fn authorize_assume_role(&self, context: &RequestContext) -> Decision {
        // The role's account (a service principal has none of its own).
        let (account, name) = context
            .resource
            .strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.split_once(":role/"))
            .map(|(account, rest)| {
                let name = rest.rsplit('/').next().unwrap_or_default();
                (account.to_owned(), name.to_owned())
            })
            .unwrap_or_default();
        // Roles are the server's account's.
        if account != self.config.account_id {
            return Decision::ImplicitDeny {
                missing: PolicyType::Resource,
            };
        }
        let account = &account;
        let (trust, documents) = self
            .iam
            .read(|state| {
                let trust = state
                    .roles
                    .get(&name)
                    .filter(|r| {
                        format!("arn:aws:iam::{account}:role{}{}", r.path, r.name)
                            == context.resource
                    })
                    .map(|r| r.trust.clone());
                (trust, state.identity_documents(&context.principal))
            })
            .await;
        let Some(trust) = trust.and_then(|t| Policy::parse(&t, PolicyKind::Trust).ok()) else {
            return Decision::ImplicitDeny {
                missing: PolicyType::Resource,
            };
        };
        let policies = parse_stored(&documents);
        let refs: Vec<&Policy> = policies.iter().collect();
        evaluate_assume_role(&trust, &refs, context)
    }

    /// AssumeRole (authorized beforehand with [`Engine::authorize_assume_role`]).
    pub async fn sts_assume_role(
        &self,
        caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<AssumeRoleOutput> {
        let account = caller.scope.account.clone();
        let role_arn = req.role_arn.ok_or_else(|| missing("RoleArn"))?;
        let session = req
            .role_session_name
            .ok_or_else(|| missing("RoleSessionName"))?;
        let session_ok = (2..=64).contains(&session.len())
            && session
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if !session_ok {
            return Err(invalid(
                "RoleSessionName",
                &session,
                "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64",
            ));
        }
        let duration = req.duration_seconds.unwrap_or(DEFAULT_DURATION_SECS);
        if !(MIN_DURATION_SECS..=MAX_SESSION_SECS).contains(&duration) {
            return Err(invalid(
                "DurationSeconds",
                &duration.to_string(),
                &format!(
                    "Member must have value between {MIN_DURATION_SECS} and {MAX_SESSION_SECS}"
                ),
            ));
        }
        if caller.principal_arn == format!("arn:aws:iam::{account}:root") {
            return Err(ApiError::new(
                ErrorCode::AccessDenied,
                "Roles may not be assumed by root accounts.",
            ));
        }
        let name = role_arn
            .strip_prefix(&format!("arn:aws:iam::{account}:role/"))
            .and_then(|rest| rest.rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        let now = self.iam_now();
        self.iam
            .update(|state| {
                state.sessions.retain(|_, s| s.expires_ms > now);
                let role = state.roles.get(&name).ok_or_else(|| {
                    ApiError::new(ErrorCode::AccessDenied, format!("Role {role_arn} cannot be assumed."))
                })?;
                if duration > role.max_session_duration {
                    return Err(ApiError::new(
                        ErrorCode::ValidationError,
                        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                    ));
                }
                let record = SessionRecord {
                    secret: random_text(40, SECRET_CHARS),
                    token: format!("FwoGZXIvYXdzE{}", random_text(TOKEN_CHARS, SECRET_CHARS)),
                    expires_ms: now + duration * 1000,
                    created_ms: now,
                    role_name: role.name.clone(),
                    role_path: role.path.clone(),
                    role_id: role.id.clone(),
                    session_name: session.clone(),
                };
                let id = state.new_id("ASIA", 16);
                let principal = Principal::assumed_role(
                    &account,
                    &record.role_path,
                    &record.role_name,
                    &session,
                    &record.role_id,
                );
                let output = AssumeRoleOutput {
                    credentials: Credentials {
                        access_key_id: id.clone(),
                        secret_access_key: record.secret.clone(),
                        session_token: record.token.clone(),
                        expiration: (record.expires_ms / 1000) as f64,
                    },
                    assumed_role_user: AssumedRoleUser {
                        assumed_role_id: principal.user_id,
                        arn: principal.arn,
                    },
                    packed_policy_size: 0,
                };
                state.sessions.insert(id, record);
                Ok(output)
            })
            .await
    }
}
