//! Resource tags: AWS's key and value constraints.

use std::collections::BTreeMap;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::limits::MAX_TAGS;

/// Tags as stored: sorted by key.
pub type Tags = BTreeMap<String, String>;

fn tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || c.is_whitespace()
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

/// Checks one tag key.
pub fn check_tag_key(key: &str) -> ApiResult<()> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(ApiError::constraint(
            "tags",
            key,
            "Map keys must have length between 1 and 128",
        ));
    }
    if !key.chars().all(tag_char) {
        return Err(ApiError::constraint(
            "tags",
            key,
            "Map keys must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$",
        ));
    }
    Ok(())
}

/// Checks a tag map given in a request (1–50 entries, valid keys and values).
pub fn check_tags(tags: &Tags) -> ApiResult<()> {
    if tags.is_empty() {
        return Err(ApiError::constraint(
            "tags",
            "{}",
            "Member must have length greater than or equal to 1",
        ));
    }
    if tags.len() > MAX_TAGS {
        return Err(ApiError::constraint(
            "tags",
            &format!("{} entries", tags.len()),
            "Member must have length less than or equal to 50",
        ));
    }
    for (key, value) in tags {
        check_tag_key(key)?;
        if value.chars().count() > 256 || !value.chars().all(tag_char) {
            return Err(ApiError::constraint(
                "tags",
                value,
                "Map values must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$ and have length at most 256",
            ));
        }
    }
    Ok(())
}

/// Merges `new` into `existing`, failing with TooManyTagsException when the result exceeds 50.
pub fn merge_tags(existing: &Tags, new: &Tags, resource: &str) -> ApiResult<Tags> {
    let mut merged = existing.clone();
    merged.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
    if merged.len() > MAX_TAGS {
        return Err(ApiError::new(
            ErrorCode::TooManyTagsException,
            format!("A resource can have no more than {MAX_TAGS} tags."),
        )
        .with_member("resourceName", resource));
    }
    Ok(merged)
}
