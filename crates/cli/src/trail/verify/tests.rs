use std::io::Write;

use flowwatch_security::trail_files::{
    HASH_ALGORITHM, LogFileEntry, SIGNATURE_ALGORITHM, SigningKey, digest_key, log_file_key,
};

use super::*;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn put(dir: &Path, key: &str, bytes: &[u8]) {
    let path = dir.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

/// Writes a chain of `n` digests, each listing one log file; returns their keys and the
/// log files' keys, oldest first.
fn chain(dir: &Path, key: &SigningKey, n: usize) -> (Vec<String>, Vec<String>) {
    let (mut digests, mut logs) = (Vec::new(), Vec::new());
    let mut previous: Option<(String, String, String)> = None;
    for i in 0..n {
        let end = 1_700_000_000_000 + i as i64 * 3_600_000;
        let log = log_file_key("", ACCOUNT, REGION, end - 60_000, &format!("{i:016}"));
        let records = format!(r#"{{"Records":[{{"eventName":"E{i}"}}]}}"#);
        put(dir, &log, records.as_bytes());
        let time = trail_files::time_text(end - 60_000);
        let digest = DigestFile {
            aws_account_id: ACCOUNT.into(),
            digest_start_time: trail_files::time_text(end - 3_600_000),
            digest_end_time: trail_files::time_text(end),
            digest_s3_bucket: "audit".into(),
            digest_s3_object: digest_key("", ACCOUNT, REGION, "main", REGION, end),
            digest_public_key_fingerprint: key.fingerprint().into(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.into(),
            newest_event_time: Some(time.clone()),
            oldest_event_time: Some(time.clone()),
            previous_digest_s3_bucket: previous.as_ref().map(|_| "audit".into()),
            previous_digest_s3_object: previous.as_ref().map(|p| p.0.clone()),
            previous_digest_hash_value: previous.as_ref().map(|p| p.1.clone()),
            previous_digest_hash_algorithm: previous.as_ref().map(|_| HASH_ALGORITHM.into()),
            previous_digest_signature: previous.as_ref().map(|p| p.2.clone()),
            log_files: vec![LogFileEntry {
                s3_bucket: "audit".into(),
                s3_object: log.clone(),
                hash_value: sha256_hex(records.as_bytes()),
                hash_algorithm: HASH_ALGORITHM.into(),
                newest_event_time: time.clone(),
                oldest_event_time: time,
            }],
        };
        let json = serde_json::to_vec(&digest).unwrap();
        let hash = sha256_hex(&json);
        let signature = key.sign(&digest.string_to_sign(&hash)).unwrap();
        let object = digest.digest_s3_object.clone();
        put(dir, &object, &json);
        std::fs::write(dir.join(format!("{object}{SIGNATURE_SUFFIX}")), &signature).unwrap();
        previous = Some((object.clone(), hash, signature));
        digests.push(object);
        logs.push(log);
    }
    (digests, logs)
}

fn check(dir: &Path, key: &SigningKey) -> Report {
    let keys = vec![key.public_key_der().to_vec()];
    let checker = Checker {
        dir,
        bucket: "audit",
        account: ACCOUNT,
        trail: "main",
        keys: &keys,
        start_ms: 0,
        end_ms: i64::MAX,
        verbose: false,
    };
    let mut report = Report::default();
    let region_dir = dir.join(format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}"));
    checker
        .check_region(&region_dir, REGION, &mut report)
        .unwrap();
    report
}

#[test]
fn a_whole_chain_is_valid_and_damage_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let key = SigningKey::generate().unwrap();
    let (digests, logs) = chain(dir, &key, 4);
    let report = check(dir, &key);
    assert!(report.all_valid(), "{report:?}");
    assert_eq!((report.digests_valid, report.logs_valid), (4, 4));

    // A log file rewritten, a digest in the middle deleted, a signature replaced.
    put(dir, &logs[3], br#"{"Records":[]}"#);
    std::fs::remove_file(dir.join(&digests[1])).unwrap();
    let other = SigningKey::generate().unwrap();
    std::fs::write(
        dir.join(format!("{}{SIGNATURE_SUFFIX}", digests[0])),
        other.sign("forged").unwrap(),
    )
    .unwrap();
    let report = check(dir, &key);
    assert!(!report.all_valid());
    assert_eq!(report.logs_invalid, 1, "{report:?}");
    assert_eq!(report.digests_missing, 1, "{report:?}");
    assert_eq!(report.digests_invalid, 1, "{report:?}");
    assert_eq!(report.digests_valid, 2, "{report:?}");
    assert!(report.summary().contains("2/4 digest files valid"));
}

#[test]
fn a_rewritten_digest_breaks_the_next_ones_link() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let key = SigningKey::generate().unwrap();
    let (digests, _) = chain(dir, &key, 2);
    // Re-signed with the right key, but no longer the file the next digest hashed.
    let mut digest: DigestFile =
        serde_json::from_slice(&read_gz(&dir.join(&digests[0])).unwrap().unwrap()).unwrap();
    digest.log_files.clear();
    let json = serde_json::to_vec(&digest).unwrap();
    let signature = key
        .sign(&digest.string_to_sign(&sha256_hex(&json)))
        .unwrap();
    put(dir, &digests[0], &json);
    std::fs::write(
        dir.join(format!("{}{SIGNATURE_SUFFIX}", digests[0])),
        signature,
    )
    .unwrap();
    let report = check(dir, &key);
    assert_eq!(
        (report.digests_valid, report.digests_invalid),
        (1, 1),
        "{report:?}"
    );
}
