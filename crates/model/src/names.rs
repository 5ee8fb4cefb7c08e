//! Validated resource names: once a value has one of these types it satisfies AWS's constraint.

use std::fmt;

use crate::error::{ApiError, ApiResult};
use crate::limits::{MAX_IDENTIFIER_LEN, MAX_NAME_LEN};

/// A log group name: 1–512 of `[.\-_/#A-Za-z0-9]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogGroupName(String);

impl LogGroupName {
    /// Validates a required member: missing gets AWS's "must not be null" error.
    pub fn required(member: &str, value: Option<String>) -> ApiResult<Self> {
        Self::parse(member, &crate::logs::required(member, value)?)
    }

    /// Validates `value` as the member `member` of a request.
    pub fn parse(member: &str, value: &str) -> ApiResult<Self> {
        let valid_char =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#');
        if value.is_empty() || value.len() > MAX_NAME_LEN {
            return Err(ApiError::constraint(
                member,
                value,
                "Member must have length between 1 and 512",
            ));
        }
        if !value.chars().all(valid_char) {
            return Err(ApiError::constraint(
                member,
                value,
                "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogGroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A log stream name: 1–512 characters, none of them `:` or `*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogStreamName(String);

impl LogStreamName {
    /// Validates a required member: missing gets AWS's "must not be null" error.
    pub fn required(member: &str, value: Option<String>) -> ApiResult<Self> {
        Self::parse(member, &crate::logs::required(member, value)?)
    }

    pub fn parse(member: &str, value: &str) -> ApiResult<Self> {
        if value.is_empty() || value.len() > MAX_NAME_LEN {
            return Err(ApiError::constraint(
                member,
                value,
                "Member must have length between 1 and 512",
            ));
        }
        if value.contains([':', '*']) {
            return Err(ApiError::constraint(
                member,
                value,
                "Member must satisfy regular expression pattern: [^:*]*",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogStreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a `logGroupIdentifier`-shaped value (a name or an ARN) for length and characters.
pub fn check_identifier(member: &str, value: &str) -> ApiResult<()> {
    let valid_char = |c: char| {
        c.is_alphanumeric()
            || matches!(c, '_' | '#' | '+' | '=' | '/' | ':' | ',' | '.' | '@' | '-')
    };
    if value.is_empty() || value.len() > MAX_IDENTIFIER_LEN {
        return Err(ApiError::constraint(
            member,
            value,
            "Member must have length between 1 and 2048",
        ));
    }
    if !value.chars().all(valid_char) {
        return Err(ApiError::constraint(
            member,
            value,
            "Member must satisfy regular expression pattern: [\\w#+=/:,.@-]*",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names() {
        assert!(LogGroupName::parse("logGroupName", "/aws/lambda/x_1.2#a-b").is_ok());
        assert!(LogGroupName::parse("logGroupName", "").is_err());
        assert!(LogGroupName::parse("logGroupName", "a b").is_err());
        assert!(LogGroupName::parse("logGroupName", &"a".repeat(513)).is_err());
        assert!(LogGroupName::parse("logGroupName", &"a".repeat(512)).is_ok());
    }

    #[test]
    fn stream_names() {
        assert!(LogStreamName::parse("logStreamName", "2024/01/01/[$LATEST] abc").is_ok());
        assert!(LogStreamName::parse("logStreamName", "a:b").is_err());
        assert!(LogStreamName::parse("logStreamName", "a*").is_err());
    }
}

/// Whether `name` is an S3 bucket name: 3–63 lowercase letters, digits, `.` and `-`, starting
/// and ending with a letter or digit (so it is also a safe directory name).
pub fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Whether `prefix` (without slashes at its ends) is a key prefix flowwatch can write under:
/// empty, or segments that are neither empty nor `.` nor `..`.
pub fn valid_key_prefix(prefix: &str) -> bool {
    prefix.is_empty()
        || prefix
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

#[cfg(test)]
mod s3_name_tests {
    use super::*;

    #[test]
    fn bucket_names_and_prefixes_stay_inside_the_bucket() {
        assert!(valid_bucket_name("my-bucket.logs"));
        for bad in ["ab", "My-Bucket", "../etc", "a/b", "-abc", "abc."] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
        assert!(valid_key_prefix("") && valid_key_prefix("a/b"));
        for bad in ["a//b", "..", "a/../b", "./a"] {
            assert!(!valid_key_prefix(bad), "{bad}");
        }
    }
}
