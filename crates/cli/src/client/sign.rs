//! SigV4 signing of awsJson1.1 requests with `aws-sigv4`.

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

/// The SigV4 service name of CloudWatch Logs.
pub(crate) const LOGS: &str = "logs";
/// The SigV4 service name of flowwatch's own operations (PutFlowRecords).
pub(crate) const FLOWWATCH: &str = "flowwatch";
/// The SigV4 service name of CloudTrail.
pub(crate) const CLOUDTRAIL: &str = "cloudtrail";
/// Access key used when `AWS_ACCESS_KEY_ID` is not set (flowwatch accepts any key for now).
pub(crate) const DEFAULT_ACCESS_KEY_ID: &str = "AKIAFLOWWATCHLOCAL";
/// Secret key used when `AWS_SECRET_ACCESS_KEY` is not set.
pub(crate) const DEFAULT_SECRET_ACCESS_KEY: &str = "flowwatch-local-secret";

/// Static credentials.
#[derive(Clone)]
pub(crate) struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// From `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`; without them,
    /// the root key a local server wrote in its data directory (`$FLOWWATCH_DATA_DIR`, default
    /// `./flowwatch-data`, file `root-credentials`); else fixed local values (accepted only by a
    /// server run with `--auth off`).
    pub(crate) fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if var("AWS_ACCESS_KEY_ID").is_none()
            && let Some(root) = Self::local_root()
        {
            return root;
        }
        Self {
            access_key_id: var("AWS_ACCESS_KEY_ID")
                .unwrap_or_else(|| DEFAULT_ACCESS_KEY_ID.to_owned()),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")
                .unwrap_or_else(|| DEFAULT_SECRET_ACCESS_KEY.to_owned()),
            session_token: var("AWS_SESSION_TOKEN"),
        }
    }
}

impl Credentials {
    /// The root key in a local data directory's `root-credentials` (credentials-file format).
    fn local_root() -> Option<Self> {
        let dir = std::env::var("FLOWWATCH_DATA_DIR").unwrap_or_else(|_| "flowwatch-data".into());
        let text =
            std::fs::read_to_string(std::path::Path::new(&dir).join("root-credentials")).ok()?;
        let value = |key: &str| {
            text.lines().find_map(|line| {
                let (k, v) = line.split_once('=')?;
                (k.trim() == key).then(|| v.trim().to_owned())
            })
        };
        Some(Self {
            access_key_id: value("aws_access_key_id")?,
            secret_access_key: value("aws_secret_access_key")?,
            session_token: None,
        })
    }
}

/// Signs a `POST url` with `headers` and `body`; returns the headers to add (`authorization`,
/// `x-amz-date`, and `x-amz-security-token` with a session token).
pub(crate) fn sign_request(
    credentials: &Credentials,
    service: &str,
    region: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, String> {
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "flowwatch-cli",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_with_the_logs_scope() {
        let credentials = Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "secret".to_owned(),
            session_token: None,
        };
        let headers = sign_request(
            &credentials,
            LOGS,
            "eu-west-1",
            "http://127.0.0.1:4580/",
            &[("x-amz-target", "Logs_20140328.DescribeLogGroups")],
            b"{}",
        )
        .expect("sign");
        let auth = &headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .expect("authorization")
            .1;
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-1/logs/aws4_request"), "{auth}");
        assert!(auth.contains("x-amz-target"), "{auth}");
        assert!(
            headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("x-amz-date"))
        );
    }
}
