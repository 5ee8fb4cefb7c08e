//! NetFlow v5 / v9 / IPFIX decoding throughput, in flow records per second on one core.
//!
//! `cargo bench -p flowwatch-capture --bench netflow`
//!
//! Each iteration decodes a fixed set of export packets shaped like softflowd's and routers':
//! - `v5`: 1,000 packets of 30 records (v5's maximum);
//! - `v9`: a template (IPv4 5-tuple, counters, first/last switched, flags, interfaces), then
//!   1,000 data packets of 24 records;
//! - `ipfix`: the same with IPFIX's absolute `flowStart/EndMilliseconds` and 64-bit counters.
//!
//! Records differ (addresses, ports, counters from a seeded generator) so nothing is cached.
//! criterion's elements/s is records decoded per second. Results: `docs/benchmarks.md`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowwatch_capture::netflow::{Decoder, FlowSample};

const EXPORTER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const EXPORT_SECS: u32 = 1_700_000_100;
const UPTIME_MS: u32 = 100_000_000;
const PACKETS: usize = 1_000;

/// SplitMix64: the same packets every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

/// One random flow: source, destination, ports, protocol, flags, packets, bytes, and its
/// first/last offsets (ms before export).
struct Flow {
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    proto: u8,
    flags: u8,
    packets: u32,
    bytes: u32,
    first_ago: u32,
    last_ago: u32,
}

fn flow(rng: &mut Rng) -> Flow {
    let r = rng.next();
    let packets = 1 + (r % 200) as u32;
    let last_ago = (r >> 20) as u32 % 30_000;
    Flow {
        src: [10, 0, (r >> 8) as u8, (r >> 16) as u8],
        dst: [172, 16, (r >> 24) as u8, (r >> 32) as u8],
        sport: 1024 + (r >> 40) as u16 % 60_000,
        dport: [22, 53, 80, 443, 3389][(r >> 56) as usize % 5],
        proto: if r & 3 == 0 { 17 } else { 6 },
        flags: (r >> 48) as u8 & 0x3f,
        packets,
        bytes: packets * (40 + (r >> 30) as u32 % 1400),
        first_ago: last_ago + (r >> 12) as u32 % 60_000,
        last_ago,
    }
}

fn v5_packets(rng: &mut Rng) -> Vec<Vec<u8>> {
    (0..PACKETS)
        .map(|seq| {
            let mut b = Vec::with_capacity(24 + 30 * 48);
            put16(&mut b, 5);
            put16(&mut b, 30);
            put32(&mut b, UPTIME_MS);
            put32(&mut b, EXPORT_SECS);
            put32(&mut b, 0);
            put32(&mut b, (seq * 30) as u32);
            b.extend_from_slice(&[0, 0, 0, 0]);
            for _ in 0..30 {
                let f = flow(rng);
                b.extend_from_slice(&f.src);
                b.extend_from_slice(&f.dst);
                b.extend_from_slice(&[0, 0, 0, 0]); // next hop
                put16(&mut b, 3);
                put16(&mut b, 4);
                put32(&mut b, f.packets);
                put32(&mut b, f.bytes);
                put32(&mut b, UPTIME_MS - f.first_ago);
                put32(&mut b, UPTIME_MS - f.last_ago);
                put16(&mut b, f.sport);
                put16(&mut b, f.dport);
                b.extend_from_slice(&[0, f.flags, f.proto, 0, 0, 0, 0, 0, 24, 24, 0, 0]);
            }
            b
        })
        .collect()
}

/// Template fields (type, length) of the v9 and IPFIX data records: src, dst, sport, dport,
/// protocol, flags, input, output, then the counters and times of each version.
const KEY_FIELDS: [(u16, u16); 8] = [
    (8, 4),
    (12, 4),
    (7, 2),
    (11, 2),
    (4, 1),
    (6, 1),
    (10, 2),
    (14, 2),
];

fn key(b: &mut Vec<u8>, f: &Flow) {
    b.extend_from_slice(&f.src);
    b.extend_from_slice(&f.dst);
    put16(b, f.sport);
    put16(b, f.dport);
    b.extend_from_slice(&[f.proto, f.flags]);
    put16(b, 3);
    put16(b, 4);
}

fn template_set(set_id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut b = Vec::new();
    put16(&mut b, set_id);
    put16(&mut b, (4 + 4 + fields.len() * 4) as u16);
    put16(&mut b, 256);
    put16(&mut b, fields.len() as u16);
    for &(t, l) in fields {
        put16(&mut b, t);
        put16(&mut b, l);
    }
    b
}

fn data_set(records: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    put16(&mut b, 256);
    put16(&mut b, (4 + records.len()) as u16);
    b.extend_from_slice(records);
    b
}

fn v9_packets(rng: &mut Rng) -> Vec<Vec<u8>> {
    let header = |count: u16, seq: u32| {
        let mut b = Vec::new();
        put16(&mut b, 9);
        put16(&mut b, count);
        put32(&mut b, UPTIME_MS);
        put32(&mut b, EXPORT_SECS);
        put32(&mut b, seq);
        put32(&mut b, 42);
        b
    };
    let mut fields = KEY_FIELDS.to_vec();
    fields.extend([(2, 4), (1, 4), (22, 4), (21, 4)]);
    let mut out = vec![{
        let mut b = header(1, 0);
        b.extend(template_set(0, &fields));
        b
    }];
    for seq in 0..PACKETS {
        let mut records = Vec::new();
        for _ in 0..24 {
            let f = flow(rng);
            key(&mut records, &f);
            put32(&mut records, f.packets);
            put32(&mut records, f.bytes);
            put32(&mut records, UPTIME_MS - f.first_ago);
            put32(&mut records, UPTIME_MS - f.last_ago);
        }
        let mut b = header(24, seq as u32 + 1);
        b.extend(data_set(&records));
        out.push(b);
    }
    out
}

fn ipfix_packets(rng: &mut Rng) -> Vec<Vec<u8>> {
    let message = |sets: Vec<u8>, seq: u32| {
        let mut b = Vec::new();
        put16(&mut b, 10);
        put16(&mut b, (16 + sets.len()) as u16);
        put32(&mut b, EXPORT_SECS);
        put32(&mut b, seq);
        put32(&mut b, 7);
        b.extend(sets);
        b
    };
    let mut fields = KEY_FIELDS.to_vec();
    fields.extend([(2, 8), (1, 8), (152, 8), (153, 8)]);
    let mut out = vec![message(template_set(2, &fields), 0)];
    let export_ms = u64::from(EXPORT_SECS) * 1000;
    for seq in 0..PACKETS {
        let mut records = Vec::new();
        for _ in 0..24 {
            let f = flow(rng);
            key(&mut records, &f);
            records.extend_from_slice(&u64::from(f.packets).to_be_bytes());
            records.extend_from_slice(&u64::from(f.bytes).to_be_bytes());
            records.extend_from_slice(&(export_ms - u64::from(f.first_ago)).to_be_bytes());
            records.extend_from_slice(&(export_ms - u64::from(f.last_ago)).to_be_bytes());
        }
        out.push(message(data_set(&records), (seq * 24) as u32));
    }
    out
}

/// Decodes every packet once with a fresh decoder; the number of records.
fn decode_all(packets: &[Vec<u8>], out: &mut Vec<FlowSample>) -> usize {
    let mut decoder = Decoder::new();
    let mut n = 0;
    for p in packets {
        out.clear();
        decoder
            .decode(EXPORTER, black_box(p), out)
            .expect("a well-formed export packet");
        n += out.len();
    }
    n
}

fn decoding(c: &mut Criterion) {
    let mut rng = Rng(0x5eed);
    let sets = [
        ("v5", v5_packets(&mut rng)),
        ("v9", v9_packets(&mut rng)),
        ("ipfix", ipfix_packets(&mut rng)),
    ];
    let mut group = c.benchmark_group("netflow_decode");
    group.measurement_time(Duration::from_secs(5));
    let mut out = Vec::with_capacity(64);
    for (name, packets) in &sets {
        let records = decode_all(packets, &mut out);
        assert_eq!(records, if *name == "v5" { 30 } else { 24 } * PACKETS);
        group.throughput(Throughput::Elements(records as u64));
        group.bench_function(*name, |b| b.iter(|| decode_all(packets, &mut out)));
    }
    group.finish();
}

criterion_group!(benches, decoding);
criterion_main!(benches);
