//! The authentication seam: every request is resolved here into a [`Caller`].
//!
//! The SigV4 signature (an `Authorization` header or a presigned query) is parsed and verified
//! by [`flowwatch_security::sigv4`] with the secret of the access key it names
//! ([`Engine::access_key`]), against the engine's clock. Failures become the protocol's
//! errors: `UnrecognizedClientException` / `InvalidClientTokenId` for an unknown key,
//! `InvalidSignatureException` / `SignatureDoesNotMatch` for a wrong signature, a timestamp
//! more than five minutes off is `InvalidSignatureException` / `RequestExpired` (the query
//! names and statuses come from [`ErrorCode::query_code`] and [`ErrorCode::query_status`]).
//! Secrets are never logged.
//!
//! Keys are the root key, IAM users' keys (an inactive one is refused like an unknown one)
//! and AssumeRole's temporary keys, which need their `X-Amz-Security-Token` (a missing or
//! wrong token is an unknown key; an expired one `ExpiredTokenException` / `ExpiredToken`).
//!
//! With verification off (`flowwatch serve --auth off`) any well-formed signature acts as the
//! account root, whatever its key.

use axum::http::request::Parts;
use flowwatch_engine::Engine;
use flowwatch_engine::iam::KeyKind;
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, Scope};
use flowwatch_security::policy::Principal;
use flowwatch_security::sigv4::{self, AuthError};

/// The message AWS gives for an access key it does not know.
const UNKNOWN_KEY: &str = "The security token included in the request is invalid.";

/// The message AWS gives for temporary credentials past their expiry.
const EXPIRED_TOKEN: &str = "The security token included in the request is expired";

/// Resolves the caller of a request to `service` (its SigV4 signing name) from its signature,
/// and the policy principal it acts as; `body_sha256` is the hex SHA-256 of the body as
/// received, before any `Content-Encoding` is undone (needed when signatures are verified).
pub(crate) async fn resolve_caller(
    engine: &Engine,
    parts: &Parts,
    body_sha256: Option<&str>,
    service: &str,
    request_id: &str,
) -> ApiResult<(Caller, Principal)> {
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let verifying = engine.config().auth.verify;
    let body_sha256 = body_sha256.unwrap_or_default();
    let request = sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &headers,
        body_sha256,
    };
    let signature = sigv4::parse(&request).map_err(api_error)?;
    let account = &engine.config().account_id;
    let principal = if verifying {
        if signature.scope.service != service {
            return Err(ApiError::new(
                ErrorCode::InvalidSignatureException,
                format!("Credential should be scoped to correct service: '{service}'."),
            ));
        }
        let unknown = || ApiError::new(ErrorCode::UnrecognizedClientException, UNKNOWN_KEY);
        let key = engine
            .access_key(&signature.access_key_id)
            .await
            .ok_or_else(unknown)?;
        let token = signature.security_token.as_deref();
        match &key.kind {
            // Long-term keys take no session token.
            KeyKind::LongTerm { active } => {
                if token.is_some() || !active {
                    return Err(unknown());
                }
            }
            KeyKind::Session {
                token: expected,
                expires_ms,
            } => {
                if token != Some(expected.as_str()) {
                    return Err(unknown());
                }
                if engine.now_secs() * 1000 >= *expires_ms {
                    return Err(ApiError::new(
                        ErrorCode::ExpiredTokenException,
                        EXPIRED_TOKEN,
                    ));
                }
            }
        }
        sigv4::verify(&request, &signature, key.secret.expose(), engine.now_secs())
            .map_err(api_error)?;
        key.principal
    } else {
        Principal::root(account)
    };
    let caller = Caller {
        principal_arn: principal.arn.clone(),
        scope: Scope {
            account: account.clone(),
            region: signature.scope.region,
        },
        access_key_id: signature.access_key_id,
        request_id: request_id.to_owned(),
    };
    Ok((caller, principal))
}

fn api_error(error: AuthError) -> ApiError {
    match error {
        AuthError::Missing => ApiError::new(
            ErrorCode::MissingAuthenticationToken,
            "Missing Authentication Token",
        ),
        AuthError::Incomplete(message) => ApiError::new(ErrorCode::IncompleteSignature, message),
        AuthError::Mismatch(message) => {
            ApiError::new(ErrorCode::InvalidSignatureException, message)
        }
        AuthError::Expired(message) => ApiError::new(ErrorCode::RequestExpired, message),
    }
}
