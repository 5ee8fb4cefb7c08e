//! Live capture on Linux: an `AF_PACKET` socket per interface and, optionally, an nfnetlink_log
//! socket bound to an NFLOG group, feeding one [`FlowTable`] (one table interface per captured
//! interface, in the order given).
//!
//! - Frames are read from a `TPACKET_V3` ring per socket (`PACKET_RX_RING`, see `ring.rs`: no
//!   system call per frame) and counted as ACCEPT at the time the kernel received them (its
//!   timestamp). Where the ring cannot be set up (an old kernel, no mmap), or when the
//!   environment variable `FLOWWATCH_CAPTURE_RING` is `off`, they are read with `recvfrom` (a
//!   large socket buffer), one call per frame, and timestamped when read; a ring that fails
//!   says so in one line on standard error. A ring hands over a part-filled block after
//!   100 ms, so a frame is read at most about that long after it arrived, plus the wait of
//!   the poll; one whose window was closed meanwhile is counted in the oldest open window
//!   (the table's late packets), where the read time would have put it too.
//! - `PACKET_OUTGOING` frames have the interface's address as source, `PACKET_HOST` frames as
//!   destination ([`Seen`]); the interface's addresses (`getifaddrs`, primary first) are its
//!   `local_addrs`, completed by what those frames show.
//! - Packets the kernel dropped before we read them (`PACKET_STATISTICS` `tp_drops`, checked on
//!   every [`LiveCapture::poll`]) make the interface's current window SKIPDATA, as does a
//!   netlink overrun (`ENOBUFS`) for every interface.
//! - Packets logged to the NFLOG group are REJECT for the interface they came in on (or, when
//!   that one is not captured, went out on); packets of other interfaces are counted in
//!   [`LiveStats::nflog_other`]. With NFLOG, [`TableConfig::reject_wins`] is set: a 5-tuple seen
//!   rejected in a window has no ACCEPT record in it (the packet socket sees inbound packets
//!   before the firewall drops them).
//!
//! Needs CAP_NET_RAW (packet sockets) and CAP_NET_ADMIN (binding an NFLOG group).

use std::io;
use std::net::IpAddr;
use std::os::fd::RawFd;
use std::time::Duration;

use flowwatch_flowlog::{Action, FlowRecord, Token};

use crate::error::{CaptureError, Result};
use crate::flow_table::{FlowTable, Interface, Seen, TableConfig};
use crate::nflog::{self, Message};
use crate::packet::{self, LinkType, Skipped, Timestamp};
use crate::ring::{self, Ring};
use crate::sys::{self, NetfilterSocket, PacketSocket};

/// The environment variable that, set to `off`, makes [`LiveCapture::open`] read with
/// `recvfrom` instead of a TPACKET_V3 ring (a baseline for benchmarks, a way around a
/// misbehaving ring).
pub const RING_ENV: &str = "FLOWWATCH_CAPTURE_RING";

/// Bytes of each frame read: enough for every header we decode (the lengths counted come from
/// the IP header, so longer frames are counted whole).
const SNAPLEN: usize = 512;
/// Bytes of each logged packet NFLOG copies.
const NFLOG_COPY: u32 = 256;
/// Socket receive buffers asked for.
const PACKET_RCVBUF: usize = 8 << 20;
const NFLOG_RCVBUF: usize = 4 << 20;
/// Longest a receive waits.
const RECV_TIMEOUT: Duration = Duration::from_millis(200);
/// Frames read from one socket per poll before looking at the others.
const BATCH: usize = 256;

/// One interface to capture on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveInterface {
    /// Kernel name (`eth0`).
    pub name: String,
    pub eni: Token,
    pub account: Token,
    /// Addresses to use instead of the interface's own (primary first); empty: `getifaddrs`.
    pub local_addrs: Vec<IpAddr>,
}

/// What to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    pub interfaces: Vec<LiveInterface>,
    /// NFLOG group whose packets are REJECT.
    pub nflog_group: Option<u16>,
    pub table: TableConfig,
    /// NODATA records for windows without traffic.
    pub nodata: bool,
}

/// Counters of a live capture beyond the table's [`Stats`](crate::Stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LiveStats {
    /// Frames the kernel dropped before we read them (`tp_drops`).
    pub kernel_drops: u64,
    /// Packets logged by NFLOG.
    pub nflog_packets: u64,
    /// Logged packets of interfaces not captured, or without an IP payload.
    pub nflog_other: u64,
    /// Times the NFLOG socket overran (`ENOBUFS`): some logged packets were lost.
    pub nflog_overruns: u64,
}

struct Captured {
    table_index: usize,
    ifindex: u32,
    link: LinkType,
    /// Loopback shows each packet twice (sent and received): only the received copy counts.
    loopback: bool,
    /// The socket's TPACKET_V3 ring; `None`: read with `recvfrom`. Declared before the socket
    /// so that it is unmapped before the socket closes.
    ring: Option<Ring>,
    socket: PacketSocket,
}

/// Sockets and the table they feed. See the module docs.
#[derive(Debug)]
pub struct LiveCapture {
    table: FlowTable,
    captured: Vec<Captured>,
    nflog: Option<NetfilterSocket>,
    stats: LiveStats,
    frame: Vec<u8>,
    datagram: Vec<u8>,
    ready: Vec<bool>,
    fds: Vec<RawFd>,
}

impl std::fmt::Debug for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Captured")
            .field("table_index", &self.table_index)
            .field("ifindex", &self.ifindex)
            .field("ring", &self.ring.is_some())
            .finish_non_exhaustive()
    }
}

fn io_err(what: String) -> impl FnOnce(io::Error) -> CaptureError {
    move |source| CaptureError::Live { what, source }
}

/// The link layer of interface `name` (`/sys/class/net/<name>/type`, an `ARPHRD_*`).
fn link_of(name: &str) -> Result<(LinkType, bool)> {
    let path = format!("/sys/class/net/{name}/type");
    let text = std::fs::read_to_string(&path).map_err(io_err(format!("reading {path}")))?;
    match text.trim() {
        "1" => Ok((LinkType::Ethernet, false)),
        "772" => Ok((LinkType::Ethernet, true)),
        "65534" => Ok((LinkType::RawIp, false)),
        other => Err(CaptureError::Live {
            what: format!("interface {name}"),
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                format!("link type {other} (supported: Ethernet, loopback, raw IP)"),
            ),
        }),
    }
}

/// Which direction a frame of packet type `pkttype` was seen in; `None` for a frame not to
/// count (loopback's sent copy: each packet also comes as received).
fn seen_of(pkttype: u8, loopback: bool) -> Option<Seen> {
    match pkttype {
        sys::PACKET_OUTGOING if loopback => None,
        sys::PACKET_OUTGOING => Some(Seen::Outgoing),
        sys::PACKET_HOST => Some(Seen::ToHost),
        _ => Some(Seen::Unknown),
    }
}

/// Whether the environment asks for the ring (anything but `FLOWWATCH_CAPTURE_RING=off`).
fn ring_from_env() -> bool {
    std::env::var_os(RING_ENV).is_none_or(|v| !v.eq_ignore_ascii_case("off"))
}

/// A packet socket on `ifindex`, with a ring if `want_ring` and the kernel allows it.
fn open_socket(name: &str, ifindex: u32, want_ring: bool) -> Result<(PacketSocket, Option<Ring>)> {
    let ring_error = if want_ring {
        match PacketSocket::open_ring(ifindex, SNAPLEN as u32) {
            Ok((socket, ring)) => return Ok((socket, Some(ring))),
            Err(e) => Some(e),
        }
    } else {
        None
    };
    let socket = PacketSocket::open(ifindex, PACKET_RCVBUF, RECV_TIMEOUT).map_err(io_err(
        format!("packet socket on {name} (needs CAP_NET_RAW)"),
    ))?;
    if let Some(e) = ring_error {
        eprintln!("flowwatch: no TPACKET_V3 ring on {name} ({e}); reading it with recvfrom");
    }
    Ok((socket, None))
}

impl LiveCapture {
    /// Opens a socket per interface and the NFLOG socket. Each packet socket reads through a
    /// TPACKET_V3 ring unless [`RING_ENV`] is `off` or the ring cannot be set up.
    pub fn open(config: LiveConfig) -> Result<Self> {
        Self::open_with_ring(config, ring_from_env())
    }

    /// [`open`](Self::open) with the ring choice given instead of read from [`RING_ENV`] (for
    /// tests, which cannot set the environment of a multi-threaded process safely).
    #[doc(hidden)]
    pub fn open_with_ring(config: LiveConfig, ring: bool) -> Result<Self> {
        let mut table_config = config.table.clone();
        table_config.reject_wins |= config.nflog_group.is_some();
        let mut interfaces = Vec::new();
        let mut captured = Vec::new();
        for (i, li) in config.interfaces.iter().enumerate() {
            let name = &li.name;
            let ifindex = sys::if_index(name).map_err(io_err(format!("interface {name}")))?;
            let (link, loopback) = link_of(name)?;
            let local_addrs = if li.local_addrs.is_empty() {
                sys::if_addrs(name).map_err(io_err(format!("addresses of {name}")))?
            } else {
                li.local_addrs.clone()
            };
            interfaces.push(Interface {
                eni: li.eni.clone(),
                account: li.account.clone(),
                local_addrs,
                nodata: config.nodata,
            });
            let (socket, ring) = open_socket(name, ifindex, ring)?;
            // Counters start now.
            let _ = socket.take_drops();
            captured.push(Captured {
                table_index: i,
                ifindex,
                link,
                loopback,
                ring,
                socket,
            });
        }
        let nflog = match config.nflog_group {
            Some(group) => Some(open_nflog(group)?),
            None => None,
        };
        Ok(Self {
            table: FlowTable::new(table_config, interfaces)?,
            captured,
            nflog,
            stats: LiveStats::default(),
            frame: vec![0; SNAPLEN],
            datagram: vec![0; 1 << 16],
            ready: Vec::new(),
            fds: Vec::new(),
        })
    }

    pub fn table(&self) -> &FlowTable {
        &self.table
    }

    pub fn stats(&self) -> &LiveStats {
        &self.stats
    }

    /// Whether every packet socket reads through a TPACKET_V3 ring.
    pub fn uses_ring(&self) -> bool {
        self.captured.iter().all(|c| c.ring.is_some())
    }

    /// Marks interface `iface`'s window holding `secs` SKIPDATA (records lost after the table,
    /// e.g. a full delivery queue).
    pub fn skip(&mut self, iface: usize, secs: u64) -> Result<()> {
        self.table.skip(iface, secs)
    }

    /// Waits up to `timeout` for traffic and counts what arrived: frames of a ring at the time
    /// the kernel received them, frames read with `recvfrom` and NFLOG packets at the time
    /// given by `clock` (read once per batch). Kernel drops are looked at every time.
    pub fn poll(&mut self, timeout: Duration, clock: &mut dyn FnMut() -> Timestamp) -> Result<()> {
        self.fds.clear();
        self.fds
            .extend(self.captured.iter().map(|c| c.socket.raw_fd()));
        self.fds.extend(self.nflog.iter().map(|n| n.raw_fd()));
        sys::poll_readable(&self.fds, timeout, &mut self.ready)
            .map_err(io_err("waiting for packets".into()))?;
        let now = clock();
        for i in 0..self.captured.len() {
            if self.captured[i].ring.is_some() {
                // One atomic load when no block is ready: cheaper than trusting readiness,
                // which for a ring only looks at the block the kernel closed last.
                self.read_ring(i, now)?;
            } else if self.ready.get(i).copied().unwrap_or(false) {
                self.read_frames(i, now)?;
            }
            let c = &self.captured[i];
            if let Ok(drops) = c.socket.take_drops()
                && drops > 0
            {
                self.stats.kernel_drops += drops;
                self.table.skip(c.table_index, now.secs)?;
            }
        }
        if self.nflog.is_some() && self.ready.last().copied().unwrap_or(false) {
            self.read_nflog(now)?;
        }
        Ok(())
    }

    fn read_frames(&mut self, i: usize, now: Timestamp) -> Result<()> {
        let c = &self.captured[i];
        for _ in 0..BATCH {
            let got = c
                .socket
                .recv(&mut self.frame, sys::DONTWAIT)
                .map_err(io_err("reading a packet socket".into()))?;
            let Some(got) = got else { break };
            let Some(seen) = seen_of(got.pkttype, c.loopback) else {
                continue;
            };
            self.table.observe_frame_seen(
                c.table_index,
                c.link,
                now,
                &self.frame[..got.len],
                seen,
            )?;
        }
        Ok(())
    }

    /// Counts the frames of every block the ring of socket `i` holds (at most one ring's worth,
    /// so other sockets get their turn), each at its kernel timestamp (`now` if it has none).
    fn read_ring(&mut self, i: usize, now: Timestamp) -> Result<()> {
        let Self {
            table, captured, ..
        } = self;
        let c = &mut captured[i];
        let (table_index, link, loopback) = (c.table_index, c.link, c.loopback);
        let Some(ring) = c.ring.as_mut() else {
            return Ok(());
        };
        let mut result = Ok(());
        for _ in 0..ring.blocks() {
            let walked = ring.next_block(|block| {
                // A malformed block (never seen from a kernel) loses only its own frames.
                ring::walk_block(block, SNAPLEN, |frame| {
                    let Some(seen) = seen_of(frame.pkttype, loopback) else {
                        return;
                    };
                    if result.is_ok() {
                        let ts = frame.ts.unwrap_or(now);
                        result = table.observe_frame_seen(table_index, link, ts, frame.data, seen);
                    }
                })
            });
            if walked.is_none() {
                break;
            }
        }
        result
    }

    fn read_nflog(&mut self, now: Timestamp) -> Result<()> {
        let Some(socket) = &self.nflog else {
            return Ok(());
        };
        let datagram = &mut self.datagram;
        for _ in 0..BATCH {
            let n = match socket.recv(datagram, sys::DONTWAIT) {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) if e.raw_os_error() == Some(sys::ENOBUFS) => {
                    self.stats.nflog_overruns += 1;
                    for c in &self.captured {
                        self.table.skip(c.table_index, now.secs)?;
                    }
                    continue;
                }
                Err(e) => return Err(io_err("reading the NFLOG socket".into())(e)),
            };
            let mut messages = Vec::new();
            // A malformed tail loses only itself: what came before it is counted.
            let _ = nflog::parse(&datagram[..n], &mut messages);
            for m in &messages {
                let Message::Packet(p) = m else { continue };
                self.stats.nflog_packets += 1;
                let iface = [p.indev, p.outdev]
                    .into_iter()
                    .flatten()
                    .find_map(|ifindex| {
                        self.captured
                            .iter()
                            .find(|c| c.ifindex == ifindex)
                            .map(|c| c.table_index)
                    });
                let (Some(iface), Some(payload)) = (iface, p.payload) else {
                    self.stats.nflog_other += 1;
                    continue;
                };
                match packet::decode(LinkType::RawIp, now, payload) {
                    Ok(info) => self.table.observe(iface, &info, Action::Reject)?,
                    Err(Skipped::NotIp | Skipped::Undecodable) => self.stats.nflog_other += 1,
                }
            }
        }
        Ok(())
    }

    /// Closes the windows that ended by `now` (Unix seconds).
    pub fn advance(&mut self, now: u64, out: &mut Vec<FlowRecord>) {
        self.table.advance(now, out);
    }

    /// Closes every open window, up to and including the one holding `now`.
    pub fn finish(&mut self, now: u64, out: &mut Vec<FlowRecord>) {
        let interval = self.table.config().interval;
        self.table
            .advance(interval.window_of(now) + interval.secs(), out);
        self.table.finish(out);
    }
}

/// Opens a netfilter socket bound to NFLOG `group` in copy-packet mode, checking each
/// request's acknowledgement.
fn open_nflog(group: u16) -> Result<NetfilterSocket> {
    let what = format!("NFLOG group {group} (needs CAP_NET_ADMIN)");
    let socket = NetfilterSocket::open(NFLOG_RCVBUF, RECV_TIMEOUT).map_err(io_err(what.clone()))?;
    let requests = [
        nflog::bind_request(group, 1),
        nflog::copy_packet_request(group, 2, NFLOG_COPY),
        // Each logged packet is sent at once, so it is usually read in the same poll as the
        // packet socket's copy and lands in the same window.
        nflog::queue_threshold_request(group, 3, 1),
        nflog::flush_timeout_request(group, 4, 1),
    ];
    let mut buf = vec![0u8; 1 << 16];
    for (seq, request) in (1u32..).zip(&requests) {
        socket.send(request).map_err(io_err(what.clone()))?;
        let mut acked = false;
        for _ in 0..50 {
            let Some(n) = socket.recv(&mut buf, 0).map_err(io_err(what.clone()))? else {
                break;
            };
            let mut messages = Vec::new();
            let _ = nflog::parse(&buf[..n], &mut messages);
            for m in messages {
                if let Message::Ack { seq: s, errno } = m
                    && s == seq
                {
                    if errno != 0 {
                        return Err(io_err(what)(io::Error::from_raw_os_error(errno)));
                    }
                    acked = true;
                }
            }
            if acked {
                break;
            }
        }
        if !acked {
            return Err(io_err(what)(io::Error::new(
                io::ErrorKind::TimedOut,
                "no acknowledgement from nfnetlink_log",
            )));
        }
    }
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_types_give_directions() {
        assert_eq!(seen_of(sys::PACKET_OUTGOING, false), Some(Seen::Outgoing));
        assert_eq!(seen_of(sys::PACKET_HOST, false), Some(Seen::ToHost));
        assert_eq!(seen_of(libc::PACKET_BROADCAST, false), Some(Seen::Unknown));
        assert_eq!(seen_of(libc::PACKET_OTHERHOST, false), Some(Seen::Unknown));
        // Loopback: only the received copy counts.
        assert_eq!(seen_of(sys::PACKET_OUTGOING, true), None);
        assert_eq!(seen_of(sys::PACKET_HOST, true), Some(Seen::ToHost));
    }
}
