//! CloudTrail's files in S3 (spec `cloudtrail-iam.md` B.1 and B.3), without I/O: the keys of
//! log files and digest files, the digest file's JSON, its string to sign, and the RSA
//! signatures (PKCS#1 v1.5 over SHA-256, `SHA256withRSA`) that chain digests together.
//!
//! The engine writes the files ([`DigestFile`], [`SigningKey::sign`]); `flowwatch trail verify`
//! checks them ([`verify_signature`]). Both build the string to sign with [`string_to_sign`], so
//! they cannot disagree on it.
//!
//! A key's fingerprint is the hex MD5 of its DER-encoded PKCS#1 `RSAPublicKey` ([`fingerprint`]):
//! AWS does not document its derivation, so this is ours.
//!
//! ```
//! use flowwatch_security::trail_files::{log_file_key, digest_key};
//! let ms = 1_438_395_000_000; // 2015-08-01T02:10:00Z
//! assert_eq!(
//!     log_file_key("", "111122223333", "us-east-2", ms, "Mu0KsOhtH1ar15ZZ"),
//!     "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/\
//!      111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
//! );
//! assert_eq!(
//!     digest_key("p", "111122223333", "us-east-2", "main", "us-east-1", ms),
//!     "p/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/01/\
//!      111122223333_CloudTrail-Digest_us-east-2_main_us-east-1_20150801T021000Z.json.gz"
//! );
//! ```

use chrono::{DateTime, Utc};
use md5::Md5;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::sha2::Sha256;
use rsa::{PrivateKey, PublicKey};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// `digestSignatureAlgorithm` and the `signature-algorithm` metadata.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";
/// The size of the keys [`SigningKey::generate`] makes.
pub const KEY_BITS: usize = 2048;
/// `hashAlgorithm` and `previousDigestHashAlgorithm`.
pub const HASH_ALGORITHM: &str = "SHA-256";

/// What can go wrong with keys and signatures.
#[derive(Debug, thiserror::Error)]
pub enum TrailFileError {
    #[error("rsa key generation failed: {0}")]
    Generate(String),
    #[error("bad private key: {0}")]
    PrivateKey(String),
    #[error("bad public key: {0}")]
    PublicKey(String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("signature is not hex")]
    SignatureNotHex,
    #[error("signature does not match")]
    BadSignature,
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::sigv4::sha256_hex(bytes)
}

/// A time as the digest's fields write it: `YYYY-MM-DDTHH:MM:SSZ` (UTC, seconds).
pub fn time_text(ms: i64) -> String {
    utc(ms).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses [`time_text`] back to epoch milliseconds.
pub fn parse_time_text(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn utc(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn with_prefix(prefix: &str, rest: String) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        rest
    } else {
        format!("{prefix}/{rest}")
    }
}

/// The key of a log file delivered at `delivered_ms` (B.1):
/// `[<prefix>/]AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<account>_CloudTrail_<region>_<YYYYMMDD>T<HHmm>Z_<unique>.json.gz`.
pub fn log_file_key(
    prefix: &str,
    account: &str,
    region: &str,
    delivered_ms: i64,
    unique: &str,
) -> String {
    let t = utc(delivered_ms);
    with_prefix(
        prefix,
        format!(
            "AWSLogs/{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_{unique}.json.gz",
            t.format("%Y/%m/%d"),
            t.format("%Y%m%dT%H%MZ"),
        ),
    )
}

/// The key of a digest file ending at `end_ms` (B.3):
/// `[<prefix>/]AWSLogs/<account>/CloudTrail-Digest/<region>/<YYYY>/<MM>/<DD>/<account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDD>T<HHmmss>Z.json.gz`.
pub fn digest_key(
    prefix: &str,
    account: &str,
    region: &str,
    trail: &str,
    home_region: &str,
    end_ms: i64,
) -> String {
    let t = utc(end_ms);
    with_prefix(
        prefix,
        format!(
            "AWSLogs/{account}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{trail}_{home_region}_{}.json.gz",
            t.format("%Y/%m/%d"),
            t.format("%Y%m%dT%H%M%SZ"),
        ),
    )
}

/// The parts of a digest file's name (its last key segment): the trail's name, its home region
/// and the end time (epoch milliseconds), for `<account>_CloudTrail-Digest_<region>_…`.
pub fn parse_digest_name<'a>(
    name: &'a str,
    account: &str,
    region: &str,
) -> Option<(&'a str, &'a str, i64)> {
    let rest = name
        .strip_prefix(account)?
        .strip_prefix("_CloudTrail-Digest_")?
        .strip_prefix(region)?
        .strip_prefix('_')?
        .strip_suffix(".json.gz")?;
    let (rest, stamp) = rest.rsplit_once('_')?;
    let (trail, home) = rest.rsplit_once('_')?;
    let end = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?;
    Some((trail, home, end.and_utc().timestamp_millis()))
}

/// One log file a digest lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFileEntry {
    pub s3_bucket: String,
    pub s3_object: String,
    /// Hex SHA-256 of the uncompressed file.
    pub hash_value: String,
    pub hash_algorithm: String,
    pub newest_event_time: String,
    pub oldest_event_time: String,
}

/// A digest file's JSON (B.3), every field, in AWS's order. The `previousDigest*` fields are
/// null on a starting digest; the event times are null without log files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestFile {
    pub aws_account_id: String,
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    pub digest_signature_algorithm: String,
    pub newest_event_time: Option<String>,
    pub oldest_event_time: Option<String>,
    pub previous_digest_s3_bucket: Option<String>,
    pub previous_digest_s3_object: Option<String>,
    pub previous_digest_hash_value: Option<String>,
    pub previous_digest_hash_algorithm: Option<String>,
    pub previous_digest_signature: Option<String>,
    pub log_files: Vec<LogFileEntry>,
}

impl DigestFile {
    /// This digest's string to sign, given the hex SHA-256 of its uncompressed bytes.
    pub fn string_to_sign(&self, sha256_hex: &str) -> String {
        string_to_sign(
            &self.digest_end_time,
            &self.digest_s3_bucket,
            &self.digest_s3_object,
            sha256_hex,
            self.previous_digest_signature.as_deref(),
        )
    }
}

/// The string a digest's signature signs (B.3): its end time, `<bucket>/<key>`, the hex SHA-256
/// of the uncompressed digest file, and the previous digest's signature (the text `null` for a
/// starting digest), joined by `\n`, without a final newline.
pub fn string_to_sign(
    end_time: &str,
    bucket: &str,
    key: &str,
    sha256_hex: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{key}\n{sha256_hex}\n{}",
        previous_signature.unwrap_or("null")
    )
}

/// The fingerprint of a DER-encoded PKCS#1 public key: its hex MD5 (32 characters).
pub fn fingerprint(public_key_der: &[u8]) -> String {
    hex(&Md5::digest(public_key_der))
}

/// An RSA key that signs digests.
#[derive(Clone)]
pub struct SigningKey {
    key: PrivateKey,
    public_der: Vec<u8>,
    fingerprint: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new [`KEY_BITS`]-bit key from the operating system's random numbers (CPU-heavy: call it off
    /// the async runtime).
    pub fn generate() -> Result<Self, TrailFileError> {
        let key = PrivateKey::new(&mut getrandom::SysRng, KEY_BITS)
            .map_err(|e| TrailFileError::Generate(e.to_string()))?;
        Self::from_key(key)
    }

    /// A key saved with [`SigningKey::to_pkcs8_der`].
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, TrailFileError> {
        let key = PrivateKey::from_pkcs8_der(der)
            .map_err(|e| TrailFileError::PrivateKey(e.to_string()))?;
        Self::from_key(key)
    }

    fn from_key(key: PrivateKey) -> Result<Self, TrailFileError> {
        let public_der = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| TrailFileError::PublicKey(e.to_string()))?
            .as_bytes()
            .to_vec();
        let fingerprint = fingerprint(&public_der);
        Ok(Self {
            key,
            public_der,
            fingerprint,
        })
    }

    /// The private key, PKCS#8 DER, to be kept secret.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, TrailFileError> {
        self.key
            .to_pkcs8_der()
            .map(|doc| doc.as_bytes().to_vec())
            .map_err(|e| TrailFileError::PrivateKey(e.to_string()))
    }

    /// The public key, DER-encoded PKCS#1 `RSAPublicKey` (ListPublicKeys' `Value`).
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// [`fingerprint`] of the public key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The hex `SHA256withRSA` signature of `message`.
    pub fn sign(&self, message: &str) -> Result<String, TrailFileError> {
        self.key
            .pkcs1v15_sign::<Sha256>(message.as_bytes())
            .map(|s| hex(&s))
            .map_err(|e| TrailFileError::Sign(e.to_string()))
    }
}

/// Checks the hex `SHA256withRSA` signature of `message` with a DER PKCS#1 public key.
pub fn verify_signature(
    public_key_der: &[u8],
    message: &str,
    signature_hex: &str,
) -> Result<(), TrailFileError> {
    let key = PublicKey::from_pkcs1_der(public_key_der)
        .map_err(|e| TrailFileError::PublicKey(e.to_string()))?;
    let signature = unhex(signature_hex.trim()).ok_or(TrailFileError::SignatureNotHex)?;
    key.pkcs1v15_verify::<Sha256>(message.as_bytes(), &signature)
        .map_err(|_| TrailFileError::BadSignature)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_layout() {
        let ms = 1_438_395_000_000;
        assert_eq!(
            log_file_key(
                "/logs/",
                "111122223333",
                "us-east-2",
                ms,
                "Mu0KsOhtH1ar15ZZ"
            ),
            "logs/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
        );
        let key = digest_key(
            "",
            "111122223333",
            "eu-west-1",
            "my_trail",
            "us-east-1",
            ms + 7_000,
        );
        assert_eq!(
            key,
            "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2015/08/01/111122223333_CloudTrail-Digest_eu-west-1_my_trail_us-east-1_20150801T021007Z.json.gz"
        );
        let name = key.rsplit('/').next().unwrap();
        assert_eq!(
            parse_digest_name(name, "111122223333", "eu-west-1"),
            Some(("my_trail", "us-east-1", ms + 7_000))
        );
        assert_eq!(parse_digest_name(name, "111122223333", "us-east-1"), None);
    }

    #[test]
    fn times_are_utc_seconds() {
        assert_eq!(time_text(1_438_395_007_999), "2015-08-01T02:10:07Z");
        assert_eq!(
            parse_time_text("2015-08-01T02:10:07Z"),
            Some(1_438_395_007_000)
        );
    }

    #[test]
    fn the_string_to_sign_has_four_lines_and_null_for_a_start() {
        assert_eq!(
            string_to_sign(
                "2015-08-17T15:01:31Z",
                "b",
                "AWSLogs/k.json.gz",
                "ab12",
                None
            ),
            "2015-08-17T15:01:31Z\nb/AWSLogs/k.json.gz\nab12\nnull"
        );
        assert_eq!(
            string_to_sign("t", "b", "k", "h", Some("00ff")),
            "t\nb/k\nh\n00ff"
        );
    }

    #[test]
    fn digest_json_has_every_field_with_nulls() {
        let digest = DigestFile {
            aws_account_id: "1".into(),
            digest_start_time: "s".into(),
            digest_end_time: "e".into(),
            digest_s3_bucket: "b".into(),
            digest_s3_object: "o".into(),
            digest_public_key_fingerprint: "f".into(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.into(),
            newest_event_time: None,
            oldest_event_time: None,
            previous_digest_s3_bucket: None,
            previous_digest_s3_object: None,
            previous_digest_hash_value: None,
            previous_digest_hash_algorithm: None,
            previous_digest_signature: None,
            log_files: vec![],
        };
        let json = serde_json::to_value(&digest).unwrap();
        for field in [
            "awsAccountId",
            "digestStartTime",
            "digestEndTime",
            "digestS3Bucket",
            "digestS3Object",
            "digestPublicKeyFingerprint",
            "digestSignatureAlgorithm",
            "newestEventTime",
            "oldestEventTime",
            "previousDigestS3Bucket",
            "previousDigestS3Object",
            "previousDigestHashValue",
            "previousDigestHashAlgorithm",
            "previousDigestSignature",
            "logFiles",
        ] {
            assert!(json.get(field).is_some(), "{field}");
        }
        assert!(json["previousDigestSignature"].is_null());
    }

    #[test]
    fn signatures_verify_with_the_public_key_only() {
        let key = SigningKey::generate().unwrap();
        assert_eq!(key.fingerprint().len(), 32);
        let again = SigningKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(again.fingerprint(), key.fingerprint());
        let message = string_to_sign("t", "b", "k", &sha256_hex(b"{}"), None);
        let signature = again.sign(&message).unwrap();
        assert_eq!(signature.len(), 512, "2048 bits in hex");
        verify_signature(key.public_key_der(), &message, &signature).unwrap();
        let tampered = string_to_sign("t", "b", "k", &sha256_hex(b"{ }"), None);
        assert!(matches!(
            verify_signature(key.public_key_der(), &tampered, &signature),
            Err(TrailFileError::BadSignature)
        ));
        assert!(matches!(
            verify_signature(key.public_key_der(), &message, "xyz"),
            Err(TrailFileError::SignatureNotHex)
        ));
        assert_eq!(fingerprint(key.public_key_der()), key.fingerprint());
    }
}
