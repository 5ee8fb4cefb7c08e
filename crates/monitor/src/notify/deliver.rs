//! One delivery to one endpoint: an HTTP/S POST with reqwest or an email over SMTP with lettre,
//! retried by a [`RetryPolicy`].

use std::future::Future;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::message::{EmailMessage, HttpMessage};
use crate::MonitorError;

/// SNS's delivery policy in simplified form: after the first attempt, `num_retries` more;
/// the first `num_no_delay_retries` of them at once, the others after a delay that doubles from
/// `min_delay` up to `max_delay`. The default is SNS's default HTTP/S policy: 3 retries, none
/// immediate, 20 s apart. Every attempt is bounded by the transport's timeout, so a delivery
/// ends after at most `(num_retries + 1) × timeout + Σ delays`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub num_retries: u32,
    pub num_no_delay_retries: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            num_retries: 3,
            num_no_delay_retries: 0,
            min_delay: Duration::from_secs(20),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// SNS caps retries of an HTTP/S delivery policy at 100.
    pub const MAX_RETRIES: u32 = 100;

    /// The wait before retry `retry` (0-based).
    pub fn delay(&self, retry: u32) -> Duration {
        if retry < self.num_no_delay_retries {
            return Duration::ZERO;
        }
        let doublings = (retry - self.num_no_delay_retries).min(31);
        self.min_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay.max(self.min_delay))
    }
}

/// The SMTP server emails go through. The default is a local relay: 127.0.0.1:25, no TLS,
/// no credentials.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// Require STARTTLS (with certificate verification against the webpki roots).
    pub starttls: bool,
    /// User name and password for SMTP AUTH.
    pub credentials: Option<(String, String)>,
    /// The sender address; the topic's `DisplayName` becomes its display name.
    pub from: String,
    /// Bounds each SMTP conversation.
    pub timeout: Duration,
}

/// Never shows the password.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("starttls", &self.starttls)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 25,
            starttls: false,
            credentials: None,
            from: "no-reply@sns.flowwatch.localhost".into(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why one attempt failed, and whether another may succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttemptError {
    pub retryable: bool,
    pub reason: String,
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum DeliveryOutcome {
    /// Accepted by the endpoint: an HTTP 2xx (with its status) or an SMTP 250.
    Delivered { attempts: u32, status: Option<u16> },
    /// Given up: a permanent error or the retries spent; `reason` is the last error.
    Failed { attempts: u32, reason: String },
}

impl DeliveryOutcome {
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered { .. })
    }

    pub fn attempts(&self) -> u32 {
        match self {
            Self::Delivered { attempts, .. } | Self::Failed { attempts, .. } => *attempts,
        }
    }
}

/// Runs `attempt` until it succeeds, fails permanently or the policy's retries are spent.
pub(crate) async fn with_retries<F, Fut>(policy: &RetryPolicy, mut attempt: F) -> DeliveryOutcome
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<u16>, AttemptError>>,
{
    let retries = policy.num_retries.min(RetryPolicy::MAX_RETRIES);
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Ok(status) => return DeliveryOutcome::Delivered { attempts, status },
            Err(e) if !e.retryable || attempts > retries => {
                return DeliveryOutcome::Failed {
                    attempts,
                    reason: e.reason,
                };
            }
            Err(_) => tokio::time::sleep(policy.delay(attempts - 1)).await,
        }
    }
}

/// Builds the HTTP client every HTTP/S delivery shares.
pub(crate) fn http_client(
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<reqwest::Client, MonitorError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| MonitorError::InvalidConfig {
            reason: format!("http client: {e}"),
        })
}

/// One POST. 2xx is delivered; other 4xx than 429 are permanent (the endpoint refuses the
/// message); 5xx, 429, 3xx, timeouts and connection errors are worth a retry.
pub(crate) async fn post(
    client: &reqwest::Client,
    url: &str,
    message: &HttpMessage,
) -> Result<Option<u16>, AttemptError> {
    let mut request = client.post(url).body(message.body.clone());
    for (name, value) in &message.headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.map_err(|e| AttemptError {
        retryable: !e.is_builder(),
        reason: format!("http request failed: {}", error_chain(&e)),
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(Some(status.as_u16()));
    }
    Err(AttemptError {
        retryable: !(status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS),
        reason: format!("endpoint answered http {}", status.as_u16()),
    })
}

/// The SMTP transport every email delivery shares (no connection pool: one conversation per
/// email).
pub(crate) fn smtp_transport(
    config: &SmtpConfig,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, MonitorError> {
    let builder = if config.starttls {
        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host).map_err(|e| {
            MonitorError::InvalidConfig {
                reason: format!("smtp host '{}': {e}", config.host),
            }
        })?
    } else {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
    };
    let mut builder = builder.port(config.port).timeout(Some(config.timeout));
    if let Some((user, password)) = &config.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// Checks the sender address once, at start.
pub(crate) fn parse_from(from: &str) -> Result<lettre::Address, MonitorError> {
    from.parse().map_err(|e| MonitorError::InvalidConfig {
        reason: format!("smtp from address '{from}': {e}"),
    })
}

/// One email. SMTP 5xx and an unusable address are permanent; the rest is worth a retry.
pub(crate) async fn send_email(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &lettre::Address,
    message: &EmailMessage,
) -> Result<Option<u16>, AttemptError> {
    let permanent = |reason: String| AttemptError {
        retryable: false,
        reason,
    };
    let to: lettre::Address = message
        .to
        .parse()
        .map_err(|e| permanent(format!("invalid email address '{}': {e}", message.to)))?;
    let email = lettre::Message::builder()
        .from(Mailbox::new(message.from_name.clone(), from.clone()))
        .to(Mailbox::new(None, to))
        .subject(message.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone())
        .map_err(|e| permanent(format!("cannot build the email: {e}")))?;
    match transport.send(email).await {
        Ok(response) => Ok(Some(u16::from(response.code()))),
        Err(e) => Err(AttemptError {
            retryable: !e.is_permanent(),
            reason: format!("smtp delivery failed: {}", error_chain(&e)),
        }),
    }
}

/// An error with its sources, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast(num_retries: u32) -> RetryPolicy {
        RetryPolicy {
            num_retries,
            num_no_delay_retries: 1,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    #[test]
    fn smtp_config_debug_hides_the_password() {
        let config = SmtpConfig {
            credentials: Some(("alice".into(), "s3cret".into())),
            ..SmtpConfig::default()
        };
        let text = format!("{config:?}");
        assert!(text.contains("alice") && !text.contains("s3cret"), "{text}");
    }

    #[test]
    fn delays_start_immediate_then_double_up_to_the_cap() {
        let p = RetryPolicy {
            num_retries: 6,
            num_no_delay_retries: 2,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
        };
        let delays: Vec<u64> = (0..6).map(|r| p.delay(r).as_secs()).collect();
        assert_eq!(delays, [0, 0, 1, 2, 4, 5]);
        assert_eq!(RetryPolicy::default().delay(0), Duration::from_secs(20));
        assert_eq!(RetryPolicy::default().delay(2), Duration::from_secs(20));
    }

    #[tokio::test]
    async fn retryable_errors_are_retried_exactly_num_retries_times() {
        let calls = AtomicU32::new(0);
        let outcome = with_retries(&fast(3), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(AttemptError {
                retryable: true,
                reason: "down".into(),
            })
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(
            outcome,
            DeliveryOutcome::Failed {
                attempts: 4,
                reason: "down".into()
            }
        );
    }

    #[tokio::test]
    async fn permanent_errors_stop_at_once_and_success_stops_retrying() {
        let calls = AtomicU32::new(0);
        let outcome = with_retries(&fast(3), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(AttemptError {
                retryable: false,
                reason: "http 404".into(),
            })
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(outcome.attempts(), 1);

        let calls = AtomicU32::new(0);
        let outcome = with_retries(&fast(5), || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < 2 {
                Err(AttemptError {
                    retryable: true,
                    reason: "busy".into(),
                })
            } else {
                Ok(Some(200))
            }
        })
        .await;
        assert_eq!(
            outcome,
            DeliveryOutcome::Delivered {
                attempts: 3,
                status: Some(200)
            }
        );
    }
}
