//! # flowwatch-server
//!
//! The HTTP face of flowwatch: one port, every AWS wire protocol flowwatch speaks. A request is
//! routed by protocol to a service and operation (`route`), authenticated into a
//! [`Caller`](flowwatch_model::Caller) by `auth` (SigV4 verified with `flowwatch_security`), and run by the service's one JSON dispatch
//! (`service`); every failure leaves here as the protocol's error shape with the status
//! [`ErrorCode`] decides. Every response carries `x-amzn-RequestId`.
//!
//! | service | protocol | selected by |
//! |---|---|---|
//! | CloudWatch Logs | awsJson1.1 | `X-Amz-Target: Logs_20140328.<Op>` |
//! | CloudWatch (metrics, alarms) | awsJson1.0, query-compatible (aws CLI, boto3) | `X-Amz-Target: GraniteServiceVersion20100801.<Op>` |
//! | CloudWatch | Smithy RPC v2 CBOR (AWS SDK for Rust, Java v2) | `smithy-protocol: rpc-v2-cbor`, `POST /service/GraniteServiceVersion20100801/operation/<Op>` |
//! | CloudWatch | awsQuery (older SDKs, hand-written clients) | form body or query string `Action=<Op>&Version=2010-08-01` |
//! | SNS, EC2, IAM, STS | awsQuery / ec2Query | form `Version=2010-03-31`, `2016-11-15`, `2010-05-08`, `2011-06-15` |
//! | CloudTrail | awsJson1.1 | `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>` |
//!
//! After authentication, every request is authorized by the caller's IAM policies
//! (`authorize`, one table from operation to action and resource) before it runs. Every call
//! routed to an operation, allowed or denied, successful or failed, is then recorded in the
//! audit trail (`audit`, once, here in the request path) and answered once its record is
//! durable.
//!
//! Each operation is implemented once, on JSON. CBOR (`cbor`) and the query protocols
//! (`query`; SNS's `2010-03-31` and EC2's `2016-11-15` register the same way) translate to
//! and from that JSON with the service's type hints (`hints`): no protocol has
//! per-operation code. A `Content-Encoding: gzip` body is inflated first, whatever the protocol.
//!
//! ```no_run
//! # async fn demo(engine: flowwatch_engine::Engine) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4580").await?;
//! flowwatch_server::serve(listener, engine, std::future::pending()).await
//! # }
//! ```

mod audit;
mod auth;
mod authorize;
mod cbor;
mod cloudtrail;
mod cloudwatch;
mod ec2;
mod encoding;
mod flowwatch;
mod hints;
mod iam;
mod json;
mod logs;
mod query;
mod route;
mod service;
mod sns;

use std::future::Future;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::Request;
use axum::response::Response;
use axum::routing::any;
use flowwatch_engine::Engine;
use flowwatch_model::{ApiError, ErrorCode, limits};
use tracing::Instrument;

/// How long a request body may take to arrive.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The router serving every protocol on `/`.
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/", any(handle))
        .fallback(any(handle))
        .layer(DefaultBodyLimit::disable())
        .with_state(engine)
}

/// Serves on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: Engine,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address is the `aws:SourceIp` policies may test.
    let service = router(engine).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The links in SNS messages (`SubscribeURL`, `UnsubscribeURL`) work without credentials, as
/// in SNS: an unsigned ConfirmSubscription or Unsubscribe acts in the account and region its
/// topic or subscription ARN names.
fn link_caller(call: &route::Call, request_id: &str) -> Option<flowwatch_model::Caller> {
    if call.service.name != "sns" {
        return None;
    }
    let member = match call.op.as_str() {
        "ConfirmSubscription" => "TopicArn",
        "Unsubscribe" => "SubscriptionArn",
        _ => return None,
    };
    let input: serde_json::Value = serde_json::from_slice(&call.input_json().ok()?).ok()?;
    let arn = input.get(member)?.as_str()?;
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("sns"), Some(region), Some(account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some(flowwatch_model::Caller {
        scope: flowwatch_model::Scope {
            account: account.to_owned(),
            region: region.to_owned(),
        },
        access_key_id: String::new(),
        principal_arn: "anonymous".to_owned(),
        request_id: request_id.to_owned(),
    })
}

async fn handle(State(engine): State<Engine>, request: Request<Body>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let head = route::Wire::of_head(&parts);
    // A client that stops sending its body mid-way is answered, not waited for forever.
    // Verified signatures cover the body's hash, taken as the body arrives.
    let mut hasher = engine
        .config()
        .auth
        .verify
        .then(flowwatch_security::sigv4::BodyHasher::default);
    let read = tokio::time::timeout(BODY_READ_TIMEOUT, read_body(body, hasher.as_mut())).await;
    let body = match read {
        Ok(Ok(body)) => body,
        Err(_) => {
            return head.error(
                &request_id,
                &ApiError::new(
                    ErrorCode::SerializationException,
                    format!(
                        "The request body was not received within {} seconds.",
                        BODY_READ_TIMEOUT.as_secs()
                    ),
                ),
            );
        }
        Ok(Err(error)) => return head.error(&request_id, &error),
    };
    // The signature covers the body as sent.
    let body_sha256 = hasher.map(flowwatch_security::sigv4::BodyHasher::finish);
    let body = match encoding::decode(&parts.headers, body).await {
        Ok(body) => body,
        Err(error) => return head.error(&request_id, &error),
    };
    let call = match route::route(&parts, body) {
        Ok(call) => call,
        Err((wire, error)) => return wire.error(&request_id, &error),
    };
    let seen = audit::Seen {
        parts: &parts,
        call: &call,
        request_id: &request_id,
    };
    let resolved = auth::resolve_caller(
        &engine,
        &parts,
        body_sha256.as_deref(),
        call.service.name,
        &request_id,
    )
    .await;
    // A link's caller is not authorized by policies: holding the link's token is the
    // permission, as in SNS.
    let (caller, principal) = match resolved {
        Ok((caller, principal)) => (caller, Some(principal)),
        Err(error) => match link_caller(&call, &request_id) {
            // Only a request with no signature at all is a link being followed.
            Some(caller) if error.code == ErrorCode::MissingAuthenticationToken => (caller, None),
            _ => {
                audit::record_refused(&engine, &seen, &error).await;
                return call.error(&request_id, &error);
            }
        },
    };
    let source_ip = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let span = tracing::info_span!(
        "request",
        service = call.service.name,
        action = %call.op,
        id = %request_id
    );
    let input = call.input_json();
    // Read once, for authorization and the audit record: a batch's payload is skipped.
    let members = input
        .as_deref()
        .ok()
        .and_then(|input| flowwatch_engine::audit::request_members(call.service.name, input));
    // Instrumented, not entered: an entered span must not be held across an await.
    let result = async {
        let input = input.as_deref().map_err(Clone::clone)?;
        engine.admit(&caller.principal_arn, call.service.name, &call.op)?;
        if let Some(principal) = &principal {
            let request = authorize::Request {
                service: call.service.name,
                op: &call.op,
                members: members.as_ref(),
                source_ip,
            };
            authorize::authorize(&engine, &caller, principal, &request).await?;
        }
        (call.service.dispatch)(&engine, &caller, &call.op, input).await
    }
    .instrument(span.clone())
    .await;
    // Every answered call is recorded, and answered once its record is durable.
    let identity = match &principal {
        Some(principal) => audit::Identity::Known {
            principal,
            access_key_id: &caller.access_key_id,
            session_created_ms: None,
        },
        None => audit::Identity::Unknown {
            access_key_id: None,
        },
    };
    let outcome = result.as_ref().map(Vec::as_slice);
    audit::record(
        &engine,
        &seen,
        &caller,
        identity,
        input.as_deref().ok(),
        members.as_ref(),
        outcome,
    )
    .instrument(span.clone())
    .await;
    match result {
        Ok(output) => call.respond(&request_id, output),
        Err(error) => {
            span.in_scope(|| {
                tracing::debug!(code = %error.code, message = %error.message, "request failed");
            });
            call.error(&request_id, &error)
        }
    }
}

/// Reads a body of at most `MAX_REQUEST_BODY_BYTES`, hashing it on the way with `hasher`. A larger one is read to its end (up to
/// `MAX_DRAINED_BYTES`, discarded) before it is refused, so the client is sending no more when
/// the 413 arrives and sees the answer instead of a reset connection.
async fn read_body(
    body: Body,
    mut hasher: Option<&mut flowwatch_security::sigv4::BodyHasher>,
) -> Result<bytes::Bytes, ApiError> {
    use futures::StreamExt;
    let too_large = || {
        ApiError::new(
            ErrorCode::RequestEntityTooLargeException,
            format!(
                "Request body is larger than {} bytes.",
                limits::MAX_REQUEST_BODY_BYTES
            ),
        )
    };
    let unreadable = |e: axum::Error| {
        ApiError::new(
            ErrorCode::SerializationException,
            format!("The request body could not be read: {e}"),
        )
    };
    let mut stream = body.into_data_stream();
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(unreadable)?;
        seen += chunk.len();
        if seen > MAX_DRAINED_BYTES {
            return Err(too_large());
        }
        if seen <= limits::MAX_REQUEST_BODY_BYTES {
            if let Some(hasher) = hasher.as_deref_mut() {
                hasher.update(&chunk);
            }
            buf.extend_from_slice(&chunk);
        }
    }
    if seen > limits::MAX_REQUEST_BODY_BYTES {
        return Err(too_large());
    }
    Ok(buf.freeze())
}

/// How much of an oversized body is read (and dropped) before the connection is given up.
const MAX_DRAINED_BYTES: usize = 64 * 1024 * 1024;
