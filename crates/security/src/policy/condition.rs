//! The `Condition` block: operators, set qualifiers, `...IfExists`, and how each compares a
//! request's value with the policy's values.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::context::{ContextValue, RequestContext};
use super::pattern::Pattern;

/// A condition operator, without its `ForAllValues:`/`ForAnyValue:` prefix or `IfExists`
/// suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const OPERATORS: [(&str, Operator); 27] = [
    ("StringEquals", Operator::StringEquals),
    ("StringNotEquals", Operator::StringNotEquals),
    ("StringEqualsIgnoreCase", Operator::StringEqualsIgnoreCase),
    (
        "StringNotEqualsIgnoreCase",
        Operator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", Operator::StringLike),
    ("StringNotLike", Operator::StringNotLike),
    ("NumericEquals", Operator::NumericEquals),
    ("NumericNotEquals", Operator::NumericNotEquals),
    ("NumericLessThan", Operator::NumericLessThan),
    ("NumericLessThanEquals", Operator::NumericLessThanEquals),
    ("NumericGreaterThan", Operator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        Operator::NumericGreaterThanEquals,
    ),
    ("DateEquals", Operator::DateEquals),
    ("DateNotEquals", Operator::DateNotEquals),
    ("DateLessThan", Operator::DateLessThan),
    ("DateLessThanEquals", Operator::DateLessThanEquals),
    ("DateGreaterThan", Operator::DateGreaterThan),
    ("DateGreaterThanEquals", Operator::DateGreaterThanEquals),
    ("Bool", Operator::Bool),
    ("BinaryEquals", Operator::BinaryEquals),
    ("IpAddress", Operator::IpAddress),
    ("NotIpAddress", Operator::NotIpAddress),
    ("ArnEquals", Operator::ArnEquals),
    ("ArnLike", Operator::ArnLike),
    ("ArnNotEquals", Operator::ArnNotEquals),
    ("ArnNotLike", Operator::ArnNotLike),
    ("Null", Operator::Null),
];

impl Operator {
    /// The operator's name as written in a policy.
    pub fn name(self) -> &'static str {
        OPERATORS
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("", |(name, _)| name)
    }

    fn from_name(name: &str) -> Option<Self> {
        OPERATORS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, op)| *op)
    }

    /// Negated operators match when the request value matches **none** of the policy values.
    pub fn is_negated(self) -> bool {
        self.positive() != self
    }

    /// The operator a negated one negates (itself for the others).
    fn positive(self) -> Self {
        match self {
            Self::StringNotEquals => Self::StringEquals,
            Self::StringNotEqualsIgnoreCase => Self::StringEqualsIgnoreCase,
            Self::StringNotLike => Self::StringLike,
            Self::NumericNotEquals => Self::NumericEquals,
            Self::DateNotEquals => Self::DateEquals,
            Self::NotIpAddress => Self::IpAddress,
            Self::ArnNotEquals => Self::ArnEquals,
            Self::ArnNotLike => Self::ArnLike,
            other => other,
        }
    }
}

/// `ForAllValues:` / `ForAnyValue:`, for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// Every request value matches (true when the key is absent or empty).
    ForAllValues,
    /// At least one request value matches (false when the key is absent or empty).
    ForAnyValue,
}

/// One key tested by one operator: `"StringLike": {"aws:userid": ["AIDA*", "AROA*"]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub qualifier: Option<SetQualifier>,
    pub operator: Operator,
    pub if_exists: bool,
    /// The condition key as written (matched ignoring case).
    pub key: String,
    /// The policy's values (numbers and booleans are kept as their JSON text).
    pub values: Vec<Pattern>,
}

/// A condition operator name split into its parts, or `None` when it is not one.
pub(super) fn parse_operator(name: &str) -> Option<(Option<SetQualifier>, Operator, bool)> {
    let (qualifier, rest) = match name.split_once(':') {
        Some((q, rest)) if q.eq_ignore_ascii_case("ForAllValues") => {
            (Some(SetQualifier::ForAllValues), rest)
        }
        Some((q, rest)) if q.eq_ignore_ascii_case("ForAnyValue") => {
            (Some(SetQualifier::ForAnyValue), rest)
        }
        Some(_) => return None,
        None => (None, name),
    };
    let (base, if_exists) = match rest.len().checked_sub("IfExists".len()) {
        Some(cut) if rest.is_char_boundary(cut) && rest[cut..].eq_ignore_ascii_case("IfExists") => {
            (&rest[..cut], true)
        }
        _ => (rest, false),
    };
    let operator = Operator::from_name(base)?;
    if operator == Operator::Null && (if_exists || qualifier.is_some()) {
        return None;
    }
    Some((qualifier, operator, if_exists))
}

impl Condition {
    /// Whether the condition holds for `context`.
    pub fn evaluate(&self, context: &RequestContext) -> bool {
        let present = match context.value(&self.key) {
            Some(ContextValue::Multi(values)) if values.is_empty() => None,
            other => other.map(ContextValue::values),
        };
        if self.operator == Operator::Null {
            // `"Null": {"k": "true"}` holds when k is absent; several values are OR-ed.
            return self
                .values
                .iter()
                .any(|v| match v.as_str().to_ascii_lowercase().as_str() {
                    "true" => present.is_none(),
                    "false" => present.is_some(),
                    _ => false,
                });
        }
        let negated = self.operator.is_negated();
        let Some(request) = present else {
            return match self.qualifier {
                _ if self.if_exists => true,
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => negated,
            };
        };
        let positive = self.operator.positive();
        let matches_any = |value: &str| {
            self.values
                .iter()
                .any(|p| compare(positive, value, p, context))
        };
        let holds = |value: &str| matches_any(value) != negated;
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => request.iter().all(|v| holds(v)),
            Some(SetQualifier::ForAnyValue) => request.iter().any(|v| holds(v)),
            // A multivalued key without a qualifier: any value may match; a negated operator
            // requires that none does.
            None if negated => request.iter().all(|v| holds(v)),
            None => request.iter().any(|v| holds(v)),
        }
    }
}

/// Compares one request value with one policy value under a positive operator.
fn compare(op: Operator, value: &str, policy: &Pattern, context: &RequestContext) -> bool {
    let text = || policy.resolve_text(Some(context));
    match op {
        Operator::StringEquals => text().is_some_and(|t| t == value),
        Operator::StringEqualsIgnoreCase => {
            text().is_some_and(|t| t.to_lowercase() == value.to_lowercase())
        }
        Operator::StringLike => policy.matches(value, Some(context), false),
        Operator::NumericEquals
        | Operator::NumericLessThan
        | Operator::NumericLessThanEquals
        | Operator::NumericGreaterThan
        | Operator::NumericGreaterThanEquals => {
            match (
                parse_number(value),
                text().as_deref().and_then(parse_number),
            ) {
                (Some(a), Some(b)) => ordered(op, a.partial_cmp(&b)),
                _ => false,
            }
        }
        Operator::DateEquals
        | Operator::DateLessThan
        | Operator::DateLessThanEquals
        | Operator::DateGreaterThan
        | Operator::DateGreaterThanEquals => {
            match (parse_date(value), text().as_deref().and_then(parse_date)) {
                (Some(a), Some(b)) => ordered(op, Some(a.cmp(&b))),
                _ => false,
            }
        }
        Operator::Bool => text().is_some_and(|t| t.eq_ignore_ascii_case(value)),
        Operator::BinaryEquals => {
            text().is_some_and(|t| match (base64_decode(&t), base64_decode(value)) {
                (Some(a), Some(b)) => a == b,
                _ => t == value,
            })
        }
        Operator::IpAddress => text().is_some_and(|t| ip_in_cidr(value, &t)),
        Operator::ArnEquals | Operator::ArnLike => {
            policy.matches_arn(value, Some(context)) && value.starts_with("arn:")
        }
        _ => false,
    }
}

fn ordered(op: Operator, ordering: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        Operator::NumericEquals | Operator::DateEquals => ordering == Equal,
        Operator::NumericLessThan | Operator::DateLessThan => ordering == Less,
        Operator::NumericLessThanEquals | Operator::DateLessThanEquals => ordering != Greater,
        Operator::NumericGreaterThan | Operator::DateGreaterThan => ordering == Greater,
        Operator::NumericGreaterThanEquals | Operator::DateGreaterThanEquals => ordering != Less,
        _ => false,
    }
}

fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    // Integers and decimals only: no `inf`, `NaN` or exponents.
    let valid = !text.is_empty()
        && text
            .trim_start_matches(['-', '+'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().any(|c| c.is_ascii_digit());
    if valid { text.parse().ok() } else { None }
}

/// A date in ISO 8601 (`2024-01-01`, `2024-01-01T00:00:00Z`, with fractions or an offset)
/// or epoch seconds, as epoch milliseconds.
pub(super) fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty()
        && text
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        return text.parse::<i64>().ok()?.checked_mul(1000);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    let naive = text.trim_end_matches('Z');
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    let date = NaiveDate::parse_from_str(naive, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// Whether `ip` lies in `cidr` (`10.0.0.0/8`, `2001:db8::/32`; a bare address is one host).
fn ip_in_cidr(ip: &str, cidr: &str) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let (network, prefix) = match cidr.trim().split_once('/') {
        Some((n, p)) => (n, p.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    let Ok(network) = network.parse::<IpAddr>() else {
        return false;
    };
    let (ip, network, bits) = match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        (IpAddr::V6(a), IpAddr::V4(n)) => match a.to_ipv4_mapped() {
            Some(a) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
            None => return false,
        },
        (IpAddr::V4(_), IpAddr::V6(_)) => return false,
    };
    let prefix = prefix.unwrap_or(bits);
    if prefix > bits {
        return false;
    }
    let shift = bits - prefix;
    shift == bits || (ip >> shift) == (network >> shift)
}

/// Standard base64 with optional padding; `None` when not base64.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}
