//! Smithy RPC v2 CBOR (what the AWS SDK for Rust and recent Java SDKs send CloudWatch), as a
//! translation around the service's JSON dispatch.
//!
//! `POST [prefix]/service/<ServiceShape>/operation/<Op>` with `smithy-protocol: rpc-v2-cbor`:
//! the CBOR body is decoded to the JSON awsJson would carry ([`decode`]), the JSON dispatch
//! runs, and its JSON output is encoded back to CBOR with the service's type hints
//! ([`encode`]). Responses carry `smithy-protocol: rpc-v2-cbor`; errors are a CBOR map
//! `{"__type": "<namespace>#<Code>", "message": ...}` with the code's HTTP status and, for a
//! query-compatible service, `x-amzn-query-error: <QueryCode>;Sender|Receiver`, which is the
//! code the SDK reports.

mod decode;
mod encode;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use flowwatch_model::{ApiError, ApiResult, ErrorCode};

use crate::hints::Hints;
use crate::service::{self, Service};

/// The one value of the `smithy-protocol` header this protocol uses.
pub(crate) const PROTOCOL: &str = "rpc-v2-cbor";
const CONTENT_TYPE: &str = "application/cbor";

/// Whether a request carries the `smithy-protocol` header (whatever its value).
pub(crate) fn has_protocol_header(headers: &HeaderMap) -> bool {
    headers.contains_key("smithy-protocol")
}

/// Whether a request is meant as RPC v2 CBOR: the header or the path says so.
pub(crate) fn is_cbor(headers: &HeaderMap, path: &str) -> bool {
    has_protocol_header(headers) || split_path(path).is_some()
}

/// `(service shape, operation)` of `[prefix]/service/<shape>/operation/<op>`.
fn split_path(path: &str) -> Option<(&str, &str)> {
    let (head, op) = path.rsplit_once("/operation/")?;
    let (_, shape) = head.rsplit_once("/service/")?;
    (!shape.is_empty() && !shape.contains('/') && !op.is_empty() && !op.contains('/'))
        .then_some((shape, op))
}

/// The service and operation a CBOR request calls; checks the protocol's headers.
pub(crate) fn route<'p>(
    headers: &HeaderMap,
    path: &'p str,
) -> ApiResult<(&'static Service, &'p str)> {
    let protocol = headers
        .get("smithy-protocol")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if protocol != PROTOCOL {
        return Err(ApiError::new(
            ErrorCode::SerializationException,
            format!("RPC v2 CBOR requests must carry the header smithy-protocol: {PROTOCOL}."),
        ));
    }
    if headers.contains_key("x-amz-target") {
        return Err(ApiError::new(
            ErrorCode::SerializationException,
            "RPC v2 CBOR requests must not carry X-Amz-Target.",
        ));
    }
    let Some((shape, op)) = split_path(path) else {
        return Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("The path {path} is not /service/<service>/operation/<operation>."),
        ));
    };
    let service = service::by_cbor_shape(shape).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown service {shape}."),
        )
    })?;
    Ok((service, op))
}

/// A CBOR request body as the JSON the dispatch reads.
pub(crate) fn input_json(body: &[u8]) -> ApiResult<Vec<u8>> {
    let value = decode::body_to_json(body).map_err(|e| {
        ApiError::new(
            ErrorCode::SerializationException,
            format!("Could not read the request body as CBOR: {}", e.0),
        )
    })?;
    serde_json::to_vec(&value)
        .map_err(|e| ApiError::internal(format!("could not re-encode the input: {e}")))
}

fn response(request_id: &str, status: StatusCode, body: Option<Vec<u8>>) -> Response {
    let mut response = match body {
        Some(body) => {
            let mut r = Response::new(Body::from(body));
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
            r
        }
        None => Response::new(Body::empty()),
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("smithy-protocol", HeaderValue::from_static(PROTOCOL));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// A successful call: the JSON output as CBOR (no body for an operation without output).
pub(crate) fn ok_response(
    service: &Service,
    op: &str,
    request_id: &str,
    output: &[u8],
) -> ApiResult<Response> {
    if service.has_no_output(op) {
        return Ok(response(request_id, StatusCode::OK, None));
    }
    let value: serde_json::Value = serde_json::from_slice(output)
        .map_err(|e| ApiError::internal(format!("could not read the output as JSON: {e}")))?;
    let body = encode::output_to_cbor(&value, &service.hints, op);
    Ok(response(request_id, StatusCode::OK, Some(body)))
}

/// `{"__type": "<namespace>#<Code>", "message": ..., <modelled members>}` as CBOR.
fn error_body(namespace: &str, error: &ApiError) -> Vec<u8> {
    let mut body = serde_json::Map::new();
    body.insert(
        "__type".into(),
        format!("{namespace}#{}", error.code.name()).into(),
    );
    body.insert("message".into(), error.message.clone().into());
    for (name, value) in &error.members {
        body.insert((*name).into(), value.clone());
    }
    encode::output_to_cbor(&serde_json::Value::Object(body), &Hints(&[]), "")
}

/// An error as the protocol frames it; `service` is `None` when the request named none.
pub(crate) fn error_response(
    service: Option<&Service>,
    request_id: &str,
    error: &ApiError,
) -> Response {
    let namespace = service
        .and_then(|s| s.cbor.as_ref())
        .map_or("com.amazonaws", |c| c.namespace);
    let bytes = error_body(namespace, error);
    let status = StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = response(request_id, status, Some(bytes));
    let query_compatible = service.is_none_or(|s| s.query.is_some());
    if query_compatible {
        let fault = if error.code.is_sender_fault() {
            "Sender"
        } else {
            "Receiver"
        };
        if let Ok(v) = HeaderValue::from_str(&format!("{};{fault}", error.code.query_code())) {
            resp.headers_mut().insert("x-amzn-query-error", v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_a_service_and_an_operation() {
        assert_eq!(
            split_path("/service/GraniteServiceVersion20100801/operation/ListMetrics"),
            Some(("GraniteServiceVersion20100801", "ListMetrics"))
        );
        assert_eq!(
            split_path("/prefix/service/S/operation/Op"),
            Some(("S", "Op"))
        );
        for bad in [
            "/",
            "/service//operation/Op",
            "/service/S/operation/",
            "/service/S/operation/a/b",
            "/operation/Op",
        ] {
            assert_eq!(split_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn routes_only_well_formed_requests() {
        let path = "/service/GraniteServiceVersion20100801/operation/ListMetrics";
        let mut headers = HeaderMap::new();
        assert!(route(&headers, path).is_err(), "no smithy-protocol");
        headers.insert("smithy-protocol", HeaderValue::from_static(PROTOCOL));
        let (service, op) = route(&headers, path).unwrap();
        assert_eq!((service.name, op), ("monitoring", "ListMetrics"));
        assert_eq!(
            route(&headers, "/service/Other/operation/X")
                .unwrap_err()
                .code,
            ErrorCode::UnknownOperationException
        );
        headers.insert("x-amz-target", HeaderValue::from_static("x"));
        assert!(route(&headers, path).is_err(), "X-Amz-Target is refused");
    }

    #[test]
    fn errors_carry_the_shape_id_and_the_query_code() {
        let error = ApiError::new(ErrorCode::InvalidParameterValueException, "bad <Period>");
        let resp = error_response(Some(&service::CLOUDWATCH), "rid", &error);
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let h = resp.headers();
        assert_eq!(h["smithy-protocol"], PROTOCOL);
        assert_eq!(h["content-type"], CONTENT_TYPE);
        assert_eq!(h["x-amzn-query-error"], "InvalidParameterValue;Sender");
        assert_eq!(h["x-amzn-requestid"], "rid");
        let body = error_body("com.amazonaws.cloudwatch", &error);
        assert_eq!(
            decode::body_to_json(&body).unwrap(),
            serde_json::json!({
                "__type": "com.amazonaws.cloudwatch#InvalidParameterValueException",
                "message": "bad <Period>",
            })
        );
    }
}
