//! The awsJson1.0 / awsJson1.1 wire format: JSON bodies in and out, errors as `__type`.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use flowwatch_model::{ApiError, ApiResult, ErrorCode};
use serde::Deserialize;
use serde::Serialize;

/// One flavour of the JSON protocols: its content type, and whether the service is
/// query-compatible (its errors also carry `x-amzn-query-error`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flavor {
    content_type: &'static str,
    query_compatible: bool,
}

/// CloudWatch Logs: awsJson1.1.
pub(crate) const LOGS: Flavor = Flavor {
    content_type: "application/x-amz-json-1.1",
    query_compatible: false,
};

/// CloudWatch: awsJson1.0, query-compatible.
pub(crate) const CLOUDWATCH: Flavor = Flavor {
    content_type: "application/x-amz-json-1.0",
    query_compatible: true,
};

/// Parses a request body (empty = `{}`); a syntax or type error is a SerializationException.
pub(crate) fn parse<'de, T: Deserialize<'de>>(body: &'de [u8]) -> ApiResult<T> {
    let body: &'de [u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::SerializationException,
            format!("Could not read the request body as the operation's input: {e}"),
        )
    })
}

/// A double as awsJson carries it: the non-finite ones are the strings `NaN`, `Infinity` and
/// `-Infinity`.
pub(crate) fn float(f: f64) -> serde_json::Value {
    match serde_json::Number::from_f64(f) {
        Some(n) => serde_json::Value::Number(n),
        None if f.is_nan() => "NaN".into(),
        None if f > 0.0 => "Infinity".into(),
        None => "-Infinity".into(),
    }
}

/// Serialises an output shape; `()` becomes `{}`.
pub(crate) fn encode<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    let mut out = serde_json::to_vec(value)
        .map_err(|e| ApiError::internal(format!("could not encode the response: {e}")))?;
    if out == b"null" {
        out = b"{}".to_vec();
    }
    Ok(out)
}

fn response(flavor: Flavor, request_id: &str, status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static(flavor.content_type),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

pub(crate) fn ok_response(flavor: Flavor, request_id: &str, body: Vec<u8>) -> Response {
    response(flavor, request_id, StatusCode::OK, body)
}

pub(crate) fn error_response(flavor: Flavor, request_id: &str, error: &ApiError) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("__type".into(), error.code.name().into());
    body.insert("message".into(), error.message.clone().into());
    for (name, value) in &error.members {
        body.insert((*name).into(), value.clone());
    }
    let status = StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = response(flavor, request_id, status, bytes);
    if flavor.query_compatible {
        let fault = if error.code.is_sender_fault() {
            "Sender"
        } else {
            "Receiver"
        };
        if let Ok(v) = HeaderValue::from_str(&format!("{};{fault}", error.code.query_code())) {
            resp.headers_mut().insert("x-amzn-query-error", v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(error.code.name()) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}
