//! The query protocols (awsQuery for CloudWatch and SNS, ec2Query for EC2), service-generic,
//! as a translation around each service's JSON dispatch.
//!
//! A request is a form, in a `application/x-www-form-urlencoded` POST body or a GET query
//! string (both are read, the query string first): `Action=<Op>&Version=<api version>&...`.
//! `Version` picks the service (its [`QueryBinding`](crate::service::QueryBinding)); the other parameters become the JSON
//! input ([`form`]) by the service's hints, the dispatch runs, and its JSON output becomes the
//! XML response ([`xml`]). Errors are XML with the awsQuery code (`ErrorCode::query_code`).

mod form;
mod scalar;
mod xml;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use flowwatch_model::{ApiError, ApiResult, ErrorCode};

use crate::service::{self, Service};

/// Whether a request's head marks it as a query-protocol call: a form body, or a query string
/// with `Action` or `Version`, or any query string on a GET (the only protocol sent as GET).
pub(crate) fn is_query(method: &Method, headers: &HeaderMap, uri_query: Option<&str>) -> bool {
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    form || uri_query.is_some_and(|q| {
        (method == Method::GET && !q.is_empty())
            || form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "Action" || k == "Version")
    })
}

/// Whether a form (a body sent without a content type, say) has an `Action` parameter.
pub(crate) fn has_action(form: &[u8]) -> bool {
    form_urlencoded::parse(form).any(|(k, _)| k == "Action")
}

/// A routed query call: the service, the action and the other parameters.
#[derive(Debug)]
pub(crate) struct QueryCall {
    pub service: &'static Service,
    pub action: String,
    params: Vec<(String, String)>,
}

/// Finds the service and action of a form; an error comes with the service to frame it for,
/// when the form names one.
pub(crate) fn route(
    uri_query: Option<&str>,
    body: &[u8],
) -> Result<QueryCall, (Option<&'static Service>, ApiError)> {
    let mut action = None;
    let mut version = None;
    let mut params = Vec::new();
    let pairs = form_urlencoded::parse(uri_query.unwrap_or_default().as_bytes())
        .chain(form_urlencoded::parse(body));
    for (key, value) in pairs {
        match key.as_ref() {
            "Action" => action = Some(value.into_owned()),
            "Version" => version = Some(value.into_owned()),
            // Presigned-URL authentication, not operation input.
            k if k.starts_with("X-Amz-") => {}
            _ => params.push((key.into_owned(), value.into_owned())),
        }
    }
    let service = version.as_deref().and_then(service::by_query_version);
    let Some(action) = action.filter(|a| !a.is_empty()) else {
        return Err((
            service,
            ApiError::new(
                ErrorCode::MissingAction,
                "The request must contain the parameter Action.",
            ),
        ));
    };
    let service = match (version, service) {
        (_, Some(service)) => service,
        (None, None) => {
            return Err((
                None,
                ApiError::new(
                    ErrorCode::MissingRequiredParameterException,
                    "The request must contain the parameter Version.",
                ),
            ));
        }
        (Some(version), None) => {
            return Err((
                None,
                ApiError::new(
                    ErrorCode::InvalidParameterValueException,
                    format!(
                        "Version {version} is not an API version served here (served: {}).",
                        service::query_versions().join(", ")
                    ),
                ),
            ));
        }
    };
    if !is_action_name(&action) {
        return Err((Some(service), invalid_action(&action)));
    }
    Ok(QueryCall {
        service,
        action,
        params,
    })
}

impl QueryCall {
    /// The operation's JSON input.
    pub(crate) fn input_json(&self) -> ApiResult<Vec<u8>> {
        let binding = self.binding();
        let value = form::to_json(
            self.params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &self.action,
            &self.service.hints,
            binding.dialect,
        )?;
        serde_json::to_vec(&value)
            .map_err(|e| ApiError::internal(format!("could not encode the input: {e}")))
    }

    fn binding(&self) -> &'static service::QueryBinding {
        service::query_binding(Some(self.service))
    }
}

/// Operation names are identifiers; anything else cannot be one (nor an XML element name).
fn is_action_name(action: &str) -> bool {
    action.len() <= 128
        && action.starts_with(|c: char| c.is_ascii_uppercase())
        && action.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn invalid_action(action: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidAction,
        format!("The action {action} is not valid for this web service."),
    )
}

fn response(request_id: &str, status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// A successful call: the JSON output as the service's XML.
pub(crate) fn ok_response(
    call: &QueryCall,
    request_id: &str,
    output: &[u8],
) -> ApiResult<Response> {
    let service = call.service;
    let output = if service.has_no_output(&call.action) {
        None
    } else {
        Some(
            serde_json::from_slice::<serde_json::Value>(output).map_err(|e| {
                ApiError::internal(format!("could not read the output as JSON: {e}"))
            })?,
        )
    };
    let body = xml::success(
        call.binding(),
        &service.hints,
        &call.action,
        output.as_ref(),
        request_id,
    );
    Ok(response(request_id, StatusCode::OK, body))
}

/// An error as XML, framed for `service` (the default one when the request named none).
/// `action` is the call's action once it is known: the JSON dispatch's unknown-operation and
/// unreadable-input errors become the query protocols' InvalidAction / InvalidQueryParameter.
pub(crate) fn error_response(
    service: Option<&'static Service>,
    action: Option<&str>,
    request_id: &str,
    error: &ApiError,
) -> Response {
    let translated;
    let error = match (error.code, action) {
        (ErrorCode::UnknownOperationException, Some(action)) => {
            translated = invalid_action(action);
            &translated
        }
        (ErrorCode::SerializationException, _) => {
            translated = ApiError::new(ErrorCode::InvalidQueryParameter, error.message.clone());
            &translated
        }
        _ => error,
    };
    let status = StatusCode::from_u16(error.code.query_status()).unwrap_or(StatusCode::BAD_REQUEST);
    response(
        request_id,
        status,
        xml::error(service::query_binding(service), error, request_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_detection() {
        let mut headers = HeaderMap::new();
        let post = &Method::POST;
        assert!(!is_query(post, &headers, None));
        assert!(is_query(
            post,
            &headers,
            Some("Action=ListMetrics&Version=2010-08-01")
        ));
        assert!(is_query(post, &headers, Some("Version=2010-08-01")));
        assert!(!is_query(post, &headers, Some("X-Amz-Credential=x")));
        assert!(is_query(&Method::GET, &headers, Some("Namespace=x")));
        assert!(!is_query(&Method::GET, &headers, Some("")));
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        assert!(is_query(post, &headers, None));
        assert!(has_action(b"Version=1&Action=X"));
        assert!(!has_action(b"{\"Action\": 1}"));
    }

    #[test]
    fn routing_by_version() {
        let call = route(
            Some("Action=ListMetrics"),
            b"Version=2010-08-01&Namespace=A%2FB+C&X-Amz-Date=1",
        )
        .unwrap();
        assert_eq!(call.service.name, "monitoring");
        assert_eq!(call.action, "ListMetrics");
        assert_eq!(call.input_json().unwrap(), br#"{"Namespace":"A/B C"}"#);

        let code = |q: &str| route(None, q.as_bytes()).unwrap_err().1.code;
        assert_eq!(code("Version=2010-08-01"), ErrorCode::MissingAction);
        assert_eq!(code("Action=&Version=2010-08-01"), ErrorCode::MissingAction);
        assert_eq!(
            code("Action=ListMetrics"),
            ErrorCode::MissingRequiredParameterException
        );
        assert_eq!(
            code("Action=ListMetrics&Version=1999-01-01"),
            ErrorCode::InvalidParameterValueException
        );
        assert_eq!(
            code("Action=List%3CMetrics&Version=2010-08-01"),
            ErrorCode::InvalidAction
        );
    }

    #[test]
    fn dispatch_errors_in_query_terms() {
        let unknown = ApiError::new(ErrorCode::UnknownOperationException, "Unknown operation X.");
        let resp = error_response(Some(&service::CLOUDWATCH), Some("Frob"), "r", &unknown);
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(resp.headers()["content-type"], "text/xml");
    }
}
