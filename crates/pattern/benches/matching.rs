//! Match throughput of parsed filter patterns, in events per second on one core.
//!
//! `cargo bench -p flowwatch-pattern --bench matching`
//!
//! Groups (each iteration matches every line of a fixed, seeded corpus once; criterion reports
//! elements/s = events/s):
//! - `terms`: term patterns on access-log-like application lines;
//! - `flow_log`: the documented SSH-reject space-delimited pattern on VPC Flow Logs v2 lines, beside
//!   `plain_split`, a hand-written `split(' ')` that does the least equivalent work (fields 6, 7
//!   and 12 compared, a 14th field present), so the report gives the pattern/split ratio;
//! - `json`: JSON patterns on CloudTrail-like events, beside `serde_parse_only`, the cost of
//!   parsing each event into a `serde_json::Value` (the floor of JSON matching).
//!
//! Results and the machine they were measured on: `docs/benchmarks.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowwatch_pattern::FilterPattern;

/// Lines per corpus (and per iteration).
const LINES: usize = 4096;

/// The SSH-reject pattern of the CloudWatch Logs user guide.
const SSH_REJECT: &str = "[version, account, eni, source, destination, srcport, destport=\"22\", \
    protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]";

/// A small deterministic generator (SplitMix64), so every run matches the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn percent(&mut self) -> u64 {
        self.below(100)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Application access-log lines: level, client, request, status, bytes, latency, request id.
/// About 8 % are `ERROR`, 12 % `WARN`.
fn access_lines(rng: &mut Rng) -> Vec<String> {
    let paths = [
        "/api/v1/items",
        "/api/v1/orders",
        "/api/v1/users",
        "/healthcheck",
        "/static/app.js",
    ];
    (0..LINES)
        .map(|i| {
            let level = match rng.percent() {
                0..8 => "ERROR",
                8..20 => "WARN",
                _ => "INFO",
            };
            let method = if rng.percent() < 70 { "GET" } else { "POST" };
            let status = match level {
                "ERROR" => [500, 502, 503][rng.below(3) as usize],
                "WARN" => 404,
                _ => 200,
            };
            let note = if level == "ERROR" && rng.percent() < 30 {
                " upstream timeout"
            } else {
                ""
            };
            format!(
                "2026-11-23T13:{:02}:{:02}.{:03}Z {level} 10.0.{}.{} \"{method} {}/{} HTTP/1.1\" {status} {} {}ms req-{:016x}{note}",
                (i / 600) % 60,
                (i / 10) % 60,
                rng.below(1000),
                rng.below(256),
                rng.below(256),
                rng.pick(&paths),
                rng.below(100_000),
                rng.below(50_000),
                rng.below(900) + 1,
                rng.next(),
            )
        })
        .collect()
}

/// VPC Flow Logs version-2 lines in the default format. Destination ports: 443 (35 %), 80, 22
/// (15 %), 3389, 53/UDP, ephemeral; about 25 % `REJECT`; 2 % `NODATA` and 1 % `SKIPDATA` records.
/// About 4 % of the lines match [`SSH_REJECT`].
fn flow_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let start = 1_763_900_000 + (i as u64 / 64) * 60;
            let eni = format!("eni-{:017x}", rng.below(8) * 0x1_0001_0001 + 0x0a1b_2c3d);
            match rng.percent() {
                0..2 => {
                    return format!(
                        "2 123456789012 {eni} - - - - - - - {start} {} - NODATA",
                        start + 60
                    );
                }
                2..3 => {
                    return format!(
                        "2 123456789012 {eni} - - - - - - - {start} {} - SKIPDATA",
                        start + 60
                    );
                }
                _ => {}
            }
            let (dport, proto) = match rng.percent() {
                0..35 => (443, 6),
                35..50 => (80, 6),
                50..65 => (22, 6),
                65..70 => (3389, 6),
                70..80 => (53, 17),
                _ => (1024 + rng.below(64_000) as u16, 6),
            };
            let action = if rng.percent() < 25 { "REJECT" } else { "ACCEPT" };
            let packets = 1 + rng.below(200);
            format!(
                "2 123456789012 {eni} {}.{}.{}.{} 10.0.{}.{} {} {dport} {proto} {packets} {} {start} {} {action} OK",
                [198, 203, 10, 172][rng.below(4) as usize],
                rng.below(256),
                rng.below(256),
                rng.below(256),
                rng.below(16),
                rng.below(256),
                1024 + rng.below(64_000),
                packets * (40 + rng.below(1400)),
                start + 60,
            )
        })
        .collect()
}

/// CloudTrail-like records (one JSON object per event): console logins (a quarter of them
/// failed), S3 data events with `bytesTransferredOut`, and EC2 API calls.
fn cloudtrail_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let time = format!("2026-11-23T13:{:02}:{:02}Z", (i / 600) % 60, (i / 10) % 60);
            let ip = format!("198.51.{}.{}", rng.below(256), rng.below(256));
            let user = format!("user-{}", rng.below(50));
            let id = format!("{:016x}-{:08x}", rng.next(), rng.below(1 << 32));
            match rng.percent() {
                0..20 => {
                    let failed = rng.percent() < 25;
                    let (outcome, error) = if failed {
                        ("Failure", r#","errorMessage":"Failed authentication""#)
                    } else {
                        ("Success", "")
                    };
                    format!(
                        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","principalId":"AIDA{id}","arn":"arn:aws:iam::123456789012:user/{user}","accountId":"123456789012","userName":"{user}"}},"eventTime":"{time}","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"Mozilla/5.0 (X11; Linux x86_64)","requestParameters":null,"responseElements":{{"ConsoleLogin":"{outcome}"}}{error},"additionalEventData":{{"LoginTo":"https://console.aws.amazon.com/","MobileVersion":"No","MFAUsed":"No"}},"eventID":"{id}","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}}"#
                    )
                }
                20..70 => {
                    let bytes = rng.below(4_000_000);
                    format!(
                        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"AssumedRole","principalId":"AROA{id}:app","arn":"arn:aws:sts::123456789012:assumed-role/app/{user}","accountId":"123456789012"}},"eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"aws-sdk-rust/1.3","requestParameters":{{"bucketName":"flowwatch-data","Host":"flowwatch-data.s3.us-east-1.amazonaws.com","key":"logs/2026/11/23/{id}.parquet"}},"responseElements":null,"additionalEventData":{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"bytesTransferredOut":{bytes},"AuthenticationMethod":"AuthHeader"}},"requestID":"{id}","eventID":"{id}","readOnly":true,"resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::flowwatch-data/logs/{id}.parquet"}}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789012","eventCategory":"Data"}}"#
                    )
                }
                _ => {
                    let name = rng.pick(&["DescribeInstances", "RunInstances", "StopInstances"]);
                    format!(
                        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","principalId":"AIDA{id}","arn":"arn:aws:iam::123456789012:user/{user}","accountId":"123456789012","userName":"{user}"}},"eventTime":"{time}","eventSource":"ec2.amazonaws.com","eventName":"{name}","awsRegion":"eu-west-1","sourceIPAddress":"{ip}","userAgent":"aws-cli/2.15.0","requestParameters":{{"instancesSet":{{"items":[{{"instanceId":"i-{id}"}}]}},"maxResults":{}}},"responseElements":null,"requestID":"{id}","eventID":"{id}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}}"#,
                        rng.below(1000)
                    )
                }
            }
        })
        .collect()
}

/// Matches every line once; the count keeps the work observable.
fn count_matches(pattern: &FilterPattern, lines: &[String]) -> usize {
    lines.iter().filter(|l| pattern.matches(l)).count()
}

/// What [`SSH_REJECT`] checks, written by hand: destport `22` (field 6), protocol `6` (7),
/// action `REJECT` (12), and at least 14 fields.
fn split_ssh_reject(line: &str) -> bool {
    let mut fields = line.split(' ');
    fields.nth(6) == Some("22")
        && fields.next() == Some("6")
        && fields.nth(4) == Some("REJECT")
        && fields.next().is_some()
}

fn bench_group(
    c: &mut Criterion,
    name: &str,
    lines: &[String],
    patterns: &[(&str, &str)],
) -> Vec<(String, usize)> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(lines.len() as u64));
    let mut seen = Vec::new();
    for (id, src) in patterns {
        let pattern = FilterPattern::parse(src).expect("benchmark pattern parses");
        seen.push((id.to_string(), count_matches(&pattern, lines)));
        group.bench_function(*id, |b| {
            b.iter(|| count_matches(black_box(&pattern), black_box(lines)))
        });
    }
    group.finish();
    seen
}

fn terms(c: &mut Criterion) {
    let lines = access_lines(&mut Rng(1));
    let seen = bench_group(
        c,
        "terms",
        &lines,
        &[
            ("ERROR", "ERROR"),
            (
                "multi_term",
                "ERROR \"POST /api/v1/orders\" -timeout -healthcheck",
            ),
            ("optional_terms", "?ERROR ?WARN"),
        ],
    );
    assert!(seen.iter().all(|(_, n)| *n > 0), "{seen:?}");
}

fn flow_log(c: &mut Criterion) {
    let lines = flow_lines(&mut Rng(2));
    let pattern = FilterPattern::parse(SSH_REJECT).expect("parses");
    let matching = count_matches(&pattern, &lines);
    let by_hand = lines.iter().filter(|l| split_ssh_reject(l)).count();
    assert_eq!(matching, by_hand, "the baseline must do the same job");
    assert!(matching > 0 && matching < lines.len() / 10, "{matching}");

    let mut group = c.benchmark_group("flow_log");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("delimited_ssh_reject", |b| {
        b.iter(|| count_matches(black_box(&pattern), black_box(&lines)))
    });
    group.bench_function("plain_split", |b| {
        b.iter(|| {
            black_box(&lines)
                .iter()
                .filter(|l| split_ssh_reject(l))
                .count()
        })
    });
    group.finish();
}

fn json(c: &mut Criterion) {
    let lines = cloudtrail_lines(&mut Rng(3));
    let seen = bench_group(
        c,
        "json",
        &lines,
        &[
            (
                "console_login_failed",
                "{ ($.eventName = \"ConsoleLogin\") && ($.errorMessage = \"Failed authentication\") }",
            ),
            (
                "numeric_comparison",
                "{ $.eventSource = \"s3.amazonaws.com\" && $.additionalEventData.bytesTransferredOut > 1000000 }",
            ),
        ],
    );
    assert!(seen.iter().all(|(_, n)| *n > 0), "{seen:?}");
    let mut group = c.benchmark_group("json");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("serde_parse_only", |b| {
        b.iter(|| {
            black_box(&lines)
                .iter()
                .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
                .count()
        })
    });
    group.finish();
}

fn config() -> Criterion {
    // Short runs: the machines this is measured on have 2 shared cores.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = terms, flow_log, json
}
criterion_main!(benches);
