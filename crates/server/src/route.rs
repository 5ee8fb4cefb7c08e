//! Which protocol a request speaks, the call it makes, and how its answer is framed.
//!
//! | protocol | recognised by | framing |
//! |---|---|---|
//! | awsJson 1.0 / 1.1 | `X-Amz-Target: <prefix><Op>` | [`crate::json`] |
//! | Smithy RPC v2 CBOR | `smithy-protocol: rpc-v2-cbor` or a `/service/<S>/operation/<Op>` path | [`crate::cbor`] |
//! | awsQuery / ec2Query | a form body, `Action=` / `Version=` in the query string, `Action=` in the body, any GET with a query string | [`crate::query`] |
//!
//! Anything else is answered as awsJson 1.1 (the Logs protocol) with UnknownOperationException.

use std::borrow::Cow;

use axum::http::request::Parts;
use axum::response::Response;
use flowwatch_model::{ApiError, ApiResult, ErrorCode};

use crate::query::QueryCall;
use crate::service::{self, Service};
use crate::{cbor, json, query};

/// How a request's answer (or error) is framed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wire {
    Json(json::Flavor),
    Cbor(Option<&'static Service>),
    Query(Option<&'static Service>),
}

impl Wire {
    /// The protocol a request's head announces, for the errors that come before its body is
    /// read (the query service is only known from the body).
    pub(crate) fn of_head(parts: &Parts) -> Self {
        let headers = &parts.headers;
        if let Some(target) = target(parts) {
            return Self::Json(
                service::by_json_target(target).map_or(json::LOGS, |(s, _)| {
                    s.json.as_ref().map_or(json::LOGS, |j| j.flavor)
                }),
            );
        }
        if cbor::is_cbor(headers, parts.uri.path()) {
            let service = cbor::route(headers, parts.uri.path()).ok().map(|(s, _)| s);
            return Self::Cbor(service);
        }
        if query::is_query(&parts.method, headers, parts.uri.query()) {
            return Self::Query(None);
        }
        Self::Json(json::LOGS)
    }

    pub(crate) fn error(self, request_id: &str, error: &ApiError) -> Response {
        match self {
            Self::Json(flavor) => json::error_response(flavor, request_id, error),
            Self::Cbor(service) => cbor::error_response(service, request_id, error),
            Self::Query(service) => query::error_response(service, None, request_id, error),
        }
    }
}

/// The awsJson target, unless the request says it is CBOR (`smithy-protocol` wins: a CBOR
/// request that also carries X-Amz-Target is refused as CBOR, as the protocol requires).
fn target(parts: &Parts) -> Option<&str> {
    if cbor::has_protocol_header(&parts.headers) {
        return None;
    }
    parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
}

/// One operation call, routed, with its input still in its wire format.
#[derive(Debug)]
pub(crate) struct Call {
    pub service: &'static Service,
    pub op: String,
    input: Input,
}

#[derive(Debug)]
enum Input {
    Json(json::Flavor, bytes::Bytes),
    Cbor(bytes::Bytes),
    Query(QueryCall),
}

/// Routes a request to a service and operation by its protocol.
pub(crate) fn route(parts: &Parts, body: bytes::Bytes) -> Result<Call, (Wire, ApiError)> {
    let headers = &parts.headers;
    if let Some(target) = target(parts) {
        return match service::by_json_target(target) {
            Some((service, op)) => {
                let flavor = service.json.as_ref().map_or(json::LOGS, |j| j.flavor);
                Ok(Call {
                    service,
                    op: op.to_owned(),
                    input: Input::Json(flavor, body),
                })
            }
            None => Err((
                Wire::Json(json::LOGS),
                ApiError::new(
                    ErrorCode::UnknownOperationException,
                    format!("Unknown operation {target}."),
                ),
            )),
        };
    }
    if cbor::is_cbor(headers, parts.uri.path()) {
        return match cbor::route(headers, parts.uri.path()) {
            Ok((service, op)) => Ok(Call {
                service,
                op: op.to_owned(),
                input: Input::Cbor(body),
            }),
            Err(error) => Err((Wire::Cbor(None), error)),
        };
    }
    if query::is_query(&parts.method, headers, parts.uri.query()) || query::has_action(&body) {
        return match query::route(parts.uri.query(), &body) {
            Ok(call) => Ok(Call {
                service: call.service,
                op: call.action.clone(),
                input: Input::Query(call),
            }),
            Err((service, error)) => Err((Wire::Query(service), error)),
        };
    }
    Err((
        Wire::Json(json::LOGS),
        ApiError::new(
            ErrorCode::UnknownOperationException,
            "The request names no operation (X-Amz-Target is missing).",
        ),
    ))
}

impl Call {
    /// The operation's input as the JSON its dispatch reads.
    pub(crate) fn input_json(&self) -> ApiResult<Cow<'_, [u8]>> {
        Ok(match &self.input {
            Input::Json(_, body) => Cow::Borrowed(body),
            Input::Cbor(body) => Cow::Owned(cbor::input_json(body)?),
            Input::Query(call) => Cow::Owned(call.input_json()?),
        })
    }

    /// The answer to a successful call, from the dispatch's JSON output.
    pub(crate) fn respond(&self, request_id: &str, output: Vec<u8>) -> Response {
        let framed = match &self.input {
            Input::Json(flavor, _) => Ok(json::ok_response(*flavor, request_id, output)),
            Input::Cbor(_) => cbor::ok_response(self.service, &self.op, request_id, &output),
            Input::Query(call) => query::ok_response(call, request_id, &output),
        };
        framed.unwrap_or_else(|error| {
            tracing::warn!(service = self.service.name, action = %self.op, %error, "could not frame the output");
            self.error(request_id, &error)
        })
    }

    /// An error, framed for this call's protocol.
    pub(crate) fn error(&self, request_id: &str, error: &ApiError) -> Response {
        match &self.input {
            Input::Json(flavor, _) => json::error_response(*flavor, request_id, error),
            Input::Cbor(_) => cbor::error_response(Some(self.service), request_id, error),
            Input::Query(call) => {
                query::error_response(Some(call.service), Some(&call.action), request_id, error)
            }
        }
    }
}
