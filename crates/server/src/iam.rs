//! IAM and STS: one operation's JSON input (the awsQuery form turned into JSON by the query
//! codec, member names as in the AWS models) to an engine method, and its JSON answer.

use flowwatch_engine::Engine;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};

use crate::json::{encode, parse};

/// Runs one IAM operation on a JSON body and returns the JSON response body.
pub(crate) async fn dispatch(
    engine: &Engine,
    caller: &Caller,
    op: &str,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    let req = parse(body)?;
    let e = engine;
    let c = caller;
    let out = match op {
        "CreateUser" => e.iam_create_user(c, req).await?,
        "GetUser" => e.iam_get_user(c, req).await?,
        "ListUsers" => e.iam_list_users(c, req).await?,
        "DeleteUser" => e.iam_delete_user(c, req).await?,
        "CreateAccessKey" => e.iam_create_access_key(c, req).await?,
        "ListAccessKeys" => e.iam_list_access_keys(c, req).await?,
        "DeleteAccessKey" => e.iam_delete_access_key(c, req).await?,
        "UpdateAccessKey" => e.iam_update_access_key(c, req).await?,
        "PutUserPolicy" => e.iam_put_user_policy(c, req).await?,
        "GetUserPolicy" => e.iam_get_user_policy(c, req).await?,
        "DeleteUserPolicy" => e.iam_delete_user_policy(c, req).await?,
        "ListUserPolicies" => e.iam_list_user_policies(c, req).await?,
        "CreateRole" => e.iam_create_role(c, req).await?,
        "GetRole" => e.iam_get_role(c, req).await?,
        "DeleteRole" => e.iam_delete_role(c, req).await?,
        "ListRoles" => e.iam_list_roles(c, req).await?,
        "UpdateAssumeRolePolicy" => e.iam_update_assume_role_policy(c, req).await?,
        "PutRolePolicy" => e.iam_put_role_policy(c, req).await?,
        "GetRolePolicy" => e.iam_get_role_policy(c, req).await?,
        "DeleteRolePolicy" => e.iam_delete_role_policy(c, req).await?,
        "ListRolePolicies" => e.iam_list_role_policies(c, req).await?,
        "CreatePolicy" => e.iam_create_policy(c, req).await?,
        "GetPolicy" => e.iam_get_policy(c, req).await?,
        "GetPolicyVersion" => e.iam_get_policy_version(c, req).await?,
        "DeletePolicy" => e.iam_delete_policy(c, req).await?,
        "ListPolicies" => e.iam_list_policies(c, req).await?,
        "AttachUserPolicy" => e.iam_attach_policy(c, req, true).await?,
        "DetachUserPolicy" => e.iam_detach_policy(c, req, true).await?,
        "ListAttachedUserPolicies" => e.iam_list_attached_policies(c, req, true).await?,
        "AttachRolePolicy" => e.iam_attach_policy(c, req, false).await?,
        "DetachRolePolicy" => e.iam_detach_policy(c, req, false).await?,
        "ListAttachedRolePolicies" => e.iam_list_attached_policies(c, req, false).await?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidAction,
                format!("Could not find operation {op} for version 2010-05-08"),
            ));
        }
    };
    encode(&out)
}

/// Runs one STS operation.
pub(crate) async fn dispatch_sts(
    engine: &Engine,
    caller: &Caller,
    op: &str,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    match op {
        "GetCallerIdentity" => encode(&engine.sts_get_caller_identity(caller).await?),
        "AssumeRole" => encode(&engine.sts_assume_role(caller, parse(body)?).await?),
        _ => Err(ApiError::new(
            ErrorCode::InvalidAction,
            format!("Could not find operation {op} for version 2011-06-15"),
        )),
    }
}

/// The operations whose output is empty.
pub(crate) const NO_OUTPUT: &[&str] = &[
    "DeleteUser",
    "DeleteAccessKey",
    "UpdateAccessKey",
    "PutUserPolicy",
    "DeleteUserPolicy",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "DeletePolicy",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
];
