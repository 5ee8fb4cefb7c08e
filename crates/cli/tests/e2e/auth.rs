//! SigV4 verification (issue #6): wrong secrets, unknown keys, old timestamps and tampered
//! bodies are refused with each protocol's error, through the aws CLI and raw requests.

use crate::support::{Server, SignExt};

#[test]
fn the_aws_cli_with_a_wrong_secret_or_an_unknown_key_is_refused() {
    let server = Server::start();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "app"]);
    let wrong = [("AWS_SECRET_ACCESS_KEY", "not-the-secret")];
    let out = server.aws_with(&wrong, &["logs", "describe-log-groups"]);
    assert!(!out.success);
    assert!(
        out.stderr.contains("(InvalidSignatureException)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("does not match the signature you provided"),
        "{}",
        out.stderr
    );
    let out = server.aws_with(&wrong, &["sns", "list-topics"]);
    assert!(
        out.stderr.contains("(SignatureDoesNotMatch)"),
        "{}",
        out.stderr
    );
    let out = server.aws_with(&wrong, &["cloudwatch", "list-metrics"]);
    assert!(
        out.stderr.contains("(SignatureDoesNotMatch)"),
        "{}",
        out.stderr
    );

    let unknown = [("AWS_ACCESS_KEY_ID", "AKIANOBODY")];
    let out = server.aws_with(&unknown, &["logs", "describe-log-groups"]);
    assert!(
        out.stderr.contains("(UnrecognizedClientException)"),
        "{}",
        out.stderr
    );
    let out = server.aws_with(&unknown, &["sns", "list-topics"]);
    assert!(
        out.stderr.contains("(InvalidClientTokenId)"),
        "{}",
        out.stderr
    );
    // A session token the server never issued.
    let token = [("AWS_SESSION_TOKEN", "forged")];
    let out = server.aws_with(&token, &["logs", "describe-log-groups"]);
    assert!(
        out.stderr.contains("(UnrecognizedClientException)"),
        "{}",
        out.stderr
    );
    // The right credentials still work.
    server.aws_ok(&["logs", "describe-log-groups"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_timestamps_tampered_bodies_and_missing_signatures_are_refused() -> anyhow::Result<()> {
    let server = Server::start();
    let http = reqwest::Client::new();
    let logs = |op: &str, body: &str| {
        http.post(&server.endpoint)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("Logs_20140328.{op}"))
            .body(body.to_owned())
    };
    let ok = logs("DescribeLogGroups", "{}").signed().send().await?;
    assert_eq!(ok.status().as_u16(), 200);

    let old = chrono::Utc::now() - chrono::Duration::minutes(10);
    let answer = logs("DescribeLogGroups", "{}")
        .signed_as(crate::support::SECRET_ACCESS_KEY, old)
        .send()
        .await?;
    assert_eq!(answer.status().as_u16(), 400);
    let body: serde_json::Value = answer.json().await?;
    assert_eq!(body["__type"], "InvalidSignatureException");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Signature expired: "),
        "{body}"
    );

    // Signed for one body, sent with another.
    let answer = logs("CreateLogGroup", r#"{"logGroupName":"a"}"#)
        .signed()
        .body(r#"{"logGroupName":"b"}"#)
        .send()
        .await?;
    assert_eq!(answer.status().as_u16(), 400);
    let body: serde_json::Value = answer.json().await?;
    assert_eq!(body["__type"], "InvalidSignatureException");

    // The query protocols: RequestExpired, SignatureDoesNotMatch (403).
    let form = |body: &str| {
        http.post(&server.endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
    };
    let answer = form("Action=ListTopics&Version=2010-03-31")
        .signed_as(crate::support::SECRET_ACCESS_KEY, old)
        .send()
        .await?;
    assert_eq!(answer.status().as_u16(), 400);
    assert!(answer.text().await?.contains("<Code>RequestExpired</Code>"));
    let answer = form("Action=CreateTopic&Version=2010-03-31&Name=a")
        .signed()
        .body("Action=CreateTopic&Version=2010-03-31&Name=b")
        .send()
        .await?;
    assert_eq!(answer.status().as_u16(), 403);
    assert!(
        answer
            .text()
            .await?
            .contains("<Code>SignatureDoesNotMatch</Code>")
    );

    // No signature at all.
    let answer = logs("DescribeLogGroups", "{}").send().await?;
    assert_eq!(answer.status().as_u16(), 403);
    let body: serde_json::Value = answer.json().await?;
    assert_eq!(body["__type"], "MissingAuthenticationToken");
    Ok(())
}

#[test]
fn auth_off_accepts_any_well_formed_signature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start_in(&dir.path().join("data"), &["--auth", "off"]);
    let out = server.aws_with(
        &[("AWS_SECRET_ACCESS_KEY", "anything")],
        &["logs", "create-log-group", "--log-group-name", "dev"],
    );
    assert!(out.success, "{}", out.stderr);
}
