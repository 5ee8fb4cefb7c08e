//! IAM state through the engine: validation, conflicts, keys, authorization and persistence.

use std::sync::Arc;

use flowwatch_model::iam::IamRequest;
use flowwatch_model::{Caller, ErrorCode, ManualClock, Scope};
use flowwatch_security::policy::{Principal, RequestContext};

use crate::{Engine, EngineConfig};

/// An access key id: the prefix and 16 uppercase letters and digits.
fn is_key(prefix: &str, id: &str) -> bool {
    id.len() == 20
        && id.starts_with(prefix)
        && id[4..].bytes().all(|b| super::UPPER_ALNUM.contains(&b))
}

const NOW: i64 = 1_700_000_000_000;
const ACCOUNT: &str = "123456789012";

fn root() -> Caller {
    Caller {
        scope: Scope {
            account: ACCOUNT.into(),
            region: "us-east-1".into(),
        },
        access_key_id: "AKID".into(),
        principal_arn: format!("arn:aws:iam::{ACCOUNT}:root"),
        request_id: "r".into(),
    }
}

async fn open(dir: &std::path::Path) -> Engine {
    let mut config = EngineConfig::new(dir.join("data"));
    config.clock = Arc::new(ManualClock::new(NOW));
    Engine::open(config).await.expect("open")
}

fn user(name: &str) -> IamRequest {
    IamRequest {
        user_name: Some(name.into()),
        ..Default::default()
    }
}

const ALLOW_DESCRIBE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Action":"logs:Describe*","Resource":"*"}]}"#;

#[tokio::test]
async fn users_are_validated_and_conflicts_refused() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let out = engine
        .iam_create_user(&root(), user("alice"))
        .await
        .unwrap();
    let alice = out.user.unwrap();
    assert_eq!(alice.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert!(alice.user_id.starts_with("AIDA") && alice.user_id.len() == 21);
    let again = engine.iam_create_user(&root(), user("ALICE")).await;
    assert_eq!(again.unwrap_err().code, ErrorCode::EntityAlreadyExists);
    let bad = engine.iam_create_user(&root(), user("no spaces")).await;
    assert_eq!(bad.unwrap_err().code, ErrorCode::ValidationError);
    let missing = engine.iam_get_user(&root(), user("bob")).await;
    assert_eq!(missing.unwrap_err().code, ErrorCode::NoSuchEntity);

    let key = engine
        .iam_create_access_key(&root(), user("alice"))
        .await
        .unwrap()
        .access_key
        .unwrap();
    assert!(is_key("AKIA", &key.access_key_id));
    assert_eq!(key.secret_access_key.len(), 40);
    let conflict = engine.iam_delete_user(&root(), user("alice")).await;
    assert_eq!(conflict.unwrap_err().code, ErrorCode::DeleteConflict);

    let malformed = IamRequest {
        policy_name: Some("p".into()),
        policy_document: Some(r#"{"Statement":[{"Effect":"Maybe"}]}"#.into()),
        ..user("alice")
    };
    let error = engine
        .iam_put_user_policy(&root(), malformed)
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::MalformedPolicyDocument);
}

#[tokio::test]
async fn keys_policies_and_sessions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = {
        let engine = open(dir.path()).await;
        engine
            .iam_create_user(&root(), user("alice"))
            .await
            .unwrap();
        let policy = IamRequest {
            policy_name: Some("describe".into()),
            policy_document: Some(ALLOW_DESCRIBE.into()),
            ..user("alice")
        };
        engine.iam_put_user_policy(&root(), policy).await.unwrap();
        let key = engine
            .iam_create_access_key(&root(), user("alice"))
            .await
            .unwrap();
        engine.shutdown().await.unwrap();
        key.access_key.unwrap()
    };
    let engine = open(dir.path()).await;
    let owner = engine
        .access_key(&key.access_key_id)
        .await
        .expect("key kept");
    assert_eq!(owner.secret.expose(), key.secret_access_key);
    assert_eq!(
        owner.principal.arn,
        format!("arn:aws:iam::{ACCOUNT}:user/alice")
    );
    let allowed = RequestContext::new(owner.principal.clone(), "logs:DescribeLogGroups", "*");
    assert!(engine.authorize(&allowed).await.is_allowed());
    let denied = RequestContext::new(owner.principal, "logs:PutLogEvents", "*");
    assert!(!engine.authorize(&denied).await.is_allowed());
    let got = engine
        .iam_get_user_policy(
            &root(),
            IamRequest {
                policy_name: Some("describe".into()),
                ..user("alice")
            },
        )
        .await
        .unwrap();
    assert!(got.policy_document.unwrap().starts_with("%7B%22Version%22"));
}

#[tokio::test]
async fn assume_role_needs_the_trust_policy_and_issues_session_keys() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let alice = engine
        .iam_create_user(&root(), user("alice"))
        .await
        .unwrap()
        .user
        .unwrap();
    engine.iam_create_user(&root(), user("bob")).await.unwrap();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}}]}}"#,
        alice.arn
    );
    let role = engine
        .iam_create_role(
            &root(),
            IamRequest {
                role_name: Some("reader".into()),
                assume_role_policy_document: Some(trust),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .role
        .unwrap();
    assert!(role.role_id.starts_with("AROA"));
    let as_alice = Principal::user(ACCOUNT, "/", "alice", &alice.user_id);
    let context = RequestContext::new(as_alice, "sts:AssumeRole", role.arn.clone());
    assert!(engine.authorize_assume_role(&context).await.is_allowed());
    let as_bob = Principal::user(ACCOUNT, "/", "bob", "AIDABOB");
    let context = RequestContext::new(as_bob, "sts:AssumeRole", role.arn.clone());
    assert!(!engine.authorize_assume_role(&context).await.is_allowed());

    let caller = Caller {
        principal_arn: alice.arn.clone(),
        ..root()
    };
    let req = IamRequest {
        role_arn: Some(role.arn.clone()),
        role_session_name: Some("s1".into()),
        ..Default::default()
    };
    let out = engine.sts_assume_role(&caller, req.clone()).await.unwrap();
    assert!(is_key("ASIA", &out.credentials.access_key_id));
    assert_eq!(
        out.assumed_role_user.arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1")
    );
    assert_eq!(out.credentials.expiration, (NOW / 1000 + 3600) as f64);
    let owner = engine
        .access_key(&out.credentials.access_key_id)
        .await
        .unwrap();
    assert_eq!(
        owner.kind,
        super::KeyKind::Session {
            token: out.credentials.session_token.clone(),
            expires_ms: NOW + 3_600_000
        }
    );
    let short = IamRequest {
        duration_seconds: Some(60),
        ..req.clone()
    };
    let error = engine.sts_assume_role(&caller, short).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::ValidationError);
    let error = engine.sts_assume_role(&root(), req).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::AccessDenied);
}

/// Users and roles hold inline policies the same way, each with IAM's size limit and message.
#[tokio::test]
async fn inline_policies_of_users_and_roles() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    engine
        .iam_create_user(&root(), user("carol"))
        .await
        .unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    engine
        .iam_create_role(
            &root(),
            IamRequest {
                role_name: Some("flows".into()),
                assume_role_policy_document: Some(trust.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let req =
        |user_name: Option<&str>, role_name: Option<&str>, policy: &str, doc: Option<String>| {
            IamRequest {
                user_name: user_name.map(Into::into),
                role_name: role_name.map(Into::into),
                policy_name: Some(policy.into()),
                policy_document: doc,
                ..Default::default()
            }
        };
    let big = |n: usize| {
        let actions: Vec<String> = (0..n).map(|i| format!("\"logs:Action{i:04}\"")).collect();
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
            actions.join(",")
        )
    };
    // A user holds 2,048 characters of inline policies, a role 10,240.
    let err = engine
        .iam_put_user_policy(&root(), req(Some("carol"), None, "big", Some(big(150))))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "Maximum policy size of 2048 bytes exceeded for user carol"
    );
    engine
        .iam_put_role_policy(&root(), req(None, Some("flows"), "big", Some(big(150))))
        .await
        .unwrap();
    let err = engine
        .iam_put_role_policy(&root(), req(None, Some("flows"), "bigger", Some(big(600))))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "Maximum policy size of 10240 bytes exceeded for role flows"
    );
    engine
        .iam_put_user_policy(
            &root(),
            req(Some("carol"), None, "describe", Some(ALLOW_DESCRIBE.into())),
        )
        .await
        .unwrap();
    let got = engine
        .iam_get_role_policy(&root(), req(None, Some("flows"), "big", None))
        .await
        .unwrap();
    assert_eq!(got.role_name.as_deref(), Some("flows"));
    assert_eq!(got.user_name, None);
    let listed = engine
        .iam_list_user_policies(&root(), user("carol"))
        .await
        .unwrap();
    assert_eq!(listed.policy_names, Some(vec!["describe".to_owned()]));
    engine
        .iam_delete_user_policy(&root(), req(Some("carol"), None, "describe", None))
        .await
        .unwrap();
    let err = engine
        .iam_get_user_policy(&root(), req(Some("carol"), None, "describe", None))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "The user policy with name describe cannot be found."
    );
    let err = engine
        .iam_delete_role_policy(&root(), req(None, Some("flows"), "nope", None))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "The role policy with name nope cannot be found."
    );
}
