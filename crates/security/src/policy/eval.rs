//! Evaluation (IAM's "policy evaluation logic", single account and cross-account): an
//! explicit deny in any policy wins; otherwise an allow decides; otherwise the implicit deny.

use super::context::{PrincipalKind, RequestContext};
use super::pattern::Pattern;
use super::{Effect, PatternList, Policy, PrincipalBlock, Principals, Statement};

/// The kind of policy a decision comes from, as named in AWS's access-denied messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    /// Attached to the caller.
    Identity,
    /// Attached to the resource (a trust policy counts as one: it is the role's).
    Resource,
}

impl PolicyType {
    /// `identity-based` or `resource-based`.
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Identity => "identity-based",
            Self::Resource => "resource-based",
        }
    }
}

/// The statement that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    pub policy_type: PolicyType,
    /// The index into the identity policies given to [`evaluate`] (0 for the resource policy).
    pub policy_index: usize,
    /// The index of the statement in its policy.
    pub statement_index: usize,
    pub sid: Option<String>,
}

/// Why a request is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// The account's root user needs no identity policy.
    RootUser,
    Statement(StatementRef),
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(Grant),
    /// A `Deny` statement matched (it overrides every allow).
    ExplicitDeny(StatementRef),
    /// Nothing allowed the request; `missing` is the policy type that would have had to.
    ImplicitDeny {
        missing: PolicyType,
    },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow(_))
    }
}

/// How a resource-policy statement named the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PrincipalMatch {
    /// Through the caller's account (`123456789012`, `arn:aws:iam::123456789012:root`): this
    /// delegates to the account, whose identity policies must allow too.
    Account,
    /// The caller itself (its ARN, its role, a service, `*`): the statement grants alone.
    Direct,
}

/// Evaluates `context` against the caller's identity policies and the resource's policy.
///
/// Same account: an allow in either suffices (a resource policy that names only the account
/// delegates to identity policies). Cross-account (the resource ARN's account differs from the
/// caller's): both must allow. The root user of the account is allowed unless a deny matches.
pub fn evaluate(
    identity: &[&Policy],
    resource: Option<&Policy>,
    context: &RequestContext,
) -> Decision {
    let mut identity_allow = None;
    for (policy_index, policy) in identity.iter().enumerate() {
        for (statement_index, statement) in policy.statements.iter().enumerate() {
            if statement_matches(statement, context, false).is_none() {
                continue;
            }
            let reference = || StatementRef {
                policy_type: PolicyType::Identity,
                policy_index,
                statement_index,
                sid: statement.sid.clone(),
            };
            match statement.effect {
                Effect::Deny => return Decision::ExplicitDeny(reference()),
                Effect::Allow => {
                    identity_allow.get_or_insert_with(reference);
                }
            }
        }
    }
    let mut resource_allow: Option<(StatementRef, PrincipalMatch)> = None;
    for (statement_index, statement) in resource
        .iter()
        .flat_map(|p| p.statements.iter().enumerate())
    {
        let Some(how) = statement_matches(statement, context, true) else {
            continue;
        };
        let reference = StatementRef {
            policy_type: PolicyType::Resource,
            policy_index: 0,
            statement_index,
            sid: statement.sid.clone(),
        };
        match statement.effect {
            Effect::Deny => return Decision::ExplicitDeny(reference),
            Effect::Allow => {
                if resource_allow.as_ref().is_none_or(|(_, best)| how > *best) {
                    resource_allow = Some((reference, how));
                }
            }
        }
    }
    let identity_grant = match identity_allow {
        Some(reference) => Some(Grant::Statement(reference)),
        None if context.principal.is_root() => Some(Grant::RootUser),
        None => None,
    };
    if same_account(context) {
        match (resource_allow, identity_grant) {
            (Some((reference, PrincipalMatch::Direct)), _) => {
                Decision::Allow(Grant::Statement(reference))
            }
            (_, Some(grant)) => Decision::Allow(grant),
            _ => Decision::ImplicitDeny {
                missing: PolicyType::Identity,
            },
        }
    } else {
        match (resource_allow, identity_grant) {
            (Some(_), Some(grant)) => Decision::Allow(grant),
            (None, Some(_)) => Decision::ImplicitDeny {
                missing: PolicyType::Resource,
            },
            (_, None) => Decision::ImplicitDeny {
                missing: PolicyType::Identity,
            },
        }
    }
}

/// `sts:AssumeRole` (or another `sts:` action of `context`) on the role whose ARN is
/// `context.resource`: the trust policy must allow the caller; when it names only the
/// caller's account, the caller's identity policies must allow the action too. A service
/// principal needs only the trust policy.
pub fn evaluate_assume_role(
    trust: &Policy,
    caller_identity: &[&Policy],
    context: &RequestContext,
) -> Decision {
    match evaluate(caller_identity, Some(trust), context) {
        // Identity policies alone never let a caller assume a role: the trust policy must
        // name it.
        Decision::Allow(_) if !trust_names(trust, context) => Decision::ImplicitDeny {
            missing: PolicyType::Resource,
        },
        other => other,
    }
}

fn trust_names(trust: &Policy, context: &RequestContext) -> bool {
    trust
        .statements
        .iter()
        .any(|s| s.effect == Effect::Allow && statement_matches(s, context, true).is_some())
}

/// AWS's message for a denied request (`None` when allowed), e.g. `User:
/// arn:aws:iam::123456789012:user/alice is not authorized to perform: logs:PutLogEvents on
/// resource: <arn> because no identity-based policy allows the logs:PutLogEvents action`.
pub fn access_denied_message(context: &RequestContext, decision: &Decision) -> Option<String> {
    let head = format!(
        "User: {} is not authorized to perform: {} on resource: {}",
        context.principal.arn, context.action, context.resource
    );
    match decision {
        Decision::Allow(_) => None,
        Decision::ExplicitDeny(reference) => {
            let article = match reference.policy_type {
                PolicyType::Identity => "an",
                PolicyType::Resource => "a",
            };
            Some(format!(
                "{head} with an explicit deny in {article} {} policy",
                reference.policy_type.phrase()
            ))
        }
        Decision::ImplicitDeny { missing } => Some(format!(
            "{head} because no {} policy allows the {} action",
            missing.phrase(),
            context.action
        )),
    }
}

/// Whether a statement applies to the request; for resource policies, how the principal
/// matched (identity statements report `Direct`).
fn statement_matches(
    statement: &Statement,
    context: &RequestContext,
    resource_policy: bool,
) -> Option<PrincipalMatch> {
    let how = match (&statement.principal, resource_policy) {
        (_, false) => PrincipalMatch::Direct,
        (None, true) => return None,
        (Some(PrincipalBlock::Principal(principals)), true) => {
            principal_matches(principals, context)?
        }
        (Some(PrincipalBlock::NotPrincipal(principals)), true) => {
            if not_principal_exempts(principals, context) {
                return None;
            }
            PrincipalMatch::Direct
        }
    };
    let action_hit = statement
        .action
        .patterns
        .iter()
        .any(|p| p.matches(&context.action, None, true));
    if action_hit == statement.action.negated {
        return None;
    }
    if let Some(resources) = &statement.resource
        && !resource_list_matches(resources, context)
    {
        return None;
    }
    statement
        .conditions
        .iter()
        .all(|c| c.evaluate(context))
        .then_some(how)
}

fn resource_list_matches(list: &PatternList, context: &RequestContext) -> bool {
    let hit = list
        .patterns
        .iter()
        .any(|p| resource_matches(p, &context.resource, context));
    hit != list.negated
}

/// ARN matching, plus the Logs idiom: `…:log-group:<name>:*` also covers the log group
/// `…:log-group:<name>` itself (DescribeLogGroups reports the group's ARN with `:*`).
fn resource_matches(pattern: &Pattern, resource: &str, context: &RequestContext) -> bool {
    if pattern.matches_arn(resource, Some(context)) {
        return true;
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let is_log_group = parts.len() == 6
        && parts[2] == "logs"
        && parts[5]
            .strip_prefix("log-group:")
            .is_some_and(|name| !name.contains(':'));
    is_log_group && pattern.matches_arn(&format!("{resource}:*"), Some(context))
}

/// The account of a resource ARN (`None` when the ARN names none: `*`, S3, IAM-global).
fn resource_account(resource: &str) -> Option<&str> {
    let account = resource.split(':').nth(4)?;
    (!account.is_empty()).then_some(account)
}

fn same_account(context: &RequestContext) -> bool {
    let principal = &context.principal.account;
    principal.is_empty() || resource_account(&context.resource).is_none_or(|a| a == principal)
}

fn principal_matches(principals: &Principals, context: &RequestContext) -> Option<PrincipalMatch> {
    let principal = &context.principal;
    if principals.everyone {
        return Some(PrincipalMatch::Direct);
    }
    let mut best = None;
    let aws_principal = !matches!(principal.kind, PrincipalKind::Service);
    for entry in &principals.aws {
        let named = *entry == principal.arn
            || (entry == "*" && aws_principal)
            || matches!(&principal.kind, PrincipalKind::AssumedRole { role_arn } if role_arn == entry);
        let how = if named {
            Some(PrincipalMatch::Direct)
        } else if aws_principal
            && !principal.account.is_empty()
            && names_account(entry, &principal.account)
        {
            Some(PrincipalMatch::Account)
        } else {
            None
        };
        best = best.max(how);
    }
    if principal.kind == PrincipalKind::Service
        && principals
            .service
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&principal.arn))
    {
        best = Some(PrincipalMatch::Direct);
    }
    if principals.federated.contains(&principal.arn) {
        best = Some(PrincipalMatch::Direct);
    }
    best
}

/// Whether `NotPrincipal` leaves the caller out. IAM checks every identity the caller
/// stands for — its account, then the user, or the role and the session — and a caller is
/// left out only when all of them are listed: naming a user without its account does not
/// exempt the user (the account, and so the user, is still covered).
fn not_principal_exempts(principals: &Principals, context: &RequestContext) -> bool {
    let principal = &context.principal;
    if principals.everyone {
        return true;
    }
    let listed = |arn: &str| {
        principals
            .aws
            .iter()
            .any(|entry| entry == "*" || entry == arn)
    };
    let account_listed = || {
        principals
            .aws
            .iter()
            .any(|entry| entry == "*" || names_account(entry, &principal.account))
    };
    match &principal.kind {
        PrincipalKind::Root => account_listed(),
        PrincipalKind::User | PrincipalKind::FederatedUser => {
            account_listed() && listed(&principal.arn)
        }
        PrincipalKind::AssumedRole { role_arn } => {
            account_listed() && listed(role_arn) && listed(&principal.arn)
        }
        PrincipalKind::Service => principals
            .service
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&principal.arn)),
        PrincipalKind::Anonymous => false,
    }
}

/// `123456789012` or `arn:<partition>:iam::123456789012:root`.
fn names_account(entry: &str, account: &str) -> bool {
    if entry == account {
        return true;
    }
    let parts: Vec<&str> = entry.split(':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4] == account
        && parts[5] == "root"
}
