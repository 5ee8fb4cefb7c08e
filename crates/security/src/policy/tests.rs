//! Unit tests of the policy language, by part.

mod conditions;
mod evaluation;
mod parsing;
mod patterns;
mod property;

use super::*;

pub(super) const ACCOUNT: &str = "123456789012";

pub(super) fn identity(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Identity).unwrap()
}

pub(super) fn alice() -> Principal {
    Principal::user(ACCOUNT, "/", "alice", "AIDAALICE")
}

pub(super) fn context(action: &str, resource: &str) -> RequestContext {
    RequestContext::new(alice(), action, resource)
}

/// Whether an allow-everything statement with this `Condition` block allows `context`.
pub(super) fn holds(condition: &str, context: &RequestContext) -> bool {
    let policy = identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{condition}}}}}"#
    ));
    evaluate(&[&policy], None, context).is_allowed()
}
