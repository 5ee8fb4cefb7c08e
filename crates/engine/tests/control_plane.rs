//! The Logs control plane through the engine alone: a manual clock, a temporary data directory,
//! no HTTP. Each check names the behaviour it pins down.

use std::sync::Arc;

use flowwatch_engine::{Engine, EngineConfig};
use flowwatch_model::logs::{
    CreateLogGroupRequest, DescribeLogGroupsRequest, DescribeLogStreamsRequest, InputLogEvent,
    ListTagsForResourceRequest, LogGroupNameRequest, LogStreamRequest, PutLogEventsRequest,
    PutLogGroupDeletionProtectionRequest, TagResourceRequest,
};
use flowwatch_model::{Caller, ErrorCode, ManualClock, Scope, Tags};

const NOW: i64 = 1_700_000_000_000;

fn caller() -> Caller {
    Caller {
        scope: Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        },
        access_key_id: "AKID".into(),
        principal_arn: "arn:aws:iam::123456789012:root".into(),
        request_id: "r".into(),
    }
}

async fn engine(dir: &tempfile::TempDir) -> anyhow::Result<Engine> {
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.clock = Arc::new(ManualClock::new(NOW));
    Ok(Engine::open(config).await?)
}

async fn group(engine: &Engine, name: &str) -> anyhow::Result<()> {
    let req = CreateLogGroupRequest {
        log_group_name: Some(name.into()),
        ..Default::default()
    };
    Ok(engine.create_log_group(&caller(), req).await?)
}

async fn stream(engine: &Engine, group: &str, name: &str) -> anyhow::Result<()> {
    let req = LogStreamRequest {
        log_group_name: Some(group.into()),
        log_stream_name: Some(name.into()),
    };
    Ok(engine.create_log_stream(&caller(), req).await?)
}

async fn put(engine: &Engine, group: &str, name: &str, ts: i64) -> anyhow::Result<()> {
    let req = PutLogEventsRequest {
        log_group_name: Some(group.into()),
        log_stream_name: Some(name.into()),
        log_events: Some(vec![InputLogEvent {
            timestamp: Some(ts),
            message: Some("m".into()),
        }]),
        ..Default::default()
    };
    engine.put_log_events(&caller(), req).await?;
    Ok(())
}

#[tokio::test]
async fn last_event_time_pages_are_exact_when_timestamps_tie() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let engine = engine(&dir).await?;
    group(&engine, "g").await?;
    // Ten streams, all with the same last event time, plus two without events.
    for i in 0..10 {
        let name = format!("s{i}");
        stream(&engine, "g", &name).await?;
        put(&engine, "g", &name, NOW - 1000).await?;
    }
    stream(&engine, "g", "idle-a").await?;
    stream(&engine, "g", "idle-b").await?;
    for descending in [false, true] {
        let mut seen = Vec::new();
        let mut token = None;
        loop {
            let req = DescribeLogStreamsRequest {
                log_group_name: Some("g".into()),
                order_by: Some("LastEventTime".into()),
                descending: Some(descending),
                limit: Some(3),
                next_token: token.take(),
                ..Default::default()
            };
            let page = engine.describe_log_streams(&caller(), req).await?;
            seen.extend(page.log_streams.into_iter().map(|s| s.log_stream_name));
            match page.next_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        let mut expected: Vec<String> = ["idle-a", "idle-b"].map(String::from).into();
        expected.extend((0..10).map(|i| format!("s{i}")));
        if descending {
            expected.reverse();
        }
        assert_eq!(seen, expected, "descending = {descending}");
    }
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn tag_limit_leaves_tags_unchanged_and_protection_blocks_deletes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let engine = engine(&dir).await?;
    group(&engine, "g").await?;
    stream(&engine, "g", "s").await?;
    let arn = "arn:aws:logs:us-east-1:123456789012:log-group:g".to_owned();
    let tags = |range: std::ops::Range<usize>| -> Tags {
        range.map(|i| (format!("k{i}"), "v".to_owned())).collect()
    };
    let tag = |t: Tags| TagResourceRequest {
        resource_arn: Some(arn.clone()),
        tags: Some(t),
    };
    engine.tag_resource(&caller(), tag(tags(0..40))).await?;
    let err = engine
        .tag_resource(&caller(), tag(tags(35..51)))
        .await
        .expect_err("51 tags");
    assert_eq!(err.code, ErrorCode::TooManyTagsException);
    assert_eq!(err.members, vec![("resourceName", arn.clone().into())]);
    let listed = engine
        .list_tags_for_resource(
            &caller(),
            ListTagsForResourceRequest {
                resource_arn: Some(arn.clone()),
            },
        )
        .await?;
    assert_eq!(listed.tags, tags(0..40));

    let protect = |on: bool| PutLogGroupDeletionProtectionRequest {
        log_group_identifier: Some(format!("{arn}:*")),
        deletion_protection_enabled: Some(on),
    };
    engine
        .put_log_group_deletion_protection(&caller(), protect(true))
        .await?;
    let delete_group = || LogGroupNameRequest {
        log_group_name: Some("g".into()),
    };
    let delete_stream = || LogStreamRequest {
        log_group_name: Some("g".into()),
        log_stream_name: Some("s".into()),
    };
    let err = engine
        .delete_log_group(&caller(), delete_group())
        .await
        .expect_err("protected");
    assert_eq!(err.code, ErrorCode::ValidationException);
    let err = engine
        .delete_log_stream(&caller(), delete_stream())
        .await
        .expect_err("protected");
    assert_eq!(err.code, ErrorCode::ValidationException);
    engine
        .put_log_group_deletion_protection(&caller(), protect(false))
        .await?;
    engine.delete_log_stream(&caller(), delete_stream()).await?;
    engine.delete_log_group(&caller(), delete_group()).await?;
    let left = engine
        .describe_log_groups(&caller(), DescribeLogGroupsRequest::default())
        .await?;
    assert!(left.log_groups.is_empty());
    engine.shutdown().await?;
    Ok(())
}
