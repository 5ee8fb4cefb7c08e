//! `flowwatch generate`: realistic synthetic VPC flow logs, seeded and deterministic, for demos
//! and benchmarks.
//!
//! The model: `--interfaces` ENIs in one VPC, each with a private address `10.0.<n>.<m>`.
//! Each aggregation window, every interface gets flows from a skewed population of talkers
//! (Zipf-like: a few remote addresses make most of the traffic) to its services (HTTPS mostly,
//! HTTP, DNS, NTP, SSH from the admin network) and its own egress (HTTPS, DNS to the resolver);
//! a few scanners hit 22, 3389 and 23 and are rejected (one SYN, 40 or 44 bytes); idle
//! interfaces write NODATA and, rarely, a window is SKIPDATA. The same seed and options
//! (`--start` included) give the same lines, byte for byte.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use flowwatch_flowlog::{
    Action, FlowDirection, FlowRecord, FlowType, LogFormat, LogStatus, TcpFlags, Token,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::client::{Client, ClientArgs};

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// How many records to write.
    #[arg(long, default_value_t = 10_000)]
    count: u64,
    /// Seed of the generator: the same seed gives the same records.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Network interfaces (ENIs) the records are spread over.
    #[arg(long, default_value_t = 8)]
    interfaces: u32,
    /// Unix seconds of the first window; default: so that the records end about now. With it,
    /// the output depends only on the options: the same seed gives the same lines.
    #[arg(long)]
    start: Option<u64>,
    /// Aggregation interval in seconds (60 or 600).
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// Record format (`${field}` names); default: version 2.
    #[arg(long)]
    log_format: Option<String>,
    /// Account id of the records.
    #[arg(long, default_value = "123456789012")]
    account: String,
    /// Write to this file (`-`: standard output) instead of delivering to a server.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Log group to deliver to (created if missing), one stream `<eni>-all` per interface.
    #[arg(long, default_value = "vpc-flow-logs")]
    log_group: String,
}

/// One interface of the model.
struct Eni {
    id: Token,
    addr: Ipv4Addr,
}

/// The deterministic record source.
pub(crate) struct Generator {
    rng: StdRng,
    account: Token,
    enis: Vec<Eni>,
    interval: u64,
    window: u64,
    /// Records of the current window not yet returned.
    pending: Vec<FlowRecord>,
}

/// Remote addresses of the talkers: documentation and carrier ranges, rank 0 the busiest.
fn talker(rank: u32) -> Ipv4Addr {
    let base = [[198, 51, 100], [203, 0, 113], [192, 0, 2], [100, 64, 7]];
    let b = base[(rank % 4) as usize];
    Ipv4Addr::new(b[0], b[1], b[2], 1 + (rank / 4 % 250) as u8)
}

impl Generator {
    pub(crate) fn new(
        seed: u64,
        interfaces: u32,
        account: Token,
        interval: u64,
        start: u64,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let enis = (0..interfaces.max(1))
            .map(|i| {
                let id = format!("eni-{:017x}", rng.random::<u64>() & 0x0fff_ffff_ffff_ffff);
                Eni {
                    id: Token::new(&id).unwrap_or_else(|_| unreachable_token()),
                    addr: Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250 + 4) as u8),
                }
            })
            .collect();
        Self {
            rng,
            account,
            enis,
            interval,
            window: start - start % interval,
            pending: Vec::new(),
        }
    }

    /// A skewed rank in `0..n`: rank r with weight ~ 1/(r+1).
    fn skewed(&mut self, n: u32) -> u32 {
        let u: f64 = self.rng.random();
        ((n as f64 + 1.0).powf(u) - 1.0).floor() as u32 % n.max(1)
    }

    fn record(&mut self, eni: usize, flow: Flow) -> FlowRecord {
        let e = &self.enis[eni];
        let start = self.window + self.rng.random_range(0..self.interval / 2);
        let end = (start + self.rng.random_range(0..self.interval / 2))
            .min(self.window + self.interval - 1);
        let (src, dst, direction) = if flow.inbound {
            (flow.remote, IpAddr::V4(e.addr), FlowDirection::Ingress)
        } else {
            (IpAddr::V4(e.addr), flow.remote, FlowDirection::Egress)
        };
        FlowRecord {
            version: Some(2),
            account_id: Some(self.account.clone()),
            interface_id: Some(e.id.clone()),
            srcaddr: Some(src),
            dstaddr: Some(dst),
            srcport: Some(flow.src_port),
            dstport: Some(flow.dst_port),
            protocol: Some(flow.protocol),
            packets: Some(flow.packets),
            bytes: Some(flow.bytes),
            start: Some(start),
            end: Some(end),
            action: Some(flow.action),
            log_status: Some(LogStatus::Ok),
            tcp_flags: Some(TcpFlags(flow.tcp_flags)),
            flow_type: Some(FlowType::Ipv4),
            pkt_srcaddr: Some(src),
            pkt_dstaddr: Some(dst),
            flow_direction: Some(direction),
            ..FlowRecord::default()
        }
    }

    fn status_record(&self, eni: usize, status: LogStatus) -> FlowRecord {
        FlowRecord {
            version: Some(2),
            account_id: Some(self.account.clone()),
            interface_id: Some(self.enis[eni].id.clone()),
            start: Some(self.window),
            end: Some(self.window + self.interval),
            log_status: Some(status),
            ..FlowRecord::default()
        }
    }

    /// Fills `pending` with one window of every interface, then moves to the next window.
    fn next_window(&mut self) {
        for eni in 0..self.enis.len() {
            let roll: f64 = self.rng.random();
            if roll < 0.02 {
                self.pending
                    .push(self.status_record(eni, LogStatus::NoData));
                continue;
            }
            if roll < 0.025 {
                self.pending
                    .push(self.status_record(eni, LogStatus::SkipData));
                continue;
            }
            let flows = self.rng.random_range(5..40);
            for _ in 0..flows {
                let flow = self.flow();
                let r = self.record(eni, flow);
                self.pending.push(r);
            }
        }
        self.window += self.interval;
        // Out in reverse so `pop` returns them in generation order.
        self.pending.reverse();
    }

    fn flow(&mut self) -> Flow {
        let kind: f64 = self.rng.random();
        let ephemeral = self.rng.random_range(32768..61000);
        let rank = self.skewed(1000);
        if kind < 0.06 {
            // A scanner: one SYN to an admin port, rejected.
            let port = [22, 3389, 23, 445][self.rng.random_range(0..4)];
            let remote = IpAddr::V4(Ipv4Addr::new(
                185,
                self.rng.random_range(1..255),
                self.rng.random_range(0..255),
                self.rng.random_range(1..255),
            ));
            return Flow {
                remote,
                inbound: true,
                src_port: ephemeral,
                dst_port: port,
                protocol: 6,
                packets: 1,
                bytes: if self.rng.random_bool(0.5) { 40 } else { 44 },
                action: Action::Reject,
                tcp_flags: 2,
            };
        }
        let remote = IpAddr::V4(talker(rank));
        let (inbound, dst_port, protocol) = match kind {
            k if k < 0.60 => (true, 443, 6),
            k if k < 0.70 => (true, 80, 6),
            k if k < 0.75 => (true, 22, 6),
            k if k < 0.88 => (false, 443, 6),
            k if k < 0.96 => (false, 53, 17),
            _ => (false, 123, 17),
        };
        let packets = 1 + u64::from(self.skewed(2000));
        let size = if protocol == 17 {
            76
        } else {
            self.rng.random_range(52..1500)
        };
        let tcp_flags = if protocol == 6 {
            [3, 19, 18, 2, 27][self.rng.random_range(0..5)]
        } else {
            0
        };
        Flow {
            remote,
            inbound,
            src_port: ephemeral,
            dst_port,
            protocol,
            packets,
            bytes: packets * size,
            action: Action::Accept,
            tcp_flags,
        }
    }
}

impl Iterator for Generator {
    type Item = FlowRecord;

    fn next(&mut self) -> Option<FlowRecord> {
        if self.pending.is_empty() {
            self.next_window();
        }
        self.pending.pop()
    }
}

fn unreachable_token() -> Token {
    // `eni-` + 17 hex digits is always a valid token; this is never reached.
    Token::new("eni-00000000000000000").unwrap_or_else(|_| std::process::abort())
}

struct Flow {
    remote: IpAddr,
    inbound: bool,
    src_port: u16,
    dst_port: u16,
    protocol: u8,
    packets: u64,
    bytes: u64,
    action: Action,
    tcp_flags: u8,
}

/// Runs `flowwatch generate`.
pub(crate) fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let format = match &args.log_format {
        Some(f) => LogFormat::parse(f).with_context(|| format!("invalid --log-format {f:?}"))?,
        None => LogFormat::default(),
    };
    anyhow::ensure!(
        args.interval == 60 || args.interval == 600,
        "--interval must be 60 or 600, not {}",
        args.interval
    );
    let account = Token::new(&args.account)
        .with_context(|| format!("invalid --account {:?}", args.account))?;
    // About 20 records per interface and window: end near now unless told otherwise.
    let windows = args.count / (20 * u64::from(args.interfaces.max(1))) + 1;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let start = args
        .start
        .unwrap_or_else(|| now.saturating_sub(windows * args.interval));
    let generator = Generator::new(args.seed, args.interfaces, account, args.interval, start);
    let records = generator.take(usize::try_from(args.count).unwrap_or(usize::MAX));
    match &args.out {
        Some(path) => {
            let sink: Box<dyn Write> = if path.as_os_str() == "-" {
                Box::new(std::io::stdout().lock())
            } else {
                Box::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?,
                )
            };
            let mut out = std::io::BufWriter::with_capacity(1 << 20, sink);
            for r in records {
                writeln!(out, "{}", format.encode(&r))?;
            }
            out.flush()?;
            Ok(())
        }
        None => {
            let mut by_eni: std::collections::BTreeMap<String, Vec<(i64, String)>> =
                Default::default();
            for r in records {
                let eni = r
                    .interface_id
                    .as_ref()
                    .map_or_else(String::new, |t| t.as_str().to_owned());
                by_eni
                    .entry(eni)
                    .or_default()
                    .push((r.start.unwrap_or(0) as i64 * 1000, format.encode(&r)));
            }
            let client = Client::from_args(&args.client)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the runtime")?;
            runtime.block_on(async {
                for (eni, mut lines) in by_eni {
                    lines.sort_by_key(|(t, _)| *t);
                    crate::capture::deliver(
                        &client,
                        &args.log_group,
                        &format!("{eni}-all"),
                        &lines,
                    )
                    .await?;
                }
                anyhow::Ok(())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(seed: u64, n: usize) -> Vec<String> {
        let account = Token::new("123456789012").unwrap();
        Generator::new(seed, 4, account, 60, 1_700_000_000)
            .take(n)
            .map(|r| LogFormat::default().encode(&r))
            .collect()
    }

    #[test]
    fn same_seed_same_records_and_every_line_parses() {
        let a = lines(7, 2000);
        assert_eq!(a, lines(7, 2000));
        assert_ne!(a, lines(8, 2000));
        let format = LogFormat::default();
        for line in &a {
            format.decode(line).unwrap();
        }
        // Scanners are rejected SSH/RDP/telnet/SMB attempts with one SYN.
        let rejects: Vec<&String> = a.iter().filter(|l| l.contains(" REJECT ")).collect();
        assert!(!rejects.is_empty());
        for r in rejects {
            let f: Vec<&str> = r.split(' ').collect();
            assert!(["22", "3389", "23", "445"].contains(&f[6]), "{r}");
            assert_eq!(f[8], "1");
        }
        assert!(a.iter().any(|l| l.ends_with("NODATA")));
    }
}
