//! # flowwatch-server
//!
//! The HTTP face of flowwatch: one port, every AWS wire protocol flowwatch speaks. A request is
//! authenticated into a [`Caller`](flowwatch_model::Caller) by [`auth`], routed by protocol and
//! operation to one [`Engine`] method, and every failure leaves here as the protocol's error
//! shape with the status [`ErrorCode`] decides. Every response
//! carries `x-amzn-RequestId`.
//!
//! | service | protocol | selected by |
//! |---|---|---|
//! | CloudWatch Logs | awsJson1.1 | `X-Amz-Target: Logs_20140328.<Op>` |
//! | CloudWatch (metrics) | awsJson1.0, query-compatible | `X-Amz-Target: GraniteServiceVersion20100801.<Op>` |
//!
//! ```no_run
//! # async fn demo(engine: flowwatch_engine::Engine) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4580").await?;
//! flowwatch_server::serve(listener, engine, std::future::pending()).await
//! # }
//! ```

pub mod auth;
mod cloudwatch;
mod json;
mod logs;
#[expect(dead_code, reason = "served once the awsQuery codec lands")]
mod sns;

use std::future::Future;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Request};
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
    axum::serve(listener, router(engine))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn handle(State(engine): State<Engine>, request: Request<Body>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let target = header(headers, "x-amz-target")
        .unwrap_or_default()
        .to_owned();
    // A client that stops sending its body mid-way is answered, not waited for forever.
    let read = tokio::time::timeout(BODY_READ_TIMEOUT, read_body(body)).await;
    let body = match read {
        Ok(Ok(body)) => body,
        Err(_) => {
            return json::error_response(
                flavor_of(&target),
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
        Ok(Err(error)) => return json::error_response(flavor_of(&target), &request_id, &error),
    };
    let caller = match auth::resolve_caller(
        headers,
        parts.uri.query(),
        &engine.config().account_id,
        &request_id,
    ) {
        Ok(caller) => caller,
        Err(error) => return json::error_response(flavor_of(&target), &request_id, &error),
    };
    if let Some(op) = target.strip_prefix(logs::TARGET_PREFIX) {
        let span = tracing::info_span!("request", service = "logs", action = op, id = %request_id);
        // Instrumented, not entered: an entered span must not be held across an await.
        let result = logs::dispatch(&engine, &caller, op, &body)
            .instrument(span.clone())
            .await;
        return match result {
            Ok(payload) => json::ok_response(json::LOGS, &request_id, payload),
            Err(error) => {
                span.in_scope(|| {
                    tracing::debug!(code = %error.code, message = %error.message, "request failed");
                });
                json::error_response(json::LOGS, &request_id, &error)
            }
        };
    }
    if let Some(op) = target.strip_prefix(cloudwatch::TARGET_PREFIX) {
        let span =
            tracing::info_span!("request", service = "monitoring", action = op, id = %request_id);
        let result = cloudwatch::dispatch(&engine, &caller, op, &body)
            .instrument(span.clone())
            .await;
        return match result {
            Ok(payload) => json::ok_response(json::CLOUDWATCH, &request_id, payload),
            Err(error) => {
                span.in_scope(|| {
                    tracing::debug!(code = %error.code, message = %error.message, "request failed");
                });
                json::error_response(json::CLOUDWATCH, &request_id, &error)
            }
        };
    }
    let error = if target.is_empty() {
        ApiError::new(
            ErrorCode::UnknownOperationException,
            "The request names no operation (X-Amz-Target is missing).",
        )
    } else {
        ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation {target}."),
        )
    };
    json::error_response(json::LOGS, &request_id, &error)
}

/// The JSON flavour errors of a request take, from its target.
fn flavor_of(target: &str) -> json::Flavor {
    if target.starts_with(cloudwatch::TARGET_PREFIX) {
        json::CLOUDWATCH
    } else {
        json::LOGS
    }
}

/// Reads a body of at most `MAX_REQUEST_BODY_BYTES`. A larger one is read to its end (up to
/// `MAX_DRAINED_BYTES`, discarded) before it is refused, so the client is sending no more when
/// the 413 arrives and sees the answer instead of a reset connection.
async fn read_body(body: Body) -> Result<bytes::Bytes, ApiError> {
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

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
