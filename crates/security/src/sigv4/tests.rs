//! Signatures made by `aws-sigv4` (what the AWS SDK for Rust sends) verified by ours.

use std::time::{Duration, UNIX_EPOCH};

use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign as sdk_sign,
};
use aws_sigv4::sign::v4;

use super::*;

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const URL: &str = "http://127.0.0.1:4580/";

struct Sdk {
    headers: Vec<(String, String)>,
    query: String,
}

fn sdk(
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    secret: &str,
    token: Option<&str>,
    presign: bool,
) -> Sdk {
    let identity = aws_credential_types::Credentials::new(
        "AKIDEXAMPLE",
        secret,
        token.map(str::to_owned),
        None,
        "test",
    )
    .into();
    let mut settings = SigningSettings::default();
    if presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(60));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("logs")
        .time(UNIX_EPOCH + Duration::from_secs(NOW as u64))
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sdk_sign(signable, &params).unwrap().into_parts();
    let mut all: Vec<(String, String)> = vec![("host".into(), "127.0.0.1:4580".into())];
    all.extend(
        headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    all.extend(
        instructions
            .headers()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned())),
    );
    let mut query = url
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    for (k, v) in instructions.params() {
        if !query.is_empty() {
            query.push('&');
        }
        uri_encode(k.as_bytes(), true, &mut query);
        query.push('=');
        uri_encode(v.as_bytes(), true, &mut query);
    }
    Sdk {
        headers: all,
        query,
    }
}

fn check(sdk: &Sdk, body: &[u8], secret: &str, now: i64) -> Result<Signature, AuthError> {
    let hash = sha256_hex(body);
    let request = Request {
        method: "POST",
        path: "/",
        query: &sdk.query,
        headers: &sdk.headers,
        body_sha256: &hash,
    };
    let parsed = parse(&request)?;
    verify(&request, &parsed, secret, now)?;
    Ok(parsed)
}

const HEADERS: &[(&str, &str)] = &[
    ("content-type", "application/x-amz-json-1.1"),
    ("x-amz-target", "Logs_20140328.PutLogEvents"),
];

#[test]
fn header_signature_from_the_sdk_verifies() {
    let body = br#"{"logGroupName":"a"}"#;
    let signed = sdk(URL, HEADERS, body, "s3cret", None, false);
    let parsed = check(&signed, body, "s3cret", NOW).unwrap();
    assert_eq!(parsed.access_key_id, "AKIDEXAMPLE");
    assert_eq!(parsed.scope.region, "eu-west-1");
    assert_eq!(parsed.scope.service, "logs");
    assert_eq!(parsed.security_token, None);
}

#[test]
fn wrong_secret_tampered_body_and_skew_are_refused() {
    let body = br#"{"logGroupName":"a"}"#;
    let signed = sdk(URL, HEADERS, body, "s3cret", None, false);
    assert!(matches!(
        check(&signed, body, "other", NOW),
        Err(AuthError::Mismatch(_))
    ));
    assert!(matches!(
        check(&signed, br#"{"logGroupName":"b"}"#, "s3cret", NOW),
        Err(AuthError::Mismatch(_))
    ));
    // Within five minutes either way is fine; beyond is not.
    check(&signed, body, "s3cret", NOW + 300).unwrap();
    check(&signed, body, "s3cret", NOW - 300).unwrap();
    let late = check(&signed, body, "s3cret", NOW + 301).unwrap_err();
    assert_eq!(
        late,
        AuthError::Expired(
            "Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z \
             (20260101T000501Z - 5 min.)"
                .to_owned()
        )
    );
    assert!(matches!(
        check(&signed, body, "s3cret", NOW - 301),
        Err(AuthError::Expired(m)) if m.starts_with("Signature not yet current")
    ));
}

#[test]
fn security_token_and_content_sha256_are_signed() {
    let body = b"{}";
    let signed = sdk(URL, HEADERS, body, "s", Some("tok/en+=="), false);
    let parsed = check(&signed, body, "s", NOW).unwrap();
    assert_eq!(parsed.security_token.as_deref(), Some("tok/en+=="));

    let hash = sha256_hex(body);
    let with_hash = [HEADERS, &[("x-amz-content-sha256", hash.as_str())]].concat();
    let signed = sdk(URL, &with_hash, body, "s", None, false);
    check(&signed, body, "s", NOW).unwrap();
    let zeros = "0".repeat(64);
    let wrong = [HEADERS, &[("x-amz-content-sha256", zeros.as_str())]].concat();
    let signed = sdk(URL, &wrong, body, "s", None, false);
    assert!(matches!(
        check(&signed, body, "s", NOW),
        Err(AuthError::Mismatch(m)) if m.contains("x-amz-content-sha256")
    ));
}

#[test]
fn presigned_query_verifies_until_it_expires() {
    let url = "http://127.0.0.1:4580/?Action=ListTopics&Version=2010-03-31&Name=a%20b";
    let signed = sdk(url, &[], b"", "s", Some("tok"), true);
    let parsed = check(&signed, b"", "s", NOW + 60).unwrap();
    assert_eq!(parsed.security_token.as_deref(), Some("tok"));
    assert!(matches!(
        check(&signed, b"", "s", NOW + 61),
        Err(AuthError::Expired(m)) if m.starts_with("Request has expired")
    ));
    assert!(matches!(
        check(&signed, b"", "t", NOW),
        Err(AuthError::Mismatch(_))
    ));
    let tampered = Sdk {
        headers: signed.headers.clone(),
        query: signed.query.replace("Name=a%20b", "Name=c"),
    };
    assert!(matches!(
        check(&tampered, b"", "s", NOW),
        Err(AuthError::Mismatch(_))
    ));
}

#[test]
fn our_signer_matches_our_verifier_and_the_sdk() {
    let body = b"{}";
    let signed = sdk(URL, HEADERS, body, "s", None, false);
    let amz_date = signed
        .headers
        .iter()
        .find(|(n, _)| n == "x-amz-date")
        .unwrap()
        .1
        .clone();
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), "127.0.0.1:4580".into()),
        ("x-amz-date".into(), amz_date),
    ];
    headers.extend(
        HEADERS
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    let hash = sha256_hex(body);
    let request = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body_sha256: &hash,
    };
    let ours = sign(&request, "AKIDEXAMPLE", "s", "eu-west-1", "logs");
    let theirs = &signed
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1;
    assert_eq!(&ours, theirs);
}

#[test]
fn malformed_signatures_are_incomplete_or_missing() {
    let hash = sha256_hex(b"");
    let run = |headers: Vec<(String, String)>, query: &str| {
        let request = Request {
            method: "POST",
            path: "/",
            query,
            headers: &headers,
            body_sha256: &hash,
        };
        parse(&request).map(|_| ())
    };
    let auth = |v: &str| {
        vec![
            ("authorization".to_owned(), v.to_owned()),
            ("x-amz-date".to_owned(), "20240101T000000Z".to_owned()),
        ]
    };
    assert_eq!(run(vec![], ""), Err(AuthError::Missing));
    assert_eq!(run(vec![], "Action=X"), Err(AuthError::Missing));
    for bad in [
        "Basic abc",
        "AWS4-HMAC-SHA256 Credential=AKID/2024/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/logs/aws4_request, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/logs/aws5_request, SignedHeaders=host, Signature=ab",
    ] {
        assert!(
            matches!(run(auth(bad), ""), Err(AuthError::Incomplete(_))),
            "{bad}"
        );
    }
    let other_day = "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=ab";
    assert!(
        matches!(run(auth(other_day), ""), Err(AuthError::Mismatch(m)) if m.starts_with("Date in Credential scope"))
    );
    assert!(matches!(
        run(
            vec![],
            "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fsns%2Faws4_request"
        ),
        Err(AuthError::Incomplete(_))
    ));
}
