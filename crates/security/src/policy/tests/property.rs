//! Property: an explicit deny decides whatever the allows around it.

use proptest::prelude::*;

use super::super::*;
use super::{ACCOUNT, alice, identity};

const STREAM: &str = "arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:i-1";

fn resource_policy(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Resource).unwrap()
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("logs:PutLogEvents"),
        Just("logs:DeleteLogGroup"),
        Just("ec2:CreateFlowLogs"),
        Just("iam:PassRole")
    ]
    .prop_map(str::to_owned)
}

fn action_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*"),
        Just("logs:*"),
        Just("logs:Put*"),
        Just("logs:?eleteLogGroup"),
        Just("ec2:*"),
        Just("iam:PassRole")
    ]
    .prop_map(str::to_owned)
}

fn resource_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*"),
        Just("arn:aws:logs:*:*:*"),
        Just("arn:aws:logs:us-east-1:123456789012:log-group:app:*")
    ]
    .prop_map(str::to_owned)
}

proptest! {
    /// Whatever allows, a matching deny statement anywhere decides.
    #[test]
    fn explicit_deny_always_wins(
        allows in prop::collection::vec((action_pattern(), resource_pattern()), 0..6),
        deny in (action_pattern(), resource_pattern()),
        deny_at in 0usize..6,
        action in action(),
        root in any::<bool>(),
    ) {
        let statement = |effect: &str, (a, r): &(String, String)| format!(r#"{{"Effect":"{effect}","Action":"{a}","Resource":"{r}"}}"#);
        let mut statements: Vec<String> = allows.iter().map(|s| statement("Allow", s)).collect();
        statements.insert(deny_at.min(statements.len()), statement("Deny", &deny));
        let policy = identity(&format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(",")));
        let principal = if root { Principal::root(ACCOUNT) } else { alice() };
        let request = RequestContext::new(principal, action.clone(), STREAM);
        let denied = wildcard_match(&deny.0, &action, true) && Pattern::new(&deny.1, true).matches_arn(STREAM, None);
        let decision = evaluate(&[&policy], None, &request);
        if denied {
            prop_assert!(matches!(decision, Decision::ExplicitDeny(_)), "{decision:?}");
        } else {
            prop_assert!(!matches!(decision, Decision::ExplicitDeny(_)));
        }
        // A deny in a resource policy wins over the same allows too.
        let resource = resource_policy(&format!(
            r#"{{"Statement":[{{"Effect":"Deny","Principal":"*","Action":"{}","Resource":"{}"}},{{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}]}}"#,
            deny.0, deny.1
        ));
        let decision = evaluate(&[&policy], Some(&resource), &request);
        prop_assert_eq!(matches!(decision, Decision::ExplicitDeny(_)), denied);
        prop_assert_eq!(decision.is_allowed(), !denied);
    }
}
