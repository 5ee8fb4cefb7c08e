//! AWS Signature Version 4, server side: [`parse`] finds the credential, [`verify`] recomputes
//! the signature with the secret the caller looked up and checks the clock.
//!
//! The canonical request follows the IAM user guide ("Create a signed AWS API request"): the
//! path encoded once more (non-S3 services), the query re-encoded and sorted, the signed
//! headers trimmed with their inner spaces collapsed, the hex SHA-256 of the body as received
//! on the wire (before any `Content-Encoding` is undone).

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// How far a request's timestamp may be from the server's clock.
pub const MAX_SKEW_SECS: i64 = 5 * 60;
/// The longest a presigned request may stay valid (7 days).
pub const MAX_PRESIGNED_EXPIRES_SECS: i64 = 7 * 24 * 3600;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const AMZ_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The parts of an HTTP request a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as received (still percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?` (empty when none).
    pub query: &'a str,
    /// Headers with lowercase names, in arrival order; a repeated header appears repeatedly.
    pub headers: &'a [(String, String)],
    /// Lowercase hex SHA-256 of the body as received.
    pub body_sha256: &'a str,
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Neither an `Authorization` header nor a presigned query.
    #[error("missing authentication token")]
    Missing,
    /// The signature's parts are malformed or missing.
    #[error("{0}")]
    Incomplete(String),
    /// The signature does not match (or the body hash does not).
    #[error("{0}")]
    Mismatch(String),
    /// The timestamp is outside the allowed skew, or a presigned request has expired.
    #[error("{0}")]
    Expired(String),
}

/// The credential scope of a signature: `AKID/date/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub date: String,
    pub region: String,
    pub service: String,
}

/// A signature found in a request, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub access_key_id: String,
    pub scope: Scope,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// The timestamp in epoch seconds.
    pub time: i64,
    /// `X-Amz-Security-Token`, for temporary credentials.
    pub security_token: Option<String>,
    signed_headers: Vec<String>,
    signature: String,
    /// `X-Amz-Expires` of a presigned request.
    presigned_expires: Option<i64>,
}

fn incomplete(message: impl Into<String>) -> AuthError {
    AuthError::Incomplete(message.into())
}

fn header<'a>(request: &Request<'a>, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Finds the signature of a request: the `Authorization` header, else a presigned query.
pub fn parse(request: &Request<'_>) -> Result<Signature, AuthError> {
    if let Some(value) = header(request, "authorization") {
        return parse_header(request, value);
    }
    let params = query_params(request.query);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if param("X-Amz-Credential").is_none() && param("X-Amz-Signature").is_none() {
        return Err(AuthError::Missing);
    }
    let missing = |name: &str| {
        incomplete(format!(
            "AWS query-string parameters must include '{name}'. Re-examine the query-string parameters."
        ))
    };
    let algorithm = param("X-Amz-Algorithm").ok_or_else(|| missing("X-Amz-Algorithm"))?;
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'"
        )));
    }
    let credential = param("X-Amz-Credential").ok_or_else(|| missing("X-Amz-Credential"))?;
    let amz_date = param("X-Amz-Date").ok_or_else(|| missing("X-Amz-Date"))?;
    let signed = param("X-Amz-SignedHeaders").ok_or_else(|| missing("X-Amz-SignedHeaders"))?;
    let signature = param("X-Amz-Signature").ok_or_else(|| missing("X-Amz-Signature"))?;
    let expires = match param("X-Amz-Expires") {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|e| (0..=MAX_PRESIGNED_EXPIRES_SECS).contains(e))
            .ok_or_else(|| {
                incomplete(format!(
                    "X-Amz-Expires must be a number of seconds up to {MAX_PRESIGNED_EXPIRES_SECS}"
                ))
            })?,
        None => MAX_SKEW_SECS,
    };
    let (access_key_id, scope) = parse_credential(credential)?;
    let time = parse_amz_date(amz_date)?;
    check_scope_date(&scope, amz_date)?;
    Ok(Signature {
        access_key_id,
        scope,
        amz_date: amz_date.to_owned(),
        time,
        security_token: param("X-Amz-Security-Token").map(str::to_owned),
        signed_headers: split_signed_headers(signed),
        signature: check_hex(signature)?,
        presigned_expires: Some(expires),
    })
}

fn parse_header(request: &Request<'_>, value: &str) -> Result<Signature, AuthError> {
    let missing = |what: &str| {
        incomplete(format!(
            "Authorization header requires '{what}' parameter. Authorization={value}"
        ))
    };
    let rest = value
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| incomplete("Only the AWS4-HMAC-SHA256 signature algorithm is supported."))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("Signature"))?;
    let (access_key_id, scope) = parse_credential(credential)?;
    let (amz_date, time) = match header(request, "x-amz-date") {
        Some(d) => (d.to_owned(), parse_amz_date(d)?),
        None => {
            let date = header(request, "date").ok_or_else(|| {
                incomplete(format!(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={value}"
                ))
            })?;
            let parsed = DateTime::parse_from_rfc2822(date)
                .map_err(|_| incomplete(format!("Date must be in RFC 1123 format: '{date}'")))?
                .with_timezone(&Utc);
            (
                parsed.format(AMZ_DATE_FORMAT).to_string(),
                parsed.timestamp(),
            )
        }
    };
    check_scope_date(&scope, &amz_date)?;
    Ok(Signature {
        access_key_id,
        scope,
        amz_date,
        time,
        security_token: header(request, "x-amz-security-token").map(str::to_owned),
        signed_headers: split_signed_headers(signed),
        signature: check_hex(signature)?,
        presigned_expires: None,
    })
}

fn split_signed_headers(signed: &str) -> Vec<String> {
    signed.split(';').map(str::to_ascii_lowercase).collect()
}

fn check_hex(signature: &str) -> Result<String, AuthError> {
    if signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(signature.to_ascii_lowercase())
    } else {
        Err(AuthError::Mismatch(mismatch_message()))
    }
}

fn parse_credential(credential: &str) -> Result<(String, Scope), AuthError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region, service and date: '{credential}'."
        )));
    };
    if *terminator != "aws4_request" {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if key.is_empty() || date.len() != 8 || region.is_empty() || service.is_empty() {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region, service and date: '{credential}'."
        )));
    }
    Ok((
        (*key).to_owned(),
        Scope {
            date: (*date).to_owned(),
            region: (*region).to_owned(),
            service: (*service).to_owned(),
        },
    ))
}

fn parse_amz_date(value: &str) -> Result<i64, AuthError> {
    NaiveDateTime::parse_from_str(value, AMZ_DATE_FORMAT)
        .map(|t| t.and_utc().timestamp())
        .map_err(|_| {
            incomplete(format!(
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", got '{value}'"
            ))
        })
}

fn check_scope_date(scope: &Scope, amz_date: &str) -> Result<(), AuthError> {
    if amz_date.get(..8) == Some(scope.date.as_str()) {
        Ok(())
    } else {
        Err(AuthError::Mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            scope.date,
            amz_date.get(..8).unwrap_or(amz_date)
        )))
    }
}

fn format_time(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|t| t.format(AMZ_DATE_FORMAT).to_string())
        .unwrap_or_else(|| secs.to_string())
}

fn mismatch_message() -> String {
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".to_owned()
}

/// Checks a parsed signature against `secret` and the clock (`now` in epoch seconds).
pub fn verify(
    request: &Request<'_>,
    signature: &Signature,
    secret: &str,
    now: i64,
) -> Result<(), AuthError> {
    match signature.presigned_expires {
        None => {
            if signature.time < now - MAX_SKEW_SECS {
                return Err(AuthError::Expired(format!(
                    "Signature expired: {} is now earlier than {} ({} - 5 min.)",
                    signature.amz_date,
                    format_time(now - MAX_SKEW_SECS),
                    format_time(now)
                )));
            }
            if signature.time > now + MAX_SKEW_SECS {
                return Err(AuthError::Expired(format!(
                    "Signature not yet current: {} is still later than {} ({} + 5 min.)",
                    signature.amz_date,
                    format_time(now + MAX_SKEW_SECS),
                    format_time(now)
                )));
            }
        }
        Some(expires) => {
            if now > signature.time + expires {
                return Err(AuthError::Expired(format!(
                    "Request has expired: X-Amz-Date {} plus X-Amz-Expires {expires} is earlier than {}",
                    signature.amz_date,
                    format_time(now)
                )));
            }
            if signature.time > now + MAX_SKEW_SECS {
                return Err(AuthError::Expired(format!(
                    "Request is not yet valid: {} is still later than {} ({} + 5 min.)",
                    signature.amz_date,
                    format_time(now + MAX_SKEW_SECS),
                    format_time(now)
                )));
            }
        }
    }
    if let Some(claimed) = header(request, "x-amz-content-sha256")
        && !claimed.eq_ignore_ascii_case(request.body_sha256)
    {
        return Err(AuthError::Mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
                .to_owned(),
        ));
    }
    if !signature.signed_headers.iter().any(|h| h == "host") {
        return Err(incomplete(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let canonical = canonical_request(
        request,
        &signature.signed_headers,
        signature.presigned_expires.is_some(),
    )?;
    let key = signing_key(secret, &signature.scope);
    let mut mac = hmac(&key);
    mac.update(string_to_sign(&signature.amz_date, &signature.scope, &canonical).as_bytes());
    let provided =
        decode_hex(&signature.signature).ok_or_else(|| AuthError::Mismatch(mismatch_message()))?;
    // Constant time: `verify_slice` compares without an early exit.
    mac.verify_slice(&provided)
        .map_err(|_| AuthError::Mismatch(mismatch_message()))
}

/// Signs `request` (which must carry `host` and `x-amz-date`, and no `authorization`) with the
/// headers it has, all of them signed; returns the `Authorization` header value. For clients
/// and tests.
pub fn sign(
    request: &Request<'_>,
    access_key_id: &str,
    secret: &str,
    region: &str,
    service: &str,
) -> String {
    let amz_date = header(request, "x-amz-date").unwrap_or_default();
    let scope = Scope {
        date: amz_date.get(..8).unwrap_or_default().to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    };
    let mut names: Vec<String> = request.headers.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    names.dedup();
    let canonical = canonical_request(request, &names, false).unwrap_or_default();
    let mut mac = hmac(&signing_key(secret, &scope));
    mac.update(string_to_sign(amz_date, &scope, &canonical).as_bytes());
    let signature = hex(&mac.finalize().into_bytes());
    format!(
        "{ALGORITHM} Credential={access_key_id}/{}/{region}/{service}/aws4_request, SignedHeaders={}, Signature={signature}",
        scope.date,
        names.join(";")
    )
}

fn canonical_request(
    request: &Request<'_>,
    signed_headers: &[String],
    presigned: bool,
) -> Result<String, AuthError> {
    let mut out = String::new();
    out.push_str(request.method);
    out.push('\n');
    let path = if request.path.is_empty() {
        "/"
    } else {
        request.path
    };
    uri_encode(path.as_bytes(), false, &mut out);
    out.push('\n');
    let mut params: Vec<(String, String)> = query_params(request.query)
        .into_iter()
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| {
            let (mut ek, mut ev) = (String::new(), String::new());
            uri_encode(k.as_bytes(), true, &mut ek);
            uri_encode(v.as_bytes(), true, &mut ev);
            (ek, ev)
        })
        .collect();
    params.sort();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out.push('\n');
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(AuthError::Mismatch(format!(
                "The request signature we calculated does not match the signature you provided: signed header '{name}' is not in the request."
            )));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(request.body_sha256);
    Ok(out)
}

fn string_to_sign(amz_date: &str, scope: &Scope, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{}/{}/{}/aws4_request\n{}",
        scope.date,
        scope.region,
        scope.service,
        sha256_hex(canonical.as_bytes())
    )
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("hmac accepts any key length")
}

fn hmac_bytes(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = hmac(key);
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &str, scope: &Scope) -> Vec<u8> {
    let k_date = hmac_bytes(format!("AWS4{secret}").as_bytes(), &scope.date);
    let k_region = hmac_bytes(&k_date, &scope.region);
    let k_service = hmac_bytes(&k_region, &scope.service);
    hmac_bytes(&k_service, "aws4_request")
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The SHA-256 of a body taken piece by piece as it arrives, so that hashing overlaps the
/// transfer instead of following it.
#[derive(Debug, Clone, Default)]
pub struct BodyHasher(Sha256);

impl BodyHasher {
    pub fn update(&mut self, piece: &[u8]) {
        self.0.update(piece);
    }

    /// Lowercase hex, as [`sha256_hex`] gives it.
    pub fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [a, b] => Some((digit(*a)? << 4) | digit(*b)?),
            _ => None,
        })
        .collect()
}

/// Splits a raw query string into decoded pairs (`%XX` decoded; `+` stays `+`, as SigV4 reads
/// it).
fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 3986 encoding: unreserved bytes as they are, `/` too unless `encode_slash`.
fn uri_encode(bytes: &[u8], encode_slash: bool, out: &mut String) {
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !encode_slash)
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests;
