//! IAM roles: their trust policies (`AssumeRolePolicyDocument`) and inline policies.

use super::page;
use flowwatch_model::iam::{IamRequest, IamResponse, Role};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};
use flowwatch_security::policy::{PolicyKind, limits};

use super::inline::Holder;
use super::{
    RoleRecord, check_document, check_name, check_path, invalid, policy_error, secs, url_encode,
};
use crate::Engine;

/// A role's session length bounds and default (IAM: 1 to 12 hours, default 1 hour).
pub(super) const MIN_SESSION_SECS: i64 = 3600;
pub(super) const MAX_SESSION_SECS: i64 = 43200;

fn role_shape(account: &str, r: &RoleRecord) -> Role {
    Role {
        path: r.path.clone(),
        role_name: r.name.clone(),
        role_id: r.id.clone(),
        arn: format!("arn:aws:iam::{account}:role{}{}", r.path, r.name),
        create_date: secs(r.created_ms),
        assume_role_policy_document: url_encode(&r.trust),
        description: r.description.clone(),
        max_session_duration: r.max_session_duration,
    }
}

fn trust_document(document: Option<&str>) -> ApiResult<String> {
    let document = check_document(document, "AssumeRolePolicyDocument", PolicyKind::Trust)?;
    limits::check_trust_policy_size(&document).map_err(policy_error)?;
    Ok(document)
}

impl Engine {
    pub async fn iam_create_role(
        &self,
        caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = check_name("RoleName", req.role_name.as_deref(), 64)?;
        let path = check_path(req.path.as_deref())?;
        let trust = trust_document(req.assume_role_policy_document.as_deref())?;
        let max = req.max_session_duration.unwrap_or(MIN_SESSION_SECS);
        if !(MIN_SESSION_SECS..=MAX_SESSION_SECS).contains(&max) {
            return Err(invalid(
                "MaxSessionDuration",
                &max.to_string(),
                &format!(
                    "Member must have value between {MIN_SESSION_SECS} and {MAX_SESSION_SECS}"
                ),
            ));
        }
        let now = self.iam_now();
        let account = &caller.scope.account;
        self.iam
            .update(|state| {
                if state.roles.keys().any(|n| n.eq_ignore_ascii_case(&name)) {
                    return Err(ApiError::new(
                        ErrorCode::EntityAlreadyExists,
                        format!("Role with name {name} already exists."),
                    ));
                }
                let record = RoleRecord {
                    id: state.new_id("AROA", 17),
                    name: name.clone(),
                    path,
                    created_ms: now,
                    trust,
                    description: req.description,
                    max_session_duration: max,
                    inline: Default::default(),
                    attached: Default::default(),
                };
                let role = role_shape(account, &record);
                state.roles.insert(name, record);
                Ok(IamResponse {
                    role: Some(role),
                    ..Default::default()
                })
            })
            .await
    }

    pub async fn iam_get_role(&self, caller: &Caller, req: IamRequest) -> ApiResult<IamResponse> {
        let name = check_name("RoleName", req.role_name.as_deref(), 64)?;
        let account = &caller.scope.account;
        self.iam
            .read(|state| {
                Ok(IamResponse {
                    role: Some(role_shape(account, state.role(&name)?)),
                    ..Default::default()
                })
            })
            .await
    }

    pub async fn iam_list_roles(&self, caller: &Caller, req: IamRequest) -> ApiResult<IamResponse> {
        let prefix = req.path_prefix.clone().unwrap_or_else(|| "/".into());
        let account = &caller.scope.account;
        let roles = self
            .iam
            .read(|state| {
                state
                    .roles
                    .values()
                    .filter(|r| r.path.starts_with(&prefix))
                    .map(|r| role_shape(account, r))
                    .collect()
            })
            .await;
        page(
            "ListRoles",
            &req,
            roles,
            |r| &r.role_name,
            |r, roles| r.roles = Some(roles),
        )
    }

    /// DeleteRole: refused while the role has policies. Its sessions stay valid until they
    /// expire but no longer have any permission.
    pub async fn iam_delete_role(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = check_name("RoleName", req.role_name.as_deref(), 64)?;
        self.iam
            .update(|state| {
                let role = state.role(&name)?;
                if !role.inline.is_empty() {
                    return Err(ApiError::new(
                        ErrorCode::DeleteConflict,
                        "Cannot delete entity, must delete policies first.",
                    ));
                }
                if !role.attached.is_empty() {
                    return Err(ApiError::new(
                        ErrorCode::DeleteConflict,
                        "Cannot delete entity, must detach all policies first.",
                    ));
                }
                state.roles.remove(&name);
                Ok(IamResponse::default())
            })
            .await
    }

    pub async fn iam_update_assume_role_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = check_name("RoleName", req.role_name.as_deref(), 64)?;
        let trust = trust_document(req.policy_document.as_deref())?;
        let response = self
            .iam
            .update(|state| {
                state.role_mut(&name)?.trust = trust;
                Ok(IamResponse::default())
            })
            .await?;
        self.role_changed();
        Ok(response)
    }

    pub async fn iam_put_role_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let response = self.put_inline_policy(Holder::Role, req).await?;
        self.role_changed();
        Ok(response)
    }

    /// GetRolePolicy: the document URL-encoded, as IAM returns it.
    pub async fn iam_get_role_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        self.get_inline_policy(Holder::Role, req).await
    }

    pub async fn iam_delete_role_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        self.delete_inline_policy(Holder::Role, req).await
    }

    pub async fn iam_list_role_policies(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        self.list_inline_policies(Holder::Role, req).await
    }
}
