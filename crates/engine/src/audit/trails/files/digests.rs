//! Digest files (spec `cloudtrail-iam.md` B.3): every digest period, while a trail validates
//! log files, one digest per region it logs lists the log files delivered since the previous
//! digest (none is fine), links to the previous digest (its key, the SHA-256 of its
//! uncompressed bytes and its signature; all null on a starting digest) and is signed with the
//! region's key ([`Engine::signing_key`]). The signature is the object's metadata `signature`
//! (and `signature-algorithm`), or in a local bucket the file `<key>.signature`
//! ([`flowwatch_storage::SIGNATURE_SUFFIX`]).
//!
//! When a trail stops logging, a last digest closes its chain; StartLogging begins a new one
//! with a starting digest. The chain (previous digest and files since) is saved with the
//! trail's marks, so it goes on across restarts.

use flowwatch_model::{ApiError, ApiResult};
use flowwatch_security::trail_files::{
    self, DigestFile, HASH_ALGORITHM, LogFileEntry, SIGNATURE_ALGORITHM,
};

use super::{Chain, PreviousDigest, RegionFiles, gzip};
use crate::Engine;
use crate::audit::trails::TrailRecord;

/// A digest's JSON for the window `[start_ms, end_ms]` of `chain`.
pub(super) fn digest_file(
    trail: &TrailRecord,
    region: &str,
    chain: &Chain,
    end_ms: i64,
    fingerprint: &str,
) -> DigestFile {
    let key = trail_files::digest_key(
        trail.s3_key_prefix.as_deref().unwrap_or(""),
        &trail.account,
        region,
        &trail.name,
        &trail.home_region,
        end_ms,
    );
    let times = |f: fn(&LogFileEntry) -> &String| chain.files.iter().map(f).cloned();
    let previous = chain.previous.as_ref();
    DigestFile {
        aws_account_id: trail.account.clone(),
        digest_start_time: trail_files::time_text(chain.start_ms),
        digest_end_time: trail_files::time_text(end_ms),
        digest_s3_bucket: trail.s3_bucket_name.clone(),
        digest_s3_object: key,
        digest_public_key_fingerprint: fingerprint.to_owned(),
        digest_signature_algorithm: SIGNATURE_ALGORITHM.to_owned(),
        // The texts sort as the times do.
        newest_event_time: times(|f| &f.newest_event_time).max(),
        oldest_event_time: times(|f| &f.oldest_event_time).min(),
        previous_digest_s3_bucket: previous.map(|p| p.bucket.clone()),
        previous_digest_s3_object: previous.map(|p| p.key.clone()),
        previous_digest_hash_value: previous.map(|p| p.sha256.clone()),
        previous_digest_hash_algorithm: previous.map(|_| HASH_ALGORITHM.to_owned()),
        previous_digest_signature: previous.map(|p| p.signature.clone()),
        log_files: chain.files.clone(),
    }
}

impl Engine {
    /// Writes the region's digest when its window is over, or when the trail stopped logging
    /// (then the chain ends).
    pub(super) async fn write_digest_if_due(
        &self,
        arn: &str,
        trail: &TrailRecord,
        region: &str,
        state: &mut RegionFiles,
    ) -> ApiResult<()> {
        let Some(chain) = state.chain.as_ref() else {
            return Ok(());
        };
        // Digest times have second precision; a window is at least a second.
        let now = self.now() / 1000 * 1000;
        let period = i64::try_from(self.config().trail_files.digest_period.as_millis())
            .unwrap_or(i64::MAX)
            .max(1000);
        let ending = !trail.logging || !trail.log_file_validation;
        if now
            < chain
                .start_ms
                .saturating_add(if ending { 1000 } else { period })
        {
            return Ok(());
        }
        let signing = self.signing_key(region).await?;
        let digest = digest_file(trail, region, chain, now, signing.fingerprint());
        let json = serde_json::to_vec(&digest).map_err(|error| {
            tracing::error!(%error, "digest does not serialise");
            ApiError::internal("digest does not serialise")
        })?;
        let sha256 = trail_files::sha256_hex(&json);
        let message = digest.string_to_sign(&sha256);
        let signature = tokio::task::spawn_blocking(move || signing.sign(&message))
            .await
            .map_err(|error| {
                tracing::error!(%error, "digest signing task failed");
                ApiError::internal("digest not signed")
            })?
            .map_err(|error| {
                tracing::error!(%error, "digest not signed");
                ApiError::internal("digest not signed")
            })?;
        let body = gzip(json).await?;
        let bucket = &digest.digest_s3_bucket;
        let key = &digest.digest_s3_object;
        let written = self
            .s3
            .buckets()
            .put_object(bucket, key, body, Some((&signature, SIGNATURE_ALGORITHM)))
            .await;
        match written {
            Ok(path) => {
                tracing::info!(trail = %arn, files = digest.log_files.len(), %path, "CloudTrail digest file written");
                self.set_s3_status(arn, |s| {
                    s.latest_digest_ms = Some(now);
                    s.latest_digest_error = None;
                });
            }
            Err(error) => {
                tracing::warn!(trail = %arn, %bucket, %key, %error, "trail digest file not written; tried again next time");
                self.set_s3_status(arn, |s| s.latest_digest_error = Some(error.to_string()));
                return Err(ApiError::internal("digest file not written"));
            }
        }
        state.chain = (!ending).then(|| Chain {
            start_ms: now,
            previous: Some(PreviousDigest {
                bucket: bucket.clone(),
                key: key.clone(),
                sha256,
                signature,
            }),
            files: Vec::new(),
        });
        self.save_region(arn, region, state).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail() -> TrailRecord {
        serde_json::from_value(serde_json::json!({
            "name": "main", "account": "123456789012", "home_region": "us-east-1",
            "s3_bucket_name": "audit", "s3_key_prefix": "p", "sns_topic_name": null,
            "include_global_service_events": true, "is_multi_region": false,
            "log_file_validation": true, "log_group_arn": null, "role_arn": null,
            "kms_key_id": null, "logging": true, "start_logging_ms": 0, "stop_logging_ms": null
        }))
        .unwrap()
    }

    fn entry(key: &str, oldest: &str, newest: &str) -> LogFileEntry {
        LogFileEntry {
            s3_bucket: "audit".into(),
            s3_object: key.into(),
            hash_value: "00".into(),
            hash_algorithm: HASH_ALGORITHM.into(),
            newest_event_time: newest.into(),
            oldest_event_time: oldest.into(),
        }
    }

    #[test]
    fn a_starting_digest_has_null_links_and_no_times_without_files() {
        let chain = Chain {
            start_ms: 1_700_000_000_000,
            previous: None,
            files: Vec::new(),
        };
        let digest = digest_file(&trail(), "us-east-1", &chain, 1_700_003_600_000, "ab");
        assert_eq!(
            digest.digest_s3_object,
            "p/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2023/11/14/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20231114T231320Z.json.gz"
        );
        assert_eq!(digest.digest_start_time, "2023-11-14T22:13:20Z");
        assert_eq!(digest.previous_digest_signature, None);
        assert_eq!(digest.newest_event_time, None);
        assert!(digest.string_to_sign("h").ends_with("\nh\nnull"));
    }

    #[test]
    fn a_chained_digest_links_its_previous_and_spans_its_files() {
        let chain = Chain {
            start_ms: 0,
            previous: Some(PreviousDigest {
                bucket: "audit".into(),
                key: "k0".into(),
                sha256: "aa".into(),
                signature: "5151".into(),
            }),
            files: vec![
                entry("f1", "2026-01-01T00:00:05Z", "2026-01-01T00:01:00Z"),
                entry("f2", "2026-01-01T00:00:01Z", "2026-01-01T00:00:30Z"),
            ],
        };
        let digest = digest_file(&trail(), "us-east-1", &chain, 3_600_000, "ab");
        assert_eq!(digest.previous_digest_s3_object.as_deref(), Some("k0"));
        assert_eq!(digest.previous_digest_hash_value.as_deref(), Some("aa"));
        assert_eq!(
            digest.previous_digest_hash_algorithm.as_deref(),
            Some("SHA-256")
        );
        assert_eq!(
            digest.oldest_event_time.as_deref(),
            Some("2026-01-01T00:00:01Z")
        );
        assert_eq!(
            digest.newest_event_time.as_deref(),
            Some("2026-01-01T00:01:00Z")
        );
        assert!(digest.string_to_sign("h").ends_with("\nh\n5151"));
        assert_eq!(digest.log_files.len(), 2);
    }
}
