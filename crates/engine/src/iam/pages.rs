//! IAM's List* pages: `MaxItems` (1–1,000, default 100) items after `Marker`, `IsTruncated`,
//! and the `Marker` of the next page (the opaque position after the last item returned, tied
//! to the operation).

use flowwatch_model::ApiResult;
use flowwatch_model::iam::{IamRequest, IamResponse};

use super::invalid;
use crate::token;

/// Items per page when the request gives no `MaxItems` (IAM: 100).
const DEFAULT_MAX_ITEMS: i64 = 100;
/// The largest `MaxItems` (IAM: 1,000).
const MAX_ITEMS: i64 = 1000;

/// The page of `items` (any order; each with a unique `key`) that `req` asks for: sorted by
/// key, after its `Marker`, at most its `MaxItems`; `fill` puts it in the response, which also
/// gets `IsTruncated` and, when truncated, the next `Marker`. `op` names the operation, so a
/// marker of one List call is not taken by another.
pub(super) fn page<T>(
    op: &str,
    req: &IamRequest,
    mut items: Vec<T>,
    key: impl Fn(&T) -> &str,
    fill: impl FnOnce(&mut IamResponse, Vec<T>),
) -> ApiResult<IamResponse> {
    let max = req.max_items.unwrap_or(DEFAULT_MAX_ITEMS);
    if max < 1 {
        return Err(invalid(
            "MaxItems",
            &max.to_string(),
            "Member must have value greater than or equal to 1",
        ));
    }
    if max > MAX_ITEMS {
        return Err(invalid(
            "MaxItems",
            &max.to_string(),
            "Member must have value less than or equal to 1000",
        ));
    }
    items.sort_by(|a, b| key(a).cmp(key(b)));
    if let Some(marker) = req.marker.as_deref() {
        let after = token::decode_after(op, marker).map_err(|_| {
            invalid(
                "Marker",
                marker,
                "Member must be a marker returned by the previous call",
            )
        })?;
        items.retain(|item| key(item) > after.as_str());
    }
    let truncated = items.len() > max as usize;
    items.truncate(max as usize);
    let mut response = IamResponse {
        is_truncated: Some(truncated),
        ..Default::default()
    };
    if truncated && let Some(last) = items.last() {
        response.marker = Some(token::encode_after(op, key(last)));
    }
    fill(&mut response, items);
    Ok(response)
}
