//! nfnetlink_log messages, written and read by hand (no I/O here): the requests that bind a
//! netlink socket to an NFLOG group in copy-packet mode, and the packets the kernel then sends
//! for every packet an nftables/iptables rule logs with `log group N` / `-j NFLOG
//! --nflog-group N`.
//!
//! Layout (`linux/netlink.h`, `linux/netfilter/nfnetlink.h`, `nfnetlink_log.h`): a datagram is
//! a run of netlink messages, each a 16-byte `nlmsghdr` (length, type, flags, sequence, port,
//! host byte order) padded to 4 bytes; nfnetlink messages follow it with a 4-byte `nfgenmsg`
//! (family, version, resource id = group, big-endian) and then attributes (`nlattr`: length,
//! type, value, padded to 4). Attribute values are big-endian.

use crate::packet::Timestamp;

/// `NFNL_SUBSYS_ULOG`, the subsystem of nfnetlink_log.
const SUBSYS_ULOG: u16 = 4;
/// `NFULNL_MSG_PACKET`: a logged packet.
const MSG_PACKET: u16 = 0;
/// `NFULNL_MSG_CONFIG`: a configuration request.
const MSG_CONFIG: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_HDRLEN: usize = 16;

// Configuration attributes.
const NFULA_CFG_CMD: u16 = 1;
const NFULA_CFG_MODE: u16 = 2;
const NFULA_CFG_TIMEOUT: u16 = 4;
const NFULA_CFG_QTHRESH: u16 = 5;
const NFULNL_CFG_CMD_BIND: u8 = 1;
const NFULNL_COPY_PACKET: u8 = 2;

// Packet attributes.
const NFULA_PACKET_HDR: u16 = 1;
const NFULA_TIMESTAMP: u16 = 3;
const NFULA_IFINDEX_INDEV: u16 = 4;
const NFULA_IFINDEX_OUTDEV: u16 = 5;
const NFULA_PAYLOAD: u16 = 9;
const NFULA_PREFIX: u16 = 10;
/// `NLA_TYPE_MASK`: the type without the nested / byte-order flags.
const NLA_TYPE_MASK: u16 = 0x3fff;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One configuration request for `group` with one attribute.
fn config(group: u16, seq: u32, attr_type: u16, value: &[u8]) -> Vec<u8> {
    let attr_len = 4 + value.len();
    let len = NLMSG_HDRLEN + 4 + align4(attr_len);
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&((SUBSYS_ULOG << 8) | MSG_CONFIG).to_ne_bytes());
    m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    // nfgenmsg: AF_UNSPEC, NFNETLINK_V0, the group.
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&group.to_be_bytes());
    m.extend_from_slice(&(attr_len as u16).to_ne_bytes());
    m.extend_from_slice(&attr_type.to_ne_bytes());
    m.extend_from_slice(value);
    m.resize(len, 0);
    m
}

/// Binds the socket to `group` (`NFULNL_CFG_CMD_BIND`).
pub fn bind_request(group: u16, seq: u32) -> Vec<u8> {
    config(group, seq, NFULA_CFG_CMD, &[NFULNL_CFG_CMD_BIND])
}

/// Copy-packet mode: the first `copy_range` bytes of each packet (from its IP header).
pub fn copy_packet_request(group: u16, seq: u32, copy_range: u32) -> Vec<u8> {
    let mut value = copy_range.to_be_bytes().to_vec();
    value.extend_from_slice(&[NFULNL_COPY_PACKET, 0]);
    config(group, seq, NFULA_CFG_MODE, &value)
}

/// How long the kernel may hold logged packets before sending them, in hundredths of a second.
pub fn flush_timeout_request(group: u16, seq: u32, hundredths: u32) -> Vec<u8> {
    config(group, seq, NFULA_CFG_TIMEOUT, &hundredths.to_be_bytes())
}

/// How many logged packets the kernel may hold before sending them (1: each at once).
pub fn queue_threshold_request(group: u16, seq: u32, packets: u32) -> Vec<u8> {
    config(group, seq, NFULA_CFG_QTHRESH, &packets.to_be_bytes())
}

/// A packet an NFLOG rule logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoggedPacket<'a> {
    /// `AF_INET` (2), `AF_INET6` (10)... of the hook that logged it.
    pub family: u8,
    pub group: u16,
    /// The netfilter hook (0 prerouting, 1 input, 2 forward, 3 output, 4 postrouting).
    pub hook: Option<u8>,
    /// Interface it came in on / goes out on (`ifindex`).
    pub indev: Option<u32>,
    pub outdev: Option<u32>,
    /// The rule's log prefix, without the final NUL.
    pub prefix: Option<&'a [u8]>,
    /// The packet from its network header, cut at the copy range.
    pub payload: Option<&'a [u8]>,
    /// When the kernel stamped it, if it did.
    pub timestamp: Option<Timestamp>,
}

/// One netlink message of a datagram from an nfnetlink_log socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    Packet(LoggedPacket<'a>),
    /// An acknowledgement (`errno` 0) or the error a request got (`errno` > 0).
    Ack {
        seq: u32,
        errno: i32,
    },
    /// Anything else (`NLMSG_DONE`, other subsystems).
    Other,
}

/// A datagram that does not hold whole netlink messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed netlink message at byte {offset}")]
pub struct Malformed {
    pub offset: usize,
}

fn u16_ne(b: &[u8]) -> u16 {
    u16::from_ne_bytes([b[0], b[1]])
}

fn u32_ne(b: &[u8]) -> u32 {
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

fn u32_be(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

fn u64_be(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

/// Splits a datagram into its messages, appended to `out`. Messages are read up to the first
/// malformed one, which is the error.
pub fn parse<'a>(buf: &'a [u8], out: &mut Vec<Message<'a>>) -> Result<(), Malformed> {
    let mut offset = 0;
    while buf.len() - offset >= NLMSG_HDRLEN {
        let h = &buf[offset..];
        let len = u32_ne(&h[0..4]) as usize;
        if len < NLMSG_HDRLEN || len > h.len() {
            return Err(Malformed { offset });
        }
        let ty = u16_ne(&h[4..6]);
        let seq = u32_ne(&h[8..12]);
        let body = &h[NLMSG_HDRLEN..len];
        let message = match ty {
            NLMSG_ERROR => {
                let errno = body.get(..4).map(u32_ne).ok_or(Malformed { offset })? as i32;
                Message::Ack {
                    seq,
                    errno: errno.saturating_neg(),
                }
            }
            NLMSG_DONE => Message::Other,
            t if t == (SUBSYS_ULOG << 8) | MSG_PACKET => {
                Message::Packet(packet(body).ok_or(Malformed { offset })?)
            }
            _ => Message::Other,
        };
        out.push(message);
        offset += align4(len).min(buf.len() - offset);
    }
    Ok(())
}

/// A packet message's body: `nfgenmsg` then attributes.
fn packet(body: &[u8]) -> Option<LoggedPacket<'_>> {
    let header = body.get(..4)?;
    let mut p = LoggedPacket {
        family: header[0],
        group: u16::from_be_bytes([header[2], header[3]]),
        ..LoggedPacket::default()
    };
    let mut attrs = &body[4..];
    while attrs.len() >= 4 {
        let len = u16_ne(&attrs[0..2]) as usize;
        if len < 4 || len > attrs.len() {
            return None;
        }
        let value = &attrs[4..len];
        match u16_ne(&attrs[2..4]) & NLA_TYPE_MASK {
            NFULA_PACKET_HDR => p.hook = value.get(2).copied(),
            NFULA_TIMESTAMP => {
                let secs = u64_be(value)?;
                let micros = u64_be(value.get(8..)?)?;
                p.timestamp = Some(Timestamp {
                    secs,
                    micros: micros.min(999_999) as u32,
                });
            }
            NFULA_IFINDEX_INDEV => p.indev = Some(u32_be(value)?),
            NFULA_IFINDEX_OUTDEV => p.outdev = Some(u32_be(value)?),
            NFULA_PAYLOAD => p.payload = Some(value),
            NFULA_PREFIX => {
                p.prefix = Some(value.strip_suffix(&[0]).unwrap_or(value));
            }
            _ => {}
        }
        attrs = &attrs[align4(len).min(attrs.len())..];
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(ty: u16, value: &[u8]) -> Vec<u8> {
        let mut a = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        a.extend_from_slice(&ty.to_ne_bytes());
        a.extend_from_slice(value);
        a.resize(align4(a.len()), 0);
        a
    }

    fn message(ty: u16, body: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDRLEN + body.len();
        let mut m = (len as u32).to_ne_bytes().to_vec();
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&7u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(body);
        m.resize(align4(len), 0);
        m
    }

    #[test]
    fn bind_request_layout() {
        let m = bind_request(5, 1);
        assert_eq!(m.len(), 16 + 4 + 8);
        assert_eq!(u32_ne(&m[0..4]), 28);
        assert_eq!(u16_ne(&m[4..6]), 0x0401);
        assert_eq!(u16_ne(&m[6..8]), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(&m[16..20], &[0, 0, 0, 5]);
        assert_eq!(u16_ne(&m[20..22]), 5); // attribute length: header + 1 byte
        assert_eq!(u16_ne(&m[22..24]), NFULA_CFG_CMD);
        assert_eq!(m[24], NFULNL_CFG_CMD_BIND);
        let mode = copy_packet_request(5, 2, 256);
        assert_eq!(&mode[24..30], &[0, 0, 1, 0, NFULNL_COPY_PACKET, 0]);
        assert_eq!(mode.len() % 4, 0);
    }

    #[test]
    fn packets_acks_and_garbage() {
        let mut body = vec![2, 0, 0, 5]; // AF_INET, v0, group 5
        body.extend(attr(NFULA_PACKET_HDR, &[0x08, 0x00, 1, 0]));
        body.extend(attr(NFULA_IFINDEX_INDEV | 0x4000, &3u32.to_be_bytes()));
        body.extend(attr(NFULA_PREFIX, b"drop-ssh\0"));
        let mut ts = 1_700_000_000u64.to_be_bytes().to_vec();
        ts.extend_from_slice(&250u64.to_be_bytes());
        body.extend(attr(NFULA_TIMESTAMP, &ts));
        body.extend(attr(NFULA_PAYLOAD, &[0x45, 0, 0, 60]));
        let mut datagram = message(0x0400, &body);
        datagram.extend(message(NLMSG_ERROR, &(-16i32).to_ne_bytes()));
        datagram.extend(message(NLMSG_DONE, &[0; 4]));
        let mut out = Vec::new();
        parse(&datagram, &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                Message::Packet(LoggedPacket {
                    family: 2,
                    group: 5,
                    hook: Some(1),
                    indev: Some(3),
                    outdev: None,
                    prefix: Some(b"drop-ssh"),
                    payload: Some(&[0x45, 0, 0, 60]),
                    timestamp: Some(Timestamp {
                        secs: 1_700_000_000,
                        micros: 250
                    }),
                }),
                Message::Ack { seq: 7, errno: 16 },
                Message::Other,
            ]
        );
        // Lengths past the end, attributes cut short: errors, never panics.
        let mut cut = datagram.clone();
        cut.truncate(30);
        out.clear();
        assert_eq!(parse(&cut, &mut out), Err(Malformed { offset: 0 }));
        for n in 0..datagram.len() {
            let mut bytes = datagram.clone();
            bytes[n] = 0xff;
            let _ = parse(&bytes, &mut Vec::new());
            let _ = parse(&datagram[..n], &mut Vec::new());
        }
    }
}
