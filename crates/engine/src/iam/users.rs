//! IAM users, their access keys and their inline policies.

use super::page;
use flowwatch_model::iam::{AccessKey, AccessKeyMetadata, IamRequest, IamResponse, User};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};

use super::inline::Holder;
use super::{
    KeyRecord, MAX_ACCESS_KEYS_PER_USER, SECRET_CHARS, UserRecord, check_name, check_path, invalid,
    missing, random_text, secs,
};
use crate::Engine;

fn user_shape(account: &str, u: &UserRecord) -> User {
    User {
        path: u.path.clone(),
        user_name: u.name.clone(),
        user_id: u.id.clone(),
        arn: format!("arn:aws:iam::{account}:user{}{}", u.path, u.name),
        create_date: secs(u.created_ms),
    }
}

fn no_key(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NoSuchEntity,
        format!("The Access Key with id {id} cannot be found."),
    )
}

/// The user an access-key operation acts on: `UserName`, or the calling user.
fn key_user(caller: &Caller, req: &IamRequest) -> ApiResult<String> {
    if let Some(name) = &req.user_name {
        return check_name("UserName", Some(name), 64);
    }
    caller
        .principal_arn
        .split_once(":user/")
        .map(|(_, rest)| rest.rsplit('/').next().unwrap_or(rest).to_owned())
        .ok_or_else(|| missing("UserName"))
}

impl Engine {
    pub async fn iam_create_user(
        &self,
        caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = check_name("UserName", req.user_name.as_deref(), 64)?;
        let path = check_path(req.path.as_deref())?;
        let now = self.iam_now();
        let account = &caller.scope.account;
        self.iam
            .update(|state| {
                if state.users.keys().any(|n| n.eq_ignore_ascii_case(&name)) {
                    return Err(ApiError::new(
                        ErrorCode::EntityAlreadyExists,
                        format!("User with name {name} already exists."),
                    ));
                }
                let record = UserRecord {
                    id: state.new_id("AIDA", 17),
                    name: name.clone(),
                    path,
                    created_ms: now,
                    inline: Default::default(),
                    attached: Default::default(),
                };
                let user = user_shape(account, &record);
                state.users.insert(name, record);
                Ok(IamResponse {
                    user: Some(user),
                    ..Default::default()
                })
            })
            .await
    }

    pub async fn iam_get_user(&self, caller: &Caller, req: IamRequest) -> ApiResult<IamResponse> {
        let account = &caller.scope.account;
        // Without UserName, the calling user; root answers as the account.
        let Ok(name) = key_user(caller, &req) else {
            return Ok(IamResponse {
                user: Some(User {
                    path: "/".into(),
                    user_name: String::new(),
                    user_id: account.clone(),
                    arn: caller.principal_arn.clone(),
                    create_date: 0.0,
                }),
                ..Default::default()
            });
        };
        self.iam
            .read(|state| {
                let user = user_shape(account, state.user(&name)?);
                Ok(IamResponse {
                    user: Some(user),
                    ..Default::default()
                })
            })
            .await
    }

    pub async fn iam_list_users(&self, caller: &Caller, req: IamRequest) -> ApiResult<IamResponse> {
        let prefix = req.path_prefix.clone().unwrap_or_else(|| "/".into());
        let account = &caller.scope.account;
        let users = self
            .iam
            .read(|state| {
                state
                    .users
                    .values()
                    .filter(|u| u.path.starts_with(&prefix))
                    .map(|u| user_shape(account, u))
                    .collect()
            })
            .await;
        page(
            "ListUsers",
            &req,
            users,
            |u| &u.user_name,
            |r, users| r.users = Some(users),
        )
    }

    /// DeleteUser: refused (DeleteConflict) while the user has keys or policies, as in IAM.
    pub async fn iam_delete_user(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = check_name("UserName", req.user_name.as_deref(), 64)?;
        self.iam
            .update(|state| {
                let user = state.user(&name)?;
                let conflict = |what: &str| {
                    Err(ApiError::new(
                        ErrorCode::DeleteConflict,
                        format!("Cannot delete entity, must {what} first."),
                    ))
                };
                if state.keys.values().any(|k| k.user == name) {
                    return conflict("delete access keys");
                }
                if !user.inline.is_empty() {
                    return conflict("delete policies");
                }
                if !user.attached.is_empty() {
                    return conflict("detach all policies");
                }
                state.users.remove(&name);
                Ok(IamResponse::default())
            })
            .await
    }

    /// CreateAccessKey: `AKIA` and 16 characters, a 40-character secret shown only here.
    pub async fn iam_create_access_key(
        &self,
        caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = key_user(caller, &req)?;
        let now = self.iam_now();
        self.iam
            .update(|state| {
                state.user(&name)?;
                if state.keys.values().filter(|k| k.user == name).count()
                    >= MAX_ACCESS_KEYS_PER_USER
                {
                    return Err(ApiError::new(
                        ErrorCode::IamLimitExceeded,
                        format!(
                            "Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS_PER_USER}"
                        ),
                    ));
                }
                let id = state.new_id("AKIA", 16);
                let secret = random_text(40, SECRET_CHARS);
                state.keys.insert(
                    id.clone(),
                    KeyRecord {
                        user: name.clone(),
                        secret: secret.clone(),
                        active: true,
                        created_ms: now,
                    },
                );
                Ok(IamResponse {
                    access_key: Some(AccessKey {
                        user_name: name,
                        access_key_id: id,
                        status: "Active".into(),
                        secret_access_key: secret,
                        create_date: secs(now),
                    }),
                    ..Default::default()
                })
            })
            .await
    }

    pub async fn iam_list_access_keys(
        &self,
        caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = key_user(caller, &req)?;
        let keys = self
            .iam
            .read(|state| {
                state.user(&name)?;
                Ok(state
                    .keys
                    .iter()
                    .filter(|(_, k)| k.user == name)
                    .map(|(id, k)| AccessKeyMetadata {
                        user_name: k.user.clone(),
                        access_key_id: id.clone(),
                        status: status(k.active).into(),
                        create_date: secs(k.created_ms),
                    })
                    .collect::<Vec<_>>())
            })
            .await?;
        page(
            "ListAccessKeys",
            &req,
            keys,
            |k| &k.access_key_id,
            |r, keys| r.access_key_metadata = Some(keys),
        )
    }

    pub async fn iam_delete_access_key(
        &self,
        caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = key_user(caller, &req)?;
        let id = req.access_key_id.ok_or_else(|| missing("AccessKeyId"))?;
        self.iam
            .update(|state| {
                state.user(&name)?;
                match state.keys.get(&id) {
                    Some(k) if k.user == name => {
                        state.keys.remove(&id);
                        Ok(IamResponse::default())
                    }
                    _ => Err(no_key(&id)),
                }
            })
            .await
    }

    /// UpdateAccessKey: `Active` or `Inactive` (an inactive key's requests are refused).
    pub async fn iam_update_access_key(
        &self,
        caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        let name = key_user(caller, &req)?;
        let id = req.access_key_id.ok_or_else(|| missing("AccessKeyId"))?;
        let active = match req.status.as_deref() {
            Some("Active") => true,
            Some("Inactive") => false,
            Some(other) => {
                return Err(invalid(
                    "Status",
                    other,
                    "Member must satisfy enum value set: [Active, Inactive]",
                ));
            }
            None => return Err(missing("Status")),
        };
        self.iam
            .update(|state| {
                state.user(&name)?;
                match state.keys.get_mut(&id) {
                    Some(k) if k.user == name => {
                        k.active = active;
                        Ok(IamResponse::default())
                    }
                    _ => Err(no_key(&id)),
                }
            })
            .await
    }

    pub async fn iam_put_user_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        self.put_inline_policy(Holder::User, req).await
    }

    /// GetUserPolicy: the document URL-encoded, as IAM returns it.
    pub async fn iam_get_user_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        self.get_inline_policy(Holder::User, req).await
    }

    pub async fn iam_delete_user_policy(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        self.delete_inline_policy(Holder::User, req).await
    }

    pub async fn iam_list_user_policies(
        &self,
        _caller: &Caller,
        req: IamRequest,
    ) -> ApiResult<IamResponse> {
        self.list_inline_policies(Holder::User, req).await
    }
}

fn status(active: bool) -> &'static str {
    if active { "Active" } else { "Inactive" }
}
