//! The flow table: packets of each interface aggregated per 5-tuple and aggregation window into
//! flow-log records (`spec/flowlogs.md` §1 "Aggregation", §2, §4 and §5).
//!
//! Windows are aligned on multiples of the interval in Unix time (`[k·interval, (k+1)·interval)`),
//! so the same packets always give the same records. The caller drives time: [`FlowTable::advance`]
//! closes every window that ended by `now` and [`FlowTable::finish`] closes the rest.

mod index;

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::net::IpAddr;

use flowwatch_flowlog::{Action, FlowDirection, FlowRecord, LogStatus, Token};

use crate::error::{CaptureError, Result};
use crate::packet::{self, LinkType, PacketInfo, Skipped, Timestamp};
use crate::rules::{SecurityGroup, Verdicts};

use self::index::{Counted, Counters, FlowIndex, PackedKey};

/// Most windows without traffic one [`FlowTable::advance`] writes NODATA records for (a day
/// of one-minute windows).
pub const MAX_IDLE_WINDOWS: usize = 1440;

/// `MaxAggregationInterval`: 60 or 600 seconds (600 is AWS's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AggregationInterval {
    OneMinute,
    #[default]
    TenMinutes,
}

impl AggregationInterval {
    /// Validates an interval in seconds.
    pub fn from_secs(seconds: u64) -> Result<Self> {
        match seconds {
            60 => Ok(Self::OneMinute),
            600 => Ok(Self::TenMinutes),
            _ => Err(CaptureError::InvalidInterval { seconds }),
        }
    }

    pub fn secs(self) -> u64 {
        match self {
            Self::OneMinute => 60,
            Self::TenMinutes => 600,
        }
    }

    /// Start of the window holding `secs`.
    #[inline]
    pub fn window_of(self, secs: u64) -> u64 {
        // Constant divisors (a multiplication), not a division by `self.secs()`.
        match self {
            Self::OneMinute => secs - secs % 60,
            Self::TenMinutes => secs - secs % 600,
        }
    }
}

/// A network interface whose traffic the table records, as the ENI of a flow log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// `interface-id`.
    pub eni: Token,
    /// `account-id`.
    pub account: Token,
    /// The interface's own addresses, primary first (per family). With them the table fills
    /// `flow-direction` and writes the primary address as `srcaddr` / `dstaddr` (the packet's
    /// address stays in `pkt-srcaddr` / `pkt-dstaddr`); without them both are the packet's
    /// and `flow-direction` is `-`.
    pub local_addrs: Vec<IpAddr>,
    /// Whether a window without traffic gives a NODATA record (at most
    /// [`MAX_IDLE_WINDOWS`] per [`FlowTable::advance`]).
    pub nodata: bool,
}

impl Interface {
    pub fn new(eni: Token, account: Token) -> Self {
        Self {
            eni,
            account,
            local_addrs: Vec::new(),
            nodata: false,
        }
    }

    /// The primary address of `addr`'s family, if `addr` is one of ours.
    fn primary_for(&self, addr: IpAddr) -> Option<IpAddr> {
        if !self.local_addrs.contains(&addr) {
            return None;
        }
        self.local_addrs
            .iter()
            .copied()
            .find(|a| a.is_ipv4() == addr.is_ipv4())
    }
}

/// How a [`FlowTable`] aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConfig {
    pub interval: AggregationInterval,
    /// Flows held at once over all open windows; when full, packets of new flows are dropped
    /// and their interface's window gets a SKIPDATA record.
    pub max_flows: usize,
    /// The `version` written in records: 2 for the default format, else the `LogFormat`'s
    /// version.
    pub version: u8,
    /// Leave out what AWS does not log (§4): traffic to or from the instance metadata, Time
    /// Sync and Amazon DNS addresses (169.254.169.254 / .123 / .253 and `fd00:ec2::` ones)
    /// and DHCP (UDP 67/68, 546/547).
    pub exclude_unlogged: bool,
    /// Observed verdicts (NFLOG next to a packet socket): when a window closes, an ACCEPT flow
    /// whose interface and 5-tuple also have a REJECT flow in that window is left out, its
    /// packets counted in [`Stats::superseded_packets`]. The packet socket sees inbound packets
    /// before the firewall drops them; the firewall's log says they were dropped.
    pub reject_wins: bool,
}

impl Default for TableConfig {
    fn default() -> Self {
        Self {
            interval: AggregationInterval::default(),
            max_flows: 100_000,
            version: 2,
            exclude_unlogged: true,
            reject_wins: false,
        }
    }
}

/// Counters over everything a table was given. After [`FlowTable::finish`], the `packets` and
/// `bytes` of all OK records plus `dropped_*` and `superseded_*` equal `packets` and `bytes`
/// here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Frames given to [`FlowTable::observe_frame`].
    pub frames: u64,
    /// Frames without an IP packet (ARP...).
    pub not_ip: u64,
    /// Frames too short or malformed to decode, or of an unsupported link type.
    pub undecodable: u64,
    /// IP packets AWS does not log (see [`TableConfig::exclude_unlogged`]).
    pub not_logged: u64,
    /// IP packets counted (in a record or dropped).
    pub packets: u64,
    pub bytes: u64,
    /// Packets older than the oldest open window, counted in that window instead.
    pub late: u64,
    /// Packets and bytes of flows dropped because the table was full.
    pub dropped_packets: u64,
    pub dropped_bytes: u64,
    /// Packets and bytes of ACCEPT flows left out because the same flow was rejected in the
    /// same window ([`TableConfig::reject_wins`]).
    pub superseded_packets: u64,
    pub superseded_bytes: u64,
}

/// What identifies a flow within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FlowKey {
    iface: usize,
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    protocol: u8,
    action: Action,
}

#[derive(Debug, Clone)]
struct Flow {
    key: FlowKey,
    counts: Counters,
}

/// What a live capture knows of a frame's direction (`PACKET_OUTGOING` / `PACKET_HOST`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Seen {
    /// A capture file, or a frame neither sent by nor addressed to this host.
    Unknown,
    /// Sent by this host: the source address is the interface's.
    Outgoing,
    /// Addressed to this host: the destination address is the interface's.
    ToHost,
}

/// A frame decoded by [`FlowTable::decode_ahead`], waiting for its turn to be counted. A
/// reader keeps a few and has them filled in place (copying one just filled would wait for
/// the stores that filled it).
#[derive(Debug, Clone)]
pub struct Decoded {
    iface: usize,
    decoded: std::result::Result<PacketInfo, Skipped>,
    /// The hash of its key as an ACCEPT (when there is no security group to decide).
    hash: Option<u64>,
}

impl Default for Decoded {
    fn default() -> Self {
        Self {
            iface: 0,
            decoded: Err(Skipped::NotIp),
            hash: None,
        }
    }
}

/// First and last second of the packets dropped for one interface in one window.
#[derive(Debug, Clone, Copy)]
struct SkipSpan {
    start: u64,
    end: u64,
}

#[derive(Debug)]
struct Window {
    /// The flows, which remember the order of their first packets so records come out
    /// deterministically.
    flows: FlowIndex,
    skipped: BTreeMap<usize, SkipSpan>,
}

impl Window {
    /// The window starting at `start`, in the memory of the last closed window's index if
    /// there is one.
    fn new(
        hasher: &foldhash::fast::RandomState,
        spare: &mut Option<FlowIndex>,
        start: u64,
    ) -> Self {
        let flows = match spare.take() {
            Some(index) => index.reused(start),
            None => FlowIndex::new(hasher.clone(), start),
        };
        Self {
            flows,
            skipped: BTreeMap::new(),
        }
    }
}

/// Packets to records for a fixed set of interfaces. See the module docs.
#[derive(Debug)]
pub struct FlowTable {
    config: TableConfig,
    interfaces: Vec<Interface>,
    windows: BTreeMap<u64, Window>,
    flows: usize,
    /// Start of the oldest window not yet closed; `None` before the first packet or advance.
    open_from: Option<u64>,
    stats: Stats,
    /// Per interface, the security group deciding ACCEPT/REJECT of decoded frames (`None`:
    /// every frame is ACCEPT).
    verdicts: Vec<Option<Verdicts>>,
    /// Every window's flow index hashes with this seed, so a key has one hash.
    hasher: foldhash::fast::RandomState,
    /// Where the window of the last packet counted keeps its flows, for
    /// [`decode_ahead`](Self::decode_ahead)'s hints.
    last: LastWindow,
    /// The index of the last window closed, emptied, for the next window to reuse.
    spare: Option<FlowIndex>,
    /// The flows of the window being closed (kept for its memory).
    closing: Vec<Flow>,
}

/// The window a table counted its last packet in, and where its flows were then.
#[derive(Debug, Clone, Copy)]
struct LastWindow {
    /// Its start (`u64::MAX`: none).
    window: u64,
    place: index::Place,
}

impl FlowTable {
    /// A table for `interfaces` (indexed in this order by `observe`).
    pub fn new(config: TableConfig, interfaces: Vec<Interface>) -> Result<Self> {
        if config.max_flows == 0 {
            return Err(CaptureError::ZeroMaxFlows);
        }
        if interfaces.len() > index::MAX_INTERFACES {
            return Err(CaptureError::TooManyInterfaces {
                count: interfaces.len(),
                max: index::MAX_INTERFACES,
            });
        }
        Ok(Self {
            verdicts: vec![None; interfaces.len()],
            config,
            interfaces,
            windows: BTreeMap::new(),
            flows: 0,
            open_from: None,
            stats: Stats::default(),
            hasher: foldhash::fast::RandomState::default(),
            last: LastWindow {
                window: u64::MAX,
                place: index::Place::NONE,
            },
            spare: None,
            closing: Vec::new(),
        })
    }

    /// Judges the frames of interface `iface` by a security group's rules (an evaluation, not an
    /// observed verdict: see [`crate::rules`]); the interface's `local_addrs` give direction.
    pub fn set_rules(&mut self, iface: usize, group: SecurityGroup) -> Result<()> {
        self.check(iface)?;
        self.verdicts[iface] = Some(Verdicts::new(group));
        Ok(())
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn config(&self) -> &TableConfig {
        &self.config
    }

    /// Flows currently held.
    pub fn len(&self) -> usize {
        self.flows
    }

    pub fn is_empty(&self) -> bool {
        self.flows == 0
    }

    /// Decodes a frame captured on interface `iface` and counts it (action ACCEPT); frames
    /// without a countable IP packet only update the stats.
    pub fn observe_frame(
        &mut self,
        iface: usize,
        link: LinkType,
        ts: Timestamp,
        frame: &[u8],
    ) -> Result<()> {
        self.observe_frame_seen(iface, link, ts, frame, Seen::Unknown)
    }

    /// [`observe_frame`](Self::observe_frame) for a frame whose direction the capture knows
    /// (a live socket): the interface's own side of the packet is added to its `local_addrs`
    /// (after the configured ones) if missing, so `flow-direction` follows the kernel's view.
    pub fn observe_frame_seen(
        &mut self,
        iface: usize,
        link: LinkType,
        ts: Timestamp,
        frame: &[u8],
        seen: Seen,
    ) -> Result<()> {
        self.check(iface)?;
        let decoded = packet::decode(link, ts, frame);
        self.observe_decoded(iface, decoded.as_ref().map_err(|e| *e), seen, None);
        Ok(())
    }

    /// Decodes a frame of interface `iface` ahead of its turn and asks the CPU to bring the
    /// slot of its flow into the cache; count it with [`observe_ahead`](Self::observe_ahead)
    /// once the frames before it are counted. A reader that decodes a few frames before
    /// counting them (`pcap_file`) waits for their flows' cache misses all at once instead of
    /// one after the other.
    #[inline(always)]
    pub fn decode_ahead(
        &self,
        iface: usize,
        link: LinkType,
        ts: Timestamp,
        frame: &[u8],
        into: &mut Decoded,
    ) -> Result<()> {
        self.check(iface)?;
        into.iface = iface;
        into.decoded = packet::decode(link, ts, frame);
        into.hash = None;
        if let Ok(info) = &into.decoded
            && self.verdicts[iface].is_none()
        {
            let hash = self
                .hasher
                .hash_one(PackedKey::of(iface, info, Action::Accept));
            // Usually the window of the last packet (a late packet counts in the open
            // window instead: the hint is only wasted).
            if self.last.window == self.config.interval.window_of(ts.secs) {
                self.last.place.prefetch(hash);
            }
            into.hash = Some(hash);
        }
        Ok(())
    }

    /// Counts a frame [`decode_ahead`](Self::decode_ahead) decoded, as
    /// [`observe_frame`](Self::observe_frame) would have.
    #[inline(always)]
    pub fn observe_ahead(&mut self, frame: &Decoded) {
        let decoded = frame.decoded.as_ref().map_err(|e| *e);
        self.observe_decoded(frame.iface, decoded, Seen::Unknown, frame.hash);
    }

    /// Counts a frame [`packet::decode`] decoded (or not) for interface `iface`, which
    /// must exist. `hash` is its key's hash for ACCEPT when known.
    #[inline]
    fn observe_decoded(
        &mut self,
        iface: usize,
        decoded: std::result::Result<&PacketInfo, Skipped>,
        seen: Seen,
        hash: Option<u64>,
    ) {
        self.stats.frames += 1;
        match decoded {
            Ok(info) => {
                let own = match seen {
                    Seen::Unknown => None,
                    Seen::Outgoing => Some(info.src),
                    Seen::ToHost => Some(info.dst),
                };
                if let Some(addr) = own {
                    self.learn_local(iface, addr);
                }
                let local = &self.interfaces[iface].local_addrs;
                let (action, hash) = match self.verdicts[iface].as_mut() {
                    None => (Action::Accept, hash),
                    Some(v) => (v.verdict(local, info), None),
                };
                self.count(iface, info, 1, info.ts.secs, action, hash);
            }
            Err(Skipped::NotIp) => self.stats.not_ip += 1,
            Err(Skipped::Undecodable) => self.stats.undecodable += 1,
        }
    }

    /// Adds `addr` to interface `iface`'s own addresses if missing (ignored for a bad index).
    pub fn learn_local(&mut self, iface: usize, addr: IpAddr) {
        if let Some(i) = self.interfaces.get_mut(iface)
            && !i.local_addrs.contains(&addr)
        {
            i.local_addrs.push(addr);
        }
    }

    /// Marks the window holding `secs` (the oldest open one if it already closed) of interface
    /// `iface` as incomplete: it gets a SKIPDATA record. For packets lost before they reached
    /// the table (kernel drops, a full queue), which the table cannot count.
    pub fn skip(&mut self, iface: usize, secs: u64) -> Result<()> {
        self.check(iface)?;
        let window = self.config.interval.window_of(secs);
        let (window, secs) = match self.open_from {
            Some(open) if window < open => (open, open),
            Some(_) => (window, secs),
            None => {
                self.open_from = Some(window);
                (window, secs)
            }
        };
        let (hasher, spare) = (&self.hasher, &mut self.spare);
        let span = self
            .windows
            .entry(window)
            .or_insert_with(|| Window::new(hasher, spare, window))
            .skipped
            .entry(iface)
            .or_insert(SkipSpan {
                start: secs,
                end: secs,
            });
        span.start = span.start.min(secs);
        span.end = span.end.max(secs);
        Ok(())
    }

    /// Counts a frame that could not be given to the table (e.g. its link type is unknown).
    pub fn count_undecodable(&mut self) {
        self.stats.frames += 1;
        self.stats.undecodable += 1;
    }

    /// Counts one IP packet of interface `iface` with the verdict `action` (ACCEPT unless a
    /// firewall said otherwise).
    pub fn observe(&mut self, iface: usize, pkt: &PacketInfo, action: Action) -> Result<()> {
        self.observe_flow(iface, pkt, 1, pkt.ts.secs, action)
    }

    /// Counts a flow someone else already aggregated (a NetFlow or IPFIX record): `packets`
    /// packets of `pkt`'s 5-tuple totalling `pkt.bytes` bytes, seen from `pkt.ts` to `end_secs`.
    /// It lands in the window of its start, as a packet would.
    pub fn observe_flow(
        &mut self,
        iface: usize,
        pkt: &PacketInfo,
        packets: u64,
        end_secs: u64,
        action: Action,
    ) -> Result<()> {
        self.check(iface)?;
        self.count(iface, pkt, packets, end_secs, action, None);
        Ok(())
    }

    /// [`observe_flow`](Self::observe_flow) for an interface that exists; `hash` is the hash
    /// of the packet's key when the caller has it.
    #[inline]
    fn count(
        &mut self,
        iface: usize,
        pkt: &PacketInfo,
        packets: u64,
        end_secs: u64,
        action: Action,
        hash: Option<u64>,
    ) {
        if packets == 0 {
            return;
        }
        if self.config.exclude_unlogged && not_logged(pkt) {
            self.stats.not_logged += packets;
            return;
        }
        self.stats.packets += packets;
        self.stats.bytes += pkt.bytes;
        let interval = self.config.interval;
        let mut secs = pkt.ts.secs;
        let mut end = end_secs.max(secs);
        let mut window = interval.window_of(secs);
        match self.open_from {
            Some(open) if window < open => {
                // Received after its window closed: AWS records packets when received.
                self.stats.late += packets;
                window = open;
                secs = open;
                end = end.max(open);
            }
            Some(_) => {}
            None => self.open_from = Some(window),
        }
        let key = PackedKey::of(iface, pkt, action);
        let hash = hash.unwrap_or_else(|| self.hasher.hash_one(key));
        let counters = Counters {
            packets,
            bytes: pkt.bytes,
            start: secs,
            end,
            tcp_flags: pkt.tcp_flags,
            flow_type: pkt.flow_type,
        };
        let room = self.flows < self.config.max_flows;
        let (hasher, spare) = (&self.hasher, &mut self.spare);
        let w = self
            .windows
            .entry(window)
            .or_insert_with(|| Window::new(hasher, spare, window));
        let counted = w.flows.count(&key, hash, counters, room);
        let place = w.flows.whereabouts();
        match counted {
            Counted::Added => {}
            Counted::New => self.flows += 1,
            Counted::Full => {
                self.stats.dropped_packets += packets;
                self.stats.dropped_bytes += pkt.bytes;
                let span = w
                    .skipped
                    .entry(iface)
                    .or_insert(SkipSpan { start: secs, end });
                span.start = span.start.min(secs);
                span.end = span.end.max(end);
            }
        }
        self.last = LastWindow { window, place };
    }

    /// Closes every window that ended at or before `now` (Unix seconds), appending its records
    /// to `out`: per window, per interface in table order, the OK records in order of first
    /// packet, then a SKIPDATA record if flows were dropped, or a NODATA record if the
    /// interface had no traffic and asks for one.
    #[inline]
    pub fn advance(&mut self, now: u64, out: &mut Vec<FlowRecord>) {
        // Called for every packet: most close nothing.
        if let Some(open) = self.open_from
            && self.config.interval.window_of(now) <= open
        {
            return;
        }
        self.close_until(now, out);
    }

    /// [`advance`](Self::advance) when a window may close.
    fn close_until(&mut self, now: u64, out: &mut Vec<FlowRecord>) {
        let interval = self.config.interval.secs();
        let Some(open) = self.open_from else {
            self.open_from = Some(self.config.interval.window_of(now));
            return;
        };
        let cutoff = self.config.interval.window_of(now);
        if cutoff <= open {
            return;
        }
        // Idle windows only matter for NODATA records, and a jump in time (a bad clock, a
        // capture resumed days later) must not produce unbounded output: at most
        // MAX_IDLE_WINDOWS of them per call, then straight to the next window with traffic.
        let mut idle_budget = if self.interfaces.iter().any(|i| i.nodata) {
            MAX_IDLE_WINDOWS
        } else {
            0
        };
        let mut w = open;
        while w < cutoff {
            if !self.windows.contains_key(&w) {
                if idle_budget == 0 {
                    match self.windows.range(w..cutoff).next() {
                        Some((next, _)) => w = *next,
                        None => break,
                    }
                    continue;
                }
                idle_budget -= 1;
            }
            self.close(w, out);
            w += interval;
        }
        self.open_from = Some(cutoff);
    }

    /// Closes every open window (the end of a capture), appending their records to `out`.
    pub fn finish(&mut self, out: &mut Vec<FlowRecord>) {
        if let Some(last) = self.windows.keys().next_back().copied() {
            self.advance(last + self.config.interval.secs(), out);
        }
    }

    fn check(&self, iface: usize) -> Result<()> {
        if iface < self.interfaces.len() {
            Ok(())
        } else {
            Err(CaptureError::UnknownInterface { index: iface })
        }
    }

    fn close(&mut self, start: u64, out: &mut Vec<FlowRecord>) {
        let mut flows = std::mem::take(&mut self.closing);
        flows.clear();
        let skipped = match self.windows.remove(&start) {
            Some(mut window) => {
                window.flows.drain_into(&mut flows);
                self.spare = Some(window.flows);
                window.skipped
            }
            None => BTreeMap::new(),
        };
        self.flows -= flows.len();
        if self.config.reject_wins {
            self.drop_superseded(&mut flows);
        }
        flows.sort_by_key(|f| f.key.iface); // stable: first-packet order per interface
        out.reserve(flows.len() + self.interfaces.len());
        let mut pending = flows.iter().peekable();
        for (i, iface) in self.interfaces.iter().enumerate() {
            let mut any = false;
            while let Some(flow) = pending.next_if(|f| f.key.iface == i) {
                out.push(self.ok_record(iface, flow));
                any = true;
            }
            if let Some(span) = skipped.get(&i) {
                out.push(self.status_record(iface, LogStatus::SkipData, span.start, span.end));
            } else if !any && iface.nodata {
                let end = start + self.config.interval.secs() - 1;
                out.push(self.status_record(iface, LogStatus::NoData, start, end));
            }
        }
        self.closing = flows;
    }

    /// Removes the ACCEPT flows of a window whose interface and 5-tuple were also rejected.
    fn drop_superseded(&mut self, flows: &mut Vec<Flow>) {
        let rejected: std::collections::HashSet<FlowKey> = flows
            .iter()
            .filter(|f| f.key.action == Action::Reject)
            .map(|f| FlowKey {
                action: Action::Accept,
                ..f.key
            })
            .collect();
        if rejected.is_empty() {
            return;
        }
        let stats = &mut self.stats;
        flows.retain(|f| {
            let keep = !rejected.contains(&f.key);
            if !keep {
                stats.superseded_packets += f.counts.packets;
                stats.superseded_bytes += f.counts.bytes;
            }
            keep
        });
    }

    fn ok_record(&self, iface: &Interface, flow: &Flow) -> FlowRecord {
        let (k, flow) = (&flow.key, &flow.counts);
        let (src_primary, dst_primary) = (iface.primary_for(k.src), iface.primary_for(k.dst));
        let direction = match (src_primary, dst_primary) {
            (Some(_), _) => Some(FlowDirection::Egress),
            (None, Some(_)) => Some(FlowDirection::Ingress),
            (None, None) => None,
        };
        let (srcaddr, dstaddr) = match direction {
            Some(FlowDirection::Egress) => (src_primary.unwrap_or(k.src), k.dst),
            Some(FlowDirection::Ingress) => (k.src, dst_primary.unwrap_or(k.dst)),
            None => (k.src, k.dst),
        };
        FlowRecord {
            version: Some(self.config.version),
            account_id: Some(iface.account.clone()),
            interface_id: Some(iface.eni.clone()),
            srcaddr: Some(srcaddr),
            dstaddr: Some(dstaddr),
            srcport: Some(k.src_port),
            dstport: Some(k.dst_port),
            protocol: Some(k.protocol),
            packets: Some(flow.packets),
            bytes: Some(flow.bytes),
            start: Some(flow.start),
            end: Some(flow.end),
            action: Some(k.action),
            log_status: Some(LogStatus::Ok),
            tcp_flags: flow.tcp_flags,
            flow_type: Some(flow.flow_type),
            pkt_srcaddr: Some(k.src),
            pkt_dstaddr: Some(k.dst),
            flow_direction: direction,
            ..FlowRecord::default()
        }
    }

    /// A NODATA or SKIPDATA record: only version, account, interface, start, end and status.
    fn status_record(
        &self,
        iface: &Interface,
        status: LogStatus,
        start: u64,
        end: u64,
    ) -> FlowRecord {
        FlowRecord {
            version: Some(self.config.version),
            account_id: Some(iface.account.clone()),
            interface_id: Some(iface.eni.clone()),
            start: Some(start),
            end: Some(end),
            log_status: Some(status),
            ..FlowRecord::default()
        }
    }
}

/// Whether AWS leaves this packet out of flow logs (§4).
fn not_logged(pkt: &PacketInfo) -> bool {
    fn special(addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => matches!(a.octets(), [169, 254, 169, 254 | 123 | 253]),
            IpAddr::V6(a) => {
                let s = a.segments();
                s[..7] == [0xfd00, 0xec2, 0, 0, 0, 0, 0] && matches!(s[7], 0x254 | 0x123 | 0x253)
            }
        }
    }
    let dhcp = pkt.protocol == 17
        && matches!(
            (pkt.src_port, pkt.dst_port),
            (67 | 68, 67 | 68) | (546 | 547, 546 | 547)
        );
    dhcp || special(pkt.src) || special(pkt.dst)
}
