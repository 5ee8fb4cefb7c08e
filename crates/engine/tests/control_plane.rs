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

#[path = "control_plane/trail_files.rs"]
mod trail_files;

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

mod s3_delivery {
    use std::io::Read;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use flowwatch_model::ec2::{
        CreateFlowLogsInput, DescribeFlowLogsInput, DestinationOptionsRequest,
    };
    use flowwatch_model::flow_records::PutFlowRecordsInput;

    use flowwatch_flowlog::LogFormat;

    use super::*;

    const ENI: &str = "eni-0a1b2c3d4e5f67890";
    /// Window of NOW: 2023-11-14T22:10:00Z to 22:14:59Z (NOW is 22:13:20).
    const WINDOW: u64 = 1_699_999_800;

    async fn engine(dir: &tempfile::TempDir, clock: Arc<ManualClock>) -> anyhow::Result<Engine> {
        let mut config = EngineConfig::new(dir.path().join("data"));
        config.clock = clock;
        config.s3_delivery.tick = Duration::from_millis(20);
        Ok(Engine::open(config).await?)
    }

    async fn flow_log(engine: &Engine, destination: &str) -> anyhow::Result<String> {
        let out = engine
            .create_flow_logs(
                &caller(),
                CreateFlowLogsInput {
                    resource_id: Some(vec![ENI.into()]),
                    resource_type: Some("NetworkInterface".into()),
                    traffic_type: Some("ALL".into()),
                    log_destination_type: Some("s3".into()),
                    log_destination: Some(destination.into()),
                    log_format: Some("${version} ${srcaddr} ${dstport} ${end} ${action}".into()),
                    destination_options: Some(DestinationOptionsRequest {
                        per_hour_partition: Some(true),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )
            .await?;
        Ok(out.flow_log_id_set[0].clone())
    }

    /// Puts one record per end time (in the default VPC format of PutFlowRecords' `format`).
    async fn put(engine: &Engine, ends: &[u64]) -> anyhow::Result<usize> {
        let records = ends
            .iter()
            .map(|end| {
                format!(
                    "2 123456789012 {ENI} 10.0.0.1 10.0.0.2 40000 22 6 1 40 {} {end} ACCEPT OK",
                    end - 1
                )
            })
            .collect();
        let out = engine
            .put_flow_records(
                &caller(),
                PutFlowRecordsInput {
                    interface_id: Some(ENI.into()),
                    format: Some(LogFormat::default_vpc().to_string()),
                    records: Some(records),
                },
            )
            .await?;
        Ok(out.delivered)
    }

    fn files(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut dirs = vec![root.to_owned()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    async fn wait_for_files(root: &Path, n: usize) -> Vec<PathBuf> {
        for _ in 0..200 {
            let found = files(root);
            if found.len() >= n {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        files(root)
    }

    fn gunzip(path: &Path) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    async fn status(engine: &Engine) -> anyhow::Result<(String, Option<String>)> {
        let out = engine
            .describe_flow_logs(&caller(), DescribeFlowLogsInput::default())
            .await?;
        let fl = &out.flow_log_set[0];
        Ok((
            fl.deliver_logs_status.clone(),
            fl.deliver_logs_error_message.clone(),
        ))
    }

    #[tokio::test]
    async fn windows_are_written_after_they_close_late_records_and_shutdown_too()
    -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let clock = Arc::new(ManualClock::new(NOW));
        let engine = engine(&dir, clock.clone()).await?;
        let id = flow_log(&engine, "arn:aws:s3:::my-bucket/flows/").await?;
        let bucket = dir.path().join("data/s3/my-bucket");
        assert_eq!(
            put(&engine, &[WINDOW + 10, WINDOW + 299, WINDOW + 300]).await?,
            3
        );

        // Nothing is written while the window is open.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(files(&bucket).is_empty());
        // Closed and past the 60 s grace: the first window's file.
        clock.set((WINDOW as i64 + 300 + 60) * 1000);
        let written = wait_for_files(&bucket, 1).await;
        assert_eq!(written.len(), 1, "{written:?}");
        let key = written[0]
            .strip_prefix(&bucket)?
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            key.starts_with(&format!(
                "flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/22/123456789012_vpcflowlogs_us-east-1_{id}_20231114T2210Z_"
            )) && key.ends_with(".log.gz"),
            "{key}"
        );
        assert_eq!(
            gunzip(&written[0]),
            format!(
                "version srcaddr dstport end action\n2 10.0.0.1 22 {} ACCEPT\n2 10.0.0.1 22 {} ACCEPT\n",
                WINDOW + 10,
                WINDOW + 299
            )
        );
        assert_eq!(status(&engine).await?, ("SUCCESS".to_owned(), None));

        // A late record of a written window is a second file of that window.
        put(&engine, &[WINDOW + 20]).await?;
        let written = wait_for_files(&bucket, 2).await;
        assert_eq!(written.len(), 2, "{written:?}");
        // The open window (22:15) is written at shutdown.
        engine.shutdown().await?;
        let written = files(&bucket);
        assert_eq!(written.len(), 3, "{written:?}");
        assert!(
            written
                .iter()
                .any(|p| p.to_string_lossy().contains("_20231114T2215Z_")),
            "{written:?}"
        );
        let lines: usize = written.iter().map(|p| gunzip(p).lines().count() - 1).sum();
        assert_eq!(lines, 4, "every record once");
        Ok(())
    }

    #[tokio::test]
    async fn a_failed_write_turns_delivery_status_failed() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let clock = Arc::new(ManualClock::new(NOW));
        let engine = engine(&dir, clock.clone()).await?;
        flow_log(&engine, "arn:aws:s3:::blocked-bucket").await?;
        // The bucket's directory cannot be made: a file is in its place.
        std::fs::create_dir_all(dir.path().join("data/s3"))?;
        std::fs::write(dir.path().join("data/s3/blocked-bucket"), b"in the way")?;
        put(&engine, &[WINDOW]).await?;
        engine.shutdown().await?;
        // The status is saved: a restarted engine reports it.
        let engine = super::engine(&dir).await?;
        assert_eq!(
            status(&engine).await?,
            ("FAILED".to_owned(), Some("Unknown error".to_owned()))
        );
        engine.shutdown().await?;
        Ok(())
    }
}
