//! The awsJson1.0 / awsJson1.1 wire format: JSON bodies in and out, errors as `__type`.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use flowwatch_model::{ApiError, ApiResult, ErrorCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Parses a request body (empty = `{}`); a syntax or type error is a SerializationException.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
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

/// Serialises an output shape; `()` becomes `{}`.
pub(crate) fn encode<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    let mut out = serde_json::to_vec(value)
        .map_err(|e| ApiError::internal(format!("could not encode the response: {e}")))?;
    if out == b"null" {
        out = b"{}".to_vec();
    }
    Ok(out)
}

fn response(request_id: &str, status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

pub(crate) fn ok_response(request_id: &str, body: Vec<u8>) -> Response {
    response(request_id, StatusCode::OK, body)
}

pub(crate) fn error_response(request_id: &str, error: &ApiError) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("__type".into(), error.code.name().into());
    body.insert("message".into(), error.message.clone().into());
    for (name, value) in &error.members {
        body.insert((*name).into(), value.clone().into());
    }
    let status = StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = response(request_id, status, bytes);
    if let Ok(v) = HeaderValue::from_str(error.code.name()) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}
