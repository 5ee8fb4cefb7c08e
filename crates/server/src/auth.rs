//! The authentication seam: every request is resolved here into a [`Caller`].
//!
//! For now any well-formed SigV4 `Authorization` header (or presigned query) is accepted and
//! the account comes from configuration; signature verification and IAM principals replace the
//! body of [`resolve_caller`] later without touching its callers.

use axum::http::HeaderMap;
use flowwatch_model::caller::DEFAULT_REGION;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, Scope};

/// The parts of a SigV4 credential scope: `AKID/date/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

fn parse_credential(credential: &str) -> ApiResult<CredentialScope> {
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [key, date, region, service, "aws4_request"]
            if !key.is_empty() && date.len() == 8 && !region.is_empty() && !service.is_empty() =>
        {
            Ok(CredentialScope {
                access_key_id: (*key).to_owned(),
                date: (*date).to_owned(),
                region: (*region).to_owned(),
                service: (*service).to_owned(),
            })
        }
        _ => Err(ApiError::new(
            ErrorCode::IncompleteSignature,
            format!(
                "Credential should be scoped to a valid region, service and date: '{credential}'."
            ),
        )),
    }
}

/// Parses an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
pub fn parse_authorization(value: &str) -> ApiResult<CredentialScope> {
    let incomplete = |what: &str| {
        ApiError::new(
            ErrorCode::IncompleteSignature,
            format!("Authorization header requires '{what}' parameter. Authorization={value}"),
        )
    };
    let rest = value.strip_prefix("AWS4-HMAC-SHA256").ok_or_else(|| {
        ApiError::new(
            ErrorCode::IncompleteSignature,
            "Only the AWS4-HMAC-SHA256 signature algorithm is supported.",
        )
    })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let credential = credential.ok_or_else(|| incomplete("Credential"))?;
    signed_headers
        .filter(|s| !s.is_empty())
        .ok_or_else(|| incomplete("SignedHeaders"))?;
    signature
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| incomplete("Signature"))?;
    parse_credential(credential)
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Resolves the caller of a request from its SigV4 header or presigned query.
pub fn resolve_caller(
    headers: &HeaderMap,
    query: Option<&str>,
    account_id: &str,
    request_id: &str,
) -> ApiResult<Caller> {
    let scope = if let Some(value) = headers.get("authorization") {
        let value = value.to_str().map_err(|_| {
            ApiError::new(
                ErrorCode::IncompleteSignature,
                "The Authorization header is not ASCII.",
            )
        })?;
        parse_authorization(value)?
    } else if let Some(credential) = query.and_then(|q| query_param(q, "X-Amz-Credential")) {
        let decoded = credential.replace("%2F", "/").replace("%2f", "/");
        parse_credential(&decoded)?
    } else {
        return Err(ApiError::new(
            ErrorCode::MissingAuthenticationToken,
            "Missing Authentication Token",
        ));
    };
    let region = if scope.region.is_empty() {
        DEFAULT_REGION.to_owned()
    } else {
        scope.region
    };
    Ok(Caller {
        principal_arn: format!("arn:aws:iam::{account_id}:root"),
        scope: Scope {
            account: account_id.to_owned(),
            region,
        },
        access_key_id: scope.access_key_id,
        request_id: request_id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_botocore_header() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123abcd";
        let s = parse_authorization(h).unwrap();
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.service, "logs");
        assert_eq!(s.access_key_id, "AKIDEXAMPLE");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "Basic abc",
            "AWS4-HMAC-SHA256 Credential=AKID/2024/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=ab",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/logs/aws4_request, Signature=ab",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=zz",
        ] {
            assert_eq!(
                parse_authorization(bad).unwrap_err().code,
                ErrorCode::IncompleteSignature,
                "{bad}"
            );
        }
    }
}
