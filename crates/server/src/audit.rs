//! The one place the request path records calls in the audit trail: [`record`] for every call
//! that was routed to a service and operation (allowed or denied, successful or failed), and
//! [`record_refused`] for a call whose signature was refused before its caller was known.
//! Building and storing the record is the engine's ([`Engine::record_api_call`]).
//!
//! Requests that name no operation (a body that cannot be read or decoded, an unknown target
//! or `Action`) are not recorded: CloudTrail has no event name for them either.

use axum::http::request::Parts;
use flowwatch_engine::Engine;
use flowwatch_engine::audit::ApiCall;
use flowwatch_model::caller::DEFAULT_REGION;
use flowwatch_model::{ApiError, Caller};

use crate::route::Call;

pub(crate) use flowwatch_engine::audit::Identity;

/// Regions a request whose signature was refused may be recorded in (its claimed one, if
/// listed here, else the default): an unauthenticated caller must not make the server create
/// an audit group per made-up region.
const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "sa-east-1",
];

/// What every record of a request shares.
pub(crate) struct Seen<'a> {
    pub parts: &'a Parts,
    pub call: &'a Call,
    pub request_id: &'a str,
}

impl Seen<'_> {
    fn source_ip(&self) -> Option<String> {
        self.parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string())
    }

    fn user_agent(&self) -> Option<&str> {
        self.parts
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
    }
}

/// Records a call with its input and outcome. A verified caller's is recorded in its account
/// and region; an unsigned one's (an SNS link, whose scope comes from an ARN anyone may write)
/// in the server's account and a known region.
pub(crate) async fn record(
    engine: &Engine,
    seen: &Seen<'_>,
    caller: &Caller,
    identity: Identity<'_>,
    input: Option<&[u8]>,
    members: Option<&serde_json::Map<String, serde_json::Value>>,
    outcome: Result<&[u8], &ApiError>,
) {
    let source_ip = seen.source_ip();
    let (account, region) = match identity {
        Identity::Known { .. } => (caller.scope.account.clone(), caller.scope.region.clone()),
        Identity::Unknown { .. } => (
            engine.config().account_id.clone(),
            known_region(Some(caller.scope.region.clone())),
        ),
    };
    engine
        .record_api_call(ApiCall {
            service: seen.call.service.name,
            op: &seen.call.op,
            account: &account,
            region: &region,
            identity,
            source_ip: source_ip.as_deref(),
            user_agent: seen.user_agent(),
            request_id: seen.request_id,
            input,
            members,
            outcome,
        })
        .await;
}

/// Records a call refused before its caller was known (a missing, malformed or wrong
/// signature, an unknown or expired key): `userIdentity` is `Unknown` with the access key the
/// request claims, and its parameters are not recorded (the sender is unauthenticated).
pub(crate) async fn record_refused(engine: &Engine, seen: &Seen<'_>, error: &ApiError) {
    let (access_key_id, region) = claimed_credential(seen.parts);
    let region = known_region(region);
    let source_ip = seen.source_ip();
    engine
        .record_api_call(ApiCall {
            service: seen.call.service.name,
            op: &seen.call.op,
            account: &engine.config().account_id,
            region: &region,
            identity: Identity::Unknown {
                access_key_id: access_key_id.as_deref(),
            },
            source_ip: source_ip.as_deref(),
            user_agent: seen.user_agent(),
            request_id: seen.request_id,
            input: None,
            members: None,
            outcome: Err(error),
        })
        .await;
}

/// `region` if it is a known AWS region, else the default one.
fn known_region(region: Option<String>) -> String {
    region
        .filter(|r| KNOWN_REGIONS.contains(&r.as_str()))
        .unwrap_or_else(|| DEFAULT_REGION.to_owned())
}

/// The access key id and region a request's credential (`Authorization: … Credential=…` or a
/// presigned `X-Amz-Credential`) claims, unverified.
fn claimed_credential(parts: &Parts) -> (Option<String>, Option<String>) {
    let from_header = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| {
            let rest = &auth[auth.find("Credential=")? + "Credential=".len()..];
            Some(rest.split([',', ' ']).next().unwrap_or(rest).to_owned())
        });
    let from_query = || {
        parts.uri.query().and_then(|q| {
            q.split('&').find_map(|pair| {
                let value = pair.strip_prefix("X-Amz-Credential=")?;
                Some(value.replace("%2F", "/").replace("%2f", "/"))
            })
        })
    };
    let Some(credential) = from_header.or_else(from_query) else {
        return (None, None);
    };
    let mut scope = credential.split('/');
    let key = scope
        .next()
        .filter(|k| !k.is_empty() && k.len() <= 128 && k.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned);
    let region = scope.nth(1).map(str::to_owned);
    (key, region)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(auth: Option<&str>, uri: &str) -> Parts {
        let mut request = axum::http::Request::builder().uri(uri);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_claimed_key_and_region_come_from_either_form_of_signature() {
        let p = parts(
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/eu-west-1/logs/aws4_request, SignedHeaders=host, Signature=00",
            ),
            "/",
        );
        assert_eq!(
            claimed_credential(&p),
            (Some("AKIAX".into()), Some("eu-west-1".into()))
        );
        let p = parts(
            None,
            "/?X-Amz-Credential=AKIAY%2F20260101%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=1",
        );
        assert_eq!(
            claimed_credential(&p),
            (Some("AKIAY".into()), Some("us-west-2".into()))
        );
        assert_eq!(claimed_credential(&parts(None, "/")), (None, None));
        let p = parts(Some("AWS4-HMAC-SHA256 Credential=<script>/x"), "/");
        assert_eq!(claimed_credential(&p).0, None);
    }
}
