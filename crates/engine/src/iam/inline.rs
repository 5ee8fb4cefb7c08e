//! Inline policies, the same for users and roles: Put/Get/Delete/List{User,Role}Policy on the
//! [`Holder`] a request names.

use super::page;
use std::collections::BTreeMap;

use flowwatch_model::iam::{IamRequest, IamResponse};
use flowwatch_model::{ApiError, ApiResult, ErrorCode};
use flowwatch_security::policy::{PolicyError, PolicyKind, limits};

use super::{IamState, check_document, check_name, policy_error, url_encode};
use crate::Engine;

/// What holds inline policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Holder {
    User,
    Role,
}

impl Holder {
    /// The request member naming the holder, and its value checked.
    fn name(self, req: &IamRequest) -> ApiResult<String> {
        match self {
            Holder::User => check_name("UserName", req.user_name.as_deref(), 64),
            Holder::Role => check_name("RoleName", req.role_name.as_deref(), 64),
        }
    }

    fn policies<'s>(
        self,
        state: &'s IamState,
        name: &str,
    ) -> ApiResult<&'s BTreeMap<String, String>> {
        Ok(match self {
            Holder::User => &state.user(name)?.inline,
            Holder::Role => &state.role(name)?.inline,
        })
    }

    fn policies_mut<'s>(
        self,
        state: &'s mut IamState,
        name: &str,
    ) -> ApiResult<&'s mut BTreeMap<String, String>> {
        Ok(match self {
            Holder::User => &mut state.user_mut(name)?.inline,
            Holder::Role => &mut state.role_mut(name)?.inline,
        })
    }

    /// IAM's size limit on all of a holder's inline policies together.
    fn check_size(self, name: &str, policies: &BTreeMap<String, String>) -> ApiResult<()> {
        let documents = policies.values().map(String::as_str);
        let checked: Result<(), PolicyError> = match self {
            Holder::User => limits::check_user_inline_size(name, documents),
            Holder::Role => limits::check_role_inline_size(name, documents),
        };
        checked.map_err(policy_error)
    }

    fn no_policy(self, policy: &str) -> ApiError {
        let kind = match self {
            Holder::User => "user",
            Holder::Role => "role",
        };
        ApiError::new(
            ErrorCode::NoSuchEntity,
            format!("The {kind} policy with name {policy} cannot be found."),
        )
    }

    /// A response naming the holder.
    fn response(self, name: String) -> IamResponse {
        match self {
            Holder::User => IamResponse {
                user_name: Some(name),
                ..Default::default()
            },
            Holder::Role => IamResponse {
                role_name: Some(name),
                ..Default::default()
            },
        }
    }
}

impl Engine {
    /// PutUserPolicy / PutRolePolicy.
    pub(super) async fn put_inline_policy(
        &self,
        holder: Holder,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = holder.name(&req)?;
        let policy = check_name("PolicyName", req.policy_name.as_deref(), 128)?;
        let document = check_document(
            req.policy_document.as_deref(),
            "PolicyDocument",
            PolicyKind::Identity,
        )?;
        self.iam
            .update(|state| {
                let policies = holder.policies_mut(state, &name)?;
                policies.insert(policy, document);
                holder.check_size(&name, policies)?;
                Ok(IamResponse::default())
            })
            .await
    }

    /// GetUserPolicy / GetRolePolicy: the document URL-encoded, as IAM returns it.
    pub(super) async fn get_inline_policy(
        &self,
        holder: Holder,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = holder.name(&req)?;
        let policy = check_name("PolicyName", req.policy_name.as_deref(), 128)?;
        let document = self
            .iam
            .read(|state| {
                holder
                    .policies(state, &name)?
                    .get(&policy)
                    .map(|d| url_encode(d))
                    .ok_or_else(|| holder.no_policy(&policy))
            })
            .await?;
        Ok(IamResponse {
            policy_name: Some(policy),
            policy_document: Some(document),
            ..holder.response(name)
        })
    }

    /// DeleteUserPolicy / DeleteRolePolicy.
    pub(super) async fn delete_inline_policy(
        &self,
        holder: Holder,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = holder.name(&req)?;
        let policy = check_name("PolicyName", req.policy_name.as_deref(), 128)?;
        self.iam
            .update(|state| {
                holder
                    .policies_mut(state, &name)?
                    .remove(&policy)
                    .ok_or_else(|| holder.no_policy(&policy))?;
                Ok(IamResponse::default())
            })
            .await
    }

    /// ListUserPolicies / ListRolePolicies.
    pub(super) async fn list_inline_policies(
        &self,
        holder: Holder,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = holder.name(&req)?;
        let names = self
            .iam
            .read(|state| -> ApiResult<Vec<String>> {
                Ok(holder.policies(state, &name)?.keys().cloned().collect())
            })
            .await?;
        page(
            "ListInlinePolicies",
            &req,
            names,
            String::as_str,
            |r, names| r.policy_names = Some(names),
        )
    }
}
