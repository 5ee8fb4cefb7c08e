//! Client failures, shown the way a person can act on them: the AWS error code and message,
//! then a hint.

use std::fmt;

/// Why a call did not succeed.
#[derive(Debug)]
pub(crate) enum ClientError {
    /// The server answered with an AWS error (`{"__type": ..., "message": ...}`).
    Aws {
        operation: String,
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// Nothing answered at the endpoint (connection refused, timed out).
    Unreachable {
        endpoint: String,
        source: reqwest::Error,
    },
    /// Another transport failure.
    Http {
        endpoint: String,
        source: reqwest::Error,
    },
    /// The endpoint URL is not usable.
    BadEndpoint { endpoint: String, reason: String },
    /// Signing failed.
    Signing { reason: String },
    /// A body could not be encoded or a response could not be decoded.
    Decode { operation: String, reason: String },
}

impl ClientError {
    /// The AWS error code, when the server answered with one.
    pub(crate) fn aws_code(&self) -> Option<&str> {
        match self {
            Self::Aws { code, .. } => Some(code),
            _ => None,
        }
    }

    fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::Aws { code, .. } => match code.as_str() {
                "ResourceNotFoundException" => {
                    "check the name; `flowwatch logs groups` and `flowwatch logs streams GROUP` list what exists"
                }
                "ResourceAlreadyExistsException" => "it already exists; nothing to do",
                "InvalidParameterException" | "ValidationException" | "SerializationException" => {
                    "check the arguments against the limits in `flowwatch logs --help`"
                }
                "UnknownOperationException" => {
                    "this server does not implement that operation yet; upgrade the server"
                }
                "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "IncompleteSignature"
                | "MissingAuthenticationToken"
                | "AccessDeniedException"
                | "InvalidClientTokenId" => {
                    "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the region"
                }
                "ThrottlingException" | "LimitExceededException" => "slow down and retry",
                "ServiceUnavailableException" | "InternalFailure" => {
                    "the server failed; retry, and look at the server's log"
                }
                _ => return None,
            },
            Self::Unreachable { .. } => {
                "is the server running? start it with `flowwatch serve`, or pass --endpoint-url / FLOWWATCH_ENDPOINT"
            }
            Self::Http { .. } => "is --endpoint-url a CloudWatch Logs endpoint?",
            Self::BadEndpoint { .. } => "use e.g. --endpoint-url http://127.0.0.1:4580",
            Self::Signing { .. } => "check the credentials and the region",
            Self::Decode { .. } => "is --endpoint-url a CloudWatch Logs endpoint?",
        })
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Aws {
                operation,
                status,
                code,
                message,
                request_id,
            } => {
                write!(f, "{operation} failed: {code}: {message} (HTTP {status}")?;
                if let Some(id) = request_id {
                    write!(f, ", request id {id}")?;
                }
                write!(f, ")")?;
            }
            Self::Unreachable { endpoint, source } => {
                write!(f, "cannot reach {endpoint}: {}", source_chain(source))?
            }
            Self::Http { endpoint, source } => {
                write!(f, "request to {endpoint} failed: {}", source_chain(source))?
            }
            Self::BadEndpoint { endpoint, reason } => {
                write!(f, "bad endpoint URL {endpoint:?}: {reason}")?
            }
            Self::Signing { reason } => write!(f, "cannot sign the request: {reason}")?,
            Self::Decode { operation, reason } => {
                write!(f, "{operation}: unexpected response body: {reason}")?
            }
        }
        if let Some(hint) = self.hint() {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ClientError {}

/// `reqwest::Error`'s own message plus its causes, on one line.
fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reads an awsJson error body the way botocore does: the code from `__type` (after the last
/// `#`, before the first `:`), the message from `message` or `Message`.
pub(crate) fn from_response(
    operation: &str,
    status: u16,
    request_id: Option<String>,
    body: &[u8],
) -> ClientError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    let code = json
        .get("__type")
        .and_then(|v| v.as_str())
        .map(|t| {
            let t = t.rsplit('#').next().unwrap_or(t);
            t.split(':').next().unwrap_or(t).to_owned()
        })
        .unwrap_or_else(|| format!("HTTP{status}"));
    let message = json
        .get("message")
        .or_else(|| json.get("Message"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                "(no message)".to_owned()
            } else {
                text.chars().take(300).collect()
            }
        });
    ClientError::Aws {
        operation: operation.to_owned(),
        status,
        code,
        message,
        request_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_like_botocore() {
        let e = from_response(
            "GetLogEvents",
            400,
            Some("id-1".to_owned()),
            br#"{"__type":"com.amazonaws.logs#ResourceNotFoundException","message":"The specified log group does not exist."}"#,
        );
        assert_eq!(e.aws_code(), Some("ResourceNotFoundException"));
        let text = e.to_string();
        assert!(
            text.contains("ResourceNotFoundException: The specified log group does not exist.")
        );
        assert!(text.contains("request id id-1"));
        assert!(text.contains("hint: "));

        let e = from_response(
            "X",
            400,
            None,
            br#"{"__type":"InvalidParameterException:extra","Message":"m"}"#,
        );
        assert_eq!(e.aws_code(), Some("InvalidParameterException"));
        let e = from_response("X", 502, None, b"bad gateway");
        assert_eq!(e.aws_code(), Some("HTTP502"));
        assert!(e.to_string().contains("bad gateway"));
    }
}
