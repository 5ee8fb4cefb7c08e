//! Customer-managed policies (one version, `v1`) and their attachment to users and roles.
//! AWS-managed policies (`arn:aws:iam::aws:policy/…`) are not served.

use super::page;
use std::collections::BTreeSet;

use flowwatch_model::iam::{AttachedPolicy, IamRequest, IamResponse, ManagedPolicy, PolicyVersion};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};
use flowwatch_security::policy::{PolicyKind, limits};

use super::{
    IamState, MAX_ATTACHED_POLICIES, PolicyRecord, check_document, check_name, check_path, missing,
    policy_error, secs, url_encode,
};
use crate::Engine;

/// The only version a policy has: flowwatch does not serve CreatePolicyVersion.
const VERSION: &str = "v1";

fn no_policy(arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NoSuchEntity,
        format!("Policy {arn} does not exist or is not attachable."),
    )
}

impl IamState {
    fn policy_by_arn(&self, arn: &str) -> ApiResult<&PolicyRecord> {
        self.policies
            .values()
            .find(|p| p.arn == arn)
            .ok_or_else(|| no_policy(arn))
    }

    fn policy_shape(&self, p: &PolicyRecord) -> ManagedPolicy {
        ManagedPolicy {
            policy_name: p.name.clone(),
            policy_id: p.id.clone(),
            arn: p.arn.clone(),
            path: p.path.clone(),
            default_version_id: VERSION.into(),
            attachment_count: self.attachment_count(&p.arn),
            permissions_boundary_usage_count: 0,
            is_attachable: true,
            description: p.description.clone(),
            create_date: secs(p.created_ms),
            update_date: secs(p.created_ms),
        }
    }

    /// The attached set of the user (`user`) or the role named in `req`.
    fn attached(&self, req: &IamRequest, user: bool) -> ApiResult<&BTreeSet<String>> {
        Ok(if user {
            let name = check_name("UserName", req.user_name.as_deref(), 64)?;
            &self.user(&name)?.attached
        } else {
            let name = check_name("RoleName", req.role_name.as_deref(), 64)?;
            &self.role(&name)?.attached
        })
    }

    fn attached_mut(&mut self, req: &IamRequest, user: bool) -> ApiResult<&mut BTreeSet<String>> {
        Ok(if user {
            let name = check_name("UserName", req.user_name.as_deref(), 64)?;
            &mut self.user_mut(&name)?.attached
        } else {
            let name = check_name("RoleName", req.role_name.as_deref(), 64)?;
            &mut self.role_mut(&name)?.attached
        })
    }
}

impl Engine {
    pub async fn iam_create_policy(
        &self,
        caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = check_name("PolicyName", req.policy_name.as_deref(), 128)?;
        let path = check_path(req.path.as_deref())?;
        let document = check_document(
            req.policy_document.as_deref(),
            "PolicyDocument",
            PolicyKind::Identity,
        )?;
        limits::check_managed_policy_size(&document).map_err(policy_error)?;
        let now = self.iam_now();
        let arn = format!("arn:aws:iam::{}:policy{path}{name}", caller.scope.account);
        self.iam
            .update(|state| {
                if state.policies.contains_key(&name) {
                    return Err(ApiError::new(
                        ErrorCode::EntityAlreadyExists,
                        format!("A policy called {name} already exists. Duplicate names are not allowed."),
                    ));
                }
                let record = PolicyRecord {
                    id: state.new_id("ANPA", 17),
                    name: name.clone(),
                    path,
                    arn,
                    description: req.description,
                    document,
                    created_ms: now,
                };
                let policy = state.policy_shape(&record);
                state.policies.insert(name, record);
                Ok(IamResponse {
                    policy: Some(policy),
                    ..Default::default()
                })
            })
            .await
    }

    pub async fn iam_get_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let arn = req.policy_arn.ok_or_else(|| missing("PolicyArn"))?;
        self.iam
            .read(|state| {
                Ok(IamResponse {
                    policy: Some(state.policy_shape(state.policy_by_arn(&arn)?)),
                    ..Default::default()
                })
            })
            .await
    }

    /// GetPolicyVersion: the document (URL-encoded) of `v1`, the only version.
    pub async fn iam_get_policy_version(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let arn = req.policy_arn.ok_or_else(|| missing("PolicyArn"))?;
        let version = req.version_id.ok_or_else(|| missing("VersionId"))?;
        self.iam
            .read(|state| {
                let policy = state.policy_by_arn(&arn)?;
                if version != VERSION {
                    return Err(ApiError::new(
                        ErrorCode::NoSuchEntity,
                        format!(
                            "Policy {arn} version {version} does not exist or is not attachable."
                        ),
                    ));
                }
                Ok(IamResponse {
                    policy_version: Some(PolicyVersion {
                        document: url_encode(&policy.document),
                        version_id: VERSION.into(),
                        is_default_version: true,
                        create_date: secs(policy.created_ms),
                    }),
                    ..Default::default()
                })
            })
            .await
    }

    /// DeletePolicy: refused while the policy is attached.
    pub async fn iam_delete_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let arn = req.policy_arn.ok_or_else(|| missing("PolicyArn"))?;
        self.iam
            .update(|state| {
                let name = state.policy_by_arn(&arn)?.name.clone();
                if state.attachment_count(&arn) > 0 {
                    return Err(ApiError::new(
                        ErrorCode::DeleteConflict,
                        "Cannot delete a policy attached to entities.",
                    ));
                }
                state.policies.remove(&name);
                Ok(IamResponse::default())
            })
            .await
    }

    /// ListPolicies: the customer-managed policies (any `Scope`; there are no AWS-managed ones).
    pub async fn iam_list_policies(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let prefix = req.path_prefix.clone().unwrap_or_else(|| "/".into());
        let aws_only = req.scope.as_deref() == Some("AWS");
        let policies = self
            .iam
            .read(|state| {
                state
                    .policies
                    .values()
                    .filter(|p| !aws_only && p.path.starts_with(&prefix))
                    .map(|p| state.policy_shape(p))
                    .collect()
            })
            .await;
        page(
            "ListPolicies",
            &req,
            policies,
            |p| &p.policy_name,
            |r, policies| r.policies = Some(policies),
        )
    }

    /// AttachUserPolicy (`user`) or AttachRolePolicy.
    pub async fn iam_attach_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
        user: bool,
    ) -> ApiResult<IamResponse> {
        let arn = req.policy_arn.clone().ok_or_else(|| missing("PolicyArn"))?;
        let response = self
            .iam
            .update(|state| {
                state.policy_by_arn(&arn)?;
                let attached = state.attached_mut(&req, user)?;
                if !attached.contains(&arn) && attached.len() >= MAX_ATTACHED_POLICIES {
                    let what = if user {
                        "PoliciesPerUser"
                    } else {
                        "PoliciesPerRole"
                    };
                    return Err(ApiError::new(
                        ErrorCode::IamLimitExceeded,
                        format!("Cannot exceed quota for {what}: {MAX_ATTACHED_POLICIES}"),
                    ));
                }
                attached.insert(arn);
                Ok(IamResponse::default())
            })
            .await?;
        if !user {
            self.role_changed();
        }
        Ok(response)
    }

    /// DetachUserPolicy (`user`) or DetachRolePolicy.
    pub async fn iam_detach_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
        user: bool,
    ) -> ApiResult<IamResponse> {
        let arn = req.policy_arn.clone().ok_or_else(|| missing("PolicyArn"))?;
        self.iam
            .update(|state| {
                if !state.attached_mut(&req, user)?.remove(&arn) {
                    return Err(ApiError::new(
                        ErrorCode::NoSuchEntity,
                        format!("Policy {arn} was not found."),
                    ));
                }
                Ok(IamResponse::default())
            })
            .await
    }

    /// ListAttachedUserPolicies (`user`) or ListAttachedRolePolicies.
    pub async fn iam_list_attached_policies(
        &self,
        _caller: &Caller,
        req: IamRequest,
        user: bool,
    ) -> ApiResult<IamResponse> {
        let attached = self
            .iam
            .read(|state| -> ApiResult<Vec<AttachedPolicy>> {
                Ok(state
                    .attached(&req, user)?
                    .iter()
                    .map(|arn| AttachedPolicy {
                        policy_name: arn.rsplit('/').next().unwrap_or_default().to_owned(),
                        policy_arn: arn.clone(),
                    })
                    .collect())
            })
            .await?;
        page(
            "ListAttachedPolicies",
            &req,
            attached,
            |p| &p.policy_arn,
            |r, attached| r.attached_policies = Some(attached),
        )
    }
}
