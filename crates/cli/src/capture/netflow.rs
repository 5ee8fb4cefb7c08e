//! `flowwatch capture --netflow ADDR`: a NetFlow v5/v9/IPFIX collector. Each (exporter,
//! input ifIndex) is an interface with an ENI derived from both (`derive_eni`), aggregated in
//! its own flow table; every second the windows that have ended are closed and their records
//! delivered (or printed), so records arrive within a second or two of their interval closing.
//! SIGINT/SIGTERM close every open window and deliver it before exiting.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use flowwatch_capture::netflow::Decoder;
use flowwatch_capture::{AggregationInterval, FlowTable, Interface, TableConfig, derive_eni};
use flowwatch_engine::flow_logs::Inventory;
use flowwatch_flowlog::{Action, FlowRecord, LogFormat, Token};

use super::Sink;

/// One interface of one exporter.
struct Exported {
    eni: String,
    table: FlowTable,
}

/// The collector's socket on `addr`.
pub(crate) fn bind(addr: SocketAddr) -> anyhow::Result<std::net::UdpSocket> {
    std::net::UdpSocket::bind(addr).with_context(|| format!("listening for NetFlow on udp {addr}"))
}

/// Collects until interrupted.
pub(crate) fn run(
    socket: std::net::UdpSocket,
    interval: AggregationInterval,
    account: Token,
    version: u8,
    format: LogFormat,
    sink: Sink,
    inventory: Option<Inventory>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(collect(
        socket, interval, account, version, format, sink, inventory,
    ))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn collect(
    socket: std::net::UdpSocket,
    interval: AggregationInterval,
    account: Token,
    version: u8,
    format: LogFormat,
    sink: Sink,
    inventory: Option<Inventory>,
) -> anyhow::Result<()> {
    let mut stop = std::pin::pin!(crate::serve::shutdown_signal());
    socket
        .set_nonblocking(true)
        .context("a non-blocking NetFlow socket")?;
    let socket = tokio::net::UdpSocket::from_std(socket).context("the NetFlow socket")?;
    eprintln!(
        "collecting NetFlow v5/v9/IPFIX on udp {}",
        socket.local_addr()?
    );
    let mut decoder = Decoder::new();
    let mut interfaces: HashMap<(IpAddr, u32), Exported> = HashMap::new();
    let config = TableConfig {
        interval,
        version,
        ..TableConfig::default()
    };
    let mut samples = Vec::new();
    let mut buf = vec![0u8; 65_535];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let (n, from) = received.context("receiving NetFlow")?;
                samples.clear();
                if let Err(error) = decoder.decode(from.ip(), &buf[..n], &mut samples) {
                    eprintln!("warning: export packet from {from}: {error}");
                }
                for s in &samples {
                    let ifindex = s.input_if.unwrap_or(0);
                    let exported = match interfaces.entry((from.ip(), ifindex)) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(v) => {
                            // The inventory's ENI for this exporter's interface, else a derived one.
                            let listed = inventory.as_ref().and_then(|i| i.by_exporter(from.ip(), ifindex));
                            let eni = listed.map_or_else(
                                || derive_eni(&from.ip().to_string(), &format!("ifindex-{ifindex}")),
                                |i| i.eni.clone(),
                            );
                            let owner = match listed.and_then(|i| i.account.as_deref()) {
                                Some(a) => Token::new(a)?,
                                None => account.clone(),
                            };
                            let iface = Interface::new(Token::new(&eni)?, owner);
                            v.insert(Exported { table: FlowTable::new(config.clone(), vec![iface])?, eni })
                        }
                    };
                    exported
                        .table
                        .observe_flow(0, &s.packet_info(), s.packets, s.end, Action::Accept)?;
                }
            }
            _ = tick.tick() => {
                let now = now_secs();
                emit(&mut interfaces, &format, &sink, |t, out| t.advance(now, out)).await?;
            }
            () = &mut stop => {
                emit(&mut interfaces, &format, &sink, |t, out| t.finish(out)).await?;
                let stats = decoder.stats();
                eprintln!(
                    "stopped: {} export packets, {} flows, {} templates, {} records of unknown templates, {} errors",
                    stats.packets, stats.flows, stats.templates, stats.unknown_template, stats.errors
                );
                return Ok(());
            }
        }
    }
}

/// Closes windows with `close` and sends their records on.
async fn emit(
    interfaces: &mut HashMap<(IpAddr, u32), Exported>,
    format: &LogFormat,
    sink: &Sink,
    close: impl Fn(&mut FlowTable, &mut Vec<FlowRecord>),
) -> anyhow::Result<()> {
    for exported in interfaces.values_mut() {
        let mut records = Vec::new();
        close(&mut exported.table, &mut records);
        if records.is_empty() {
            continue;
        }
        if let Err(error) = sink.send(&exported.eni, &mut records, format).await {
            // The collector goes on; the records of this window are reported lost.
            eprintln!(
                "error: {} records of {} not delivered: {error:#}",
                records.len(),
                exported.eni
            );
        }
    }
    Ok(())
}
