//! `flowwatch trail ...`: CloudTrail trails' files.
//!
//! `verify` checks the log files and digest files a trail wrote to a bucket directory, as
//! `aws cloudtrail validate-logs` does in S3: it walks each region's digest chain newest to
//! oldest, checks each digest's signature and its link to the previous digest, and the SHA-256
//! of every log file each digest lists.

mod verify;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Args, Subcommand};
use serde::Deserialize;

use crate::client::{Client, ClientArgs};

#[derive(Debug, Args)]
pub(crate) struct TrailArgs {
    #[command(subcommand)]
    command: TrailCommand,
}

#[derive(Debug, Subcommand)]
enum TrailCommand {
    /// Check a trail's digest chain and log files in a bucket directory (like `aws cloudtrail
    /// validate-logs`); exits with status 1 when a file is invalid or missing.
    #[command(after_help = "\
Example, on the server's machine (buckets are <data-dir>/s3/<bucket> by default):

  flowwatch trail verify --bucket-dir ./flowwatch-data/s3/audit --trail main \\
      --start 2026-11-24T00:00:00Z --endpoint-url http://127.0.0.1:4580

Public keys come from --public-key files (the base64 `Value` that `aws cloudtrail \
list-public-keys` prints, its DER bytes, or PEM), else from the server's ListPublicKeys, \
signed with the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. A digest's signature is read \
from the file <digest>.signature beside it (a local bucket has no object metadata).")]
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The bucket's directory (`<data-dir>/s3/<bucket>` for flowwatch's local buckets, or a
    /// copy of an S3 bucket made with `aws s3 sync`).
    #[arg(long, value_name = "DIR")]
    bucket_dir: PathBuf,
    /// The bucket's name, as digests name it (default: the directory's name).
    #[arg(long)]
    bucket: Option<String>,
    /// The trail's S3 key prefix, if it has one.
    #[arg(long)]
    prefix: Option<String>,
    /// The trail's name (or ARN).
    #[arg(long)]
    trail: String,
    /// The trail's account (default: the only one under AWSLogs/).
    #[arg(long)]
    account: Option<String>,
    /// Regions to check (default: every region with digests; repeat the flag for several).
    #[arg(long = "digest-region", value_name = "REGION")]
    regions: Vec<String>,
    /// Check digests ending at or after this time (RFC 3339, e.g. 2026-11-24T00:00:00Z;
    /// default: the first).
    #[arg(long, value_parser = parse_time)]
    start: Option<i64>,
    /// Check digests ending at or before this time (default: now).
    #[arg(long, value_parser = parse_time)]
    end: Option<i64>,
    /// A public key file (repeat for several): base64 DER as ListPublicKeys returns it, DER,
    /// or PEM. Without one, the keys come from the server's ListPublicKeys.
    #[arg(long, value_name = "FILE")]
    public_key: Vec<PathBuf>,
    /// Print every file checked, valid ones too.
    #[arg(long, short)]
    verbose: bool,
    /// The server whose ListPublicKeys gives the keys (each digest region's own), when no
    /// --public-key is given.
    #[arg(
        long,
        env = "FLOWWATCH_ENDPOINT",
        default_value = "http://127.0.0.1:4580"
    )]
    endpoint_url: String,
}

fn parse_time(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| {
                d.and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc()
                    .timestamp_millis()
            })
        })
        .map_err(|_| format!("expected an RFC 3339 time like 2026-11-24T09:00:00Z, got {text:?}"))
}

/// Runs a `trail` subcommand; failures print `error: ...` and exit with status 2, an invalid
/// or missing file exits with status 1.
pub(crate) fn run(args: TrailArgs) -> anyhow::Result<()> {
    let outcome = match args.command {
        TrailCommand::Verify(args) => run_verify(args),
    };
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => std::process::exit(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::exit(2);
        }
    }
}

fn run_verify(args: VerifyArgs) -> anyhow::Result<bool> {
    let dir = &args.bucket_dir;
    if !dir.is_dir() {
        bail!(
            "bucket directory {} does not exist or is not a directory",
            dir.display()
        );
    }
    let bucket = match &args.bucket {
        Some(b) => b.clone(),
        None => dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .context("name the bucket with --bucket")?,
    };
    let trail = args
        .trail
        .rsplit_once(":trail/")
        .map_or(args.trail.as_str(), |(_, name)| name)
        .to_owned();
    let logs = verify::under_prefix(dir, args.prefix.as_deref().unwrap_or("")).join("AWSLogs");
    let account = match &args.account {
        Some(a) => a.clone(),
        None => {
            let accounts = verify::subdirs(&logs)?;
            match accounts.as_slice() {
                [one] => one.clone(),
                [] => bail!(
                    "no AWSLogs/<account> directory under {}: is --bucket-dir the bucket's \
                     directory, and --prefix the trail's S3 key prefix?",
                    logs.parent().unwrap_or(&logs).display()
                ),
                _ => bail!(
                    "several accounts under {}: choose one with --account ({})",
                    logs.display(),
                    accounts.join(", ")
                ),
            }
        }
    };
    let digest_root = logs.join(&account).join("CloudTrail-Digest");
    let regions = if args.regions.is_empty() {
        verify::subdirs(&digest_root)?
    } else {
        args.regions.clone()
    };
    if regions.is_empty() {
        bail!(
            "no digest files under {}: does the trail validate log files \
             (--enable-log-file-validation), and has it written its first digest?",
            digest_root.display()
        );
    }
    let keys = if args.public_key.is_empty() {
        fetch_keys(&args.endpoint_url, &regions)?
    } else {
        args.public_key
            .iter()
            .map(|p| read_key(p))
            .collect::<anyhow::Result<_>>()?
    };
    let start = args.start.unwrap_or(0);
    let end = args
        .end
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    if start > end {
        bail!("--start is after --end");
    }
    let checker = verify::Checker {
        dir,
        bucket: &bucket,
        account: &account,
        trail: &trail,
        keys: &keys,
        start_ms: start,
        end_ms: end,
        verbose: args.verbose,
    };
    println!(
        "Validating log files for trail {trail} between {} and {}\n",
        flowwatch_security::trail_files::time_text(start),
        flowwatch_security::trail_files::time_text(end)
    );
    let mut report = verify::Report::default();
    for region in &regions {
        checker.check_region(&digest_root.join(region), region, &mut report)?;
    }
    println!(
        "\nResults requested for {} to {}",
        flowwatch_security::trail_files::time_text(start),
        flowwatch_security::trail_files::time_text(end)
    );
    print!("{}", report.summary());
    Ok(report.all_valid())
}

/// A public key from a file: base64 text of DER, PEM, or DER bytes.
fn read_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading public key {}", path.display()))?;
    if let Ok(text) = std::str::from_utf8(&bytes) {
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .concat();
        if let Ok(der) = BASE64.decode(body.trim()) {
            return Ok(der);
        }
    }
    Ok(bytes)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPublicKeysResponse {
    public_key_list: Vec<PublicKeyEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublicKeyEntry {
    value: String,
}

/// Every public key of `regions`, from ListPublicKeys.
fn fetch_keys(endpoint_url: &str, regions: &[String]) -> anyhow::Result<Vec<Vec<u8>>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut keys = Vec::new();
        for region in regions {
            let client = Client::from_args(&ClientArgs {
                endpoint_url: endpoint_url.to_owned(),
                region: Some(region.clone()),
            })?;
            let now = chrono::Utc::now().timestamp();
            let request = serde_json::json!({ "StartTime": 0, "EndTime": now });
            let response: ListPublicKeysResponse = client
                .call_cloudtrail("ListPublicKeys", &request)
                .await
                .with_context(|| {
                    format!("getting the public keys of {region} (or give them with --public-key)")
                })?;
            for key in response.public_key_list {
                keys.push(
                    BASE64
                        .decode(key.value.trim())
                        .context("ListPublicKeys returned a key that is not base64")?,
                );
            }
        }
        anyhow::Ok(keys)
    })
}
