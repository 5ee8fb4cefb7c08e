//! SNS's rules for topic names, attributes and endpoints.

use super::topics::{MAX_ENDPOINT_LEN, MAX_TOPIC_NAME_LEN, Protocol};
use crate::MonitorError;

const TOPIC_ATTRIBUTES: &[&str] = &[
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "TracingConfig",
    "SignatureVersion",
];
const SUBSCRIPTION_ATTRIBUTES: &[&str] = &[
    "RawMessageDelivery",
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RedrivePolicy",
];

/// SNS's topic name rule: 1–256 ASCII letters, digits, `-` and `_`.
pub fn validate_topic_name(name: &str) -> Result<(), MonitorError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TOPIC_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(MonitorError::invalid(
            "Name",
            format!(
                "topic name must be 1-{MAX_TOPIC_NAME_LEN} letters, digits, hyphens or underscores: '{name}'"
            ),
        ))
    }
}

pub(crate) fn validate_topic_attribute(key: &str, value: &str) -> Result<(), MonitorError> {
    if !TOPIC_ATTRIBUTES.contains(&key) {
        return Err(MonitorError::invalid(
            "Attributes",
            format!("unknown attribute {key}"),
        ));
    }
    if key == "SignatureVersion" && !matches!(value, "1" | "2") {
        return Err(MonitorError::invalid(
            "Attributes",
            format!("SignatureVersion must be 1 or 2: '{value}'"),
        ));
    }
    Ok(())
}

pub(crate) fn validate_subscription_attribute(
    protocol: Protocol,
    key: &str,
    value: &str,
) -> Result<(), MonitorError> {
    if !SUBSCRIPTION_ATTRIBUTES.contains(&key) {
        return Err(MonitorError::invalid(
            "Attributes",
            format!("unknown attribute {key}"),
        ));
    }
    if key == "RawMessageDelivery" {
        if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
            return Err(MonitorError::invalid(
                "Attributes",
                format!("RawMessageDelivery must be true or false: '{value}'"),
            ));
        }
        if protocol.is_email() {
            return Err(MonitorError::invalid(
                "Attributes",
                format!("delivery protocol [{protocol}] does not support raw message delivery"),
            ));
        }
    }
    Ok(())
}

/// http endpoints are `http://` URLs, https ones `https://` URLs, email ones addresses.
pub(crate) fn validate_endpoint(protocol: Protocol, endpoint: &str) -> Result<(), MonitorError> {
    let valid = endpoint.len() <= MAX_ENDPOINT_LEN
        && !endpoint
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        && match protocol {
            Protocol::Http => has_host(endpoint, "http://"),
            Protocol::Https => has_host(endpoint, "https://"),
            Protocol::Email | Protocol::EmailJson => {
                endpoint.split_once('@').is_some_and(|(user, domain)| {
                    !user.is_empty() && !domain.is_empty() && !domain.contains('@')
                })
            }
        };
    if valid {
        Ok(())
    } else {
        Err(MonitorError::invalid(
            "Endpoint",
            format!("invalid {protocol} endpoint '{endpoint}'"),
        ))
    }
}

fn has_host(endpoint: &str, scheme: &str) -> bool {
    let (Some(head), Some(rest)) = (endpoint.get(..scheme.len()), endpoint.get(scheme.len()..))
    else {
        return false;
    };
    head.eq_ignore_ascii_case(scheme)
        && rest
            .split(['/', '?', '#'])
            .next()
            .is_some_and(|host| !host.is_empty())
}
