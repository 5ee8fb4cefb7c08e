//! Trails' S3 files (issue #6, spec `cloudtrail-iam.md` B.1, B.3): log files and signed,
//! chained digest files in the bucket directory, ListPublicKeys, and `flowwatch trail verify`
//! finding a tampered log file and a deleted digest. The server runs with a 1-second delivery
//! period and a 2-second digest period.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Server, aws_env, binary};

const FAST: &[&str] = &["--trail-delivery-secs", "1", "--trail-digest-secs", "2"];

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The `.json.gz` files under `dir/<kind>/`, sorted by name (so by time for digests).
fn gz_files(bucket: &Path, kind: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    files_under(bucket, &mut out);
    let mut files: Vec<PathBuf> = out
        .into_iter()
        .filter(|p| {
            p.to_string_lossy().contains(&format!("/{kind}/"))
                && p.to_string_lossy().ends_with(".json.gz")
        })
        .collect();
    files.sort_by_key(|p| p.file_name().map(|n| n.to_owned()));
    files
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&gunzip(path)).unwrap()
}

/// Waits (at most 30 s) until `f` gives something.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The (eventName, errorCode) of every record of every log file, read with Python's gzip and
/// json modules.
fn records(bucket: &Path) -> Vec<(String, Option<String>)> {
    let script = r#"
import gzip, json, pathlib, sys
out = []
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*.json.gz")):
    if "/CloudTrail/" not in str(p):
        continue
    with gzip.open(p, "rt") as f:
        doc = json.load(f)
    for r in doc["Records"]:
        out.append([r["eventName"], r.get("errorCode")])
print(json.dumps(out))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(bucket)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs `flowwatch trail verify` with `args`; returns (success, exit code, stdout + stderr).
fn verify(server: &Server, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(binary())
        .args(["trail", "verify"])
        .args(args)
        .args(["--endpoint-url", &server.endpoint])
        .envs(aws_env())
        .output()
        .expect("run flowwatch trail verify");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

fn create_trail(server: &Server) {
    server.aws_ok(&[
        "cloudtrail",
        "create-trail",
        "--name",
        "main",
        "--s3-bucket-name",
        "audit",
        "--enable-log-file-validation",
    ]);
    server.aws_ok(&["cloudtrail", "start-logging", "--name", "main"]);
}

#[test]
fn trail_files_deliver_records_and_a_digest_chain_that_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut server = Server::start_in(&dir, FAST);
    let bucket = dir.join("s3/audit");
    // Bucket names and prefixes cannot lead out of the bucket directory.
    let bad = |bucket: &str, prefix: &str, code: &str| {
        server.aws_err(
            &[
                "cloudtrail",
                "create-trail",
                "--name",
                "bad",
                "--s3-bucket-name",
                bucket,
                "--s3-key-prefix",
                prefix,
            ],
            code,
        );
    };
    bad("../escape", "p", "InvalidS3BucketNameException");
    bad("audit", "a/../../b", "InvalidS3PrefixException");
    create_trail(&server);
    let trails = server.aws_ok(&["cloudtrail", "describe-trails"]);
    assert_eq!(trails["trailList"][0]["LogFileValidationEnabled"], true);

    // An allowed call and a denied one (a user without policies).
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "app"]);
    server.aws_ok(&["iam", "create-user", "--user-name", "nobody"]);
    let key = server.aws_ok(&["iam", "create-access-key", "--user-name", "nobody"]);
    let env = [
        (
            "AWS_ACCESS_KEY_ID",
            key["AccessKey"]["AccessKeyId"].as_str().unwrap(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            key["AccessKey"]["SecretAccessKey"].as_str().unwrap(),
        ),
    ];
    let denied = server.aws_with(&env, &["logs", "describe-log-groups"]);
    assert!(!denied.success);

    let found = eventually("the calls in log files", || {
        let records = records(&bucket);
        let has = |name: &str, code: Option<&str>| {
            records
                .iter()
                .any(|(n, c)| n == name && c.as_deref() == code)
        };
        (has("CreateLogGroup", None)
            && has("CreateUser", None)
            && has("DescribeLogGroups", Some("AccessDeniedException")))
        .then_some(records)
    });
    assert!(
        !found.iter().any(|(n, _)| n == "CreateTrail"),
        "CreateTrail came before StartLogging: {found:?}"
    );
    let log_files = gz_files(&bucket, "CloudTrail");
    let name = log_files[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let account = name.split('_').next().unwrap().to_owned();
    assert!(
        name.starts_with(&format!("{account}_CloudTrail_us-east-1_")) && name.len() > 50,
        "{name}"
    );

    // A starting digest with null links, then one linking to it.
    let digests = eventually("two digests", || {
        let digests = gz_files(&bucket, "CloudTrail-Digest");
        (digests.len() >= 2).then_some(digests)
    });
    let first = json(&digests[0]);
    assert_eq!(first["awsAccountId"], account.as_str());
    assert_eq!(first["digestSignatureAlgorithm"], "SHA256withRSA");
    assert_eq!(first["digestS3Bucket"], "audit");
    assert_eq!(
        first["digestPublicKeyFingerprint"].as_str().unwrap().len(),
        32
    );
    for field in [
        "previousDigestS3Bucket",
        "previousDigestS3Object",
        "previousDigestHashValue",
        "previousDigestHashAlgorithm",
        "previousDigestSignature",
    ] {
        assert!(first[field].is_null(), "{field} of a starting digest");
    }
    let first_key = first["digestS3Object"].as_str().unwrap();
    assert!(digests[0].ends_with(first_key));
    let second = json(&digests[1]);
    assert_eq!(second["previousDigestS3Object"], first_key);
    assert_eq!(second["previousDigestS3Bucket"], "audit");
    assert_eq!(second["previousDigestHashAlgorithm"], "SHA-256");
    let hash = flowwatch_security::trail_files::sha256_hex(&gunzip(&digests[0]));
    assert_eq!(second["previousDigestHashValue"], hash.as_str());
    let signature = std::fs::read_to_string(format!("{}.signature", digests[0].display())).unwrap();
    assert_eq!(second["previousDigestSignature"], signature.as_str());

    // Events while the trail is stopped are not delivered; restarting starts a new chain.
    server.aws_ok(&["cloudtrail", "stop-logging", "--name", "main"]);
    server.aws_ok(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "while-stopped",
    ]);
    server.aws_ok(&["cloudtrail", "start-logging", "--name", "main"]);
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "after"]);
    eventually("every log file listed in a digest", || {
        let digests = gz_files(&bucket, "CloudTrail-Digest");
        let listed: Vec<String> = digests
            .iter()
            .flat_map(|d| {
                json(d)["logFiles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["s3Object"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        let after = records(&bucket)
            .iter()
            .filter(|(n, _)| n == "CreateLogGroup")
            .count()
            == 2;
        let all_listed = gz_files(&bucket, "CloudTrail").iter().all(|f| {
            listed
                .iter()
                .any(|k| f.to_string_lossy().ends_with(k.as_str()))
        });
        (after && all_listed).then_some(())
    });
    let records = records(&bucket);
    assert!(
        !records.iter().any(|(n, _)| n == "StopLogging"),
        "made while stopped (after StopLogging took effect): {records:?}"
    );
    assert!(
        records
            .iter()
            .filter(|(n, _)| n == "CreateLogGroup")
            .count()
            == 2,
        "app and after, not while-stopped: {records:?}"
    );

    // ListPublicKeys.
    let keys = server.aws_ok(&["cloudtrail", "list-public-keys"]);
    let listed = &keys["PublicKeyList"][0];
    assert_eq!(listed["Fingerprint"], first["digestPublicKeyFingerprint"]);
    server.aws_err(
        &[
            "cloudtrail",
            "list-public-keys",
            "--start-time",
            "2026-01-02T00:00:00Z",
            "--end-time",
            "2026-01-01T00:00:00Z",
        ],
        "InvalidTimeRangeException",
    );
    let key_file = tmp.path().join("key.b64");
    std::fs::write(&key_file, listed["Value"].as_str().unwrap()).unwrap();

    // Verified with the server's ListPublicKeys.
    let bucket_arg = bucket.to_string_lossy().into_owned();
    let base = ["--bucket-dir", bucket_arg.as_str(), "--trail", "main"];
    let (code, out) = verify(&server, &[&base[..], &["--verbose"]].concat());
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("INVALID"), "{out}");
    assert!(out.contains(" digest files valid\n"), "{out}");
    assert!(out.contains("Log file\ts3://audit/AWSLogs/"), "{out}");
    server.stop();

    // A digest in the middle of a chain deleted, and a log file another digest lists
    // tampered with (a record rewritten).
    let digests: Vec<(PathBuf, Value)> = gz_files(&bucket, "CloudTrail-Digest")
        .into_iter()
        .map(|d| {
            let j = json(&d);
            (d, j)
        })
        .collect();
    let (gone, gone_json) = digests
        .iter()
        .find(|(_, j)| {
            digests
                .iter()
                .any(|(_, n)| n["previousDigestS3Object"] == j["digestS3Object"])
        })
        .expect("a digest that another links to")
        .clone();
    let tampered_key = digests
        .iter()
        .filter(|(_, j)| j["digestS3Object"] != gone_json["digestS3Object"])
        .flat_map(|(_, j)| j["logFiles"].as_array().unwrap().clone())
        .map(|f| f["s3Object"].as_str().unwrap().to_owned())
        .next()
        .expect("a log file listed by another digest");
    let tampered = bucket.join(&tampered_key);
    let text = String::from_utf8(gunzip(&tampered)).unwrap();
    let changed = text.replacen("\"us-east-1\"", "\"us-west-2\"", 1);
    assert_ne!(text, changed);
    std::fs::write(&tampered, gzip(changed.as_bytes())).unwrap();
    std::fs::remove_file(&gone).unwrap();

    let key_arg = key_file.to_string_lossy().into_owned();
    let (code, out) = verify(&server, &[&base[..], &["--public-key", &key_arg]].concat());
    assert_eq!(code, Some(1), "{out}");
    let rel = |p: &Path| {
        p.strip_prefix(&bucket)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    assert!(
        out.contains(&format!(
            "Log file\ts3://audit/{}\tINVALID: hash value doesn't match",
            rel(&tampered)
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Digest file\ts3://audit/{}\tINVALID: not found",
            rel(&gone)
        )),
        "{out}"
    );
    assert!(out.contains("log files INVALID"), "{out}");
    assert!(out.contains("digest files MISSING"), "{out}");

    let (code, out) = verify(
        &server,
        &["--bucket-dir", "/nonexistent/bucket", "--trail", "main"],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("does not exist"), "{out}");
}

#[test]
fn trail_digest_chain_goes_on_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let long_digests = ["--trail-delivery-secs", "1", "--trail-digest-secs", "3600"];
    let mut server = Server::start_in(&dir, FAST);
    let bucket = dir.join("s3/audit");
    create_trail(&server);
    let first = eventually("the first digest", || {
        gz_files(&bucket, "CloudTrail-Digest").first().cloned()
    });
    // Logged just before a graceful stop: written by the stop.
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "last"]);
    server.stop();
    let records = records(&bucket);
    assert!(
        records.iter().any(|(n, _)| n == "CreateLogGroup"),
        "{records:?}"
    );

    // A restart with a long digest period writes no digest at once; with a short one, the
    // next digest links to the last one written before the stop.
    let mut server = Server::start_in(&dir, &long_digests);
    server.aws_ok(&["logs", "describe-log-groups"]);
    server.stop();
    let before: Vec<PathBuf> = gz_files(&bucket, "CloudTrail-Digest");
    let last = before.last().unwrap().clone();
    let server = Server::start_in(&dir, FAST);
    let next = eventually("a digest after the restart", || {
        gz_files(&bucket, "CloudTrail-Digest")
            .into_iter()
            .find(|d| !before.contains(d))
    });
    let digest = json(&next);
    let last_json = json(&last);
    assert_eq!(
        digest["previousDigestS3Object"],
        last_json["digestS3Object"]
    );
    let hash = flowwatch_security::trail_files::sha256_hex(&gunzip(&last));
    assert_eq!(digest["previousDigestHashValue"], hash.as_str());
    assert!(before.contains(&first));

    let bucket_arg = bucket.to_string_lossy().into_owned();
    let (code, out) = verify(&server, &["--bucket-dir", &bucket_arg, "--trail", "main"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("INVALID"), "{out}");
}

/// Records not yet written when the server is killed (`kill -9`) are written after the
/// restart: they were durable in the audit stream, and the mark had not passed them.
#[test]
fn trail_records_survive_a_crash_before_their_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let bucket = dir.join("s3/audit");
    let slow = ["--trail-delivery-secs", "3600"];
    let mut server = Server::start_in(&dir, &slow);
    create_trail(&server);
    server.aws_ok(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "before-crash",
    ]);
    server.kill();
    assert!(gz_files(&bucket, "CloudTrail").is_empty());
    let _server = Server::start_in(&dir, FAST);
    let records = eventually("the records after the restart", || {
        let records = records(&bucket);
        records
            .iter()
            .any(|(n, _)| n == "CreateLogGroup")
            .then_some(records)
    });
    let starts = records.iter().filter(|(n, _)| n == "StartLogging").count();
    assert_eq!(starts, 1, "{records:?}");
}

/// With `[flow_log_buckets]`, files go to an S3-compatible service (moto's server), and a
/// digest's signature is its object metadata `signature` / `signature-algorithm`.
#[test]
fn trail_digests_on_an_s3_service_carry_their_signature_as_metadata() {
    use crate::s3::{s3api, start_moto};
    let (_moto, s3) = start_moto();
    s3api(&s3, &["create-bucket", "--bucket", "audit"]);
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("flowwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[flow_log_buckets]\nendpoint = \"{s3}\"\nregion = \"us-east-1\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\nallow_http = true\n"
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let server = Server::start_in(
        &tmp.path().join("data"),
        &[&["--config", config.as_str()][..], FAST].concat(),
    );
    create_trail(&server);
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "on-s3"]);
    let keys = |prefix: &str| -> Vec<String> {
        s3api(
            &s3,
            &["list-objects-v2", "--bucket", "audit", "--prefix", prefix],
        )["Contents"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| o["Key"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let digest_key = eventually("a digest on the S3 service", || {
        let log_files = keys("AWSLogs/")
            .into_iter()
            .any(|k| k.contains("/CloudTrail/"));
        let digest = keys("AWSLogs/")
            .into_iter()
            .find(|k| k.contains("/CloudTrail-Digest/"));
        digest.filter(|_| log_files)
    });
    let head = s3api(
        &s3,
        &["head-object", "--bucket", "audit", "--key", &digest_key],
    );
    assert_eq!(head["Metadata"]["signature-algorithm"], "SHA256withRSA");
    let signature = head["Metadata"]["signature"].as_str().unwrap().to_owned();
    let local = tmp.path().join("digest.json.gz");
    s3api(
        &s3,
        &[
            "get-object",
            "--bucket",
            "audit",
            "--key",
            &digest_key,
            &local.to_string_lossy(),
        ],
    );
    let bytes = gunzip(&local);
    let digest: flowwatch_security::trail_files::DigestFile =
        serde_json::from_slice(&bytes).unwrap();
    assert_eq!(digest.digest_s3_object, digest_key);
    let listed = server.aws_ok(&["cloudtrail", "list-public-keys"]);
    let value = listed["PublicKeyList"][0]["Value"].as_str().unwrap();
    let der = base64_decode(value);
    flowwatch_security::trail_files::verify_signature(
        &der,
        &digest.string_to_sign(&flowwatch_security::trail_files::sha256_hex(&bytes)),
        &signature,
    )
    .expect("the metadata signature verifies");
    let status = server.aws_ok(&["cloudtrail", "get-trail-status", "--name", "main"]);
    assert!(status["LatestDeliveryTime"].is_number(), "{status}");
    assert!(status["LatestDigestDeliveryTime"].is_number(), "{status}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// The real `aws cloudtrail validate-logs` (its S3 client pointed at moto's server with
/// `AWS_ENDPOINT_URL_S3`) finds flowwatch's chain valid: the layout, the digest fields, the
/// string to sign, the metadata signature and ListPublicKeys are AWS's. Then it finds a log
/// file rewritten in the bucket.
#[test]
fn aws_cloudtrail_validate_logs_accepts_the_chain_and_finds_tampering() {
    use crate::s3::{s3api, start_moto};
    let (_moto, s3) = start_moto();
    s3api(&s3, &["create-bucket", "--bucket", "audit"]);
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("flowwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[flow_log_buckets]\nendpoint = \"{s3}\"\nregion = \"us-east-1\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\nallow_http = true\n"
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let server = Server::start_in(
        &tmp.path().join("data"),
        &[&["--config", config.as_str()][..], FAST].concat(),
    );
    create_trail(&server);
    let account = server.aws_ok(&["sts", "get-caller-identity"])["Account"]
        .as_str()
        .unwrap()
        .to_owned();
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "validated"]);
    let keys = |prefix: &str| -> Vec<String> {
        s3api(
            &s3,
            &["list-objects-v2", "--bucket", "audit", "--prefix", prefix],
        )["Contents"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| o["Key"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    // Three digests: the log file is in one of them.
    let log_key = eventually("log files listed in a digest", || {
        let all = keys("AWSLogs/");
        let log = all.iter().find(|k| k.contains("/CloudTrail/"))?.clone();
        let digests = all
            .iter()
            .filter(|k| k.contains("/CloudTrail-Digest/"))
            .count();
        (digests >= 3).then_some(log)
    });
    let start = chrono::DateTime::from_timestamp(crate::support::now_ms() / 1000 - 600, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let validate = || {
        let trail_arn = format!("arn:aws:cloudtrail:us-east-1:{account}:trail/main");
        let out = server.aws_with(
            &[("AWS_ENDPOINT_URL_S3", s3.as_str())],
            &[
                "cloudtrail",
                "validate-logs",
                "--trail-arn",
                &trail_arn,
                "--start-time",
                &start,
                "--verbose",
            ],
        );
        (out.success, format!("{}{}", out.stdout, out.stderr))
    };
    let (ok, out) = validate();
    assert!(ok, "{out}");
    assert!(out.contains(" digest files valid"), "{out}");
    assert!(!out.contains("INVALID"), "{out}");
    assert!(out.contains(&log_key), "{out}");

    // A record rewritten in a log file.
    let local = tmp.path().join("log.json.gz");
    s3api(
        &s3,
        &[
            "get-object",
            "--bucket",
            "audit",
            "--key",
            &log_key,
            &local.to_string_lossy(),
        ],
    );
    let text = String::from_utf8(gunzip(&local)).unwrap();
    let changed = text.replacen("\"us-east-1\"", "\"us-west-2\"", 1);
    std::fs::write(&local, gzip(changed.as_bytes())).unwrap();
    s3api(
        &s3,
        &[
            "put-object",
            "--bucket",
            "audit",
            "--key",
            &log_key,
            "--body",
            &local.to_string_lossy(),
        ],
    );
    let (ok, out) = validate();
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "s3://audit/{log_key}\tINVALID: hash value doesn't match"
        )),
        "{out}"
    );
}
