//! Opaque pagination tokens.

use flowwatch_model::{ApiError, ApiResult};

/// A Describe* token: the name after which the next page starts, hex-encoded and tagged with
/// the operation so a token of one call is not taken by another.
pub(crate) fn encode_after(op: &str, last: &str) -> String {
    let mut s = String::with_capacity(op.len() + 1 + last.len() * 2);
    s.push_str(op);
    s.push('.');
    for b in last.as_bytes() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub(crate) fn decode_after(op: &str, token: &str) -> ApiResult<String> {
    let invalid = || ApiError::invalid_parameter("The specified nextToken is invalid.");
    let hex = token
        .strip_prefix(op)
        .and_then(|t| t.strip_prefix('.'))
        .ok_or_else(invalid)?;
    if hex.len() % 2 != 0 {
        return Err(invalid());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = encode_after("dlg", "a/b#c");
        assert_eq!(decode_after("dlg", &t).unwrap(), "a/b#c");
        assert!(decode_after("dls", &t).is_err());
        assert!(decode_after("dlg", "dlg.zz").is_err());
    }
}
