//! A window's flows, indexed for the per-packet update: one hash-table slot per flow holding
//! both its packed key and its counters, so counting a packet touches one slot (the flow
//! table's cost is the cache miss on it; a separate index into a list of flows made two).

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use flowwatch_flowlog::{Action, FlowType, TcpFlags};

use super::{Flow, FlowKey};
use crate::packet::PacketInfo;

/// [`FlowKey`] packed into five words: addresses as 128-bit values (IPv4 in the low 32 bits,
/// told apart by `IS_V6` in `rest`), then ports, interface, protocol, action and family in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PackedKey {
    src: [u64; 2],
    dst: [u64; 2],
    /// Source port << 48 | destination port << 32 | interface << 16 | protocol << 8 | flags
    /// (`IS_V6` per address, `REJECT`).
    rest: u64,
}

const IS_V6: u64 = 1;
const REJECT: u64 = 2;

/// Interfaces a table can tell apart: the index has 16 bits of a key word.
pub(super) const MAX_INTERFACES: usize = 1 << 16;

impl Hash for PackedKey {
    #[inline]
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
    /// The key of `pkt`'s flow on interface `iface` (below [`MAX_INTERFACES`]) with verdict
    /// `action`.
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

    /// `key` packed; its interface must be below [`MAX_INTERFACES`] (the table checks).
    #[inline]
    pub(super) fn new(key: &FlowKey) -> Self {
        debug_assert!(key.iface < MAX_INTERFACES);
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
                | ((key.iface as u64 & 0xffff) << 16)
                | (u64::from(key.protocol) << 8)
                | (family << 2)
                | reject,
        }
    }

    pub(super) fn unpack(&self) -> FlowKey {
        let family = self.rest >> 2;
        FlowKey {
            iface: ((self.rest >> 16) & 0xffff) as usize,
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

/// A flow's counts in one window, as the table gives and takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counters {
    pub(super) packets: u64,
    pub(super) bytes: u64,
    /// Unix seconds, at or after the window's start and before its end.
    pub(super) start: u64,
    /// Unix seconds, at or after `start`.
    pub(super) end: u64,
    /// `None` once an invalid flag combination was seen.
    pub(super) tcp_flags: Option<TcpFlags>,
    pub(super) flow_type: FlowType,
}

/// One flow in one cache line: its key and its counts, with times as offsets from the
/// window's start. Counting a packet of a known flow reads and writes this line only (and the
/// flow's tag, in a table small enough to stay cached).
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    key: PackedKey,
    packets: u64,
    bytes: u64,
    /// Seconds from the window's start to the first packet: below the interval (600 at most).
    start: u16,
    /// The TCP flags OR-ed together.
    tcp_flags: u8,
    /// The flow type's index in [`FlowType::ALL`], `| NO_TCP_FLAGS` once an invalid flag
    /// combination was seen.
    meta: u8,
    /// Seconds from the window's start to the last packet, at most `u32::MAX` (a NetFlow
    /// record ending over a century after its window began ends there).
    end: u32,
}

const NO_TCP_FLAGS: u8 = 0x80;

const _: () = assert!(std::mem::size_of::<Slot>() == 64);

/// What an unused slot holds (its tag says it is unused).
const EMPTY: Slot = Slot {
    key: PackedKey {
        src: [0; 2],
        dst: [0; 2],
        rest: 0,
    },
    packets: 0,
    bytes: 0,
    start: 0,
    tcp_flags: 0,
    meta: 0,
    end: 0,
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
    /// Start of the window (Unix seconds): slot times are offsets from it.
    base: u64,
    /// Per slot: 0 when unused, else `0x80 |` the hash's top 7 bits.
    tags: Vec<u8>,
    /// A power of two long (or empty).
    slots: Vec<Slot>,
    /// The used slots in order of their flows' first packets (records come out in it).
    order: Vec<u32>,
    hasher: foldhash::fast::RandomState,
}

/// Where a [`FlowIndex`]'s tags and slots were, as plain addresses: enough to ask for the
/// cache lines a probe for a hash starts at, later, without holding the index (a stale place,
/// after the index grew or closed, only makes a useless hint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Place {
    tags: usize,
    slots: usize,
    mask: usize,
}

impl Place {
    /// No index.
    pub(super) const NONE: Place = Place {
        tags: 0,
        slots: 0,
        mask: 0,
    };

    /// Asks the CPU for the tag and the slot where a probe for `hash` starts.
    #[inline]
    pub(super) fn prefetch(self, hash: u64) {
        if self.tags != 0 {
            let i = hash as usize & self.mask;
            crate::hint::prefetch(self.tags.wrapping_add(i));
            crate::hint::prefetch(
                self.slots
                    .wrapping_add(i.wrapping_mul(std::mem::size_of::<Slot>())),
            );
        }
    }
}

/// What [`FlowIndex::count`] did.
pub(super) enum Counted {
    Added,
    New,
    /// A new flow with no room left.
    Full,
}

impl FlowIndex {
    /// The flows of the window starting at `base` (Unix seconds).
    pub(super) fn new(hasher: foldhash::fast::RandomState, base: u64) -> Self {
        Self {
            base,
            tags: Vec::new(),
            slots: Vec::new(),
            order: Vec::new(),
            hasher,
        }
    }

    #[inline]
    pub(super) fn hash(&self, key: &PackedKey) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Where the tags and slots are now (see [`Place`]).
    #[inline]
    pub(super) fn whereabouts(&self) -> Place {
        if self.slots.is_empty() {
            return Place::NONE;
        }
        Place {
            tags: self.tags.as_ptr().addr(),
            slots: self.slots.as_ptr().addr(),
            mask: self.slots.len() - 1,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.order.len()
    }

    /// Adds `c` to the flow of `key` (whose [`hash`](Self::hash) is `hash`), or starts it when
    /// `room` says a new flow may be added. `c.start` is within the window.
    #[inline]
    pub(super) fn count(&mut self, key: &PackedKey, hash: u64, c: Counters, room: bool) -> Counted {
        debug_assert!(c.start >= self.base && c.start - self.base <= u64::from(u16::MAX));
        let start = (c.start.saturating_sub(self.base)).min(u64::from(u16::MAX)) as u16;
        let end = (c.end.saturating_sub(self.base)).min(u64::from(u32::MAX)) as u32;
        let tag = 0x80 | (hash >> 57) as u8;
        if !self.slots.is_empty() {
            let mask = self.slots.len() - 1;
            let mut i = hash as usize & mask;
            loop {
                let t = self.tags[i];
                if t == 0 {
                    break;
                }
                let slot = &mut self.slots[i];
                if t == tag && slot.key == *key {
                    slot.packets += c.packets;
                    slot.bytes += c.bytes;
                    slot.start = slot.start.min(start);
                    slot.end = slot.end.max(end);
                    match c.tcp_flags {
                        Some(f) => slot.tcp_flags |= f.0,
                        None => slot.meta |= NO_TCP_FLAGS,
                    }
                    return Counted::Added;
                }
                i = (i + 1) & mask;
            }
        }
        if !room {
            return Counted::Full;
        }
        if (self.len() + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let flow_type = FlowType::ALL
            .iter()
            .position(|t| *t == c.flow_type)
            .unwrap_or(0) as u8;
        let slot = Slot {
            key: *key,
            packets: c.packets,
            bytes: c.bytes,
            start,
            tcp_flags: c.tcp_flags.map_or(0, |f| f.0),
            meta: flow_type
                | if c.tcp_flags.is_none() {
                    NO_TCP_FLAGS
                } else {
                    0
                },
            end,
        };
        let i = self.place(tag, hash, slot);
        self.order.push(i);
        Counted::New
    }

    /// Puts `slot` in the first unused slot from `hash`'s (there is one: at most 3/4 are used)
    /// and returns its place.
    fn place(&mut self, tag: u8, hash: u64, slot: Slot) -> u32 {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        while self.tags[i] != 0 {
            i = (i + 1) & mask;
        }
        self.tags[i] = tag;
        self.slots[i] = slot;
        i as u32
    }

    #[cold]
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let tags = std::mem::replace(&mut self.tags, vec![0; size]);
        let slots = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        let order = std::mem::take(&mut self.order);
        self.order.reserve(size / 4 * 3);
        for i in order {
            let slot = slots[i as usize];
            let hash = self.hash(&slot.key);
            let placed = self.place(tags[i as usize], hash, slot);
            self.order.push(placed);
        }
    }

    /// The flows with their keys, in order of first packet.
    #[cfg(test)]
    pub(super) fn into_flows(mut self) -> Vec<(FlowKey, Counters)> {
        let mut flows = Vec::new();
        self.drain_into(&mut flows);
        flows.into_iter().map(|f| (f.key, f.counts)).collect()
    }

    /// Appends the flows to `out`, in order of first packet, and empties the index, keeping
    /// its memory: the next window reuses it ([`FlowIndex::reused`]) instead of growing a
    /// table from nothing and faulting its pages in again.
    pub(super) fn drain_into(&mut self, out: &mut Vec<Flow>) {
        out.reserve(self.order.len());
        out.extend(self.order.iter().map(|&i| {
            let slot = &self.slots[i as usize];
            let counts = Counters {
                packets: slot.packets,
                bytes: slot.bytes,
                start: self.base + u64::from(slot.start),
                end: self.base + u64::from(slot.end),
                tcp_flags: (slot.meta & NO_TCP_FLAGS == 0).then_some(TcpFlags(slot.tcp_flags)),
                flow_type: FlowType::ALL[usize::from(slot.meta & !NO_TCP_FLAGS)],
            };
            Flow {
                key: slot.key.unpack(),
                counts,
            }
        }));
        self.order.clear();
        self.tags.fill(0);
    }

    /// This (drained) index made ready for the window starting at `base`.
    pub(super) fn reused(mut self, base: u64) -> Self {
        debug_assert!(self.order.is_empty());
        self.base = base;
        self
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
                        iface: if i == 4 { MAX_INTERFACES - 1 } else { i * 1000 },
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
        let mut index = FlowIndex::new(foldhash::fast::RandomState::default(), 0);
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
        let mut flows = Vec::new();
        index.drain_into(&mut flows);
        assert_eq!(flows.len(), 1000);
        for (n, f) in flows.iter().enumerate() {
            let c = &f.counts;
            assert_eq!(f.key.src_port, 999 - n as u16);
            assert_eq!((c.packets, c.bytes, c.start, c.end), (3, 120, 100, 102));
        }

        // Drained and reused for a later window: nothing of the last one is left, and it
        // keeps its size (no growing again).
        let size = index.slots.len();
        let mut index = index.reused(160);
        for i in [7u16, 3, 7] {
            let k = key(i);
            let h = index.hash(&k);
            index.count(&k, h, one(170), true);
        }
        assert_eq!(index.slots.len(), size);
        let flows = index.into_flows();
        let got: Vec<_> = flows
            .iter()
            .map(|(k, c)| (k.src_port, c.packets, c.start))
            .collect();
        assert_eq!(got, [(7, 2, 170), (3, 1, 170)]);
    }
}
