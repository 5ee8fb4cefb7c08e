//! The request context a policy is evaluated against: who calls, what they do, on which
//! resource, and the condition keys (`aws:SourceIp`, `aws:CurrentTime`, …).

use std::collections::BTreeMap;

use chrono::DateTime;

/// What kind of identity makes a request (the values of `aws:PrincipalType`, plus services).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user (`arn:aws:iam::<acct>:root`).
    Root,
    /// An IAM user.
    User,
    /// A session of an IAM role; `role_arn` is the role's own ARN (with its path).
    AssumedRole { role_arn: String },
    /// A federated user (`GetFederationToken`).
    FederatedUser,
    /// An AWS service such as `vpc-flow-logs.amazonaws.com` (the ARN is the service name).
    Service,
    /// An unauthenticated caller.
    Anonymous,
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The caller's ARN (for a session, `arn:aws:sts::<acct>:assumed-role/<role>/<session>`).
    pub arn: String,
    /// The 12-digit account the caller belongs to (empty for services and anonymous).
    pub account: String,
    /// `aws:userid`: the account id for root, `AIDA…` for a user, `AROA…:session` for a role.
    pub user_id: String,
    /// `aws:username`, set for IAM users only.
    pub username: Option<String>,
    pub kind: PrincipalKind,
}

impl Principal {
    /// The root user of `account`.
    pub fn root(account: &str) -> Self {
        Self {
            arn: format!("arn:aws:iam::{account}:root"),
            account: account.to_owned(),
            user_id: account.to_owned(),
            username: None,
            kind: PrincipalKind::Root,
        }
    }

    /// An IAM user; `path` is `/` or `/division/`.
    pub fn user(account: &str, path: &str, name: &str, user_id: &str) -> Self {
        Self {
            arn: format!("arn:aws:iam::{account}:user{path}{name}"),
            account: account.to_owned(),
            user_id: user_id.to_owned(),
            username: Some(name.to_owned()),
            kind: PrincipalKind::User,
        }
    }

    /// A session of role `role_name` (at `path`) named `session`; `role_id` is `AROA…`.
    pub fn assumed_role(
        account: &str,
        path: &str,
        role_name: &str,
        session: &str,
        role_id: &str,
    ) -> Self {
        Self {
            arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}"),
            account: account.to_owned(),
            user_id: format!("{role_id}:{session}"),
            username: None,
            kind: PrincipalKind::AssumedRole {
                role_arn: format!("arn:aws:iam::{account}:role{path}{role_name}"),
            },
        }
    }

    /// An AWS service principal such as `vpc-flow-logs.amazonaws.com`.
    pub fn service(name: &str) -> Self {
        Self {
            arn: name.to_owned(),
            account: String::new(),
            user_id: name.to_owned(),
            username: None,
            kind: PrincipalKind::Service,
        }
    }

    /// An unauthenticated caller.
    pub fn anonymous() -> Self {
        Self {
            arn: "anonymous".to_owned(),
            account: String::new(),
            user_id: "anonymous".to_owned(),
            username: None,
            kind: PrincipalKind::Anonymous,
        }
    }

    pub fn is_root(&self) -> bool {
        self.kind == PrincipalKind::Root
    }

    /// `aws:PrincipalArn`: the role's ARN for a session, the caller's ARN otherwise.
    pub fn principal_arn(&self) -> &str {
        match &self.kind {
            PrincipalKind::AssumedRole { role_arn } => role_arn,
            _ => &self.arn,
        }
    }

    /// `aws:PrincipalType`.
    pub fn principal_type(&self) -> Option<&'static str> {
        Some(match self.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::AssumedRole { .. } => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::Anonymous => "Anonymous",
            PrincipalKind::Service => return None,
        })
    }
}

/// The value of a condition key: single-valued (most keys) or a set (`aws:TagKeys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    Single(String),
    Multi(Vec<String>),
}

impl ContextValue {
    /// The values as a slice (one element for a single value).
    pub fn values(&self) -> &[String] {
        match self {
            Self::Single(v) => std::slice::from_ref(v),
            Self::Multi(vs) => vs,
        }
    }
}

/// One request to authorize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub principal: Principal,
    /// `service:Action`, e.g. `logs:PutLogEvents`.
    pub action: String,
    /// The ARN of the resource (`*` for actions without resource-level permissions).
    pub resource: String,
    /// Condition keys by lowercase name (condition keys ignore case).
    keys: BTreeMap<String, ContextValue>,
}

impl RequestContext {
    /// A context with the keys that follow from the principal: `aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`, `aws:username` (users),
    /// `aws:PrincipalServiceName` (services).
    pub fn new(
        principal: Principal,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        let mut context = Self {
            principal,
            action: action.into(),
            resource: resource.into(),
            keys: BTreeMap::new(),
        };
        let p = context.principal.clone();
        if p.kind == PrincipalKind::Service {
            context.set("aws:PrincipalServiceName", p.arn.clone());
        } else if p.kind != PrincipalKind::Anonymous {
            context.set("aws:PrincipalArn", p.principal_arn());
            context.set("aws:PrincipalAccount", p.account.clone());
            context.set("aws:userid", p.user_id.clone());
        }
        if let Some(kind) = p.principal_type() {
            context.set("aws:PrincipalType", kind);
        }
        if let Some(name) = &p.username {
            context.set("aws:username", name.clone());
        }
        context
    }

    /// Sets `aws:CurrentTime` (ISO 8601, UTC) and `aws:EpochTime` from the injected clock.
    pub fn at(mut self, epoch_secs: i64) -> Self {
        if let Some(time) = DateTime::from_timestamp(epoch_secs, 0) {
            self.set(
                "aws:CurrentTime",
                time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            );
        }
        self.set("aws:EpochTime", epoch_secs.to_string());
        self
    }

    /// Builder form of [`set`](Self::set).
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// Builder form of [`set_values`](Self::set_values).
    pub fn with_values<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set_values(key, values);
        self
    }

    /// Sets a single-valued key (replacing any value).
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.keys
            .insert(key.to_ascii_lowercase(), ContextValue::Single(value.into()));
    }

    /// Sets a multivalued key; an empty set is kept (it is present but empty).
    pub fn set_values<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values.into_iter().map(Into::into).collect();
        self.keys
            .insert(key.to_ascii_lowercase(), ContextValue::Multi(values));
    }

    pub fn remove(&mut self, key: &str) {
        self.keys.remove(&key.to_ascii_lowercase());
    }

    /// The value of a key (case-insensitive name).
    pub fn value(&self, key: &str) -> Option<&ContextValue> {
        self.keys.get(&key.to_ascii_lowercase())
    }

    /// The value of a single-valued key, for policy variables (a set never substitutes).
    pub fn single_value(&self, key: &str) -> Option<&str> {
        match self.value(key)? {
            ContextValue::Single(v) => Some(v),
            ContextValue::Multi(_) => None,
        }
    }
}
