//! Packet decoding: one link-layer frame to the [`PacketInfo`] a flow table counts.
//!
//! What is counted follows `spec/flowlogs.md` §2: `bytes` is the length of the IP packet (IP
//! header included, link-layer header excluded — the documented ping record, 4 packets and 336
//! bytes, is four 84-byte IP packets), taken from the IP header so a capture cut short by its
//! snapshot length still counts what was on the wire. Ports are 0 for protocols without ports
//! (ICMP, as documented; GRE, ESP... likewise) and for fragments after the first.

mod fast;

use std::net::IpAddr;

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, ip_number};
use flowwatch_flowlog::{FlowType, TcpFlags};

/// The link layer a frame starts with, from the capture's link type
/// (<https://www.tcpdump.org/linktypes.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet II, with up to three 802.1Q / 802.1ad VLAN tags (`LINKTYPE_ETHERNET`, 1).
    Ethernet,
    /// Linux cooked capture v1, `tcpdump -i any` (`LINKTYPE_LINUX_SLL`, 113).
    LinuxSll,
    /// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`, 276).
    LinuxSll2,
    /// A bare IPv4 or IPv6 packet (`LINKTYPE_RAW` 101, `LINKTYPE_IPV4` 228, `LINKTYPE_IPV6` 229).
    RawIp,
    /// BSD loopback: a 4-byte address family, then the IP packet (`LINKTYPE_NULL` 0 in host
    /// byte order, `LINKTYPE_LOOP` 108 in network byte order; both orders are accepted).
    Loopback,
}

impl LinkType {
    /// The link type of a pcap/pcapng link-type number, `None` when unsupported.
    pub fn from_number(link_type: u32) -> Option<Self> {
        match link_type {
            1 => Some(Self::Ethernet),
            113 => Some(Self::LinuxSll),
            276 => Some(Self::LinuxSll2),
            101 | 228 | 229 => Some(Self::RawIp),
            0 | 108 => Some(Self::Loopback),
            _ => None,
        }
    }
}

/// A packet time: Unix seconds and microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub secs: u64,
    /// Below 1,000,000.
    pub micros: u32,
}

impl Timestamp {
    /// A timestamp of whole seconds.
    pub fn from_secs(secs: u64) -> Self {
        Self { secs, micros: 0 }
    }
}

impl From<std::time::Duration> for Timestamp {
    fn from(d: std::time::Duration) -> Self {
        Self {
            secs: d.as_secs(),
            micros: d.subsec_micros(),
        }
    }
}

/// What a flow table needs of one IP packet.
///
/// In C layout, in this order, so that an IPv4 address (a byte of tag, then four) never
/// straddles a 16-byte boundary of the value: a flow table reads the addresses back right
/// after the value was copied in 16-byte moves, and a read across two of them waits for both
/// (store forwarding fails; `docs/benchmarks.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct PacketInfo {
    pub ts: Timestamp,
    /// The IP packet's length as AWS counts `bytes`: IPv4 total length, IPv6 40 + payload
    /// length (the captured length for IPv6 jumbograms).
    pub bytes: u64,
    /// 0 when the protocol has no ports or the packet is a later fragment.
    pub src_port: u16,
    pub dst_port: u16,
    /// IANA protocol number of the payload (after IPv6 extension headers).
    pub protocol: u8,
    /// The flags this packet adds to `tcp-flags` ([`reported_tcp_flags`]); 0 for other
    /// protocols; `None` for an invalid combination.
    pub tcp_flags: Option<TcpFlags>,
    pub flow_type: FlowType,
    pub src: IpAddr,
    pub dst: IpAddr,
}

/// Why a frame gave no [`PacketInfo`]. Both are counted, never errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skipped {
    /// A well-formed frame that carries no IP packet (ARP, LLDP, STP...).
    NotIp,
    /// Too short or malformed to read the link or IP header.
    Undecodable,
}

/// The `tcp-flags` value of one packet's raw flags byte (byte 13 of the TCP header), per
/// `spec/flowlogs.md`: only FIN (1), SYN (2) and RST (4) are reported, ACK (16) only as part of
/// SYN-ACK (18); ACK, PSH, URG, ECE and CWR alone are 0. SYN together with FIN or RST is an
/// invalid combination: `None`, which makes the record's `tcp-flags` `-`.
pub fn reported_tcp_flags(raw: u8) -> Option<TcpFlags> {
    const FIN: u8 = 0x01;
    const SYN: u8 = 0x02;
    const RST: u8 = 0x04;
    const ACK: u8 = 0x10;
    let syn = raw & SYN != 0;
    if syn && raw & (FIN | RST) != 0 {
        return None;
    }
    let mut value = raw & (FIN | SYN | RST);
    if syn && raw & ACK != 0 {
        value |= ACK;
    }
    Some(TcpFlags(value))
}

/// Decodes one frame captured on a `link` interface at `ts`.
///
/// The common frames (Ethernet with at most one 802.1Q tag, SLL/SLL2, raw IP or loopback
/// around a plain IPv4 or IPv6 header followed by TCP, UDP, ICMP, SCTP or UDP-Lite) take a
/// hand-written path; everything else (extension headers, IPv4 authentication headers, odd
/// lengths, stacked tags, MACsec, errors) goes through etherparse. Both give the same
/// [`PacketInfo`] (a property test compares them).
pub fn decode(link: LinkType, ts: Timestamp, frame: &[u8]) -> Result<PacketInfo, Skipped> {
    match fast::decode(link, ts, frame) {
        Some(info) => Ok(info),
        None => decode_sliced(link, ts, frame),
    }
}

/// [`decode`] through etherparse's lax slicing, for every frame.
fn decode_sliced(link: LinkType, ts: Timestamp, frame: &[u8]) -> Result<PacketInfo, Skipped> {
    let sliced = slice(link, frame)?;
    let net = match sliced.net {
        Some(net) => net,
        None if sliced.stop_err.is_some() => return Err(Skipped::Undecodable),
        None => return Err(Skipped::NotIp),
    };
    match net {
        LaxNetSlice::Ipv4(v4) => {
            let header = v4.header();
            let payload = v4.payload();
            let header_len = header.slice().len() as u64;
            let total = u64::from(header.total_len());
            // A total length below the header's own (0 from segmentation offload) is not
            // what went on the wire; count what was captured instead.
            let bytes = if total >= header_len {
                total
            } else {
                header_len + payload.payload.len() as u64
            };
            let first = header.fragments_offset().value() == 0;
            Ok(info(
                ts,
                (
                    header.source_addr().into(),
                    header.destination_addr().into(),
                ),
                payload.ip_number.0,
                bytes,
                first.then_some(payload.payload),
                FlowType::Ipv4,
            ))
        }
        LaxNetSlice::Ipv6(v6) => {
            let header = v6.header();
            let payload = v6.payload();
            let declared = u64::from(header.payload_length());
            let bytes = if declared > 0 {
                40 + declared
            } else {
                (40 + v6.extensions().slice().len() + payload.payload.len()) as u64
            };
            let first = v6.extensions().clone().into_iter().all(|ext| match ext {
                etherparse::Ipv6ExtensionSlice::Fragment(f) => f.fragment_offset().value() == 0,
                _ => true,
            });
            Ok(info(
                ts,
                (
                    header.source_addr().into(),
                    header.destination_addr().into(),
                ),
                payload.ip_number.0,
                bytes,
                first.then_some(payload.payload),
                FlowType::Ipv6,
            ))
        }
        LaxNetSlice::Arp(_) => Err(Skipped::NotIp),
    }
}

/// Splits the frame down to its network layer.
fn slice(link: LinkType, frame: &[u8]) -> Result<LaxSlicedPacket<'_>, Skipped> {
    match link {
        LinkType::Ethernet => {
            LaxSlicedPacket::from_ethernet(frame).map_err(|_| Skipped::Undecodable)
        }
        LinkType::LinuxSll => {
            // 16-byte header; the protocol (an EtherType for IP) is its last two bytes.
            let header = frame.get(..16).ok_or(Skipped::Undecodable)?;
            let proto = u16::from_be_bytes([header[14], header[15]]);
            Ok(by_ether_type(proto, &frame[16..]))
        }
        LinkType::LinuxSll2 => {
            // 20-byte header; the protocol is its first two bytes.
            let header = frame.get(..20).ok_or(Skipped::Undecodable)?;
            let proto = u16::from_be_bytes([header[0], header[1]]);
            Ok(by_ether_type(proto, &frame[20..]))
        }
        LinkType::RawIp => LaxSlicedPacket::from_ip(frame).map_err(|_| Skipped::Undecodable),
        LinkType::Loopback => {
            let family = frame.get(..4).ok_or(Skipped::Undecodable)?;
            let family = [family[0], family[1], family[2], family[3]];
            let is_ip = |f: u32| matches!(f, 2 | 10 | 24 | 28 | 30);
            if !is_ip(u32::from_le_bytes(family)) && !is_ip(u32::from_be_bytes(family)) {
                return Err(Skipped::NotIp);
            }
            LaxSlicedPacket::from_ip(&frame[4..]).map_err(|_| Skipped::Undecodable)
        }
    }
}

fn by_ether_type(proto: u16, payload: &[u8]) -> LaxSlicedPacket<'_> {
    LaxSlicedPacket::from_ether_type(EtherType(proto), payload)
}

/// Builds the info; `transport` is the IP payload when it starts with the transport header.
#[inline]
fn info(
    ts: Timestamp,
    (src, dst): (IpAddr, IpAddr),
    protocol: u8,
    bytes: u64,
    transport: Option<&[u8]>,
    flow_type: FlowType,
) -> PacketInfo {
    let has_ports = matches!(
        etherparse::IpNumber(protocol),
        ip_number::TCP | ip_number::UDP | ip_number::SCTP | ip_number::UDP_LITE
    );
    let (src_port, dst_port) = match transport {
        Some(t) if has_ports && t.len() >= 4 => (
            u16::from_be_bytes([t[0], t[1]]),
            u16::from_be_bytes([t[2], t[3]]),
        ),
        _ => (0, 0),
    };
    let tcp_flags = if protocol == ip_number::TCP.0 {
        match transport.and_then(|t| t.get(13)) {
            Some(raw) => reported_tcp_flags(*raw),
            None => Some(TcpFlags(0)),
        }
    } else {
        Some(TcpFlags(0))
    };
    PacketInfo {
        ts,
        src,
        dst,
        src_port,
        dst_port,
        protocol,
        bytes,
        tcp_flags,
        flow_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_flags_follow_the_reporting_rules() {
        let cases = [
            (0x00, Some(0)),  // no flags
            (0x10, Some(0)),  // pure ACK
            (0x18, Some(0)),  // PSH-ACK
            (0x02, Some(2)),  // SYN
            (0x42, Some(2)),  // SYN + ECE
            (0x12, Some(18)), // SYN-ACK
            (0x11, Some(1)),  // FIN-ACK
            (0x04, Some(4)),  // RST
            (0x14, Some(4)),  // RST-ACK
            (0x03, None),     // SYN + FIN
            (0x06, None),     // SYN + RST
        ];
        for (raw, want) in cases {
            assert_eq!(reported_tcp_flags(raw), want.map(TcpFlags), "{raw:#04x}");
        }
    }

    #[test]
    fn link_types_by_number() {
        assert_eq!(LinkType::from_number(1), Some(LinkType::Ethernet));
        assert_eq!(LinkType::from_number(113), Some(LinkType::LinuxSll));
        assert_eq!(LinkType::from_number(276), Some(LinkType::LinuxSll2));
        assert_eq!(LinkType::from_number(229), Some(LinkType::RawIp));
        assert_eq!(LinkType::from_number(127), None);
    }

    #[test]
    fn short_frames_are_undecodable_and_arp_is_not_ip() {
        let ts = Timestamp::default();
        assert_eq!(
            decode(LinkType::Ethernet, ts, &[0; 5]),
            Err(Skipped::Undecodable)
        );
        assert_eq!(
            decode(LinkType::LinuxSll2, ts, &[0; 19]),
            Err(Skipped::Undecodable)
        );
        let mut arp = vec![0xff; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.extend_from_slice(&[0; 28]);
        assert_eq!(decode(LinkType::Ethernet, ts, &arp), Err(Skipped::NotIp));
        // An IPv4 EtherType with a garbage header.
        let mut bad = vec![0xff; 12];
        bad.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(
            decode(LinkType::Ethernet, ts, &bad),
            Err(Skipped::Undecodable)
        );
    }
}
