//! Any text as an IAM policy document of each kind: parsing never panics, and a policy that
//! parses is evaluated against a few requests without panicking.

#![no_main]

use flowwatch_security::policy::{
    Policy, PolicyKind, Principal, RequestContext, access_denied_message, evaluate,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Trust] {
        let Ok(policy) = Policy::parse(text, kind) else {
            continue;
        };
        let contexts = [
            RequestContext::new(
                Principal::user("123456789012", "/", "alice", "AIDAFUZZ"),
                "logs:PutLogEvents",
                "arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:s",
            )
            .at(1_795_000_000)
            .with("aws:SourceIp", "10.0.0.1"),
            RequestContext::new(
                Principal::service("vpc-flow-logs.amazonaws.com"),
                "sts:AssumeRole",
                "arn:aws:iam::123456789012:role/flow-logs",
            )
            .with("aws:SourceAccount", "123456789012"),
            RequestContext::new(Principal::root("123456789012"), "iam:PassRole", "*"),
        ];
        for context in &contexts {
            let decision = match kind {
                PolicyKind::Identity => evaluate(&[&policy], None, context),
                _ => evaluate(&[], Some(&policy), context),
            };
            let _ = access_denied_message(context, &decision);
        }
    }
});
