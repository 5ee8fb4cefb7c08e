//! A window's flows, indexed for the per-packet update: one hash-table slot per flow holding
//! both its packed key and its counters, so counting a packet touches one slot (the flow
//! table's cost is the cache miss on it; a separate index into a list of flows made two).

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use flowwatch_flowlog::{Action, FlowType, TcpFlags};

use super::FlowKey;
use crate::packet::PacketInfo;

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
    /// The key of `pkt`'s flow on interface `iface` with verdict `action`.
    #[inline]
    pub(super) fn of(iface: usize, pkt: &PacketInfo, action: Action) -> Self {
        Self::new(&FlowKey {
            iface,
            src: pkt.src,
            dst: pkt.dst,
            src_port: pkt.src_port,
            dst_port: pkt.dst_port,
            protocol: pkt.protocol,
            action,
        })
    }

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

#[derive(Debug, Clone, Copy)]
struct Slot {
    key: PackedKey,
    counters: Counters,
}

/// What an unused slot holds (its tag says it is unused).
const EMPTY: Slot = Slot {
    key: PackedKey {
        src: [0; 2],
        dst: [0; 2],
        rest: 0,
        iface: 0,
    },
    counters: Counters {
        packets: 0,
        bytes: 0,
        start: 0,
        end: 0,
        seq: 0,
        tcp_flags: None,
        flow_type: FlowType::Ipv4,
    },
};

/// The flows of one window: an open-addressing hash table (linear probing over a byte of tag
/// per slot, at most 3/4 full; flows are never removed, a window is dropped whole). A probe
/// reads tags, which are dense, and compares a slot's key only when its tag matches.
///
/// Keys come from the network, so the hash is seeded (foldhash's random state, the table's,
/// so that a key's hash is the same in every window): fast, without letting chosen addresses
/// and ports collide on purpose.
#[derive(Debug)]
pub(super) struct FlowIndex {
    /// Per slot: 0 when unused, else `0x80 |` the hash's top 7 bits.
    tags: Vec<u8>,
    /// A power of two long (or empty).
    slots: Vec<Slot>,
    len: usize,
    hasher: foldhash::fast::RandomState,
}

/// What [`FlowIndex::count`] did.
pub(super) enum Counted {
    Added,
    New,
    /// A new flow with no room left.
    Full,
}

impl FlowIndex {
    pub(super) fn new(hasher: foldhash::fast::RandomState) -> Self {
        Self {
            tags: Vec::new(),
            slots: Vec::new(),
            len: 0,
            hasher,
        }
    }

    #[inline]
    pub(super) fn hash(&self, key: &PackedKey) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Adds `c` to the flow of `key` (whose [`hash`](Self::hash) is `hash`), or starts it when
    /// `room` says a new flow may be added.
    #[inline]
    pub(super) fn count(&mut self, key: &PackedKey, hash: u64, c: Counters, room: bool) -> Counted {
        let tag = 0x80 | (hash >> 57) as u8;
        if !self.slots.is_empty() {
            let mask = self.slots.len() - 1;
            let mut i = hash as usize & mask;
            loop {
                let t = self.tags[i];
                if t == 0 {
                    break;
                }
                if t == tag && self.slots[i].key == *key {
                    let flow = &mut self.slots[i].counters;
                    flow.packets += c.packets;
                    flow.bytes += c.bytes;
                    flow.start = flow.start.min(c.start);
                    flow.end = flow.end.max(c.end);
                    flow.tcp_flags = flow.tcp_flags.zip(c.tcp_flags).map(|(a, b)| a | b);
                    return Counted::Added;
                }
                i = (i + 1) & mask;
            }
        }
        if !room {
            return Counted::Full;
        }
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let counters = Counters {
            seq: self.len as u64,
            ..c
        };
        self.place(
            tag,
            hash,
            Slot {
                key: *key,
                counters,
            },
        );
        self.len += 1;
        Counted::New
    }

    /// Puts `slot` in the first unused slot from `hash`'s (there is one: at most 3/4 are used).
    fn place(&mut self, tag: u8, hash: u64, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        while self.tags[i] != 0 {
            i = (i + 1) & mask;
        }
        self.tags[i] = tag;
        self.slots[i] = slot;
    }

    #[cold]
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let tags = std::mem::replace(&mut self.tags, vec![0; size]);
        let slots = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        for (tag, slot) in tags.into_iter().zip(slots) {
            if tag != 0 {
                let hash = self.hash(&slot.key);
                self.place(tag, hash, slot);
            }
        }
    }

    /// The flows with their keys, in order of first packet.
    pub(super) fn into_flows(self) -> Vec<(FlowKey, Counters)> {
        let mut flows: Vec<(FlowKey, Counters)> = self
            .tags
            .iter()
            .zip(&self.slots)
            .filter(|(tag, _)| **tag != 0)
            .map(|(_, slot)| (slot.key.unpack(), slot.counters))
            .collect();
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

    #[test]
    fn flows_grow_keep_their_order_and_stop_at_no_room() {
        let mut index = FlowIndex::new(foldhash::fast::RandomState::default());
        let key = |i: u16| {
            PackedKey::new(&FlowKey {
                iface: 0,
                src: IpAddr::V4(Ipv4Addr::new(10, 0, (i >> 8) as u8, i as u8)),
                dst: IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1)),
                src_port: i,
                dst_port: 443,
                protocol: 6,
                action: Action::Accept,
            })
        };
        let one = |secs| Counters {
            packets: 1,
            bytes: 40,
            start: secs,
            end: secs,
            seq: 0,
            tcp_flags: Some(TcpFlags(2)),
            flow_type: FlowType::Ipv4,
        };
        for round in 0..3u64 {
            for i in (0..1000u16).rev() {
                let k = key(i);
                let h = index.hash(&k);
                let counted = index.count(&k, h, one(100 + round), true);
                assert!(matches!(
                    (round, counted),
                    (0, Counted::New) | (1 | 2, Counted::Added)
                ));
            }
        }
        let k = key(5000);
        let h = index.hash(&k);
        assert!(matches!(index.count(&k, h, one(1), false), Counted::Full));
        let flows = index.into_flows();
        assert_eq!(flows.len(), 1000);
        for (n, (k, c)) in flows.iter().enumerate() {
            assert_eq!(k.src_port, 999 - n as u16);
            assert_eq!((c.packets, c.bytes, c.start, c.end), (3, 120, 100, 102));
        }
    }
}
