//! JSON → [`Policy`], with IAM's validation messages.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::condition::{Condition, parse_operator};
use super::pattern::Pattern;
use super::{
    Effect, PatternList, Policy, PolicyError, PolicyKind, PrincipalBlock, Principals, Statement,
    Version,
};

const SYNTAX: &str = "Syntax errors in policy.";
const NO_VENDOR: &str =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
const ONE_COLON: &str = "Actions/Condition can contain only one colon.";

fn syntax() -> PolicyError {
    PolicyError::malformed(SYNTAX)
}

pub(super) fn parse(document: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
    let value: Value = serde_json::from_str(document).map_err(|_| syntax())?;
    let Value::Object(top) = value else {
        return Err(syntax());
    };
    if top
        .keys()
        .any(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement"))
    {
        return Err(syntax());
    }
    let version = match top.get("Version") {
        None => Version::V2008_10_17,
        Some(Value::String(v)) if v == "2012-10-17" => Version::V2012_10_17,
        Some(Value::String(v)) if v == "2008-10-17" => Version::V2008_10_17,
        Some(_) => return Err(PolicyError::malformed("The policy failed legacy parsing")),
    };
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(syntax()),
    };
    let raw = match top.get("Statement") {
        None => return Err(PolicyError::malformed("Missing required field Statement")),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    let variables = version == Version::V2012_10_17;
    let mut statements = Vec::with_capacity(raw.len());
    let mut sids = HashSet::new();
    for item in raw {
        let Value::Object(fields) = item else {
            return Err(syntax());
        };
        let statement = parse_statement(fields, kind, variables)?;
        if let Some(sid) = &statement.sid
            && !sid.is_empty()
            && !sids.insert(sid.clone())
        {
            return Err(PolicyError::malformed(
                "Statement IDs (SID) in a single policy must be unique.",
            ));
        }
        statements.push(statement);
    }
    Ok(Policy {
        kind,
        version,
        id,
        statements,
    })
}

fn parse_statement(
    fields: &Map<String, Value>,
    kind: PolicyKind,
    variables: bool,
) -> Result<Statement, PolicyError> {
    const KNOWN: [&str; 10] = [
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "Id",
    ];
    if fields.keys().any(|k| !KNOWN.contains(&k.as_str())) {
        return Err(syntax());
    }
    let sid = match fields.get("Sid") {
        None => None,
        Some(Value::String(sid)) => {
            if kind == PolicyKind::Identity && !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(PolicyError::malformed(
                    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
                ));
            }
            Some(sid.clone())
        }
        Some(_) => return Err(syntax()),
    };
    let effect = match fields.get("Effect") {
        None => return Err(PolicyError::malformed("Missing required field Effect")),
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(Value::String(e)) => {
            return Err(PolicyError::malformed(format!("Invalid effect: {e}")));
        }
        Some(_) => return Err(syntax()),
    };
    let principal = parse_principal_block(fields, kind)?;
    let action = match either(fields, "Action", "NotAction")? {
        None => {
            return Err(PolicyError::malformed(
                "Policy statement must contain actions.",
            ));
        }
        Some((negated, value)) => {
            let items = strings(value)?;
            if items.is_empty() {
                return Err(PolicyError::malformed(
                    "Policy statement must contain actions.",
                ));
            }
            for action in &items {
                check_action(action)?;
            }
            let patterns = items.iter().map(|a| Pattern::new(a, false)).collect();
            PatternList { negated, patterns }
        }
    };
    let resource = match (either(fields, "Resource", "NotResource")?, kind) {
        (Some(_), PolicyKind::Trust) => {
            let field = if fields.contains_key("Resource") {
                "Resource"
            } else {
                "NotResource"
            };
            return Err(PolicyError::malformed(format!(
                "Has prohibited field {field}"
            )));
        }
        (None, PolicyKind::Trust) => None,
        (None, _) => {
            return Err(PolicyError::malformed(
                "Policy statement must contain resources.",
            ));
        }
        (Some((negated, value)), _) => {
            let items = strings(value)?;
            if items.is_empty() {
                return Err(PolicyError::malformed(
                    "Policy statement must contain resources.",
                ));
            }
            for resource in &items {
                if resource != "*" && !resource.starts_with("arn:") {
                    return Err(PolicyError::malformed(format!(
                        "Resource {resource} must be in ARN format or \"*\"."
                    )));
                }
            }
            let patterns = items.iter().map(|r| Pattern::new(r, variables)).collect();
            Some(PatternList { negated, patterns })
        }
    };
    let conditions = match fields.get("Condition") {
        None => Vec::new(),
        Some(value) => parse_conditions(value, variables)?,
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// The one of two exclusive fields that is present, with whether it is the `Not` form.
fn either<'a>(
    fields: &'a Map<String, Value>,
    plain: &str,
    not: &str,
) -> Result<Option<(bool, &'a Value)>, PolicyError> {
    match (fields.get(plain), fields.get(not)) {
        (Some(_), Some(_)) => Err(syntax()),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

/// A string or an array of strings.
fn strings(value: &Value) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(syntax()),
            })
            .collect(),
        _ => Err(syntax()),
    }
}

/// `*` or `vendor:Name` with one colon and a vendor of letters, digits and `-`.
fn check_action(action: &str) -> Result<(), PolicyError> {
    if action == "*" {
        return Ok(());
    }
    if action.matches(':').count() > 1 {
        return Err(PolicyError::malformed(ONE_COLON));
    }
    check_vendor(action)
}

/// A vendor prefix of letters, digits and `-` (`logs:`, `ec2:`).
fn check_vendor(name: &str) -> Result<(), PolicyError> {
    let Some((vendor, _)) = name.split_once(':') else {
        return Err(PolicyError::malformed(NO_VENDOR));
    };
    if vendor.is_empty()
        || !vendor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(PolicyError::malformed(format!(
            "Vendor {vendor} is not valid"
        )));
    }
    Ok(())
}

fn parse_principal_block(
    fields: &Map<String, Value>,
    kind: PolicyKind,
) -> Result<Option<PrincipalBlock>, PolicyError> {
    let found = either(fields, "Principal", "NotPrincipal")?;
    match (found, kind) {
        (Some(_), PolicyKind::Identity) => Err(PolicyError::malformed(
            "Policy document should not specify a principal.",
        )),
        (None, PolicyKind::Identity) => Ok(None),
        (None, _) => Err(PolicyError::malformed("Missing required field Principal")),
        (Some((negated, value)), _) => {
            let principals = parse_principals(value)?;
            Ok(Some(if negated {
                PrincipalBlock::NotPrincipal(principals)
            } else {
                PrincipalBlock::Principal(principals)
            }))
        }
    }
}

fn invalid_principal(kind: &str, value: &str) -> PolicyError {
    PolicyError::malformed(format!(
        "Invalid principal in policy: \"{kind}\":\"{value}\""
    ))
}

fn parse_principals(value: &Value) -> Result<Principals, PolicyError> {
    let mut principals = Principals::default();
    match value {
        Value::String(s) if s == "*" => principals.everyone = true,
        Value::Object(map) => {
            for (kind, value) in map {
                let list = strings(value)?;
                if list.is_empty() {
                    return Err(syntax());
                }
                let target = match kind.as_str() {
                    "AWS" => {
                        for arn in &list {
                            let account =
                                arn.len() == 12 && arn.chars().all(|c| c.is_ascii_digit());
                            if arn != "*" && !account && !arn.starts_with("arn:") {
                                return Err(invalid_principal(kind, arn));
                            }
                        }
                        &mut principals.aws
                    }
                    "Service" => &mut principals.service,
                    "Federated" => &mut principals.federated,
                    "CanonicalUser" => &mut principals.canonical_user,
                    _ => return Err(invalid_principal(kind, &list[0])),
                };
                if let Some(empty) = list.iter().find(|p| p.is_empty()) {
                    return Err(invalid_principal(kind, empty));
                }
                target.extend(list);
            }
        }
        Value::String(s) => return Err(invalid_principal("AWS", s)),
        _ => return Err(syntax()),
    }
    Ok(principals)
}

fn parse_conditions(value: &Value, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(operators) = value else {
        return Err(syntax());
    };
    let mut conditions = Vec::new();
    for (name, keys) in operators {
        let Some((qualifier, operator, if_exists)) = parse_operator(name) else {
            return Err(PolicyError::malformed(format!(
                "Invalid Condition type : {name}"
            )));
        };
        let Value::Object(keys) = keys else {
            return Err(syntax());
        };
        for (key, values) in keys {
            // Keys need a prefix; it may hold dots and slashes
            // (`oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:sub`) and more colons
            // (`kms:EncryptionContext:Department`).
            if key
                .split_once(':')
                .is_none_or(|(prefix, _)| prefix.is_empty())
            {
                return Err(PolicyError::malformed(NO_VENDOR));
            }
            let values = match values {
                Value::Array(items) => items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?,
                one => vec![scalar(one)?],
            };
            let values = values.iter().map(|v| Pattern::new(v, variables)).collect();
            conditions.push(Condition {
                qualifier,
                operator,
                if_exists,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(conditions)
}

/// A condition value: a string, or a number or boolean kept as its JSON text.
fn scalar(value: &Value) -> Result<String, PolicyError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(syntax()),
    }
}
