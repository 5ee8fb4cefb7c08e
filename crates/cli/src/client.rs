//! A small CloudWatch Logs client: awsJson1.1 requests, signed with SigV4, sent with reqwest.
//!
//! It talks to flowwatch exactly as an AWS SDK would (and so works against AWS itself or any
//! other compatible server): `POST /` with `X-Amz-Target: Logs_20140328.<Op>`,
//! `Content-Type: application/x-amz-json-1.1`, a real SigV4 `Authorization` header for the
//! service `logs`. Failures come back as [`ClientError`], whose `Display` names the AWS error
//! code and message and says what to do next.

mod error;
mod sign;

use std::time::Duration;

use clap::Args;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use error::ClientError;
pub(crate) use sign::Credentials;

/// The awsJson1.1 target prefix of CloudWatch Logs.
const TARGET_PREFIX: &str = "Logs_20140328.";
/// The awsJson1.1 content type.
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Where the server is and who is calling (flags shared by every client command).
#[derive(Debug, Clone, Args)]
pub(crate) struct ClientArgs {
    /// URL of the server (flowwatch, or any CloudWatch Logs endpoint).
    #[arg(
        long,
        env = "FLOWWATCH_ENDPOINT",
        default_value = "http://127.0.0.1:4580",
        global = true
    )]
    pub(crate) endpoint_url: String,
    /// Region of the SigV4 credential scope (AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1).
    #[arg(long, global = true)]
    pub(crate) region: Option<String>,
}

/// A CloudWatch Logs client bound to one endpoint, region and set of credentials.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    credentials: Credentials,
}

impl Client {
    /// Builds a client from the flags and the standard AWS environment variables.
    pub(crate) fn from_args(args: &ClientArgs) -> Result<Self, ClientError> {
        let region = args
            .region
            .clone()
            .or_else(|| env_nonempty("AWS_REGION"))
            .or_else(|| env_nonempty("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        Self::new(&args.endpoint_url, &region, Credentials::from_env())
    }

    /// Builds a client for `endpoint` (`http://host:port`, optionally with a path).
    pub(crate) fn new(
        endpoint: &str,
        region: &str,
        credentials: Credentials,
    ) -> Result<Self, ClientError> {
        let parsed = reqwest::Url::parse(endpoint).map_err(|e| ClientError::BadEndpoint {
            endpoint: endpoint.to_owned(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ClientError::BadEndpoint {
                endpoint: endpoint.to_owned(),
                reason: "expected http://HOST:PORT or https://HOST".to_owned(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ClientError::Http {
                endpoint: endpoint.to_owned(),
                source: e,
            })?;
        Ok(Self {
            http,
            endpoint: parsed.to_string(),
            region: region.to_owned(),
            credentials,
        })
    }

    /// Calls `operation` with `request` and decodes the response body.
    pub(crate) async fn call<Req, Resp>(
        &self,
        operation: &str,
        request: &Req,
    ) -> Result<Resp, ClientError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let body = serde_json::to_vec(request).map_err(|e| ClientError::Decode {
            operation: operation.to_owned(),
            reason: e.to_string(),
        })?;
        let bytes = self
            .send(
                &format!("{TARGET_PREFIX}{operation}"),
                sign::LOGS,
                operation,
                body,
            )
            .await?;
        // Operations without output answer with an empty body; treat it as `{}`.
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes).map_err(|e| ClientError::Decode {
            operation: operation.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Calls flowwatch's own operation `operation` (`X-Amz-Target: Flowwatch_20261123.<Op>`).
    pub(crate) async fn call_flowwatch<Req, Resp>(
        &self,
        operation: &str,
        request: &Req,
    ) -> Result<Resp, ClientError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let body = serde_json::to_vec(request).map_err(|e| ClientError::Decode {
            operation: operation.to_owned(),
            reason: e.to_string(),
        })?;
        let bytes = self
            .send(
                &format!("Flowwatch_20261123.{operation}"),
                sign::FLOWWATCH,
                operation,
                body,
            )
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            operation: operation.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Calls CloudTrail's `operation`
    /// (`X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`).
    pub(crate) async fn call_cloudtrail<Req, Resp>(
        &self,
        operation: &str,
        request: &Req,
    ) -> Result<Resp, ClientError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let body = serde_json::to_vec(request).map_err(|e| ClientError::Decode {
            operation: operation.to_owned(),
            reason: e.to_string(),
        })?;
        let bytes = self
            .send(
                &format!("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{operation}"),
                sign::CLOUDTRAIL,
                operation,
                body,
            )
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            operation: operation.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Sends one signed request with `X-Amz-Target: target` and returns the body of a 2xx
    /// answer.
    async fn send(
        &self,
        target: &str,
        service: &str,
        operation: &str,
        body: Vec<u8>,
    ) -> Result<bytes::Bytes, ClientError> {
        let headers = [("content-type", CONTENT_TYPE), ("x-amz-target", target)];
        let signed = sign::sign_request(
            &self.credentials,
            service,
            &self.region,
            &self.endpoint,
            &headers,
            &body,
        )
        .map_err(|reason| ClientError::Signing { reason })?;
        let mut builder = self.http.post(&self.endpoint);
        for (name, value) in headers
            .iter()
            .copied()
            .chain(signed.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        {
            builder = builder.header(name, value);
        }
        let response = builder.body(body).send().await.map_err(|e| {
            if e.is_connect() || e.is_timeout() {
                ClientError::Unreachable {
                    endpoint: self.endpoint.clone(),
                    source: e,
                }
            } else {
                ClientError::Http {
                    endpoint: self.endpoint.clone(),
                    source: e,
                }
            }
        })?;
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(|e| ClientError::Http {
            endpoint: self.endpoint.clone(),
            source: e,
        })?;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(error::from_response(
            operation,
            status.as_u16(),
            request_id,
            &bytes,
        ))
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
