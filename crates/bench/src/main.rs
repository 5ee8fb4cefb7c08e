//! `ingest-bench`: durable-ingest load against any CloudWatch Logs endpoint.
//!
//! Creates a log group and one stream per client, pre-builds the PutLogEvents JSON bodies (so
//! the load generator costs little CPU), then has `--clients` concurrent keep-alive connections
//! send them as fast as the server acknowledges, for `--duration` seconds or `--batches` batches
//! per client. Prints one human line and, last, one JSON line with events/s, MB/s and request
//! latency percentiles. See `docs/benchmarks.md` and `bench/ingest.sh`.
//!
//! With `--events flow-logs --metric-filters dashboard|alerting` it measures what 100 metric
//! filters cost ingest over HTTP (`bench/metric-filters.sh`): the events are VPC flow-log lines,
//! the group gets one of the two sets of 100 filters of [`flowwatch_bench::workload`], and the
//! run ends when the filters have been applied to every acknowledged event (CloudWatch's
//! ListMetrics answers once the metric store has caught up), so the rate reported is the rate
//! at which events were both stored and applied.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use flowwatch_bench::workload;
use flowwatch_model::limits::{EVENT_OVERHEAD_BYTES, MAX_BATCH_BYTES, MAX_BATCH_EVENTS};
use flowwatch_model::logs::MetricFilter;
use flowwatch_security::sigv4;
use serde::Serialize;

/// Distinct bodies pre-built per client (cycled), so the data is not one repeated batch.
const BODIES_PER_CLIENT: usize = 4;

#[derive(Debug, Parser)]
#[command(
    name = "ingest-bench",
    about = "PutLogEvents ingest load against a CloudWatch Logs endpoint"
)]
struct Args {
    /// Endpoint URL, e.g. http://127.0.0.1:4580.
    #[arg(long)]
    endpoint: String,
    /// Concurrent clients (one connection and one log stream each).
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Run for this many seconds (default 20 unless --batches is given).
    #[arg(long)]
    duration: Option<f64>,
    /// Send this many batches per client, then stop.
    #[arg(long)]
    batches: Option<u64>,
    /// Message size in bytes.
    #[arg(long, default_value_t = 150)]
    event_bytes: usize,
    /// Events per batch (default: 10,000, or as many as fit in the 1,048,576-byte batch limit).
    #[arg(long)]
    batch_events: Option<usize>,
    /// Log group to create and write to (default: a fresh name).
    #[arg(long)]
    group: Option<String>,
    /// Name of the target, for the summary.
    #[arg(long, default_value = "server")]
    label: String,
    /// Region in the credential scope.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Runtime worker threads of the load generator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// What the events are: access-log-like lines of `--event-bytes`, or VPC flow-log lines
    /// (default format, ~100 bytes; `--event-bytes` is then ignored).
    #[arg(long, value_enum, default_value_t = Events::Access)]
    events: Events,
    /// Sign every request for real with this access key (with `--secret-access-key`), as an
    /// SDK does; without it requests carry a fixed, unverifiable signature (for `--auth off`
    /// servers and moto).
    #[arg(long, env = "AWS_ACCESS_KEY_ID", requires = "secret_access_key")]
    access_key_id: Option<String>,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: Option<String>,
    /// Metric filters to put on the group first (100 each; see `docs/benchmarks.md`); the run
    /// then lasts until they have been applied to every acknowledged event.
    #[arg(long, value_enum, default_value_t = Filters::None)]
    metric_filters: Filters,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Events {
    Access,
    FlowLogs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Filters {
    None,
    /// Dashboard-like: counts and sums per watched port, dimensions (~3.5 samples per event).
    Dashboard,
    /// Alerting-style: each filter matches few events (~1.1 samples per event).
    Alerting,
}

#[derive(Debug, Serialize)]
struct Summary {
    label: String,
    endpoint: String,
    clients: usize,
    batch_events: usize,
    event_bytes: usize,
    requests: u64,
    errors: u64,
    events: u64,
    message_bytes: u64,
    seconds: f64,
    events_per_sec: f64,
    mb_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// How many metric filters the group had.
    metric_filters: usize,
    /// Seconds from the last acknowledgement until the filters had applied every event
    /// (included in `seconds`).
    catch_up_seconds: f64,
}

fn main() {
    if let Err(error) = run_main() {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run_main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.clients >= 1, "--clients must be at least 1");
    anyhow::ensure!(args.event_bytes >= 1, "--event-bytes must be at least 1");
    let event_bytes = match args.events {
        Events::Access => args.event_bytes,
        Events::FlowLogs => workload::FLOW_LINE_MAX_BYTES,
    };
    let fit = MAX_BATCH_BYTES / (event_bytes + EVENT_OVERHEAD_BYTES);
    let batch_events = match args.batch_events {
        Some(n) => n,
        None => fit.min(MAX_BATCH_EVENTS),
    };
    anyhow::ensure!(
        (1..=MAX_BATCH_EVENTS).contains(&batch_events) && batch_events <= fit,
        "--batch-events {batch_events} with --event-bytes {} is over the PutLogEvents limits ({} events, {} bytes incl. {} per event)",
        args.event_bytes,
        MAX_BATCH_EVENTS,
        MAX_BATCH_BYTES,
        EVENT_OVERHEAD_BYTES
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    let summary = runtime.block_on(run(&args, batch_events))?;
    eprintln!(
        "{}: {:.0} events/s, {:.1} MB/s, p50 {:.1} ms, p99 {:.1} ms ({} requests, {} errors, {} clients x {} events of {} B, {:.1} s, {} metric filters, {:.1} s to apply them after the last acknowledgement)",
        summary.label,
        summary.events_per_sec,
        summary.mb_per_sec,
        summary.p50_ms,
        summary.p99_ms,
        summary.requests,
        summary.errors,
        summary.clients,
        summary.batch_events,
        summary.event_bytes,
        summary.seconds,
        summary.metric_filters,
        summary.catch_up_seconds
    );
    println!("{}", serde_json::to_string(&summary)?);
    if summary.errors > 0 {
        bail!("{} requests failed", summary.errors);
    }
    Ok(())
}

async fn run(args: &Args, batch_events: usize) -> anyhow::Result<Summary> {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let group = args
        .group
        .clone()
        .unwrap_or_else(|| format!("ingest-bench-{now_ms}"));
    let setup = Target::new(args)?;
    setup
        .call(
            "CreateLogGroup",
            serde_json::json!({ "logGroupName": group })
                .to_string()
                .into(),
        )
        .await
        .or_else(already_exists)?;
    let filters = match args.metric_filters {
        Filters::None => Vec::new(),
        Filters::Dashboard => workload::vpc_filters(),
        Filters::Alerting => workload::alert_filters(),
    };
    for f in &filters {
        setup
            .call("PutMetricFilter", put_metric_filter_body(&group, f))
            .await?;
    }
    let mut workers = Vec::new();
    for c in 0..args.clients {
        let stream = format!("client-{c}");
        setup
            .call(
                "CreateLogStream",
                serde_json::json!({ "logGroupName": group, "logStreamName": stream })
                    .to_string()
                    .into(),
            )
            .await
            .or_else(already_exists)?;
        let bodies: Vec<(Bytes, u64)> = (0..BODIES_PER_CLIENT)
            .map(|b| {
                let messages = match args.events {
                    Events::Access => access_lines(c, b, batch_events, args.event_bytes),
                    Events::FlowLogs => {
                        workload::flow_lines((c * BODIES_PER_CLIENT + b) as u64, batch_events)
                    }
                };
                build_body(&group, &stream, now_ms, messages)
            })
            .collect();
        workers.push((Target::new(args)?, bodies));
    }
    let duration = match (args.duration, args.batches) {
        (Some(d), _) => Some(Duration::from_secs_f64(d)),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(20)),
    };
    let max_batches = args.batches.unwrap_or(u64::MAX);
    let start = Instant::now();
    let deadline = duration.map(|d| start + d);
    let mut tasks = Vec::new();
    for (target, bodies) in workers {
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut sent = 0u64;
            let mut message_bytes = 0u64;
            while sent < max_batches && deadline.is_none_or(|d| Instant::now() < d) {
                let (body, bytes) = bodies[(sent as usize) % bodies.len()].clone();
                let t = Instant::now();
                match target.call("PutLogEvents", body).await {
                    Ok(_) => {
                        latencies.push(t.elapsed());
                        message_bytes += bytes;
                    }
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("PutLogEvents failed: {e:#}");
                        }
                        errors += 1;
                    }
                }
                sent += 1;
            }
            (latencies, errors, message_bytes)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut message_bytes = 0;
    for task in tasks {
        let (l, e, b) = task.await?;
        latencies.extend(l);
        errors += e;
        message_bytes += b;
    }
    let acknowledged = start.elapsed();
    if !filters.is_empty() {
        setup.wait_for_metrics().await?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let catch_up_seconds = seconds - acknowledged.as_secs_f64();
    latencies.sort();
    let ok = latencies.len() as u64;
    let events = ok * batch_events as u64;
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    Ok(Summary {
        label: args.label.clone(),
        endpoint: args.endpoint.clone(),
        clients: args.clients,
        batch_events,
        event_bytes: message_bytes.checked_div(events).unwrap_or(0) as usize,
        requests: ok + errors,
        errors,
        events,
        message_bytes,
        seconds,
        events_per_sec: events as f64 / seconds,
        mb_per_sec: message_bytes as f64 / seconds / 1e6,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
        metric_filters: filters.len(),
        catch_up_seconds,
    })
}

fn already_exists(e: anyhow::Error) -> anyhow::Result<Bytes> {
    if format!("{e:#}").contains("ResourceAlreadyExistsException") {
        Ok(Bytes::new())
    } else {
        Err(e)
    }
}

/// `n` access-log-like lines of exactly `size` bytes, all different.
fn access_lines(client: usize, body: usize, n: usize, size: usize) -> Vec<String> {
    let mut state = ((client as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ (body as u64 + 1);
    let mut next = move || {
        // xorshift64*: cheap, deterministic variety.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    (0..n)
        .map(|i| {
            let r = next();
            let mut message = format!(
                "10.{}.{}.{} - - \"GET /api/v1/items/{} HTTP/1.1\" {} {} client={client} seq={i} ",
                (r >> 8) & 0xff,
                (r >> 16) & 0xff,
                (r >> 24) & 0xff,
                r % 100_000,
                [200, 200, 200, 404, 500][(r >> 32) as usize % 5],
                (r >> 40) % 50_000
            );
            while message.len() < size {
                let pad = format!("{:016x}", next());
                message.push_str(&pad[..pad.len().min(size - message.len())]);
            }
            message.truncate(size);
            message
        })
        .collect()
}

/// One PutLogEvents body of `messages`, timestamps non-decreasing from `t0`, and the bytes of
/// its messages.
fn build_body(group: &str, stream: &str, t0: i64, messages: Vec<String>) -> (Bytes, u64) {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Event {
        timestamp: i64,
        message: String,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        log_group_name: &'a str,
        log_stream_name: &'a str,
        log_events: Vec<Event>,
    }
    let bytes = messages.iter().map(|m| m.len() as u64).sum();
    let log_events = messages
        .into_iter()
        .enumerate()
        .map(|(i, message)| Event {
            timestamp: t0 + (i / 1000) as i64,
            message,
        })
        .collect();
    let body = Body {
        log_group_name: group,
        log_stream_name: stream,
        log_events,
    };
    let json = serde_json::to_vec(&body).expect("serialising a plain struct cannot fail");
    (Bytes::from(json), bytes)
}

/// PutMetricFilter's request for one of the workload's filters, on `group`.
fn put_metric_filter_body(group: &str, f: &MetricFilter) -> Bytes {
    let transformations: Vec<serde_json::Value> = f
        .metric_transformations
        .iter()
        .map(|t| {
            let mut v = serde_json::json!({
                "metricName": t.metric_name,
                "metricNamespace": t.metric_namespace,
                "metricValue": t.metric_value,
            });
            if let Some(d) = t.default_value {
                v["defaultValue"] = d.into();
            }
            if let Some(dims) = &t.dimensions {
                v["dimensions"] = serde_json::json!(dims);
            }
            v
        })
        .collect();
    serde_json::json!({
        "logGroupName": group,
        "filterName": f.filter_name,
        "filterPattern": f.filter_pattern,
        "metricTransformations": transformations,
    })
    .to_string()
    .into()
}

/// A keep-alive connection to an endpoint, signing its requests for real (with credentials)
/// or with a fixed, well-formed SigV4 header that only servers not verifying accept.
#[derive(Debug)]
struct Target {
    http: reqwest::Client,
    endpoint: String,
    /// The endpoint's `host:port`, as signed.
    host: String,
    region: String,
    credentials: Option<(String, String)>,
    authorization: String,
    /// The same for CloudWatch (SigV4 service `monitoring`).
    monitoring_authorization: String,
    amz_date: String,
}

impl Target {
    fn new(args: &Args) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(300))
            .build()?;
        let (date, time) = utc_now_basic()?;
        let region = &args.region;
        let authorization = |service: &str| {
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIAFLOWWATCHBENCH/{date}/{region}/{service}/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={}",
                "0".repeat(64)
            )
        };
        let host = args
            .endpoint
            .split_once("://")
            .map_or(args.endpoint.as_str(), |(_, rest)| rest)
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            http,
            endpoint: args.endpoint.clone(),
            host,
            region: region.clone(),
            credentials: args
                .access_key_id
                .clone()
                .zip(args.secret_access_key.clone()),
            authorization: authorization("logs"),
            monitoring_authorization: authorization("monitoring"),
            amz_date: format!("{date}T{time}Z"),
        })
    }

    /// The `Authorization` header of a POST to `/` with these headers and body: a real
    /// signature with credentials (every header signed), else the fixed one.
    fn sign(&self, service: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
        let Some((key, secret)) = &self.credentials else {
            return if service == "logs" {
                self.authorization.clone()
            } else {
                self.monitoring_authorization.clone()
            };
        };
        let mut all: Vec<(String, String)> = vec![
            ("host".to_owned(), self.host.clone()),
            ("x-amz-date".to_owned(), self.amz_date.clone()),
        ];
        all.extend(
            headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let hash = sigv4::sha256_hex(body);
        let request = sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &all,
            body_sha256: &hash,
        };
        sigv4::sign(&request, key, secret, &self.region, service)
    }

    /// Waits until CloudWatch's ListMetrics answers: flowwatch answers metric reads once the
    /// metric filters have applied every acknowledged event (and refuses them while that
    /// takes longer than its `observer_wait`, so this retries).
    async fn wait_for_metrics(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let body = r#"{"Namespace":"VPC"}"#;
            let headers = [
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-target", "GraniteServiceVersion20100801.ListMetrics"),
                ("x-amzn-query-mode", "true"),
            ];
            let mut request = self.http.post(&self.endpoint);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request
                .header("x-amz-date", &self.amz_date)
                .header(
                    "authorization",
                    self.sign("monitoring", &headers, body.as_bytes()),
                )
                .body(body)
                .send()
                .await
                .with_context(|| format!("ListMetrics to {}", self.endpoint))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let text = response.text().await.unwrap_or_default();
            if !status.is_server_error() || Instant::now() > deadline {
                bail!("ListMetrics: HTTP {status}: {text}");
            }
            eprintln!("metric filters still applying ({status}), waiting");
        }
    }

    async fn call(&self, operation: &str, body: Bytes) -> anyhow::Result<Bytes> {
        let target = format!("Logs_20140328.{operation}");
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ];
        let authorization = self.sign("logs", &headers, &body);
        let response = self
            .http
            .post(&self.endpoint)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", &target)
            .header("x-amz-date", &self.amz_date)
            .header("authorization", authorization)
            .body(body)
            .send()
            .await
            .with_context(|| format!("{operation} to {}", self.endpoint))?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if !status.is_success() {
            bail!(
                "{operation}: HTTP {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            );
        }
        Ok(bytes)
    }
}

/// Now in UTC as SigV4's basic format: (`YYYYMMDD`, `HHMMSS`).
fn utc_now_basic() -> anyhow::Result<(String, String)> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Ok((
        format!("{year:04}{month:02}{day:02}"),
        format!("{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_valid_batches() {
        let (body, bytes) = build_body("g", "s", 1_700_000_000_000, access_lines(0, 0, 100, 150));
        assert_eq!(bytes, 100 * 150);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let events = json["logEvents"].as_array().unwrap();
        assert_eq!(events.len(), 100);
        let mut last = 0;
        for e in events {
            assert_eq!(e["message"].as_str().unwrap().len(), 150);
            let t = e["timestamp"].as_i64().unwrap();
            assert!(t >= last);
            last = t;
        }
        assert_ne!(events[0]["message"], events[1]["message"]);
    }

    #[test]
    fn flow_log_lines_fit_the_batch_sizing() {
        let lines = workload::flow_lines(3, 10_000);
        assert!(
            lines
                .iter()
                .all(|l| l.len() <= workload::FLOW_LINE_MAX_BYTES)
        );
    }

    #[test]
    fn metric_filter_requests_carry_every_member() {
        let f = &workload::vpc_filters()[0];
        let body: serde_json::Value =
            serde_json::from_slice(&put_metric_filter_body("g", f)).unwrap();
        assert_eq!(body["logGroupName"], "g");
        assert_eq!(body["filterPattern"], f.filter_pattern.as_str());
        assert_eq!(body["metricTransformations"][0]["metricValue"], "1");
        assert_eq!(body["metricTransformations"][0]["defaultValue"], 0.0);
    }
}
