//! NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export packets to [`FlowSample`]s,
//! which a [`FlowTable`](crate::FlowTable) turns into flow-log records like packets.
//!
//! - **v5**: fixed 48-byte records; times are the exporter's uptime in milliseconds, made
//!   absolute with the header's clock; the header's sampling interval scales packets and bytes.
//! - **v9 and IPFIX**: templates (and options templates) are learned per exporter address,
//!   source id / observation domain and template id; data records of an unknown template are
//!   counted ([`DecodeStats::unknown_template`]) and skipped until the template arrives, as
//!   collectors do. Options data carrying a sampling interval (v9 34/50, IPFIX 34/50/305+306)
//!   sets the exporter's sampling rate, which scales the counts of later records. IPFIX
//!   variable-length fields and enterprise-specific elements are skipped correctly.
//! - Times: v9 uptime-based times are made absolute with the header; IPFIX records may carry
//!   absolute seconds/milliseconds/microseconds, uptime-based ones (with
//!   `systemInitTimeMilliseconds` from options data), or none (the export time is used).
//!
//! Memory is bounded: at most [`MAX_TEMPLATES`] templates are kept (the oldest is forgotten
//! first). No input panics: a malformed packet is an error naming what is wrong, and what was
//! decoded before the fault is still returned by [`Decoder::decode`]'s caller through `out`.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use flowwatch_flowlog::{FlowType, TcpFlags};

use crate::packet::{PacketInfo, Timestamp};

/// Most templates remembered over all exporters.
pub const MAX_TEMPLATES: usize = 4096;

/// One flow as an exporter reported it, counts already scaled by the sampling rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowSample {
    /// The exporter's input interface (`ifIndex`, SNMP index), when reported.
    pub input_if: Option<u32>,
    /// The exporter's output interface, when reported.
    pub output_if: Option<u32>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub protocol: u8,
    pub packets: u64,
    pub bytes: u64,
    /// Unix seconds of the first and last packet.
    pub start: u64,
    pub end: u64,
    /// The OR of the TCP flags of the flow's packets (raw).
    pub tcp_flags: u8,
}

impl FlowSample {
    /// The sample as the packet-shaped input of [`FlowTable::observe_flow`](crate::FlowTable::observe_flow)
    /// (`bytes` is the flow's total; `tcp-flags` as AWS reports them).
    pub fn packet_info(&self) -> PacketInfo {
        PacketInfo {
            ts: Timestamp::from_secs(self.start),
            src: self.src,
            dst: self.dst,
            src_port: self.src_port,
            dst_port: self.dst_port,
            protocol: self.protocol,
            bytes: self.bytes,
            tcp_flags: if self.protocol == 6 {
                Some(self.reported_tcp_flags())
            } else {
                Some(TcpFlags(0))
            },
            flow_type: if self.src.is_ipv4() {
                FlowType::Ipv4
            } else {
                FlowType::Ipv6
            },
        }
    }
}

impl FlowSample {
    /// `tcp-flags` from the OR of the flow's flags, which is all NetFlow and IPFIX export:
    /// FIN, SYN and RST as they are (SYN with FIN is a connection opened and closed in the
    /// flow: 3, as AWS's OR over an interval gives; the invalid-packet rule of
    /// [`crate::packet::reported_tcp_flags`] is for single packets). Whether a SYN came with an ACK is not
    /// known from the OR; a flow with SYN and ACK from a lower port to a higher one is taken
    /// to be the server's answer, SYN-ACK (18), and otherwise the client's SYN (2).
    fn reported_tcp_flags(&self) -> TcpFlags {
        const SYN: u8 = 0x02;
        const ACK: u8 = 0x10;
        let raw = self.tcp_flags;
        let mut value = raw & 0x07;
        if raw & SYN != 0 && raw & ACK != 0 && self.src_port < self.dst_port {
            value |= ACK;
        }
        TcpFlags(value)
    }
}

/// Why an export packet could not be decoded (entirely or from some point on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetflowError {
    #[error("export packet too short: {0}")]
    Truncated(&'static str),
    #[error("unsupported export version {0} (supported: 5, 9, 10 = IPFIX)")]
    Version(u16),
    #[error("malformed export packet: {0}")]
    Malformed(String),
}

/// What a decoder has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    pub packets: u64,
    pub flows: u64,
    pub templates: u64,
    /// Data records skipped because their template was not known yet.
    pub unknown_template: u64,
    /// Data records without addresses (not flows: e.g. options data) or with zero packets.
    pub skipped_records: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Protocol {
    V9,
    Ipfix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct TemplateKey {
    exporter: IpAddr,
    protocol: Protocol,
    domain: u32,
    id: u16,
}

/// One field of a template: the element id (enterprise-specific ones never match a known id)
/// and its length (`None`: IPFIX variable length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    id: u16,
    enterprise: bool,
    length: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    fields: Vec<Field>,
    /// Options template (its data sets the exporter's sampling and init time).
    options: bool,
}

/// Per exporter and domain: what options data said.
#[derive(Debug, Clone, Copy, Default)]
struct ExporterState {
    sampling: u64,
    /// IPFIX `systemInitTimeMilliseconds`.
    init_ms: Option<u64>,
}

/// The header clock of one export packet, to make uptime-based times absolute.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// Unix milliseconds of the export.
    export_ms: u64,
    /// The exporter's uptime at export, in milliseconds (v5/v9).
    uptime_ms: Option<u64>,
}

impl Clock {
    fn absolute_secs(&self, uptime: u64, init_ms: Option<u64>) -> u64 {
        match (self.uptime_ms, init_ms) {
            (_, Some(init)) => (init + uptime) / 1000,
            (Some(now_up), None) => {
                self.export_ms.saturating_sub(now_up.saturating_sub(uptime)) / 1000
            }
            (None, None) => self.export_ms / 1000,
        }
    }
}

/// A NetFlow/IPFIX collector's decoding state: templates and sampling per exporter.
#[derive(Debug, Default)]
pub struct Decoder {
    templates: HashMap<TemplateKey, Template>,
    order: VecDeque<TemplateKey>,
    exporters: HashMap<(IpAddr, Protocol, u32), ExporterState>,
    stats: DecodeStats,
}

fn be(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .take(8)
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A flow record's fields, as read from a v9/IPFIX data record.
#[derive(Debug, Default)]
struct Fields {
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    src_port: u16,
    dst_port: u16,
    protocol: u8,
    bytes: u64,
    packets: u64,
    tcp_flags: u8,
    input_if: Option<u32>,
    output_if: Option<u32>,
    start_up: Option<u64>,
    end_up: Option<u64>,
    start_abs_ms: Option<u64>,
    end_abs_ms: Option<u64>,
    sampling: Option<u64>,
    sampling_space: Option<u64>,
    init_ms: Option<u64>,
}

impl Fields {
    fn set(&mut self, field: Field, value: &[u8]) {
        if field.enterprise {
            return;
        }
        let n = be(value);
        let ip = || -> Option<IpAddr> {
            match value.len() {
                4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(value).ok()?))),
                16 => Some(IpAddr::V6(Ipv6Addr::from(
                    <[u8; 16]>::try_from(value).ok()?,
                ))),
                _ => None,
            }
        };
        match field.id {
            1 | 23 | 85 => self.bytes = self.bytes.max(n),
            2 | 24 | 86 => self.packets = self.packets.max(n),
            4 => self.protocol = n as u8,
            6 => self.tcp_flags = n as u8,
            7 => self.src_port = n as u16,
            8 | 27 => self.src = ip().or(self.src),
            10 => self.input_if = Some(n as u32),
            11 => self.dst_port = n as u16,
            12 | 28 => self.dst = ip().or(self.dst),
            14 => self.output_if = Some(n as u32),
            21 => self.end_up = Some(n),
            22 => self.start_up = Some(n),
            34 | 50 => self.sampling = Some(n),
            150 => self.start_abs_ms = Some(n * 1000),
            151 => self.end_abs_ms = Some(n * 1000),
            152 => self.start_abs_ms = Some(n),
            153 => self.end_abs_ms = Some(n),
            // NTP-format microseconds: seconds since 1900 in the high 32 bits.
            154 | 155 => {
                let secs = (n >> 32).saturating_sub(2_208_988_800);
                let ms = secs * 1000 + (((n & 0xffff_ffff) * 1000) >> 32);
                if field.id == 154 {
                    self.start_abs_ms = Some(ms);
                } else {
                    self.end_abs_ms = Some(ms);
                }
            }
            160 => self.init_ms = Some(n),
            305 => self.sampling = Some(n),
            306 => self.sampling_space = Some(n),
            _ => {}
        }
    }

    /// The sampling rate options data announce: 1 in N.
    fn sampling_rate(&self) -> Option<u64> {
        match (self.sampling, self.sampling_space) {
            (Some(interval), Some(space)) if interval > 0 => Some((interval + space) / interval),
            (Some(n), None) if n > 0 => Some(n),
            _ => None,
        }
    }
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Templates currently known.
    pub fn template_count(&self) -> usize {
        self.templates.len()
    }

    /// Decodes one export packet from `exporter`, appending its flows to `out`. On error the
    /// flows decoded before the fault are in `out`.
    pub fn decode(
        &mut self,
        exporter: IpAddr,
        packet: &[u8],
        out: &mut Vec<FlowSample>,
    ) -> Result<(), NetflowError> {
        self.stats.packets += 1;
        let result = match u16_at(packet, 0) {
            None => Err(NetflowError::Truncated("no version")),
            Some(5) => self.decode_v5(packet, out),
            Some(9) => self.decode_v9(exporter, packet, out),
            Some(10) => self.decode_ipfix(exporter, packet, out),
            Some(v) => Err(NetflowError::Version(v)),
        };
        if result.is_err() {
            self.stats.errors += 1;
        }
        result
    }

    fn decode_v5(&mut self, p: &[u8], out: &mut Vec<FlowSample>) -> Result<(), NetflowError> {
        const HEADER: usize = 24;
        const RECORD: usize = 48;
        let count = usize::from(u16_at(p, 2).ok_or(NetflowError::Truncated("v5 header"))?);
        let uptime = u64::from(u32_at(p, 4).ok_or(NetflowError::Truncated("v5 header"))?);
        let secs = u64::from(u32_at(p, 8).ok_or(NetflowError::Truncated("v5 header"))?);
        let nsecs = u64::from(u32_at(p, 12).ok_or(NetflowError::Truncated("v5 header"))?);
        let sampling =
            u64::from(u16_at(p, 22).ok_or(NetflowError::Truncated("v5 header"))? & 0x3fff);
        if count > 30 {
            return Err(NetflowError::Malformed(format!(
                "v5 count {count} is more than 30 records"
            )));
        }
        if p.len() < HEADER + count * RECORD {
            return Err(NetflowError::Truncated("v5 records"));
        }
        let clock = Clock {
            export_ms: secs * 1000 + nsecs / 1_000_000,
            uptime_ms: Some(uptime),
        };
        let scale = sampling.max(1);
        for i in 0..count {
            let r = &p[HEADER + i * RECORD..HEADER + (i + 1) * RECORD];
            let addr =
                |at: usize| IpAddr::V4(Ipv4Addr::new(r[at], r[at + 1], r[at + 2], r[at + 3]));
            let packets = be(&r[16..20]) * scale;
            if packets == 0 {
                self.stats.skipped_records += 1;
                continue;
            }
            self.stats.flows += 1;
            out.push(FlowSample {
                input_if: Some(be(&r[12..14]) as u32),
                output_if: Some(be(&r[14..16]) as u32),
                src: addr(0),
                dst: addr(4),
                src_port: be(&r[32..34]) as u16,
                dst_port: be(&r[34..36]) as u16,
                protocol: r[38],
                packets,
                bytes: be(&r[20..24]) * scale,
                start: clock.absolute_secs(be(&r[24..28]), None),
                end: clock.absolute_secs(be(&r[28..32]), None),
                tcp_flags: r[37],
            });
        }
        Ok(())
    }

    fn decode_v9(
        &mut self,
        exporter: IpAddr,
        p: &[u8],
        out: &mut Vec<FlowSample>,
    ) -> Result<(), NetflowError> {
        const HEADER: usize = 20;
        if p.len() < HEADER {
            return Err(NetflowError::Truncated("v9 header"));
        }
        let clock = Clock {
            export_ms: be(&p[8..12]) * 1000,
            uptime_ms: Some(be(&p[4..8])),
        };
        let domain = be(&p[16..20]) as u32;
        self.flowsets(exporter, Protocol::V9, domain, clock, &p[HEADER..], out)
    }

    fn decode_ipfix(
        &mut self,
        exporter: IpAddr,
        p: &[u8],
        out: &mut Vec<FlowSample>,
    ) -> Result<(), NetflowError> {
        const HEADER: usize = 16;
        if p.len() < HEADER {
            return Err(NetflowError::Truncated("IPFIX header"));
        }
        let length = usize::from(u16_at(p, 2).unwrap_or(0));
        if length < HEADER || length > p.len() {
            return Err(NetflowError::Malformed(format!(
                "IPFIX message length {length} does not fit the {} bytes received",
                p.len()
            )));
        }
        let clock = Clock {
            export_ms: be(&p[4..8]) * 1000,
            uptime_ms: None,
        };
        let domain = be(&p[12..16]) as u32;
        self.flowsets(
            exporter,
            Protocol::Ipfix,
            domain,
            clock,
            &p[HEADER..length],
            out,
        )
    }

    /// The sets of a v9 or IPFIX message.
    fn flowsets(
        &mut self,
        exporter: IpAddr,
        protocol: Protocol,
        domain: u32,
        clock: Clock,
        mut rest: &[u8],
        out: &mut Vec<FlowSample>,
    ) -> Result<(), NetflowError> {
        let (template_set, options_set) = match protocol {
            Protocol::V9 => (0, 1),
            Protocol::Ipfix => (2, 3),
        };
        while rest.len() >= 4 {
            let id = u16_at(rest, 0).unwrap_or(0);
            let len = usize::from(u16_at(rest, 2).unwrap_or(0));
            if len < 4 || len > rest.len() {
                return Err(NetflowError::Malformed(format!(
                    "set {id} has length {len} with {} bytes left",
                    rest.len()
                )));
            }
            let body = &rest[4..len];
            if id == template_set {
                self.templates_in(exporter, protocol, domain, body, false)?;
            } else if id == options_set {
                self.templates_in(exporter, protocol, domain, body, true)?;
            } else if id >= 256 {
                self.data(exporter, protocol, domain, id, clock, body, out)?;
            }
            rest = &rest[len..];
        }
        Ok(())
    }

    fn templates_in(
        &mut self,
        exporter: IpAddr,
        protocol: Protocol,
        domain: u32,
        mut body: &[u8],
        options: bool,
    ) -> Result<(), NetflowError> {
        // A set may end with padding shorter than a template header.
        while body.len() >= 4 {
            let id = u16_at(body, 0).unwrap_or(0);
            let (count, header) = match (protocol, options) {
                (Protocol::V9, false) => (usize::from(u16_at(body, 2).unwrap_or(0)), 4),
                (Protocol::V9, true) => {
                    // Scope and option lengths are in bytes of (type, length) pairs.
                    let scope = usize::from(u16_at(body, 2).unwrap_or(0));
                    let opts = usize::from(
                        u16_at(body, 4).ok_or(NetflowError::Truncated("v9 options template"))?,
                    );
                    ((scope + opts) / 4, 6)
                }
                (Protocol::Ipfix, false) => (usize::from(u16_at(body, 2).unwrap_or(0)), 4),
                (Protocol::Ipfix, true) => (usize::from(u16_at(body, 2).unwrap_or(0)), 6),
            };
            if id < 256 {
                if id == 0 && body[..header.min(body.len())].iter().all(|&b| b == 0) {
                    return Ok(()); // padding
                }
                return Err(NetflowError::Malformed(format!(
                    "template id {id} below 256"
                )));
            }
            let mut at = header;
            let mut fields = Vec::with_capacity(count);
            for _ in 0..count {
                let raw = u16_at(body, at).ok_or(NetflowError::Truncated("template fields"))?;
                let length =
                    u16_at(body, at + 2).ok_or(NetflowError::Truncated("template fields"))?;
                at += 4;
                let enterprise = protocol == Protocol::Ipfix && raw & 0x8000 != 0;
                if enterprise {
                    at += 4;
                    if at > body.len() {
                        return Err(NetflowError::Truncated("enterprise number"));
                    }
                }
                let variable = protocol == Protocol::Ipfix && length == 0xffff;
                fields.push(Field {
                    id: raw & 0x7fff,
                    enterprise,
                    length: (!variable).then_some(length),
                });
            }
            let key = TemplateKey {
                exporter,
                protocol,
                domain,
                id,
            };
            // A template may not be empty or hold only zero-length fields: records would
            // never advance.
            if fields.iter().all(|f| f.length == Some(0)) {
                return Err(NetflowError::Malformed(format!(
                    "template {id} has no field with a length"
                )));
            }
            if self
                .templates
                .insert(key, Template { fields, options })
                .is_none()
            {
                self.order.push_back(key);
                if self.order.len() > MAX_TEMPLATES
                    && let Some(oldest) = self.order.pop_front()
                {
                    self.templates.remove(&oldest);
                }
            }
            self.stats.templates += 1;
            body = &body[at..];
        }
        Ok(())
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one data set with its full context"
    )]
    fn data(
        &mut self,
        exporter: IpAddr,
        protocol: Protocol,
        domain: u32,
        id: u16,
        clock: Clock,
        mut body: &[u8],
        out: &mut Vec<FlowSample>,
    ) -> Result<(), NetflowError> {
        let key = TemplateKey {
            exporter,
            protocol,
            domain,
            id,
        };
        let Some(template) = self.templates.get(&key) else {
            self.stats.unknown_template += 1;
            return Ok(());
        };
        let template = template.clone();
        let min_len: usize = template
            .fields
            .iter()
            .map(|f| usize::from(f.length.unwrap_or(1)))
            .sum();
        let state_key = (exporter, protocol, domain);
        while body.len() >= min_len.max(1) {
            let mut fields = Fields::default();
            let mut at = 0usize;
            for f in &template.fields {
                let len = match f.length {
                    Some(l) => usize::from(l),
                    None => {
                        let first = *body.get(at).ok_or(NetflowError::Truncated("varlen"))?;
                        at += 1;
                        if first == 255 {
                            let l = usize::from(
                                u16_at(body, at).ok_or(NetflowError::Truncated("varlen"))?,
                            );
                            at += 2;
                            l
                        } else {
                            usize::from(first)
                        }
                    }
                };
                let value = body
                    .get(at..at + len)
                    .ok_or(NetflowError::Truncated("data record"))?;
                fields.set(*f, value);
                at += len;
            }
            body = &body[at..];
            if template.options {
                let state = self.exporters.entry(state_key).or_default();
                if let Some(rate) = fields.sampling_rate() {
                    state.sampling = rate;
                }
                if fields.init_ms.is_some() {
                    state.init_ms = fields.init_ms;
                }
                continue;
            }
            let state = self.exporters.get(&state_key).copied().unwrap_or_default();
            let scale = fields.sampling_rate().unwrap_or(state.sampling).max(1);
            let (Some(src), Some(dst)) = (fields.src, fields.dst) else {
                self.stats.skipped_records += 1;
                continue;
            };
            if fields.packets == 0 {
                self.stats.skipped_records += 1;
                continue;
            }
            let time = |abs: Option<u64>, up: Option<u64>| match (abs, up) {
                (Some(ms), _) => ms / 1000,
                (None, Some(up)) => clock.absolute_secs(up, state.init_ms),
                (None, None) => clock.export_ms / 1000,
            };
            let start = time(fields.start_abs_ms, fields.start_up);
            let end = time(fields.end_abs_ms, fields.end_up).max(start);
            self.stats.flows += 1;
            out.push(FlowSample {
                input_if: fields.input_if,
                output_if: fields.output_if,
                src,
                dst,
                src_port: fields.src_port,
                dst_port: fields.dst_port,
                protocol: fields.protocol,
                packets: fields.packets * scale,
                bytes: fields.bytes * scale,
                start,
                end,
                tcp_flags: fields.tcp_flags,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_flags_are_the_or_over_the_flow() {
        let sample = |flags: u8, src_port: u16, dst_port: u16| FlowSample {
            input_if: None,
            output_if: None,
            src: IpAddr::from([10, 0, 0, 1]),
            dst: IpAddr::from([10, 0, 0, 2]),
            src_port,
            dst_port,
            protocol: 6,
            packets: 1,
            bytes: 40,
            start: 0,
            end: 0,
            tcp_flags: flags,
        };
        let reported = |s: FlowSample| s.packet_info().tcp_flags.map(|f| f.0);
        // A client's whole connection: SYN, ACK, PSH, FIN.
        assert_eq!(reported(sample(0x1b, 50_000, 443)), Some(3));
        // The server's side of it.
        assert_eq!(reported(sample(0x1b, 443, 50_000)), Some(19));
        assert_eq!(reported(sample(0x02, 50_000, 22)), Some(2));
        assert_eq!(reported(sample(0x14, 443, 50_000)), Some(4));
        assert_eq!(reported(sample(0x18, 443, 50_000)), Some(0));
    }
}
