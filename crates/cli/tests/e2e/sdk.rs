//! The AWS SDK for Rust against flowwatch: the same calls a Rust service would make.

use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_cloudwatchlogs::{Client, Config};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::support::{Server, now_ms};

pub(crate) fn client(server: &Server) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIAFLOWWATCHTEST",
            "flowwatch-test-secret",
            None,
            None,
            "e2e",
        ))
        .endpoint_url(&server.endpoint)
        .http_client(http)
        .build();
    Client::from_conf(config)
}

fn event(timestamp: i64, message: String) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(timestamp)
        .message(message)
        .build()
        .expect("event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_round_trip() -> anyhow::Result<()> {
    let server = Server::start();
    let logs = client(&server);

    logs.create_log_group().log_group_name("sdk").send().await?;
    let err = logs
        .create_log_group()
        .log_group_name("sdk")
        .send()
        .await
        .expect_err("duplicate group")
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");
    logs.create_log_stream()
        .log_group_name("sdk")
        .log_stream_name("s")
        .send()
        .await?;
    let err = logs
        .create_log_stream()
        .log_group_name("sdk")
        .log_stream_name("s")
        .send()
        .await
        .expect_err("duplicate stream")
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");
    let err = logs
        .create_log_stream()
        .log_group_name("missing")
        .log_stream_name("s")
        .send()
        .await
        .expect_err("missing group")
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // 30 events; read them forward and backward in pages of 7.
    let t = now_ms() - 60_000;
    let put = logs
        .put_log_events()
        .log_group_name("sdk")
        .log_stream_name("s")
        .set_log_events(Some(
            (0..30).map(|i| event(t + i, format!("m{i}"))).collect(),
        ))
        .send()
        .await?;
    assert!(put.rejected_log_events_info().is_none());

    let mut forward = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .get_log_events()
            .log_group_name("sdk")
            .log_stream_name("s")
            .start_from_head(true)
            .limit(7)
            .set_next_token(token.clone())
            .send()
            .await?;
        let next = page.next_forward_token().expect("forward token").to_owned();
        forward.extend(
            page.events()
                .iter()
                .map(|e| e.message().unwrap_or_default().to_owned()),
        );
        // The end of the stream: the same token comes back.
        if token.as_deref() == Some(next.as_str()) {
            assert!(page.events().is_empty());
            break;
        }
        token = Some(next);
    }
    assert_eq!(
        forward,
        (0..30).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );

    let mut backward = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .get_log_events()
            .log_group_name("sdk")
            .log_stream_name("s")
            .limit(7)
            .set_next_token(token.clone())
            .send()
            .await?;
        let next = page
            .next_backward_token()
            .expect("backward token")
            .to_owned();
        let mut messages: Vec<String> = page
            .events()
            .iter()
            .map(|e| e.message().unwrap_or_default().to_owned())
            .collect();
        messages.extend(backward);
        backward = messages;
        if token.as_deref() == Some(next.as_str()) {
            break;
        }
        token = Some(next);
    }
    assert_eq!(backward, forward);

    // DescribeLogGroups pages through the SDK's paginator, 5 at a time.
    for i in 0..23 {
        logs.create_log_group()
            .log_group_name(format!("page/{i:02}"))
            .send()
            .await?;
    }
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("page/")
        .into_paginator()
        .page_size(5)
        .items()
        .send()
        .try_collect()
        .await?;
    let names: Vec<&str> = groups.iter().filter_map(|g| g.log_group_name()).collect();
    assert_eq!(
        names,
        (0..23).map(|i| format!("page/{i:02}")).collect::<Vec<_>>()
    );
    let pages = logs
        .describe_log_streams()
        .log_group_name("sdk")
        .into_paginator()
        .send()
        .try_collect()
        .await?;
    assert_eq!(pages.len(), 1);
    let stream = &pages[0].log_streams()[0];
    assert_eq!(stream.log_stream_name(), Some("s"));
    assert_eq!(stream.first_event_timestamp(), Some(t));
    assert_eq!(stream.last_event_timestamp(), Some(t + 29));
    let err = logs
        .describe_log_groups()
        .limit(51)
        .send()
        .await
        .expect_err("limit 51")
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    // Retention and tags.
    logs.put_retention_policy()
        .log_group_name("sdk")
        .retention_in_days(14)
        .send()
        .await?;
    let described = logs
        .describe_log_groups()
        .log_group_name_prefix("sdk")
        .send()
        .await?;
    let group = &described.log_groups()[0];
    assert_eq!(group.retention_in_days(), Some(14));
    let group_arn = group.log_group_arn().expect("logGroupArn").to_owned();
    assert_eq!(group.arn(), Some(format!("{group_arn}:*").as_str()));
    let err = logs
        .put_retention_policy()
        .log_group_name("sdk")
        .retention_in_days(2)
        .send()
        .await
        .expect_err("2 days")
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    logs.tag_resource()
        .resource_arn(&group_arn)
        .tags("team", "core")
        .send()
        .await?;
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&group_arn)
        .send()
        .await?;
    assert_eq!(
        tags.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("core")
    );
    let mut many = logs.tag_resource().resource_arn(&group_arn);
    for i in 0..50 {
        many = many.tags(format!("k{i}"), "v");
    }
    let err = many.send().await.expect_err("51 tags").into_service_error();
    match &err {
        aws_sdk_cloudwatchlogs::operation::tag_resource::TagResourceError::TooManyTagsException(
            e,
        ) => {
            assert_eq!(e.resource_name(), Some(group_arn.as_str()));
        }
        other => panic!("expected TooManyTagsException, got {other:?}"),
    }
    logs.untag_resource()
        .resource_arn(&group_arn)
        .tag_keys("team")
        .send()
        .await?;
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&group_arn)
        .send()
        .await?;
    assert!(tags.tags().is_none_or(|t| t.is_empty()), "{tags:?}");

    // Deletion protection, then delete.
    logs.put_log_group_deletion_protection()
        .log_group_identifier("sdk")
        .deletion_protection_enabled(true)
        .send()
        .await?;
    let err = logs
        .delete_log_group()
        .log_group_name("sdk")
        .send()
        .await
        .expect_err("protected");
    assert_eq!(
        aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata::code(&err),
        Some("ValidationException")
    );
    logs.put_log_group_deletion_protection()
        .log_group_identifier("sdk")
        .deletion_protection_enabled(false)
        .send()
        .await?;
    logs.delete_log_group().log_group_name("sdk").send().await?;
    let err = logs
        .delete_log_group()
        .log_group_name("sdk")
        .send()
        .await
        .expect_err("gone")
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    Ok(())
}
