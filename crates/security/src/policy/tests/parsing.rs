use super::super::*;
use super::identity;

fn error(json: &str, kind: PolicyKind) -> String {
    Policy::parse(json, kind).unwrap_err().message().to_owned()
}

fn identity_error(json: &str) -> String {
    error(json, PolicyKind::Identity)
}

#[test]
fn statement_as_object_or_array_and_single_values() {
    let one = identity(
        r#"{"Version":"2012-10-17","Id":"p1","Statement":{"Sid":"A1","Effect":"Allow","Action":"logs:*","Resource":"*"}}"#,
    );
    assert_eq!(one.version, Version::V2012_10_17);
    assert_eq!(one.id.as_deref(), Some("p1"));
    assert_eq!(one.statements.len(), 1);
    assert_eq!(one.statements[0].sid.as_deref(), Some("A1"));
    let many = identity(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Deny","NotAction":["logs:Get*","logs:Describe*"],"NotResource":["arn:aws:logs:*:*:*"]},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    assert_eq!(many.version, Version::V2008_10_17);
    assert_eq!(many.statements[0].effect, Effect::Deny);
    assert!(many.statements[0].action.negated);
    assert_eq!(many.statements[0].action.patterns.len(), 2);
    assert!(many.statements[0].resource.as_ref().unwrap().negated);
}

#[test]
fn missing_version_is_2008() {
    let policy = identity(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
    assert_eq!(policy.version, Version::V2008_10_17);
}

#[test]
fn rejects_what_iam_rejects() {
    let cases = [
        ("not json", "Syntax errors in policy."),
        ("[]", "Syntax errors in policy."),
        (
            r#"{"Version":"2012-10-18","Statement":[]}"#,
            "The policy failed legacy parsing",
        ),
        (
            r#"{"Version":"2012-10-17"}"#,
            "Missing required field Statement",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[],"Extra":1}"#,
            "Syntax errors in policy.",
        ),
        (
            r#"{"Statement":{"Action":"*","Resource":"*"}}"#,
            "Missing required field Effect",
        ),
        (
            r#"{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}"#,
            "Invalid effect: allow",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "Policy statement must contain actions.",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
            "Policy statement must contain actions.",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#,
            "Policy statement must contain resources.",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"PutLogEvents","Resource":"*"}}"#,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"logs:a:b","Resource":"*"}}"#,
            "Actions/Condition can contain only one colon.",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"lo gs:a","Resource":"*"}}"#,
            "Vendor lo gs is not valid",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"logs:*","Resource":"log-group:x"}}"#,
            "Resource log-group:x must be in ARN format or \"*\".",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}}"#,
            "Policy document should not specify a principal.",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"x:y","Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            r#"{"Statement":[{"Sid":"a","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (
            r#"{"Statement":{"Sid":"has space","Effect":"Allow","Action":"*","Resource":"*"}}"#,
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}}"#,
            "Invalid Condition type : StringEqualz",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}}"#,
            "Invalid Condition type : NullIfExists",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"username":"a"}}}}"#,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}}"#,
            "Syntax errors in policy.",
        ),
    ];
    for (json, message) in cases {
        assert_eq!(identity_error(json), message, "{json}");
    }
}

#[test]
fn trust_policies_need_a_principal_and_no_resource() {
    let trust = |json| error(json, PolicyKind::Trust);
    assert_eq!(
        trust(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#
        ),
        "Missing required field Principal"
    );
    assert_eq!(
        trust(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}"#
        ),
        "Has prohibited field Resource"
    );
    assert_eq!(
        trust(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole"}]}"#
        ),
        r#"Invalid principal in policy: "AWS":"alice""#
    );
    assert_eq!(
        trust(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Group":"x"},"Action":"sts:AssumeRole"}]}"#
        ),
        r#"Invalid principal in policy: "Group":"x""#
    );
    // A trust policy's Sid is not held to the identity-policy alphabet.
    Policy::parse(
        r#"{"Statement":[{"Sid":"flow logs","Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
}

#[test]
fn resource_policies_need_both() {
    assert_eq!(
        error(
            r#"{"Statement":{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}}"#,
            PolicyKind::Resource
        ),
        "Missing required field Principal"
    );
    assert_eq!(
        error(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"logs:PutLogEvents"}}"#,
            PolicyKind::Resource
        ),
        "Policy statement must contain resources."
    );
}

#[test]
fn principal_forms() {
    let policy = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::111122223333:root","*"],"Service":"vpc-flow-logs.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df9"},"Action":"sts:AssumeRole"},
            {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"},
            {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    let Some(PrincipalBlock::Principal(p)) = &policy.statements[0].principal else {
        panic!()
    };
    assert_eq!(p.aws.len(), 3);
    assert_eq!(p.service, ["vpc-flow-logs.amazonaws.com"]);
    assert_eq!(p.federated, ["cognito-identity.amazonaws.com"]);
    assert_eq!(p.canonical_user, ["79a59df9"]);
    assert!(matches!(
        &policy.statements[1].principal,
        Some(PrincipalBlock::NotPrincipal(_))
    ));
    assert!(
        matches!(&policy.statements[2].principal, Some(PrincipalBlock::Principal(p)) if p.everyone)
    );
    assert!(policy.statements[0].resource.is_none());
}

#[test]
fn condition_values_of_every_json_scalar() {
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
            "ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*","b"]},
            "NumericLessThan":{"s3:max-keys":10},
            "Bool":{"aws:SecureTransport":true,"aws:MultiFactorAuthPresent":"true"}}}}"#,
    );
    let conditions = &policy.statements[0].conditions;
    assert_eq!(conditions.len(), 4);
    let tag = conditions.iter().find(|c| c.key == "aws:TagKeys").unwrap();
    assert_eq!(tag.qualifier, Some(SetQualifier::ForAnyValue));
    assert_eq!(tag.operator, Operator::StringLike);
    assert!(tag.if_exists);
    let keys = conditions.iter().find(|c| c.key == "s3:max-keys").unwrap();
    assert_eq!(keys.values[0].as_str(), "10");
    let secure = conditions
        .iter()
        .find(|c| c.key == "aws:SecureTransport")
        .unwrap();
    assert_eq!(secure.values[0].as_str(), "true");
    assert_eq!(Operator::NumericLessThan.name(), "NumericLessThan");
}

#[test]
fn condition_keys_may_hold_dots_slashes_and_colons() {
    let policy = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"},"Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{"StringEquals":{"oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:sub":"system:serviceaccount:ns:sa","kms:EncryptionContext:Department":"x"}}}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    assert_eq!(policy.statements[0].conditions.len(), 2);
}

#[test]
fn size_quotas() {
    use super::super::limits::*;
    let padded = format!(
        "{{\"Version\":\"2012-10-17\",   \"Id\":\"{}\"}}",
        "x".repeat(6000)
    );
    assert_eq!(policy_size("{ \"a\" :\n 1 }"), 7);
    assert!(check_managed_policy_size(&padded).is_ok());
    let big = format!("{{\"Id\":\"{}\"}}", "x".repeat(6200));
    let error = check_managed_policy_size(&big).unwrap_err();
    assert_eq!(
        (error.code(), error.message()),
        ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144")
    );
    let error = check_trust_policy_size(&big).unwrap_err();
    assert_eq!(
        error.message(),
        "Cannot exceed quota for ACLSizePerRole: 2048"
    );
    assert!(check_trust_policy_size("{}").is_ok());
    let error = check_role_inline_size("app", [big.as_str(), big.as_str()]).unwrap_err();
    assert_eq!(
        error.message(),
        "Maximum policy size of 10240 bytes exceeded for role app"
    );
    assert!(check_role_inline_size("app", [big.as_str()]).is_ok());
    assert_eq!(
        Policy::parse("x", PolicyKind::Identity).unwrap_err().code(),
        "MalformedPolicyDocument"
    );
}
