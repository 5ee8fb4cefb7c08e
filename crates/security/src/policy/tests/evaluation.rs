use super::super::*;
use super::{ACCOUNT, alice, context, identity};

const ROLE: &str = "arn:aws:iam::123456789012:role/flow-logs-role";
const STREAM: &str = "arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:i-1";

/// The trust policy of the VPC Flow Logs user guide, verbatim.
const FLOW_LOGS_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "vpc-flow-logs.amazonaws.com"
      },
      "Action": "sts:AssumeRole"
    }
  ]
}"#;

/// The permissions of the flow logs delivery role, from the same guide, verbatim.
const FLOW_LOGS_ROLE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams"
      ],
      "Resource": "*"
    }
  ]
}"#;

fn trust(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Trust).unwrap()
}

fn resource_policy(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Resource).unwrap()
}

fn flow_logs_session() -> Principal {
    Principal::assumed_role(
        ACCOUNT,
        "/",
        "flow-logs-role",
        "flow-logs-delivery",
        "AROAFLOW",
    )
}

#[test]
fn flow_logs_trust_policy_lets_the_service_assume_the_role() {
    let trust = trust(FLOW_LOGS_TRUST);
    let service = RequestContext::new(
        Principal::service("vpc-flow-logs.amazonaws.com"),
        "sts:AssumeRole",
        ROLE,
    );
    assert!(matches!(
        evaluate_assume_role(&trust, &[], &service),
        Decision::Allow(Grant::Statement(StatementRef {
            policy_type: PolicyType::Resource,
            statement_index: 0,
            ..
        }))
    ));
    // Another service, or a user of the account with an allow-all identity policy, may not.
    let other = RequestContext::new(
        Principal::service("ec2.amazonaws.com"),
        "sts:AssumeRole",
        ROLE,
    );
    assert!(!evaluate_assume_role(&trust, &[], &other).is_allowed());
    let admin = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    let user = context("sts:AssumeRole", ROLE);
    let decision = evaluate_assume_role(&trust, &[&admin], &user);
    assert_eq!(
        decision,
        Decision::ImplicitDeny {
            missing: PolicyType::Resource
        }
    );
    assert!(
        !evaluate_assume_role(
            &trust,
            &[],
            &RequestContext::new(Principal::root(ACCOUNT), "sts:AssumeRole", ROLE)
        )
        .is_allowed()
    );
    // Another sts action is not granted.
    let tag = RequestContext::new(
        Principal::service("vpc-flow-logs.amazonaws.com"),
        "sts:TagSession",
        ROLE,
    );
    assert!(!evaluate_assume_role(&trust, &[], &tag).is_allowed());
}

#[test]
fn flow_logs_trust_policy_on_one_line() {
    let trust = trust(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    );
    assert_eq!(trust, self::trust(FLOW_LOGS_TRUST));
    let service = RequestContext::new(
        Principal::service("vpc-flow-logs.amazonaws.com"),
        "sts:AssumeRole",
        ROLE,
    );
    assert!(evaluate_assume_role(&trust, &[], &service).is_allowed());
}

#[test]
fn flow_logs_trust_policy_with_the_confused_deputy_conditions() {
    let trust = trust(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole",
            "Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"},"ArnLike":{"aws:SourceArn":"arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*"}}}]}"#,
    );
    let service = |account: &str, arn: &str| {
        RequestContext::new(
            Principal::service("vpc-flow-logs.amazonaws.com"),
            "sts:AssumeRole",
            ROLE,
        )
        .with("aws:SourceAccount", account)
        .with("aws:SourceArn", arn)
    };
    let own = "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/fl-0123456789abcdef0";
    assert!(evaluate_assume_role(&trust, &[], &service(ACCOUNT, own)).is_allowed());
    assert!(!evaluate_assume_role(&trust, &[], &service("111122223333", own)).is_allowed());
    let foreign = "arn:aws:ec2:us-east-1:111122223333:vpc-flow-log/fl-1";
    assert!(!evaluate_assume_role(&trust, &[], &service(ACCOUNT, foreign)).is_allowed());
    let bare = RequestContext::new(
        Principal::service("vpc-flow-logs.amazonaws.com"),
        "sts:AssumeRole",
        ROLE,
    );
    assert!(
        !evaluate_assume_role(&trust, &[], &bare).is_allowed(),
        "absent keys fail the conditions"
    );
}

#[test]
fn flow_logs_role_policy_grants_the_delivery_actions_only() {
    let role = identity(FLOW_LOGS_ROLE);
    for action in [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
    ] {
        let request = RequestContext::new(flow_logs_session(), action, STREAM);
        assert!(evaluate(&[&role], None, &request).is_allowed(), "{action}");
    }
    for action in [
        "logs:DeleteLogGroup",
        "logs:GetLogEvents",
        "ec2:CreateFlowLogs",
        "iam:PassRole",
    ] {
        let request = RequestContext::new(flow_logs_session(), action, STREAM);
        let decision = evaluate(&[&role], None, &request);
        assert_eq!(
            decision,
            Decision::ImplicitDeny {
                missing: PolicyType::Identity
            },
            "{action}"
        );
    }
}

#[test]
fn trust_principals_by_account_user_and_role() {
    let trust = trust(
        r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"},
            {"Sid":"bob","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"sts:AssumeRole"},
            {"Sid":"role","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/ops/deployer"},"Action":"sts:AssumeRole"},
            {"Sid":"acct","Effect":"Allow","Principal":{"AWS":"777788889999"},"Action":"sts:AssumeRole"}]}"#,
    );
    let may_assume = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#,
    );
    // The account principal delegates to the caller's identity policies.
    let user = context("sts:AssumeRole", ROLE);
    assert_eq!(
        evaluate_assume_role(&trust, &[], &user),
        Decision::ImplicitDeny {
            missing: PolicyType::Identity
        }
    );
    assert!(evaluate_assume_role(&trust, &[&may_assume], &user).is_allowed());
    // A named user of another account: cross-account, so its own identity policy must allow.
    let bob = RequestContext::new(
        Principal::user("111122223333", "/", "bob", "AIDABOB"),
        "sts:AssumeRole",
        ROLE,
    );
    assert!(!evaluate_assume_role(&trust, &[], &bob).is_allowed());
    assert!(evaluate_assume_role(&trust, &[&may_assume], &bob).is_allowed());
    let carol = RequestContext::new(
        Principal::user("111122223333", "/", "carol", "AIDACAROL"),
        "sts:AssumeRole",
        ROLE,
    );
    assert!(!evaluate_assume_role(&trust, &[&may_assume], &carol).is_allowed());
    // A role ARN matches its sessions.
    let session = Principal::assumed_role("444455556666", "/ops/", "deployer", "ci", "AROADEPLOY");
    assert!(
        evaluate_assume_role(
            &trust,
            &[&may_assume],
            &RequestContext::new(session, "sts:AssumeRole", ROLE)
        )
        .is_allowed()
    );
    let other_role = Principal::assumed_role("444455556666", "/", "deployer", "ci", "AROAOTHER");
    assert!(
        !evaluate_assume_role(
            &trust,
            &[&may_assume],
            &RequestContext::new(other_role, "sts:AssumeRole", ROLE)
        )
        .is_allowed()
    );
    // A bare account id.
    let dave = RequestContext::new(
        Principal::user("777788889999", "/", "dave", "AIDADAVE"),
        "sts:AssumeRole",
        ROLE,
    );
    assert!(evaluate_assume_role(&trust, &[&may_assume], &dave).is_allowed());
}

#[test]
fn a_user_named_in_a_same_account_trust_policy_needs_no_identity_policy() {
    let trust = trust(
        r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}}"#,
    );
    assert!(evaluate_assume_role(&trust, &[], &context("sts:AssumeRole", ROLE)).is_allowed());
}

#[test]
fn explicit_deny_wins_and_names_its_statement() {
    let allow = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"logs:*","Resource":"*"}}"#,
    );
    let deny = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Keep","Effect":"Allow","Action":"logs:Get*","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"logs:Delete*","Resource":"*"}]}"#,
    );
    let request = context(
        "logs:DeleteLogGroup",
        "arn:aws:logs:us-east-1:123456789012:log-group:app",
    );
    let decision = evaluate(&[&allow, &deny], None, &request);
    assert_eq!(
        decision,
        Decision::ExplicitDeny(StatementRef {
            policy_type: PolicyType::Identity,
            policy_index: 1,
            statement_index: 1,
            sid: Some("NoDelete".to_owned())
        })
    );
    assert_eq!(
        access_denied_message(&request, &decision).unwrap(),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: logs:DeleteLogGroup on resource: \
         arn:aws:logs:us-east-1:123456789012:log-group:app with an explicit deny in an identity-based policy"
    );
    let allowed = evaluate(
        &[&allow, &deny],
        None,
        &context("logs:PutLogEvents", STREAM),
    );
    assert_eq!(
        allowed,
        Decision::Allow(Grant::Statement(StatementRef {
            policy_type: PolicyType::Identity,
            policy_index: 0,
            statement_index: 0,
            sid: None
        }))
    );
    assert_eq!(
        access_denied_message(&context("logs:PutLogEvents", STREAM), &allowed),
        None
    );
}

#[test]
fn implicit_deny_message() {
    let request = context("logs:PutLogEvents", STREAM);
    let decision = evaluate(&[], None, &request);
    assert_eq!(
        decision,
        Decision::ImplicitDeny {
            missing: PolicyType::Identity
        }
    );
    assert_eq!(
        access_denied_message(&request, &decision).unwrap(),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: logs:PutLogEvents on resource: \
         arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:i-1 because no identity-based policy allows the logs:PutLogEvents action"
    );
}

#[test]
fn root_needs_no_policy_but_not_past_a_deny() {
    let root = RequestContext::new(Principal::root(ACCOUNT), "logs:DeleteLogGroup", STREAM);
    assert_eq!(evaluate(&[], None, &root), Decision::Allow(Grant::RootUser));
    let deny = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"logs:Delete*","Resource":"*"}}"#,
    );
    assert!(matches!(
        evaluate(&[], Some(&deny), &root),
        Decision::ExplicitDeny(StatementRef {
            policy_type: PolicyType::Resource,
            ..
        })
    ));
    let decision = evaluate(&[], Some(&deny), &root);
    assert!(
        access_denied_message(&root, &decision)
            .unwrap()
            .ends_with("with an explicit deny in a resource-based policy")
    );
}

#[test]
fn resource_policies_same_account_and_cross_account() {
    let policy = resource_policy(
        r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Route53","Effect":"Allow","Principal":{"Service":"route53.amazonaws.com"},"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:app:*"},
            {"Sid":"Bob","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"logs:PutLogEvents","Resource":"*"},
            {"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"logs:GetLogEvents","Resource":"*"}]}"#,
    );
    // A service named in the resource policy needs nothing else.
    let route53 = RequestContext::new(
        Principal::service("route53.amazonaws.com"),
        "logs:PutLogEvents",
        STREAM,
    );
    assert!(evaluate(&[], Some(&policy), &route53).is_allowed());
    // A same-account user named directly: the resource policy grants alone.
    assert!(evaluate(&[], Some(&policy), &context("logs:GetLogEvents", STREAM)).is_allowed());
    assert!(!evaluate(&[], Some(&policy), &context("logs:PutLogEvents", STREAM)).is_allowed());
    // Cross-account: both sides must allow.
    let bob = |action: &str| {
        RequestContext::new(
            Principal::user("111122223333", "/", "bob", "AIDABOB"),
            action,
            STREAM,
        )
    };
    let bob_policy = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"logs:*","Resource":"*"}}"#,
    );
    assert_eq!(
        evaluate(&[], Some(&policy), &bob("logs:PutLogEvents")),
        Decision::ImplicitDeny {
            missing: PolicyType::Identity
        }
    );
    assert!(evaluate(&[&bob_policy], Some(&policy), &bob("logs:PutLogEvents")).is_allowed());
    let denied = bob("logs:GetLogEvents");
    let decision = evaluate(&[&bob_policy], Some(&policy), &denied);
    assert_eq!(
        decision,
        Decision::ImplicitDeny {
            missing: PolicyType::Resource
        }
    );
    assert!(
        access_denied_message(&denied, &decision)
            .unwrap()
            .ends_with("because no resource-based policy allows the logs:GetLogEvents action")
    );
    assert!(
        !evaluate(&[&bob_policy], None, &denied).is_allowed(),
        "no resource policy, no cross-account access"
    );
}

#[test]
fn not_principal_denies_everyone_else() {
    let policy = resource_policy(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"logs:*","Resource":"*"},
            {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::123456789012:user/alice","arn:aws:iam::123456789012:root"]},"Action":"logs:Delete*","Resource":"*"}]}"#,
    );
    let allow_all = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"logs:*","Resource":"*"}}"#,
    );
    assert!(
        evaluate(
            &[&allow_all],
            Some(&policy),
            &context("logs:DeleteLogGroup", STREAM)
        )
        .is_allowed()
    );
    let bob = RequestContext::new(
        Principal::user(ACCOUNT, "/", "bob", "AIDABOB"),
        "logs:DeleteLogGroup",
        STREAM,
    );
    assert!(matches!(
        evaluate(&[&allow_all], Some(&policy), &bob),
        Decision::ExplicitDeny(_)
    ));
    // The account principal alone does not grant: identity policies must allow.
    let reader = RequestContext::new(
        Principal::user(ACCOUNT, "/", "bob", "AIDABOB"),
        "logs:GetLogEvents",
        STREAM,
    );
    assert!(!evaluate(&[], Some(&policy), &reader).is_allowed());
}

#[test]
fn not_principal_must_list_every_identity_of_the_caller() {
    let deny = |listed: &str| {
        resource_policy(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"logs:*","Resource":"*"}},
                {{"Effect":"Deny","NotPrincipal":{{"AWS":[{listed}]}},"Action":"logs:*","Resource":"*"}}]}}"#
        ))
    };
    let alice = context("logs:GetLogEvents", STREAM);
    // The user without its account: the account is denied, and the user with it.
    assert!(
        !evaluate(
            &[],
            Some(&deny(r#""arn:aws:iam::123456789012:user/alice""#)),
            &alice
        )
        .is_allowed()
    );
    assert!(
        evaluate(
            &[],
            Some(&deny(
                r#""arn:aws:iam::123456789012:user/alice","123456789012""#
            )),
            &alice
        )
        .is_allowed()
    );
    // A session needs the account, the role and the session.
    let session = RequestContext::new(flow_logs_session(), "logs:GetLogEvents", STREAM);
    let role_only =
        deny(r#""arn:aws:iam::123456789012:root","arn:aws:iam::123456789012:role/flow-logs-role""#);
    assert!(!evaluate(&[], Some(&role_only), &session).is_allowed());
    let all = deny(
        r#""arn:aws:iam::123456789012:root","arn:aws:iam::123456789012:role/flow-logs-role","arn:aws:sts::123456789012:assumed-role/flow-logs-role/flow-logs-delivery""#,
    );
    assert!(evaluate(&[], Some(&all), &session).is_allowed());
    let root = RequestContext::new(Principal::root(ACCOUNT), "logs:GetLogEvents", STREAM);
    assert!(evaluate(&[], Some(&deny(r#""123456789012""#)), &root).is_allowed());
    assert!(!evaluate(&[], Some(&deny(r#""111122223333""#)), &root).is_allowed());
}

#[test]
fn principal_everyone_and_aws_star() {
    let policy = resource_policy(
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"logs:GetLogEvents","Resource":"*"},{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"logs:FilterLogEvents","Resource":"*"}]}"#,
    );
    let anonymous = |action: &str| RequestContext::new(Principal::anonymous(), action, STREAM);
    assert!(evaluate(&[], Some(&policy), &anonymous("logs:GetLogEvents")).is_allowed());
    let service = RequestContext::new(
        Principal::service("logs.amazonaws.com"),
        "logs:FilterLogEvents",
        STREAM,
    );
    assert!(
        !evaluate(&[], Some(&policy), &service).is_allowed(),
        "AWS:* names AWS principals, not services"
    );
    assert!(evaluate(&[], Some(&policy), &context("logs:FilterLogEvents", STREAM)).is_allowed());
}

#[test]
fn context_keys_from_the_principal() {
    let c = RequestContext::new(flow_logs_session(), "logs:PutLogEvents", STREAM).at(0);
    assert_eq!(c.single_value("aws:principalarn"), Some(ROLE));
    assert_eq!(c.single_value("aws:PrincipalType"), Some("AssumedRole"));
    assert_eq!(
        c.single_value("aws:userid"),
        Some("AROAFLOW:flow-logs-delivery")
    );
    assert_eq!(c.single_value("aws:PrincipalAccount"), Some(ACCOUNT));
    assert_eq!(c.single_value("aws:username"), None);
    assert_eq!(
        c.single_value("aws:CurrentTime"),
        Some("1970-01-01T00:00:00Z")
    );
    assert_eq!(c.single_value("aws:EpochTime"), Some("0"));
    let root = RequestContext::new(Principal::root(ACCOUNT), "x:y", "*");
    assert_eq!(root.single_value("aws:PrincipalType"), Some("Account"));
    assert_eq!(root.principal.arn, "arn:aws:iam::123456789012:root");
    assert_eq!(
        context("x:y", "*").single_value("aws:username"),
        Some("alice")
    );
    let svc = RequestContext::new(
        Principal::service("vpc-flow-logs.amazonaws.com"),
        "x:y",
        "*",
    );
    assert_eq!(
        svc.single_value("aws:PrincipalServiceName"),
        Some("vpc-flow-logs.amazonaws.com")
    );
    assert_eq!(svc.value("aws:PrincipalArn"), None);
    let _ = alice();
}
