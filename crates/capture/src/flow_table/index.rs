//! A window's flows, indexed for the per-packet update: one hash-map entry per flow holding
//! both its packed key and its counters, so counting a packet touches one entry (the flow
//! table's cost is the cache miss on it; a separate index into a list of flows made two).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use flowwatch_flowlog::{Action, FlowType, TcpFlags};

use super::FlowKey;

/// [`FlowKey`] packed into words: addresses as 128-bit values (IPv4 in the low 32 bits, told
/// apart by `IS_V6` in `rest`), ports, protocol, action and family in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PackedKey {
    src: [u64; 2],
    dst: [u64; 2],
    /// Source port << 48 | destination port << 32 | protocol << 8 | flags (`IS_V6`, `REJECT`).
    rest: u64,
    iface: usize,
}

const IS_V6: u64 = 1;
const REJECT: u64 = 2;

impl Hash for PackedKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Whole words (a hasher's cost is per write), never combined before hashing (that
        // would let chosen keys collide whatever the seed); the high words of IPv4 addresses
        // are 0 and skipped (the family is in `rest`, so equal keys hash alike).
        if self.rest & ((IS_V6 | (IS_V6 << 2)) << 2) != 0 {
            state.write_u64(self.src[0]);
            state.write_u64(self.dst[0]);
        }
        state.write_u64(self.src[1]);
        state.write_u64(self.dst[1]);
        state.write_u64(self.rest);
        state.write_usize(self.iface);
    }
}

fn words(addr: IpAddr) -> ([u64; 2], u64) {
    match addr {
        IpAddr::V4(a) => ([0, u64::from(u32::from(a))], 0),
        IpAddr::V6(a) => {
            let v = u128::from(a);
            ([(v >> 64) as u64, v as u64], IS_V6)
        }
    }
}

fn addr([high, low]: [u64; 2], v6: bool) -> IpAddr {
    if v6 {
        Ipv6Addr::from((u128::from(high) << 64) | u128::from(low)).into()
    } else {
        Ipv4Addr::from(low as u32).into()
    }
}

impl PackedKey {
    #[inline]
    pub(super) fn new(key: &FlowKey) -> Self {
        let (src, src_v6) = words(key.src);
        let (dst, dst_v6) = words(key.dst);
        // A flow never mixes families, but the key must stay exact if one did.
        let family = src_v6 | (dst_v6 << 2);
        let reject = match key.action {
            Action::Accept => 0,
            Action::Reject => REJECT,
        };
        Self {
            src,
            dst,
            rest: (u64::from(key.src_port) << 48)
                | (u64::from(key.dst_port) << 32)
                | (u64::from(key.protocol) << 8)
                | (family << 2)
                | reject,
            iface: key.iface,
        }
    }

    pub(super) fn unpack(&self) -> FlowKey {
        let family = self.rest >> 2;
        FlowKey {
            iface: self.iface,
            src: addr(self.src, family & IS_V6 != 0),
            dst: addr(self.dst, family & (IS_V6 << 2) != 0),
            src_port: (self.rest >> 48) as u16,
            dst_port: (self.rest >> 32) as u16,
            protocol: (self.rest >> 8) as u8,
            action: if self.rest & REJECT != 0 {
                Action::Reject
            } else {
                Action::Accept
            },
        }
    }
}

/// A flow's counts in one window.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counters {
    pub(super) packets: u64,
    pub(super) bytes: u64,
    pub(super) start: u64,
    pub(super) end: u64,
    /// Order of the flow's first packet in its window.
    pub(super) seq: u64,
    /// `None` once an invalid flag combination was seen.
    pub(super) tcp_flags: Option<TcpFlags>,
    pub(super) flow_type: FlowType,
}

/// The flows of one window. Keys come from the network, so the hash is seeded (foldhash's
/// per-process random state): fast, without letting chosen addresses and ports collide on
/// purpose.
#[derive(Debug, Default)]
pub(super) struct FlowIndex {
    map: HashMap<PackedKey, Counters, foldhash::fast::RandomState>,
}

/// What [`FlowIndex::count`] did.
pub(super) enum Counted {
    Added,
    New,
    /// A new flow with no room left.
    Full,
}

impl FlowIndex {
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// Adds `c` to the flow of `key`, or starts it when `room` says a new flow may be added.
    #[inline]
    pub(super) fn count(&mut self, key: &FlowKey, c: Counters, room: bool) -> Counted {
        let next = self.map.len() as u64;
        match self.map.entry(PackedKey::new(key)) {
            Entry::Occupied(mut e) => {
                let flow = e.get_mut();
                flow.packets += c.packets;
                flow.bytes += c.bytes;
                flow.start = flow.start.min(c.start);
                flow.end = flow.end.max(c.end);
                flow.tcp_flags = flow.tcp_flags.zip(c.tcp_flags).map(|(a, b)| a | b);
                Counted::Added
            }
            Entry::Vacant(e) if room => {
                e.insert(Counters { seq: next, ..c });
                Counted::New
            }
            Entry::Vacant(_) => Counted::Full,
        }
    }

    /// The flows with their keys, in order of first packet.
    pub(super) fn into_flows(self) -> Vec<(FlowKey, Counters)> {
        let mut flows: Vec<(FlowKey, Counters)> =
            self.map.into_iter().map(|(k, c)| (k.unpack(), c)).collect();
        flows.sort_unstable_by_key(|(_, c)| c.seq);
        flows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_pack_and_unpack() {
        let addrs: [IpAddr; 5] = [
            "10.0.0.1".parse().unwrap(),
            "::ffff:10.0.0.1".parse().unwrap(),
            "::a00:1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
            "255.255.255.255".parse().unwrap(),
        ];
        let mut packed = Vec::new();
        for (i, src) in addrs.iter().enumerate() {
            for dst in &addrs {
                for action in [Action::Accept, Action::Reject] {
                    let key = FlowKey {
                        iface: i * 1000,
                        src: *src,
                        dst: *dst,
                        src_port: 65535,
                        dst_port: i as u16,
                        protocol: 255 - i as u8,
                        action,
                    };
                    let p = PackedKey::new(&key);
                    assert_eq!(p.unpack(), key);
                    packed.push(p);
                }
            }
        }
        // Distinct keys stay distinct (IPv4 and its mapped or compatible IPv6 forms included).
        for (i, a) in packed.iter().enumerate() {
            assert!(packed[i + 1..].iter().all(|b| b != a));
        }
    }
}
