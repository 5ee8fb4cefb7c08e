//! Trails' S3 files through the engine, with a manual clock: each management record reaches
//! one log file exactly once (a record stored after a later one too), across a crash; records
//! made while the trail is stopped never do; digests list the files and sign them.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flowwatch_engine::audit::{ApiCall, Identity};
use flowwatch_model::cloudtrail::{CreateTrailRequest, ListPublicKeysRequest, TrailNameRequest};
use flowwatch_security::trail_files::{DigestFile, sha256_hex, verify_signature};

use super::*;

async fn engine(dir: &tempfile::TempDir, clock: Arc<ManualClock>) -> anyhow::Result<Engine> {
    let mut config = EngineConfig::new(dir.path().join("data"));
    config.clock = clock;
    // Passes run when the test says.
    config.trail_files.delivery_period = Duration::from_secs(3600);
    config.trail_files.digest_period = Duration::from_secs(60);
    Ok(Engine::open(config).await?)
}

/// Records an answered Logs call `op`, as the server does.
async fn call(engine: &Engine, op: &str) {
    engine
        .record_api_call(ApiCall {
            service: "logs",
            op,
            account: "123456789012",
            region: "us-east-1",
            identity: Identity::Unknown {
                access_key_id: Some("AKID"),
            },
            source_ip: None,
            user_agent: None,
            request_id: "r",
            input: Some(br#"{"logGroupName":"g"}"#),
            members: None,
            outcome: Ok(b"{}"),
        })
        .await;
}

fn files(root: &Path, kind: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().contains(&format!("/{kind}/"))
                && path.to_string_lossy().ends_with(".json.gz")
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The event names of every record of every log file.
fn delivered(bucket: &Path) -> Vec<String> {
    let mut names: Vec<String> = files(bucket, "CloudTrail")
        .iter()
        .flat_map(|f| {
            let doc: serde_json::Value = serde_json::from_slice(&gunzip(f)).unwrap();
            doc["Records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["eventName"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names
}

fn trail_name() -> TrailNameRequest {
    TrailNameRequest {
        name: Some("main".into()),
    }
}

#[tokio::test]
async fn every_record_is_delivered_once_even_late_and_across_a_crash() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(NOW));
    let engine = engine(&dir, clock.clone()).await?;
    let bucket = dir.path().join("data/s3/audit");
    engine
        .create_trail(
            &caller(),
            CreateTrailRequest {
                name: Some("main".into()),
                s3_bucket_name: Some("audit".into()),
                enable_log_file_validation: Some(true),
                ..Default::default()
            },
        )
        .await?;
    call(&engine, "DescribeLogGroups").await; // before StartLogging
    clock.advance(1_000);
    engine
        .set_trail_logging(&caller(), trail_name(), true)
        .await?;
    clock.advance(1_000);
    call(&engine, "CreateLogGroup").await;
    engine.deliver_trail_files(false).await;
    assert_eq!(delivered(&bucket), ["CreateLogGroup"]);

    // A record stored after the mark moved past its timestamp is still delivered.
    clock.advance(10_000);
    call(&engine, "DeleteLogGroup").await;
    engine.deliver_trail_files(false).await;
    clock.advance(-5_000);
    call(&engine, "PutRetentionPolicy").await;
    clock.advance(5_000);
    engine.deliver_trail_files(false).await;
    assert_eq!(
        delivered(&bucket),
        ["CreateLogGroup", "DeleteLogGroup", "PutRetentionPolicy"]
    );

    // A crash before the next delivery: the record is delivered after the restart, and
    // nothing already delivered is written again.
    call(&engine, "TagResource").await;
    engine.storage().close_without_flush().await;
    drop(engine);
    let engine = self::engine(&dir, clock.clone()).await?;
    engine.deliver_trail_files(false).await;
    assert_eq!(
        delivered(&bucket),
        [
            "CreateLogGroup",
            "DeleteLogGroup",
            "PutRetentionPolicy",
            "TagResource"
        ]
    );

    // Stopped: nothing made meanwhile is delivered. Stopping ends the digest chain with a
    // digest listing every log file.
    engine
        .set_trail_logging(&caller(), trail_name(), false)
        .await?;
    clock.advance(1_000);
    call(&engine, "UntagResource").await;
    clock.advance(1_000);
    engine.deliver_trail_files(false).await;
    assert_eq!(delivered(&bucket).len(), 4);
    let digests = files(&bucket, "CloudTrail-Digest");
    assert_eq!(digests.len(), 1, "{digests:?}");
    let bytes = gunzip(&digests[0]);
    let digest: DigestFile = serde_json::from_slice(&bytes)?;
    assert_eq!(digest.previous_digest_s3_object, None);
    let mut listed: Vec<String> = digest
        .log_files
        .iter()
        .map(|f| f.s3_object.clone())
        .collect();
    listed.sort();
    let mut written: Vec<String> = files(&bucket, "CloudTrail")
        .iter()
        .map(|f| {
            f.strip_prefix(&bucket)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    written.sort();
    assert_eq!(listed, written);
    for file in &digest.log_files {
        assert_eq!(
            file.hash_value,
            sha256_hex(&gunzip(&bucket.join(&file.s3_object)))
        );
    }
    let signature = std::fs::read_to_string(format!("{}.signature", digests[0].display()))?;
    let keys = engine
        .list_public_keys(&caller(), ListPublicKeysRequest::default())
        .await?;
    assert_eq!(keys.public_key_list.len(), 1);
    let key = &keys.public_key_list[0];
    assert_eq!(key.fingerprint, digest.digest_public_key_fingerprint);
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD.decode(&key.value)?;
    verify_signature(
        &der,
        &digest.string_to_sign(&sha256_hex(&bytes)),
        &signature,
    )?;

    // Nothing more once stopped, whatever the time.
    clock.advance(120_000);
    engine.deliver_trail_files(false).await;
    assert_eq!(files(&bucket, "CloudTrail-Digest").len(), 1);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn list_public_keys_refuses_a_start_after_the_end() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let engine = engine(&dir, Arc::new(ManualClock::new(NOW))).await?;
    let err = engine
        .list_public_keys(
            &caller(),
            ListPublicKeysRequest {
                start_time: Some(2_000.0),
                end_time: Some(1_000.0),
                next_token: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidTimeRangeException);
    // Keys outside the range are not listed; the current key is valid now.
    let none = engine
        .list_public_keys(
            &caller(),
            ListPublicKeysRequest {
                start_time: Some(1_000.0),
                end_time: Some(2_000.0),
                next_token: None,
            },
        )
        .await?;
    assert!(none.public_key_list.is_empty());
    let now = engine
        .list_public_keys(&caller(), ListPublicKeysRequest::default())
        .await?;
    assert_eq!(now.public_key_list[0].fingerprint.len(), 32);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn a_trail_started_and_stopped_between_deliveries_writes_what_it_logged() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(NOW));
    let engine = engine(&dir, clock.clone()).await?;
    let bucket = dir.path().join("data/s3/audit");
    engine
        .create_trail(
            &caller(),
            CreateTrailRequest {
                name: Some("main".into()),
                s3_bucket_name: Some("audit".into()),
                ..Default::default()
            },
        )
        .await?;
    engine
        .set_trail_logging(&caller(), trail_name(), true)
        .await?;
    clock.advance(1_000);
    call(&engine, "CreateLogGroup").await;
    clock.advance(1_000);
    engine
        .set_trail_logging(&caller(), trail_name(), false)
        .await?;
    clock.advance(1_000);
    call(&engine, "DeleteLogGroup").await;
    engine.shutdown().await?;
    assert_eq!(delivered(&bucket), ["CreateLogGroup"]);
    assert!(
        files(&bucket, "CloudTrail-Digest").is_empty(),
        "no validation"
    );
    Ok(())
}

#[tokio::test]
async fn a_trail_created_again_after_deletion_starts_a_new_chain() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(NOW));
    let engine = engine(&dir, clock.clone()).await?;
    let bucket = dir.path().join("data/s3/audit");
    let create = || async {
        engine
            .create_trail(
                &caller(),
                CreateTrailRequest {
                    name: Some("main".into()),
                    s3_bucket_name: Some("audit".into()),
                    enable_log_file_validation: Some(true),
                    ..Default::default()
                },
            )
            .await?;
        engine
            .set_trail_logging(&caller(), trail_name(), true)
            .await?;
        clock.advance(1_000);
        engine.deliver_trail_files(false).await;
        clock.advance(61_000);
        engine.deliver_trail_files(false).await;
        anyhow::Ok(())
    };
    create().await?;
    engine.delete_trail(&caller(), trail_name()).await?;
    create().await?;
    let digests = files(&bucket, "CloudTrail-Digest");
    assert_eq!(digests.len(), 2, "{digests:?}");
    for digest in &digests {
        let digest: DigestFile = serde_json::from_slice(&gunzip(digest))?;
        assert_eq!(digest.previous_digest_s3_object, None, "a starting digest");
    }
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn a_multi_region_trail_writes_each_regions_files_and_digests() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(NOW));
    let engine = engine(&dir, clock.clone()).await?;
    let bucket = dir.path().join("data/s3/audit");
    engine
        .create_trail(
            &caller(),
            CreateTrailRequest {
                name: Some("all".into()),
                s3_bucket_name: Some("audit".into()),
                s3_key_prefix: Some("org/".into()),
                is_multi_region_trail: Some(true),
                include_global_service_events: Some(false),
                enable_log_file_validation: Some(true),
                ..Default::default()
            },
        )
        .await?;
    engine
        .set_trail_logging(
            &caller(),
            TrailNameRequest {
                name: Some("all".into()),
            },
            true,
        )
        .await?;
    clock.advance(1_000);
    let record = |service: &'static str, op: &'static str, region: &'static str| {
        let engine = engine.clone();
        async move {
            engine
                .record_api_call(ApiCall {
                    service,
                    op,
                    account: "123456789012",
                    region,
                    identity: Identity::Unknown {
                        access_key_id: Some("AKID"),
                    },
                    source_ip: None,
                    user_agent: None,
                    request_id: "r",
                    input: None,
                    members: None,
                    outcome: Ok(b"{}"),
                })
                .await;
        }
    };
    record("logs", "CreateLogGroup", "us-east-1").await;
    record("logs", "CreateLogGroup", "eu-west-1").await;
    record("iam", "CreateUser", "us-east-1").await; // a global service's: not included
    engine.deliver_trail_files(false).await;
    clock.advance(61_000);
    engine.deliver_trail_files(false).await;

    let logs = files(&bucket, "CloudTrail");
    let regions: Vec<&str> = ["us-east-1", "eu-west-1"]
        .into_iter()
        .filter(|r| {
            logs.iter().any(|f| {
                f.to_string_lossy()
                    .contains(&format!("org/AWSLogs/123456789012/CloudTrail/{r}/"))
            })
        })
        .collect();
    assert_eq!(regions, ["us-east-1", "eu-west-1"], "{logs:?}");
    assert_eq!(delivered(&bucket), ["CreateLogGroup", "CreateLogGroup"]);
    let digests = files(&bucket, "CloudTrail-Digest");
    assert_eq!(digests.len(), 2, "{digests:?}");
    for digest in &digests {
        let name = digest.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.contains("_all_us-east-1_"), "home region: {name}");
        let digest: DigestFile = serde_json::from_slice(&gunzip(digest))?;
        assert_eq!(digest.log_files.len(), 1);
    }
    // Each region's digest is signed with its own region's key.
    let fingerprints: std::collections::HashSet<String> = digests
        .iter()
        .map(|d| {
            serde_json::from_slice::<DigestFile>(&gunzip(d))
                .unwrap()
                .digest_public_key_fingerprint
        })
        .collect();
    assert_eq!(fingerprints.len(), 2);
    engine.shutdown().await?;
    Ok(())
}
