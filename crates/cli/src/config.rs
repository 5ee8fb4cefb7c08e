//! The server's configuration: defaults < config file < `FLOWWATCH_*` environment < flags.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The config file (TOML). Every key is optional.
///
/// ```toml
/// listen = "127.0.0.1:4580"
/// data_dir = "./flowwatch-data"
/// account_id = "123456789012"
/// fsync = true
/// flush_bytes = 67108864
/// flush_age_secs = 60
/// memory_limit_bytes = 268435456
/// query_memory_limit_bytes = 1073741824   # what one Logs Insights query may hold
///
/// public_url = "http://127.0.0.1:4580/"   # what SNS messages link to (default: the listen address)
/// alarm_evaluation_secs = 60 # how often alarms are evaluated
/// trail_delivery_secs = 300  # how often trails write their log files (CloudTrail: ~5 minutes)
/// trail_digest_secs = 3600   # how often trails validating log files write a digest (hourly)
/// s3_window_secs = 300       # record end times one flow-log file in S3 covers (1 to 300)
/// s3_grace_secs = 60         # how long a window waits for late records before its file
/// sns_auto_confirm = false   # confirm subscriptions without a confirmation message
/// auth = "on"                # "off": accept any well-formed signature as the root (development)
/// rate_limit_scale = 1.0     # rate limits as a multiple of AWS's quotas (0: off)
///
/// [root]                     # the root access key (default: created in data_dir/root-credentials)
/// access_key_id = "AKIAEXAMPLE"
/// secret_access_key = "secret"
/// inventory = "inventory.toml"  # network interfaces for flow logs (docs/inventory.md)
///
/// [smtp]                     # where email and email-json subscriptions are delivered
/// host = "127.0.0.1"
/// port = 25
/// from = "no-reply@sns.flowwatch.localhost"
/// starttls = false
/// username = "user"          # with password: SMTP AUTH
/// password = "secret"
///
/// [s3]                       # segments in an S3-compatible bucket instead of data_dir
/// bucket = "flowwatch"
/// prefix = "segments"
/// endpoint = "http://127.0.0.1:9000"
/// region = "us-east-1"
/// allow_http = true
///
/// [flow_log_buckets]         # flow logs to S3 write to this S3-compatible service's buckets
/// endpoint = "http://127.0.0.1:9000"   # instead of data_dir/s3/<bucket> (same keys as [s3],
/// region = "us-east-1"                 # without bucket and prefix)
/// allow_http = true
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub(crate) listen: Option<String>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) account_id: Option<String>,
    pub(crate) fsync: Option<bool>,
    pub(crate) flush_bytes: Option<usize>,
    pub(crate) flush_age_secs: Option<u64>,
    pub(crate) memory_limit_bytes: Option<usize>,
    pub(crate) query_memory_limit_bytes: Option<usize>,
    pub(crate) public_url: Option<String>,
    pub(crate) alarm_evaluation_secs: Option<u64>,
    pub(crate) trail_delivery_secs: Option<u64>,
    pub(crate) trail_digest_secs: Option<u64>,
    pub(crate) s3_window_secs: Option<u64>,
    pub(crate) s3_grace_secs: Option<u64>,
    pub(crate) sns_auto_confirm: Option<bool>,
    pub(crate) inventory: Option<PathBuf>,
    pub(crate) smtp: Option<SmtpFileConfig>,
    pub(crate) s3: Option<S3Config>,
    pub(crate) flow_log_buckets: Option<S3ServiceConfig>,
    pub(crate) auth: Option<AuthMode>,
    pub(crate) rate_limit_scale: Option<f64>,
    pub(crate) root: Option<RootFileConfig>,
}

/// Whether requests' signatures are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AuthMode {
    On,
    Off,
}

/// The root access key in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RootFileConfig {
    pub(crate) access_key_id: Option<String>,
    pub(crate) secret_access_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SmtpFileConfig {
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) from: Option<String>,
    pub(crate) starttls: Option<bool>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
}

/// `[s3]`: segments in a bucket of an S3-compatible service.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S3Config {
    pub(crate) bucket: String,
    #[serde(default)]
    pub(crate) prefix: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) secret_access_key: Option<String>,
    #[serde(default)]
    pub(crate) allow_http: bool,
}

impl S3Config {
    /// The bucket, the prefix and the service.
    pub(crate) fn split(self) -> (String, String, S3ServiceConfig) {
        let service = S3ServiceConfig {
            endpoint: self.endpoint,
            region: self.region,
            access_key_id: self.access_key_id,
            secret_access_key: self.secret_access_key,
            allow_http: self.allow_http,
        };
        (self.bucket, self.prefix, service)
    }
}

/// How to reach an S3-compatible service (`[flow_log_buckets]`, and `[s3]` with its bucket).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S3ServiceConfig {
    pub(crate) endpoint: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) secret_access_key: Option<String>,
    #[serde(default)]
    pub(crate) allow_http: bool,
}

impl S3ServiceConfig {
    pub(crate) fn into_connection(self) -> flowwatch_storage::S3Connection {
        flowwatch_storage::S3Connection {
            endpoint: self.endpoint,
            region: self.region.unwrap_or_else(|| "us-east-1".to_owned()),
            access_key_id: self.access_key_id,
            secret_access_key: self.secret_access_key,
            allow_http: self.allow_http,
        }
    }
}

/// Reads and checks an inventory file (TOML, `docs/inventory.md`).
pub(crate) fn load_inventory(
    path: &Path,
) -> anyhow::Result<flowwatch_engine::flow_logs::Inventory> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading inventory {}", path.display()))?;
    let inventory: flowwatch_engine::flow_logs::Inventory =
        toml::from_str(&text).with_context(|| format!("parsing inventory {}", path.display()))?;
    inventory
        .validate()
        .with_context(|| format!("checking inventory {}", path.display()))?;
    Ok(inventory)
}

impl FileConfig {
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
    }
}
