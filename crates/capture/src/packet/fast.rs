//! The hand-written path of [`decode`](super::decode) for the frames captures are made of:
//! Ethernet (with at most one 802.1Q tag), Linux cooked SLL/SLL2, raw IP and BSD loopback
//! around a plain IPv4 header (no authentication header, total length at least the header's)
//! or IPv6 header (no extension headers, payload length above 0), carrying one of
//! [`PLAIN_PAYLOADS`]. It reads only the bytes [`info`](super::info) needs and answers `None`
//! for anything else, which etherparse's lax slicing then decodes: on the frames it accepts it
//! gives exactly what that slicing gives (see the tests).

use std::net::{Ipv4Addr, Ipv6Addr};

use flowwatch_flowlog::FlowType;

use super::{LinkType, PacketInfo, Timestamp, info};

/// IP protocol numbers that are never extension headers for etherparse: ICMP, TCP, UDP,
/// ICMPv6, SCTP and UDP-Lite.
const PLAIN_PAYLOADS: [u8; 6] = [1, 6, 17, 58, 132, 136];

const ETHER_IPV4: u16 = 0x0800;
const ETHER_IPV6: u16 = 0x86dd;
const ETHER_VLAN: u16 = 0x8100;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// The frame's [`PacketInfo`] when it is one of the common shapes, else `None`.
#[inline]
pub(super) fn decode(link: LinkType, ts: Timestamp, frame: &[u8]) -> Option<PacketInfo> {
    match link {
        LinkType::Ethernet => match be16(frame, 12)? {
            ETHER_VLAN => by_ether_type(ts, be16(frame, 16)?, frame.get(18..)?),
            ether_type => by_ether_type(ts, ether_type, frame.get(14..)?),
        },
        LinkType::LinuxSll => by_ether_type(ts, be16(frame, 14)?, frame.get(16..)?),
        LinkType::LinuxSll2 => by_ether_type(ts, be16(frame, 0)?, frame.get(20..)?),
        LinkType::RawIp => by_version(ts, frame),
        LinkType::Loopback => {
            let family: [u8; 4] = frame.get(..4)?.try_into().ok()?;
            let is_ip = |f: u32| matches!(f, 2 | 10 | 24 | 28 | 30);
            if !is_ip(u32::from_le_bytes(family)) && !is_ip(u32::from_be_bytes(family)) {
                return None;
            }
            by_version(ts, &frame[4..])
        }
    }
}

/// An IP packet behind an EtherType; only when the header's version agrees with it.
#[inline]
fn by_ether_type(ts: Timestamp, ether_type: u16, ip: &[u8]) -> Option<PacketInfo> {
    match ether_type {
        ETHER_IPV4 => ipv4(ts, ip),
        ETHER_IPV6 => ipv6(ts, ip),
        _ => None,
    }
}

#[inline]
fn by_version(ts: Timestamp, ip: &[u8]) -> Option<PacketInfo> {
    match ip.first()? >> 4 {
        4 => ipv4(ts, ip),
        6 => ipv6(ts, ip),
        _ => None,
    }
}

#[inline]
fn ipv4(ts: Timestamp, ip: &[u8]) -> Option<PacketInfo> {
    let header: &[u8; 20] = ip.get(..20)?.try_into().ok()?;
    if header[0] >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(header[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let protocol = header[9];
    if header_len < 20
        || ip.len() < header_len
        || total < header_len
        || !PLAIN_PAYLOADS.contains(&protocol)
    {
        return None;
    }
    let payload = &ip[header_len..total.min(ip.len())];
    let first = u16::from_be_bytes([header[6], header[7]]) & 0x1fff == 0;
    let src: [u8; 4] = header[12..16].try_into().ok()?;
    let dst: [u8; 4] = header[16..20].try_into().ok()?;
    Some(info(
        ts,
        (Ipv4Addr::from(src).into(), Ipv4Addr::from(dst).into()),
        protocol,
        total as u64,
        first.then_some(payload),
        FlowType::Ipv4,
    ))
}

#[inline]
fn ipv6(ts: Timestamp, ip: &[u8]) -> Option<PacketInfo> {
    let header: &[u8; 40] = ip.get(..40)?.try_into().ok()?;
    let declared = usize::from(u16::from_be_bytes([header[4], header[5]]));
    let next = header[6];
    if header[0] >> 4 != 6 || declared == 0 || !PLAIN_PAYLOADS.contains(&next) {
        return None;
    }
    let payload = &ip[40..(40 + declared).min(ip.len())];
    let src: [u8; 16] = header[8..24].try_into().ok()?;
    let dst: [u8; 16] = header[24..40].try_into().ok()?;
    Some(info(
        ts,
        (Ipv6Addr::from(src).into(), Ipv6Addr::from(dst).into()),
        next,
        (40 + declared) as u64,
        Some(payload),
        FlowType::Ipv6,
    ))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::decode_sliced;
    use super::*;

    const LINKS: [LinkType; 5] = [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::RawIp,
        LinkType::Loopback,
    ];

    /// The fast path, where it answers, agrees with etherparse's slicing.
    fn agrees(link: LinkType, frame: &[u8]) -> std::result::Result<bool, TestCaseError> {
        let ts = Timestamp { secs: 7, micros: 9 };
        let Some(fast) = decode(link, ts, frame) else {
            return Ok(false);
        };
        prop_assert_eq!(
            Ok(fast),
            decode_sliced(link, ts, frame),
            "{:?} {:02x?}",
            link,
            frame
        );
        Ok(true)
    }

    /// An IP packet with a mostly plausible header: version, header length, total or
    /// payload length, protocol and fragment fields from small sets with odd values among
    /// them; the rest arbitrary.
    fn ip_packet() -> impl Strategy<Value = Vec<u8>> {
        let v4 = (
            prop_oneof![
                Just(4u8),
                Just(4),
                Just(4),
                Just(6),
                any::<u8>().prop_map(|v| v >> 4)
            ],
            prop_oneof![Just(5u8), Just(5), Just(6), Just(15), 0u8..5],
            prop_oneof![
                Just(None),
                Just(None),
                any::<u16>().prop_map(Some),
                (0u16..60).prop_map(Some)
            ],
            prop_oneof![
                Just(6u8),
                Just(17),
                Just(1),
                Just(132),
                Just(136),
                Just(51),
                Just(58),
                any::<u8>()
            ],
            prop_oneof![
                Just(0u16),
                Just(0x4000),
                Just(0x2000),
                Just(0x2001),
                any::<u16>()
            ],
            proptest::collection::vec(any::<u8>(), 0..80),
        )
            .prop_map(|(version, ihl, total, protocol, frag, rest)| {
                let mut p = vec![0u8; 20];
                p[0] = (version << 4) | ihl;
                p[6..8].copy_from_slice(&frag.to_be_bytes());
                p[8] = 64;
                p[9] = protocol;
                p[12..20].copy_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
                p.extend(rest);
                let total = total.unwrap_or(p.len() as u16);
                p[2..4].copy_from_slice(&total.to_be_bytes());
                p
            });
        let v6 = (
            prop_oneof![
                Just(6u8),
                Just(6),
                Just(4),
                any::<u8>().prop_map(|v| v >> 4)
            ],
            prop_oneof![
                Just(None),
                Just(None),
                Just(Some(0u16)),
                any::<u16>().prop_map(Some),
                (0u16..60).prop_map(Some)
            ],
            prop_oneof![
                Just(6u8),
                Just(17),
                Just(58),
                Just(1),
                Just(132),
                Just(136),
                Just(0),
                Just(43),
                Just(44),
                Just(51),
                Just(60),
                Just(50),
                Just(59),
                Just(135),
                any::<u8>()
            ],
            proptest::collection::vec(any::<u8>(), 0..80),
        )
            .prop_map(|(version, declared, next, rest)| {
                let mut p = vec![0u8; 40];
                p[0] = version << 4;
                p[6] = next;
                p[7] = 64;
                p[8..24].copy_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
                p[24..40]
                    .copy_from_slice(&[0xfd, 0, 0xe, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x54]);
                p.extend(rest);
                let declared = declared.unwrap_or(p.len() as u16 - 40);
                p[4..6].copy_from_slice(&declared.to_be_bytes());
                p
            });
        prop_oneof![v4, v6]
    }

    /// A link header for `link` announcing `ether_type` (or an address family).
    fn framed(link: LinkType, ether_type: u16, vlan: bool, family: u32, ip: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        match link {
            LinkType::Ethernet => {
                f.extend([0x02; 12]);
                if vlan {
                    f.extend(ETHER_VLAN.to_be_bytes());
                    f.extend([0, 7]);
                }
                f.extend(ether_type.to_be_bytes());
            }
            LinkType::LinuxSll => {
                f.extend([0; 14]);
                f.extend(ether_type.to_be_bytes());
            }
            LinkType::LinuxSll2 => {
                f.extend(ether_type.to_be_bytes());
                f.extend([0; 18]);
            }
            LinkType::RawIp => {}
            LinkType::Loopback => f.extend(family.to_le_bytes()),
        }
        f.extend_from_slice(ip);
        f
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn the_fast_path_agrees_with_etherparse(
            ip in ip_packet(),
            ether_type in prop_oneof![Just(ETHER_IPV4), Just(ETHER_IPV6), Just(0x0806u16), any::<u16>()],
            vlan in any::<bool>(),
            family in prop_oneof![Just(2u32), Just(10), Just(24), Just(0x0200_0000), any::<u32>()],
            cut in proptest::option::of(0usize..140),
            flip in proptest::collection::vec((0usize..80, any::<u8>()), 0..3),
        ) {
            for link in LINKS {
                let mut frame = framed(link, ether_type, vlan, family, &ip);
                for (i, b) in &flip {
                    if let Some(x) = frame.get_mut(*i) { *x = *b; }
                }
                if let Some(cut) = cut {
                    frame.truncate(cut);
                }
                agrees(link, &frame)?;
            }
        }

        #[test]
        fn arbitrary_bytes_agree(frame in proptest::collection::vec(any::<u8>(), 0..120)) {
            for link in LINKS {
                agrees(link, &frame)?;
            }
        }
    }

    #[test]
    fn common_frames_take_the_fast_path() {
        let tcp = {
            let mut p = vec![
                0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            ];
            p.extend([
                0x04, 0x00, 0x00, 0x16, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0, 0, 0, 0, 0, 0,
            ]);
            p
        };
        for link in LINKS {
            for vlan in [false, true] {
                let frame = framed(link, ETHER_IPV4, vlan, 2, &tcp);
                assert!(agrees(link, &frame).unwrap(), "{link:?}");
            }
        }
    }
}
