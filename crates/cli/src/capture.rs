//! `flowwatch capture`: traffic to VPC flow-log records, delivered to a log group like AWS
//! delivers them (one stream per interface, `<eni>-all`, one event per record whose timestamp
//! is the record's start). Sources: a pcap/pcapng file, NetFlow v5/v9/IPFIX from routers
//! ([`netflow`]), or live traffic of this host's interfaces with netfilter verdicts from an
//! NFLOG group ([`live`], Linux).

#[cfg(target_os = "linux")]
mod live;
mod netflow;

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use flowwatch_capture::{
    AggregationInterval, Options, Progress, Stats, derive_eni, read_capture_file,
    read_capture_file_into,
};
use flowwatch_flowlog::{FlowRecord, LogFormat, Token};
use flowwatch_model::limits::{
    EVENT_OVERHEAD_BYTES, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_BATCH_SPAN_MS,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::client::{Client, ClientArgs};
use crate::logs::api::{InputLogEvent, PutLogEvents, PutLogEventsOutput};
use crate::logs::put::create;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["pcap", "netflow", "interface"]))]
pub(crate) struct CaptureArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// A pcap or pcapng capture file (tcpdump -w, Wireshark).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Collect NetFlow v5/v9 and IPFIX on this UDP address (e.g. 0.0.0.0:2055) until
    /// interrupted; each exporter's input interface becomes an ENI (derived from the exporter
    /// address and ifIndex).
    #[arg(long, value_name = "ADDR")]
    netflow: Option<std::net::SocketAddr>,
    /// Capture live on this network interface until interrupted (Linux, AF_PACKET; needs
    /// CAP_NET_RAW); repeat for several. Each interface's ENI is derived from this host and
    /// its name, or is --eni when there is one interface.
    #[arg(long, value_name = "NAME")]
    interface: Vec<String>,
    /// With --interface: packets an nftables/iptables rule logs to this NFLOG group (`log group
    /// N` before a drop) are REJECT records for their interface (needs CAP_NET_ADMIN).
    #[arg(long, value_name = "N", requires = "interface")]
    nflog_group: Option<u16>,
    /// Write the records to standard output (in --log-format) instead of delivering them.
    #[arg(long)]
    stdout: bool,
    /// Interface id of the records (pcap, or one --interface); default: the inventory's, else
    /// derived from this host and the file name or interface name.
    #[arg(long)]
    eni: Option<String>,
    /// The inventory (TOML, docs/inventory.md): --interface NAME and NetFlow exporters'
    /// interfaces get the ENI (and account) it lists for them (`name` / `host`, `exporter` /
    /// `if-index`); others keep derived ids.
    #[arg(long, value_name = "FILE", env = "FLOWWATCH_INVENTORY")]
    inventory: Option<PathBuf>,
    /// Account id of the records.
    #[arg(long, env = "FLOWWATCH_ACCOUNT_ID", default_value = "123456789012")]
    account: String,
    /// Aggregation interval in seconds: 60 or 600 (AWS's MaxAggregationInterval).
    #[arg(long, default_value_t = 600)]
    interval: u64,
    /// Log group to deliver to (created if missing).
    #[arg(long, default_value = "vpc-flow-logs")]
    log_group: String,
    /// Record format, `${field}` names as in CreateFlowLogs' --log-format; default: version 2.
    #[arg(long)]
    log_format: Option<String>,
    /// This host's addresses (primary first), for flow-direction and srcaddr/dstaddr.
    #[arg(long = "local-addr")]
    local_addrs: Vec<IpAddr>,
    /// Security-group rules (TOML, see docs/capture.md) deciding ACCEPT or REJECT of the
    /// capture's packets: an evaluation of the rules, not an observed verdict. Needs
    /// --local-addr to tell inbound from outbound.
    #[arg(long, value_name = "FILE", requires = "local_addrs")]
    rules: Option<PathBuf>,
    /// Shift record times so the capture ends now (CloudWatch Logs rejects events older than
    /// 14 days, so old captures need this to be delivered).
    #[arg(long)]
    rebase_time: bool,
    /// Print the records instead of delivering them.
    #[arg(long)]
    dry_run: bool,
    /// Send the records to the server's flow logs (PutFlowRecords: each flow log covering the
    /// interface keeps, formats and delivers them) instead of to --log-group.
    #[arg(long, conflicts_with_all = ["log_group", "log_format"])]
    flow_logs: bool,
}

/// Runs `flowwatch capture`.
pub(crate) fn run(args: CaptureArgs) -> anyhow::Result<()> {
    let format = match &args.log_format {
        Some(f) => LogFormat::parse(f).with_context(|| format!("invalid --log-format {f:?}"))?,
        None => LogFormat::default(),
    };
    let interval = AggregationInterval::from_secs(args.interval)
        .with_context(|| format!("--interval must be 60 or 600, not {}", args.interval))?;
    if let Some(addr) = args.netflow {
        let account = Token::new(&args.account)
            .with_context(|| format!("invalid --account {:?}", args.account))?;
        let version = record_version(&args, &format);
        return netflow::run(
            netflow::bind(addr)?,
            interval,
            account,
            version,
            format,
            Sink::from_args(&args)?,
            inventory(&args)?,
        );
    }
    if !args.interface.is_empty() {
        return run_live(&args, interval, format);
    }
    let Some(pcap) = args.pcap.clone() else {
        anyhow::bail!("give --pcap FILE, --netflow ADDR or --interface NAME");
    };
    let eni = args.eni.clone().unwrap_or_else(|| {
        let host = host_name();
        let name = pcap
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        derive_eni(&host, &name)
    });
    let mut options = Options::new(
        Token::new(&eni).with_context(|| format!("invalid --eni {eni:?}"))?,
        Token::new(&args.account)
            .with_context(|| format!("invalid --account {:?}", args.account))?,
    );
    options.interval = interval;
    options.local_addrs = args.local_addrs.clone();
    if let Some(path) = &args.rules {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the rules file {}", path.display()))?;
        options.rules = Some(
            flowwatch_capture::SecurityGroup::parse(&text)
                .with_context(|| format!("in {}", path.display()))?,
        );
    }
    options.version = record_version(&args, &format);

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} reading {msg} [{bar:30}] {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(pcap.display().to_string());
    let mut on_progress = |p: Progress| {
        if let Some(total) = p.total {
            bar.set_length(total);
        }
        bar.set_position(p.bytes_read);
    };
    if (args.dry_run || args.stdout) && !args.rebase_time {
        // Written as windows close: memory stays bounded however long the capture is. A
        // window's records start within it, so sorting each batch by start sorts them all.
        let mut lines = Lines::new(&format);
        let mut written = 0;
        let summary = read_capture_file_into(&pcap, &options, &mut on_progress, &mut |batch| {
            batch.sort_by_key(|r| r.start.unwrap_or(0));
            written += batch.len();
            lines.write(batch)
        })
        .with_context(|| format!("reading {}", pcap.display()))?;
        bar.finish_and_clear();
        report(&pcap, &summary.stats, written, &eni);
        return lines.finish();
    }
    let capture = read_capture_file(&pcap, &options, &mut on_progress)
        .with_context(|| format!("reading {}", pcap.display()))?;
    bar.finish_and_clear();
    let mut records = capture.records;
    records.sort_by_key(|r| r.start.unwrap_or(0));
    if args.rebase_time {
        rebase(&mut records);
    }
    report(&pcap, &capture.stats, records.len(), &eni);
    if args.dry_run || args.stdout {
        return write_lines(&records, &format);
    }
    let lines: Vec<(i64, String)> = records
        .iter()
        .map(|r| (r.start.unwrap_or(0) as i64 * 1000, format.encode(r)))
        .collect();
    if args.flow_logs && !(args.dry_run || args.stdout) {
        let client = Client::from_args(&args.client)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the runtime")?;
        return runtime.block_on(put_flow_records(To::Client(&client), &eni, &records));
    }
    let stream = format!("{eni}-all");
    let client = Client::from_args(&args.client)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(deliver(&client, &args.log_group, &stream, &lines))
}

/// This host's name, for derived ENI ids.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The `--inventory`, read and checked.
fn inventory(args: &CaptureArgs) -> anyhow::Result<Option<flowwatch_engine::flow_logs::Inventory>> {
    args.inventory
        .as_deref()
        .map(crate::config::load_inventory)
        .transpose()
}

/// `capture --interface`.
#[cfg(target_os = "linux")]
fn run_live(
    args: &CaptureArgs,
    interval: AggregationInterval,
    format: LogFormat,
) -> anyhow::Result<()> {
    if args.eni.is_some() && args.interface.len() > 1 {
        anyhow::bail!("--eni names one interface; derived ids are used for several");
    }
    if args.rules.is_some() {
        anyhow::bail!(
            "--rules is for captures without verdicts; use --nflog-group for live capture"
        );
    }
    let account = Token::new(&args.account)
        .with_context(|| format!("invalid --account {:?}", args.account))?;
    let inventory = inventory(args)?;
    let config = live_config(
        &args.interface,
        args.eni.as_deref(),
        &account,
        inventory.as_ref(),
        &args.local_addrs,
        args.nflog_group,
        interval,
        record_version(args, &format),
    )?;
    live::run(config, format, Sink::from_args(args)?)
}

/// What to capture live on the interfaces `names`: each one's ENI is `eni` (one interface),
/// the inventory's for this host, or derived from this host and its name.
#[cfg(target_os = "linux")]
#[expect(clippy::too_many_arguments, reason = "the flags of two commands")]
pub(crate) fn live_config(
    names: &[String],
    eni: Option<&str>,
    account: &Token,
    inventory: Option<&flowwatch_engine::flow_logs::Inventory>,
    local_addrs: &[IpAddr],
    nflog_group: Option<u16>,
    interval: AggregationInterval,
    version: u8,
) -> anyhow::Result<flowwatch_capture::LiveConfig> {
    use flowwatch_capture::{LiveConfig, LiveInterface, TableConfig};
    let host = host_name();
    let mut interfaces = Vec::new();
    for name in names {
        let listed = inventory.and_then(|i| i.by_name(&host, name));
        let eni = match (eni, listed) {
            (Some(eni), _) => eni.to_owned(),
            (None, Some(i)) => i.eni.clone(),
            (None, None) => derive_eni(&host, name),
        };
        let owner = match listed.and_then(|i| i.account.as_deref()) {
            Some(a) => Token::new(a).with_context(|| format!("invalid account {a:?}"))?,
            None => account.clone(),
        };
        eprintln!("{name}: {eni}");
        interfaces.push(LiveInterface {
            name: name.clone(),
            eni: Token::new(&eni).with_context(|| format!("invalid --eni {eni:?}"))?,
            account: owner,
            local_addrs: local_addrs.to_vec(),
        });
    }
    Ok(LiveConfig {
        interfaces,
        nflog_group,
        table: TableConfig {
            interval,
            version,
            ..TableConfig::default()
        },
        nodata: true,
    })
}

/// Captures that run inside `flowwatch serve` (`--netflow`, `--capture-interface`): each on
/// its own thread, delivering to the server's flow logs, stopping at SIGINT/SIGTERM after
/// delivering its open windows. Join the threads before the engine shuts down.
pub(crate) struct InServer {
    pub(crate) netflow: Option<std::net::SocketAddr>,
    pub(crate) interfaces: Vec<String>,
    pub(crate) nflog_group: Option<u16>,
    pub(crate) interval: u64,
    pub(crate) inventory: Option<flowwatch_engine::flow_logs::Inventory>,
}

impl InServer {
    /// Starts the captures; their threads.
    pub(crate) fn start(
        self,
        local: InProcess,
    ) -> anyhow::Result<Vec<std::thread::JoinHandle<()>>> {
        let interval = AggregationInterval::from_secs(self.interval)
            .map_err(|e| anyhow::anyhow!("--capture-interval: {e}"))?;
        let format = flowwatch_engine::flow_logs::full_format();
        let account = Token::new(&local.account)
            .with_context(|| format!("invalid account {:?}", local.account))?;
        let mut threads = Vec::new();
        if let Some(addr) = self.netflow {
            // Bound now: an address in use fails the start, and no export is lost before the
            // thread runs.
            let socket = netflow::bind(addr)?;
            let (format, account) = (format.clone(), account.clone());
            let (sink, inventory) = (Sink::Engine(local.clone()), self.inventory.clone());
            threads.push(spawn("netflow", move || {
                netflow::run(
                    socket,
                    interval,
                    account,
                    format.version(),
                    format,
                    sink,
                    inventory,
                )
            })?);
        }
        if !self.interfaces.is_empty() {
            #[cfg(target_os = "linux")]
            {
                let config = live_config(
                    &self.interfaces,
                    None,
                    &account,
                    self.inventory.as_ref(),
                    &[],
                    self.nflog_group,
                    interval,
                    format.version(),
                )?;
                let sink = Sink::Engine(local);
                threads.push(spawn("live-capture", move || {
                    live::run(config, format, sink)
                })?);
            }
            #[cfg(not(target_os = "linux"))]
            anyhow::bail!("live capture (--capture-interface) needs Linux");
        }
        Ok(threads)
    }
}

fn spawn(
    name: &str,
    f: impl FnOnce() -> anyhow::Result<()> + Send + 'static,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let label = name.to_owned();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if let Err(error) = f() {
                tracing::error!(capture = %label, error = %format!("{error:#}"), "capture stopped");
                eprintln!("error: {label}: {error:#}");
            }
        })
        .with_context(|| format!("starting the {name} thread"))
}

#[cfg(not(target_os = "linux"))]
fn run_live(_: &CaptureArgs, _: AggregationInterval, _: LogFormat) -> anyhow::Result<()> {
    anyhow::bail!("live capture (--interface) needs Linux")
}

/// Where the records of a running capture (`--netflow`, `--interface`) go.
pub(crate) enum Sink {
    /// Printed, one line per record in the output format.
    Stdout,
    /// Delivered to `<eni>-all` in a log group, in the output format.
    Group { client: Client, group: String },
    /// Sent with PutFlowRecords to the flow logs that cover the interface.
    FlowLogs { client: Client },
    /// Handed to the flow logs of the server in this process (`serve --netflow`,
    /// `serve --capture-interface`): PutFlowRecords run on the server's runtime.
    Engine(InProcess),
}

/// The server's engine, for captures that run inside `flowwatch serve`.
#[derive(Clone)]
pub(crate) struct InProcess {
    pub(crate) engine: flowwatch_engine::Engine,
    /// The server's runtime (the engine's tasks live there).
    pub(crate) runtime: tokio::runtime::Handle,
    /// The account the records are delivered for.
    pub(crate) account: String,
}

impl InProcess {
    async fn put(
        &self,
        input: flowwatch_model::flow_records::PutFlowRecordsInput,
    ) -> anyhow::Result<flowwatch_model::flow_records::PutFlowRecordsOutput> {
        let engine = self.engine.clone();
        let caller = flowwatch_model::Caller {
            scope: flowwatch_model::Scope {
                account: self.account.clone(),
                region: flowwatch_model::caller::DEFAULT_REGION.into(),
            },
            access_key_id: String::new(),
            principal_arn: format!("arn:aws:iam::{}:root", self.account),
            request_id: String::new(),
        };
        let answer = self
            .runtime
            .spawn(async move { engine.put_flow_records(&caller, input).await })
            .await
            .context("the server stopped")?;
        answer.map_err(|e| anyhow::anyhow!("PutFlowRecords: {}: {}", e.code.name(), e.message))
    }
}

impl Sink {
    /// The sink the flags choose.
    fn from_args(args: &CaptureArgs) -> anyhow::Result<Self> {
        Ok(if args.stdout || args.dry_run {
            Self::Stdout
        } else if args.flow_logs {
            Self::FlowLogs {
                client: Client::from_args(&args.client)?,
            }
        } else {
            Self::Group {
                client: Client::from_args(&args.client)?,
                group: args.log_group.clone(),
            }
        })
    }

    /// Sends the records of interface `eni` on (sorted by start), formatted with `format`
    /// unless they go to flow logs (which format them themselves).
    pub(crate) async fn send(
        &self,
        eni: &str,
        records: &mut [FlowRecord],
        format: &LogFormat,
    ) -> anyhow::Result<()> {
        records.sort_by_key(|r| r.start.unwrap_or(0));
        match self {
            Self::Stdout => write_lines(records, format),
            Self::Group { client, group } => {
                let lines: Vec<(i64, String)> = records
                    .iter()
                    .map(|r| (r.start.unwrap_or(0) as i64 * 1000, format.encode(r)))
                    .collect();
                deliver(client, group, &format!("{eni}-all"), &lines).await
            }
            Self::FlowLogs { client } => put_flow_records(To::Client(client), eni, records).await,
            Self::Engine(local) => put_flow_records(To::Engine(local), eni, records).await,
        }
    }
}

/// The version of the records a capture makes: every field when they go to flow logs, else
/// what the output format needs.
fn record_version(args: &CaptureArgs, format: &LogFormat) -> u8 {
    if args.flow_logs {
        flowwatch_engine::flow_logs::full_format().version()
    } else {
        format.version()
    }
}

/// Records per PutFlowRecords call.
const FLOW_RECORDS_BATCH: usize = 1000;

/// Where PutFlowRecords goes.
#[derive(Clone, Copy)]
enum To<'a> {
    Client(&'a Client),
    Engine(&'a InProcess),
}

/// Sends the records (every VPC field) to the server's flow logs.
async fn put_flow_records(to: To<'_>, eni: &str, records: &[FlowRecord]) -> anyhow::Result<()> {
    use flowwatch_model::flow_records::{PutFlowRecordsInput, PutFlowRecordsOutput};
    let format = flowwatch_engine::flow_logs::full_format();
    let mut delivered = 0;
    let mut flow_logs = Vec::new();
    for batch in records.chunks(FLOW_RECORDS_BATCH) {
        let input = PutFlowRecordsInput {
            interface_id: Some(eni.to_owned()),
            format: Some(format.to_string()),
            records: Some(batch.iter().map(|r| format.encode(r)).collect()),
        };
        let out: PutFlowRecordsOutput = match to {
            To::Client(client) => client.call_flowwatch("PutFlowRecords", &input).await?,
            To::Engine(local) => local.put(input).await?,
        };
        delivered += out.delivered;
        flow_logs = out.flow_log_ids;
    }
    if flow_logs.is_empty() {
        eprintln!("warning: no flow log covers {eni}; the records were dropped");
    } else {
        eprintln!(
            "sent {} records of {eni} to flow logs {} ({delivered} deliveries)",
            records.len(),
            flow_logs.join(", ")
        );
    }
    Ok(())
}

/// Writes the records to standard output, one line each, through one buffer (not a write per
/// line: a capture file makes tens of thousands of records).
fn write_lines(records: &[FlowRecord], format: &LogFormat) -> anyhow::Result<()> {
    let mut lines = Lines::new(format);
    lines.write(records)?;
    lines.finish()
}

/// Records as lines on standard output, through one buffer.
struct Lines<'f> {
    format: &'f LogFormat,
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    line: String,
}

impl<'f> Lines<'f> {
    fn new(format: &'f LogFormat) -> Self {
        Self {
            format,
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
            line: String::new(),
        }
    }

    fn write(&mut self, records: &[FlowRecord]) -> std::io::Result<()> {
        use std::io::Write;
        for r in records {
            self.line.clear();
            self.format.encode_into(r, &mut self.line);
            self.line.push('\n');
            self.out.write_all(self.line.as_bytes())?;
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        use std::io::Write;
        self.out.flush()?;
        Ok(())
    }
}

/// The counts of a capture file read, on standard error.
fn report(pcap: &std::path::Path, stats: &Stats, records: usize, eni: &str) {
    eprintln!(
        "{}: {} frames, {} packets, {} bytes -> {records} records for {eni} ({} not IP, {} undecodable, {} not logged by AWS rules, {} dropped)",
        pcap.display(),
        stats.frames,
        stats.packets,
        stats.bytes,
        stats.not_ip,
        stats.undecodable,
        stats.not_logged,
        stats.dropped_packets
    );
}

/// Shifts every record so the last one ends now.
fn rebase(records: &mut [FlowRecord]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let Some(last) = records.iter().filter_map(|r| r.end).max() else {
        return;
    };
    let shift = now.saturating_sub(last);
    for r in records {
        r.start = r.start.map(|t| t + shift);
        r.end = r.end.map(|t| t + shift);
    }
}

/// Puts the lines (sorted by time) in batches within PutLogEvents' limits.
pub(crate) async fn deliver(
    client: &Client,
    group: &str,
    stream: &str,
    lines: &[(i64, String)],
) -> anyhow::Result<()> {
    create(client, group, stream).await?;
    let mut start = 0;
    let mut delivered = 0usize;
    let mut rejected = 0usize;
    while start < lines.len() {
        let first_ts = lines[start].0;
        let mut end = start;
        let mut bytes = 0;
        while end < lines.len()
            && end - start < MAX_BATCH_EVENTS
            && bytes + lines[end].1.len() + EVENT_OVERHEAD_BYTES <= MAX_BATCH_BYTES
            && lines[end].0 - first_ts <= MAX_BATCH_SPAN_MS
        {
            bytes += lines[end].1.len() + EVENT_OVERHEAD_BYTES;
            end += 1;
        }
        let events: Vec<InputLogEvent<'_>> = lines[start..end]
            .iter()
            .map(|(timestamp, message)| InputLogEvent {
                timestamp: *timestamp,
                message,
            })
            .collect();
        let out: PutLogEventsOutput = client
            .call(
                "PutLogEvents",
                &PutLogEvents {
                    log_group_name: group,
                    log_stream_name: stream,
                    log_events: &events,
                },
            )
            .await?;
        let n = events.len();
        let refused = out.rejected_log_events_info.map_or(0, |info| {
            info.too_old_log_event_end_index
                .unwrap_or(0)
                .max(info.expired_log_event_end_index.unwrap_or(0))
                + info
                    .too_new_log_event_start_index
                    .map_or(0, |i| n.saturating_sub(i))
        });
        rejected += refused;
        delivered += n - refused;
        start = end;
    }
    eprintln!("delivered {delivered} records to {group}/{stream}");
    if rejected > 0 {
        eprintln!(
            "warning: {rejected} records were rejected as too old or too new for CloudWatch Logs; \
             pass --rebase-time to deliver an old capture as if it ended now"
        );
    }
    Ok(())
}
