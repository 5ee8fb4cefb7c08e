//! # flowwatch-security
//!
//! Who is calling and what they may do, without I/O: [`sigv4`] parses and verifies AWS
//! Signature Version 4 (an `Authorization` header or a presigned query) against a secret the
//! caller looked up; [`policy`] parses IAM policy documents and evaluates them (explicit deny >
//! allow > implicit deny); [`trail_files`] lays out CloudTrail's log and digest files and signs
//! and verifies digests (RSA, `SHA256withRSA`).
//!
//! Invariants: a signature is compared in constant time; a [`SecretKey`] never appears in
//! `Debug` output; the clock is passed in (epoch seconds), never read here.
//!
//! ```
//! use flowwatch_security::sigv4::{self, Request};
//! let headers = vec![
//!     ("host".to_owned(), "127.0.0.1:4580".to_owned()),
//!     ("x-amz-date".to_owned(), "20240101T000000Z".to_owned()),
//! ];
//! let body = sigv4::sha256_hex(b"{}");
//! let mut request = Request { method: "POST", path: "/", query: "", headers: &headers, body_sha256: &body };
//! let auth = sigv4::sign(&request, "AKIDEXAMPLE", "secret", "us-east-1", "logs");
//! let signed = [headers.clone(), vec![("authorization".to_owned(), auth)]].concat();
//! request.headers = &signed;
//! let parsed = sigv4::parse(&request).unwrap();
//! assert_eq!(parsed.access_key_id, "AKIDEXAMPLE");
//! sigv4::verify(&request, &parsed, "secret", 1_704_067_200).unwrap();
//! ```

pub mod policy;
pub mod sigv4;
pub mod trail_files;

use std::fmt;

/// A secret access key. Its `Debug` form hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for signing or verifying only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}
