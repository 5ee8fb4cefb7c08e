//! Hand-made packets and capture files for the tests: IP packets from etherparse's builder,
//! wrapped in link-layer headers written here, into pcap / pcapng files from pcap-file's
//! writers.

use std::borrow::Cow;
use std::net::IpAddr;
use std::time::Duration;

use etherparse::{IpNumber, PacketBuilder, PacketBuilderStep, TcpHeader};
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const ECE: u8 = 0x40;

/// The transport of a test packet.
#[derive(Debug, Clone, Copy)]
pub enum L4 {
    Tcp(u8),
    Udp,
    /// ICMP echo request (ICMPv6 for IPv6 addresses).
    Ping,
    /// A bare payload with this protocol number.
    Raw(u8),
}

/// One packet of a test: endpoints, transport and payload size.
#[derive(Debug, Clone, Copy)]
pub struct Pkt {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub l4: L4,
    pub payload: usize,
}

pub fn pkt(src: &str, sport: u16, dst: &str, dport: u16, l4: L4, payload: usize) -> Pkt {
    Pkt {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        sport,
        dport,
        l4,
        payload,
    }
}

impl Pkt {
    /// The IP packet (what AWS counts as `bytes`).
    pub fn ip(&self) -> Vec<u8> {
        let base = match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), 64),
            (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), 64),
            _ => panic!("mixed address families"),
        };
        let payload = vec![0xab; self.payload];
        let mut out = Vec::new();
        match self.l4 {
            L4::Tcp(flags) => tcp(base, self.sport, self.dport, flags)
                .write(&mut out, &payload)
                .unwrap(),
            L4::Udp => base
                .udp(self.sport, self.dport)
                .write(&mut out, &payload)
                .unwrap(),
            L4::Ping if self.src.is_ipv4() => base
                .icmpv4_echo_request(7, 1)
                .write(&mut out, &payload)
                .unwrap(),
            L4::Ping => base
                .icmpv6_echo_request(7, 1)
                .write(&mut out, &payload)
                .unwrap(),
            L4::Raw(proto) => base.write(&mut out, IpNumber(proto), &payload).unwrap(),
        }
        out
    }

    /// The IP packet in an Ethernet II frame with `vlans` 802.1Q tags.
    pub fn ethernet(&self, vlans: &[u16]) -> Vec<u8> {
        let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        for (i, vlan) in vlans.iter().enumerate() {
            // The outer tag of a double-tagged frame is 802.1ad.
            let tpid: u16 = if i == 0 && vlans.len() > 1 {
                0x88a8
            } else {
                0x8100
            };
            frame.extend_from_slice(&tpid.to_be_bytes());
            frame.extend_from_slice(&vlan.to_be_bytes());
        }
        frame.extend_from_slice(&self.ether_type().to_be_bytes());
        frame.extend(self.ip());
        frame
    }

    /// The IP packet behind a Linux cooked v1 header.
    pub fn sll(&self) -> Vec<u8> {
        let mut frame = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
        frame.extend_from_slice(&self.ether_type().to_be_bytes());
        frame.extend(self.ip());
        frame
    }

    /// The IP packet behind a Linux cooked v2 header.
    pub fn sll2(&self) -> Vec<u8> {
        let mut frame = self.ether_type().to_be_bytes().to_vec();
        frame.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        frame.extend(self.ip());
        frame
    }

    fn ether_type(&self) -> u16 {
        if self.src.is_ipv4() { 0x0800 } else { 0x86dd }
    }
}

fn tcp(
    base: PacketBuilderStep<etherparse::IpHeaders>,
    sport: u16,
    dport: u16,
    flags: u8,
) -> PacketBuilderStep<TcpHeader> {
    let mut header = TcpHeader::new(sport, dport, 1000, 64240);
    header.fin = flags & FIN != 0;
    header.syn = flags & SYN != 0;
    header.rst = flags & RST != 0;
    header.psh = flags & PSH != 0;
    header.ack = flags & ACK != 0;
    header.ece = flags & ECE != 0;
    if header.ack {
        header.acknowledgment_number = 1;
    }
    base.tcp_header(header)
}

/// An ARP request frame (not IP).
pub fn arp_frame() -> Vec<u8> {
    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x08, 0x06]);
    frame.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]);
    frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 10, 0, 0, 1]);
    frame.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    frame
}

/// A frame captured at `secs` + `micros`.
pub type Frame = (u64, u32, Vec<u8>);

fn duration(secs: u64, micros: u32) -> Duration {
    Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
}

/// A pcap file of `frames` with link type `link`.
pub fn pcap(link: DataLink, frames: &[Frame]) -> Vec<u8> {
    let header = PcapHeader {
        datalink: link,
        snaplen: 262_144,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(Vec::new(), header).unwrap();
    for (secs, micros, data) in frames {
        let packet = PcapPacket::new(duration(*secs, *micros), data.len() as u32, data);
        writer.write_packet(&packet).unwrap();
    }
    writer.into_writer()
}

/// A pcapng file of `frames` on one interface of link type `link`; `tsresol` as in the
/// interface description (`None`: the default, microseconds).
pub fn pcapng(link: DataLink, tsresol: Option<u8>, frames: &[Frame]) -> Vec<u8> {
    let mut writer = PcapNgWriter::new(Vec::new()).unwrap();
    let mut idb = InterfaceDescriptionBlock::new(link, 262_144);
    let per_sec: u128 = match tsresol {
        Some(r) => {
            idb.options.push(InterfaceDescriptionOption::IfTsResol(r));
            10u128.pow(u32::from(r))
        }
        None => 1_000_000,
    };
    writer.write_pcapng_block(idb).unwrap();
    for (secs, micros, data) in frames {
        // pcap-file writes `timestamp.as_nanos()` as the raw count: give it the count.
        let raw = u128::from(*secs) * per_sec + u128::from(*micros) * per_sec / 1_000_000;
        let block = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_nanos(u64::try_from(raw).unwrap()),
            original_len: data.len() as u32,
            data: Cow::Borrowed(data),
            options: vec![],
        };
        writer.write_pcapng_block(block).unwrap();
    }
    writer.into_inner()
}
