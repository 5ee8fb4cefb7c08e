use super::super::*;
use super::{ACCOUNT, alice, context, identity};

fn allowed(policy: &Policy, action: &str, resource: &str) -> bool {
    evaluate(&[policy], None, &context(action, resource)).is_allowed()
}

fn allow(action: &str, resource: &str) -> Policy {
    identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}}}"#
    ))
}

const GROUP: &str = "arn:aws:logs:us-east-1:123456789012:log-group:app";
const STREAM: &str = "arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:i-1";

#[test]
fn wildcards() {
    assert!(wildcard_match("a*c", "abbbc", false));
    assert!(wildcard_match("a*c", "ac", false));
    assert!(wildcard_match("a?c", "abc", false));
    assert!(!wildcard_match("a?c", "ac", false));
    assert!(wildcard_match("*", "", false));
    assert!(wildcard_match("**a**", "xxaxx", false));
    assert!(!wildcard_match("abc", "ABC", false));
    assert!(wildcard_match("abc", "ABC", true));
    assert!(wildcard_match(
        "bucket/*/test/*",
        "bucket/1/2/test/3/object.jpg",
        false
    ));
    assert!(!wildcard_match("a*b*c", "a-b-d", false));
    // Not exponential on a hostile pattern.
    let long = "a".repeat(5000);
    assert!(!wildcard_match("*a*a*a*a*a*a*a*a*b", &long, false));
}

#[test]
fn actions_ignore_case_and_take_wildcards() {
    let policy = allow("logs:Describe*", "*");
    assert!(allowed(&policy, "logs:DescribeLogGroups", "*"));
    assert!(allowed(&policy, "LOGS:describeloggroups", "*"));
    assert!(!allowed(&policy, "logs:PutLogEvents", "*"));
    assert!(!allowed(&policy, "cloudwatch:DescribeAlarms", "*"));
    let policy = allow("logs:?etLogEvents", "*");
    assert!(allowed(&policy, "logs:GetLogEvents", "*"));
    assert!(!allowed(&policy, "logs:PutLogEventsX", "*"));
    assert!(allowed(&allow("*", "*"), "ec2:CreateFlowLogs", "*"));
    assert!(allowed(&allow("logs:*", "*"), "logs:PutLogEvents", "*"));
}

#[test]
fn arn_segments_match_separately() {
    let policy = allow("logs:*", "arn:aws:logs:*:*:*");
    assert!(allowed(&policy, "logs:PutLogEvents", STREAM));
    // `*` in the region segment does not run into the account.
    let policy = allow("logs:*", "arn:aws:logs:*:111122223333:*");
    assert!(!allowed(&policy, "logs:PutLogEvents", STREAM));
    let policy = allow("logs:*", "arn:aws:logs:us-?ast-1:123456789012:log-group:a*");
    assert!(allowed(&policy, "logs:CreateLogStream", GROUP));
    // ARNs are case-sensitive.
    let policy = allow(
        "logs:*",
        "arn:aws:logs:us-east-1:123456789012:log-group:APP",
    );
    assert!(!allowed(&policy, "logs:CreateLogStream", GROUP));
    // The resource part is one segment even with colons.
    let policy = allow(
        "logs:*",
        "arn:aws:logs:us-east-1:123456789012:log-group:app*",
    );
    assert!(allowed(&policy, "logs:PutLogEvents", STREAM));
    // A pattern with fewer parts is matched against the whole ARN.
    assert!(allowed(
        &allow("logs:*", "arn:aws:logs:*"),
        "logs:PutLogEvents",
        STREAM
    ));
    assert!(!allowed(
        &allow("logs:*", "arn:aws:logs:us-east-1:123456789012:log-group"),
        "logs:PutLogEvents",
        GROUP
    ));
    assert!(allowed(&allow("logs:*", "*"), "logs:PutLogEvents", STREAM));
}

#[test]
fn log_group_star_idiom_covers_the_group_and_its_streams() {
    let policy = allow(
        "logs:*",
        "arn:aws:logs:us-east-1:123456789012:log-group:app:*",
    );
    assert!(allowed(&policy, "logs:PutRetentionPolicy", GROUP));
    assert!(allowed(
        &policy,
        "logs:DescribeLogGroups",
        &format!("{GROUP}:*")
    ));
    assert!(allowed(&policy, "logs:PutLogEvents", STREAM));
    assert!(!allowed(
        &policy,
        "logs:PutRetentionPolicy",
        "arn:aws:logs:us-east-1:123456789012:log-group:app2"
    ));
    // Only for Logs log groups.
    let policy = allow("*", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a:*");
    assert!(!allowed(
        &policy,
        "cloudwatch:DescribeAlarms",
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"
    ));
    // Without `:*` the streams are not covered.
    let policy = allow("logs:*", GROUP);
    assert!(allowed(&policy, "logs:PutRetentionPolicy", GROUP));
    assert!(!allowed(&policy, "logs:PutLogEvents", STREAM));
}

#[test]
fn not_action_and_not_resource() {
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"logs:Delete*","Resource":"*"}}"#,
    );
    assert!(allowed(&policy, "logs:PutLogEvents", STREAM));
    assert!(allowed(&policy, "ec2:CreateFlowLogs", "*"));
    assert!(!allowed(&policy, "logs:DeleteLogGroup", GROUP));
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"logs:*","NotResource":"arn:aws:logs:*:*:log-group:secret*"}}"#,
    );
    assert!(allowed(&policy, "logs:PutLogEvents", STREAM));
    assert!(!allowed(
        &policy,
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:123456789012:log-group:secret:log-stream:s"
    ));
    // NotAction in a Deny denies everything else.
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":["logs:Get*","logs:Describe*"],"Resource":"*"}]}"#,
    );
    assert!(allowed(&policy, "logs:GetLogEvents", STREAM));
    assert!(!allowed(&policy, "logs:PutLogEvents", STREAM));
}

#[test]
fn policy_variables() {
    let policy = allow(
        "logs:*",
        "arn:aws:logs:*:${aws:PrincipalAccount}:log-group:home-${aws:username}:*",
    );
    assert!(allowed(
        &policy,
        "logs:PutLogEvents",
        "arn:aws:logs:eu-west-1:123456789012:log-group:home-alice:log-stream:x"
    ));
    assert!(!allowed(
        &policy,
        "logs:PutLogEvents",
        "arn:aws:logs:eu-west-1:123456789012:log-group:home-bob:log-stream:x"
    ));
    // Keys ignore case; the user id and principal tags substitute too.
    let policy = allow(
        "logs:*",
        "arn:aws:logs:*:*:log-group:${AWS:UserId}/${aws:PrincipalTag/team}",
    );
    let tagged = context(
        "logs:CreateLogGroup",
        "arn:aws:logs:us-east-1:123456789012:log-group:AIDAALICE/blue",
    )
    .with("aws:PrincipalTag/team", "blue");
    assert!(evaluate(&[&policy], None, &tagged).is_allowed());
    // A variable without a value matches nothing; a default fills in.
    let root = RequestContext::new(
        Principal::root(ACCOUNT),
        "logs:CreateLogGroup",
        "arn:aws:logs:us-east-1:123456789012:log-group:home-",
    );
    let policy = allow("logs:*", "arn:aws:logs:*:*:log-group:home-${aws:username}");
    let deny = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"arn:aws:logs:*:*:log-group:home-${aws:username}"}}"#,
    );
    assert!(
        evaluate(&[&deny, &policy], None, &root).is_allowed(),
        "the deny does not apply"
    );
    let policy = allow(
        "logs:*",
        "arn:aws:logs:*:*:log-group:home-${aws:username, 'nobody'}",
    );
    let root = RequestContext::new(
        Principal::root(ACCOUNT),
        "x:y",
        "arn:aws:logs:us-east-1:1:log-group:home-nobody",
    );
    let tests = [(&root, true)];
    for (ctx, expected) in tests {
        let p = &policy.statements[0].resource.as_ref().unwrap().patterns[0];
        assert_eq!(p.matches_arn(&ctx.resource, Some(ctx)), expected);
    }
}

#[test]
fn special_variables_and_substitution_are_literal() {
    let pattern = Pattern::new("a${*}b${?}c${$}", true);
    assert!(pattern.matches("a*b?c$", None, false));
    assert!(!pattern.matches("aXb?c$", None, false));
    // A substituted value's `*` is text, not a wildcard.
    let ctx = context("x:y", "*").with("aws:PrincipalTag/p", "a*");
    let pattern = Pattern::new("${aws:PrincipalTag/p}", true);
    assert!(pattern.matches("a*", Some(&ctx), false));
    assert!(!pattern.matches("abc", Some(&ctx), false));
    // A multivalued key never substitutes.
    let ctx = context("x:y", "*").with_values("aws:TagKeys", ["a"]);
    assert!(!Pattern::new("${aws:TagKeys}", true).matches("a", Some(&ctx), false));
    // Quoted defaults: `''` is one quote, and braces are allowed.
    let pattern = Pattern::new("${aws:nothing, 'it''s {x}'}", true);
    assert!(pattern.matches("it's {x}", Some(&ctx), false));
    // Unclosed or empty variables are literal text.
    assert!(Pattern::new("${aws:username", true).matches("${aws:username", None, false));
    assert!(Pattern::new("${}", true).matches("${}", None, false));
}

#[test]
fn version_2008_keeps_variables_literal() {
    let policy = identity(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:*:log-group:${aws:username}"}}"#,
    );
    assert!(!allowed(
        &policy,
        "logs:CreateLogGroup",
        "arn:aws:logs:us-east-1:123456789012:log-group:alice"
    ));
    assert!(allowed(
        &policy,
        "logs:CreateLogGroup",
        "arn:aws:logs:us-east-1:123456789012:log-group:${aws:username}"
    ));
    let _ = alice();
}
