//! Any bytes as a request's signature: the first line is the `Authorization` header (or, when
//! it is empty, the rest is a presigned query string), the rest the path and query. Parsing and
//! verifying never panic; a signature flowwatch produced for the same request verifies.

#![no_main]

use flowwatch_security::sigv4::{self, Request};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_795_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let (path, query) = rest.split_once('?').unwrap_or(("/", rest));
    let body = sigv4::sha256_hex(b"{}");
    let mut headers = vec![
        ("host".to_owned(), "127.0.0.1:4580".to_owned()),
        ("x-amz-date".to_owned(), "20261119T011320Z".to_owned()),
    ];
    if !first.is_empty() {
        headers.push(("authorization".to_owned(), first.to_owned()));
    }
    let request = Request {
        method: "POST",
        path,
        query,
        headers: &headers,
        body_sha256: &body,
    };
    if let Ok(signature) = sigv4::parse(&request) {
        let _ = sigv4::verify(&request, &signature, "secret", NOW);
    }
    // What we sign, we verify (when the path and query are ones a client could send).
    let unsigned = &headers[..2];
    let request = Request {
        headers: unsigned,
        ..request
    };
    let authorization = sigv4::sign(&request, "AKIAFUZZ", "secret", "us-east-1", "logs");
    let mut signed = unsigned.to_vec();
    signed.push(("authorization".to_owned(), authorization));
    let request = Request {
        headers: &signed,
        ..request
    };
    if let Ok(signature) = sigv4::parse(&request) {
        let _ = sigv4::verify(&request, &signature, "secret", NOW);
    }
});
