//! NetFlow v5 / v9 / IPFIX decoding on crafted export packets, and through a flow table to
//! flow-log records.

use std::net::{IpAddr, Ipv4Addr};

use flowwatch_capture::netflow::{Decoder, FlowSample, NetflowError};
use flowwatch_capture::{FlowTable, Interface, TableConfig};
use flowwatch_flowlog::{Action, LogFormat, Token};
use proptest::prelude::*;

const EXPORTER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
/// Export time of the crafted packets (Unix seconds) and the exporter's uptime then (ms).
const EXPORT_SECS: u32 = 1_700_000_100;
const UPTIME_MS: u32 = 1_000_000;

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_be_bytes());
}
fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

/// A v5 packet with one record: 10.0.0.1:40000 → 10.0.0.2:22 TCP SYN, 3 packets, 180 bytes,
/// first/last 40 s and 10 s before export.
fn v5(sampling: u16) -> Vec<u8> {
    let mut b = Vec::new();
    put16(&mut b, 5);
    put16(&mut b, 1);
    put32(&mut b, UPTIME_MS);
    put32(&mut b, EXPORT_SECS);
    put32(&mut b, 0);
    put32(&mut b, 7); // sequence
    b.extend_from_slice(&[0, 0]); // engine type, id
    put16(&mut b, sampling);
    b.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0, 0]);
    put16(&mut b, 3); // input
    put16(&mut b, 4); // output
    put32(&mut b, 3);
    put32(&mut b, 180);
    put32(&mut b, UPTIME_MS - 40_000);
    put32(&mut b, UPTIME_MS - 10_000);
    put16(&mut b, 40000);
    put16(&mut b, 22);
    b.extend_from_slice(&[0, 0x02, 6, 0, 0, 0, 0, 0, 24, 24, 0, 0]);
    assert_eq!(b.len(), 24 + 48);
    b
}

#[test]
fn v5_records_become_samples_with_absolute_times_and_sampling() {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    d.decode(EXPORTER, &v5(0), &mut out).unwrap();
    assert_eq!(
        out,
        [FlowSample {
            input_if: Some(3),
            output_if: Some(4),
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            src_port: 40000,
            dst_port: 22,
            protocol: 6,
            packets: 3,
            bytes: 180,
            start: u64::from(EXPORT_SECS) - 40,
            end: u64::from(EXPORT_SECS) - 10,
            tcp_flags: 2,
        }]
    );
    // 1-in-100 sampling (mode bits set) scales the counts.
    out.clear();
    d.decode(EXPORTER, &v5(0x4000 | 100), &mut out).unwrap();
    assert_eq!((out[0].packets, out[0].bytes), (300, 18_000));
}

/// v9: a template flowset (id 0) with template 256, then a data flowset of two records.
fn v9() -> Vec<u8> {
    let mut b = Vec::new();
    put16(&mut b, 9);
    put16(&mut b, 3);
    put32(&mut b, UPTIME_MS);
    put32(&mut b, EXPORT_SECS);
    put32(&mut b, 1);
    put32(&mut b, 42); // source id
    // Template: src(8,4) dst(12,4) sport(7,2) dport(11,2) proto(4,1) flags(6,1) pkts(2,4)
    // bytes(1,4) first(22,4) last(21,4) input(10,2)
    let fields: [(u16, u16); 11] = [
        (8, 4),
        (12, 4),
        (7, 2),
        (11, 2),
        (4, 1),
        (6, 1),
        (2, 4),
        (1, 4),
        (22, 4),
        (21, 4),
        (10, 2),
    ];
    put16(&mut b, 0);
    put16(&mut b, (4 + 4 + fields.len() * 4) as u16);
    put16(&mut b, 256);
    put16(&mut b, fields.len() as u16);
    for (t, l) in fields {
        put16(&mut b, t);
        put16(&mut b, l);
    }
    // Data: two records of 32 bytes, then 4 bytes of padding-free end (len multiple of 4).
    let mut data = Vec::new();
    for (src, port, flags) in [([10, 0, 0, 9], 22u16, 0x02u8), ([10, 0, 0, 8], 443, 0x1b)] {
        data.extend_from_slice(&src);
        data.extend_from_slice(&[10, 0, 0, 2]);
        put16(&mut data, 51000);
        put16(&mut data, port);
        data.extend_from_slice(&[6, flags]);
        put32(&mut data, 2);
        put32(&mut data, 120);
        put32(&mut data, UPTIME_MS - 5_000);
        put32(&mut data, UPTIME_MS - 1_000);
        put16(&mut data, 7);
    }
    while data.len() % 4 != 0 {
        data.push(0);
    }
    put16(&mut b, 256);
    put16(&mut b, (4 + data.len()) as u16);
    b.extend_from_slice(&data);
    b
}

#[test]
fn v9_templates_then_data() {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    d.decode(EXPORTER, &v9(), &mut out).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].src, "10.0.0.9".parse::<IpAddr>().unwrap());
    assert_eq!((out[0].dst_port, out[0].tcp_flags), (22, 2));
    assert_eq!(out[1].tcp_flags, 0x1b);
    assert_eq!(out[0].input_if, Some(7));
    assert_eq!(out[0].start, u64::from(EXPORT_SECS) - 5);
    assert_eq!(out[0].end, u64::from(EXPORT_SECS) - 1);
    assert_eq!(d.template_count(), 1);

    // Data of a template from another exporter is not decoded until its template arrives.
    let other: IpAddr = "192.0.2.99".parse().unwrap();
    let mut data_only = v9();
    let template_len = 4 + 4 + 11 * 4;
    data_only.drain(20..20 + template_len);
    out.clear();
    d.decode(other, &data_only, &mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(d.stats().unknown_template, 1);
}

#[test]
fn v9_options_data_sets_the_sampling_rate() {
    let mut d = Decoder::new();
    let mut b = Vec::new();
    put16(&mut b, 9);
    put16(&mut b, 2);
    put32(&mut b, UPTIME_MS);
    put32(&mut b, EXPORT_SECS);
    put32(&mut b, 1);
    put32(&mut b, 42);
    // Options template 257: scope system(1,4); option SAMPLING_INTERVAL(34,4).
    put16(&mut b, 1);
    put16(&mut b, 4 + 6 + 8);
    put16(&mut b, 257);
    put16(&mut b, 4);
    put16(&mut b, 4);
    put16(&mut b, 1);
    put16(&mut b, 4);
    put16(&mut b, 34);
    put16(&mut b, 4);
    // Its data: system 0, interval 10.
    put16(&mut b, 257);
    put16(&mut b, 4 + 8);
    put32(&mut b, 0);
    put32(&mut b, 10);
    let mut out = Vec::new();
    d.decode(EXPORTER, &b, &mut out).unwrap();
    assert!(out.is_empty());
    d.decode(EXPORTER, &v9(), &mut out).unwrap();
    assert_eq!((out[0].packets, out[0].bytes), (20, 1200));
}

/// IPFIX: template 300 with an enterprise field and a variable-length field, absolute
/// millisecond times, IPv6 addresses.
fn ipfix() -> Vec<u8> {
    let mut sets = Vec::new();
    // Template set (2).
    let mut t = Vec::new();
    put16(&mut t, 300);
    put16(&mut t, 9);
    for (id, len) in [(27u16, 16u16), (28, 16), (7, 2), (11, 2), (4, 1), (2, 8)] {
        put16(&mut t, id);
        put16(&mut t, len);
    }
    put16(&mut t, 0x8000 | 100); // enterprise element, 4 bytes
    put16(&mut t, 4);
    put32(&mut t, 29305);
    put16(&mut t, 82); // interfaceName, variable length
    put16(&mut t, 0xffff);
    put16(&mut t, 152); // flowStartMilliseconds
    put16(&mut t, 8);
    put16(&mut sets, 2);
    put16(&mut sets, (4 + t.len()) as u16);
    sets.extend_from_slice(&t);
    // Data set (300): one record (no octet count: bytes 0 is allowed).
    let mut r = Vec::new();
    r.extend_from_slice(
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    r.extend_from_slice(
        &"2001:db8::2"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    put16(&mut r, 5353);
    put16(&mut r, 53);
    r.push(17);
    r.extend_from_slice(&5u64.to_be_bytes());
    put32(&mut r, 0xdead_beef);
    r.push(4);
    r.extend_from_slice(b"eth0");
    r.extend_from_slice(&(u64::from(EXPORT_SECS) * 1000 - 30_000).to_be_bytes());
    put16(&mut sets, 300);
    put16(&mut sets, (4 + r.len()) as u16);
    sets.extend_from_slice(&r);
    let mut b = Vec::new();
    put16(&mut b, 10);
    put16(&mut b, (16 + sets.len()) as u16);
    put32(&mut b, EXPORT_SECS);
    put32(&mut b, 1);
    put32(&mut b, 5);
    b.extend_from_slice(&sets);
    b
}

#[test]
fn ipfix_with_enterprise_and_variable_length_fields() {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    d.decode(EXPORTER, &ipfix(), &mut out).unwrap();
    assert_eq!(out.len(), 1);
    let f = out[0];
    assert_eq!(f.src, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!((f.src_port, f.dst_port, f.protocol), (5353, 53, 17));
    assert_eq!(f.packets, 5);
    assert_eq!(f.start, u64::from(EXPORT_SECS) - 30);
    // No end time in the record: the export is when it was last known to be active.
    assert_eq!(f.end, u64::from(EXPORT_SECS));
}

#[test]
fn malformed_packets_are_errors_not_panics() {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    assert_eq!(
        d.decode(EXPORTER, &[0, 7, 0, 0], &mut out),
        Err(NetflowError::Version(7))
    );
    assert!(matches!(
        d.decode(EXPORTER, &v5(0)[..50], &mut out),
        Err(NetflowError::Truncated(_))
    ));
    let mut bad = v9();
    bad[22] = 0xff; // first flowset length beyond the packet
    assert!(matches!(
        d.decode(EXPORTER, &bad, &mut out),
        Err(NetflowError::Malformed(_))
    ));
    assert_eq!(d.stats().errors, 3);
}

#[test]
fn samples_become_flow_log_records() {
    let mut d = Decoder::new();
    let mut samples = Vec::new();
    d.decode(EXPORTER, &v9(), &mut samples).unwrap();
    let eni = Token::new("eni-0a1b2c3d4e5f67890").unwrap();
    let account = Token::new("123456789010").unwrap();
    let mut table =
        FlowTable::new(TableConfig::default(), vec![Interface::new(eni, account)]).unwrap();
    for s in &samples {
        table
            .observe_flow(0, &s.packet_info(), s.packets, s.end, Action::Accept)
            .unwrap();
    }
    let mut records = Vec::new();
    table.finish(&mut records);
    let lines: Vec<String> = records
        .iter()
        .map(|r| LogFormat::default_vpc().encode(r))
        .collect();
    let (start, end) = (EXPORT_SECS - 5, EXPORT_SECS - 1);
    assert_eq!(
        lines,
        [
            format!(
                "2 123456789010 eni-0a1b2c3d4e5f67890 10.0.0.9 10.0.0.2 51000 22 6 2 120 {start} {end} ACCEPT OK"
            ),
            format!(
                "2 123456789010 eni-0a1b2c3d4e5f67890 10.0.0.8 10.0.0.2 51000 443 6 2 120 {start} {end} ACCEPT OK"
            ),
        ]
    );
}

proptest! {
    #[test]
    fn random_bytes_never_panic(version in prop::sample::select(vec![5u16, 9, 10]), body in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut d = Decoder::new();
        let mut packet = version.to_be_bytes().to_vec();
        packet.extend_from_slice(&body);
        let mut out = Vec::new();
        let _ = d.decode(EXPORTER, &packet, &mut out);
        // Also after a valid template, data of random bytes.
        let _ = d.decode(EXPORTER, &v9(), &mut out);
        let mut mutated = v9();
        for (i, b) in body.iter().enumerate() {
            let at = 20 + i % (mutated.len() - 20);
            mutated[at] ^= b;
        }
        let _ = d.decode(EXPORTER, &mutated, &mut out);
    }
}

/// Packets and bytes per (src, dst, sport, dport, protocol).
type Totals = std::collections::BTreeMap<(IpAddr, IpAddr, u16, u16, u8), (u64, u64)>;

#[path = "support/build.rs"]
#[allow(dead_code, reason = "shared with the capture tests; these use a part")]
mod build;

/// A real exporter: softflowd (Debian's package) reads a pcap built here and exports NetFlow
/// v5, v9 and IPFIX to a UDP socket of the test; the decoded flows carry exactly the packets
/// and bytes of the pcap, per 5-tuple.
#[test]
fn softflowd_exports_decode_to_the_pcap_totals() {
    use std::collections::BTreeMap;
    use std::process::Command;
    use std::time::Duration;

    if Command::new("softflowd").arg("-h").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "softflowd is missing in CI (apt-get install softflowd)"
        );
        eprintln!("SKIPPED: softflowd is not installed (apt-get install softflowd)");
        return;
    }
    use build::{ACK, L4, PSH, SYN, pkt};
    // 12 flows: TCP sessions, UDP and ICMP, different sizes.
    let t0 = 1_700_000_000u64;
    let mut frames = Vec::new();
    let mut want: Totals = BTreeMap::new();
    for i in 0..12u16 {
        let src = format!("10.0.1.{}", 10 + i);
        let (l4, proto, dport) = match i % 3 {
            0 => (L4::Tcp(SYN), 6, 22),
            1 => (L4::Udp, 17, 53),
            _ => (L4::Tcp(PSH | ACK), 6, 443),
        };
        for k in 0..(3 + u64::from(i)) {
            let p = pkt(
                &src,
                40000 + i,
                "10.0.2.15",
                dport,
                l4,
                20 * usize::from(i) + k as usize,
            );
            let e = want
                .entry((p.src, p.dst, p.sport, p.dport, proto))
                .or_default();
            e.0 += 1;
            e.1 += p.ip().len() as u64;
            frames.push((t0 + k, 1000 * u32::from(i), p.ethernet(&[])));
        }
    }
    frames.sort_by_key(|f| (f.0, f.1));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trace.pcap");
    std::fs::write(&file, build::pcap(pcap_file::DataLink::ETHERNET, &frames)).unwrap();

    for version in ["5", "9", "10"] {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let status = Command::new("softflowd")
            .args(["-d", "-a", "-r"])
            .arg(&file)
            .args(["-n", &format!("127.0.0.1:{port}"), "-v", version, "-p"])
            .arg(dir.path().join("sf.pid"))
            // No control socket (one outside /tmp's top level makes softflowd hang).
            .args(["-c", "none"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "softflowd -v {version}: {status:?}"
        );
        let mut decoder = Decoder::new();
        let mut samples = Vec::new();
        let mut buf = [0u8; 65535];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            decoder.decode(from.ip(), &buf[..n], &mut samples).unwrap();
        }
        let mut got: Totals = BTreeMap::new();
        for s in &samples {
            let e = got
                .entry((s.src, s.dst, s.src_port, s.dst_port, s.protocol))
                .or_default();
            e.0 += s.packets;
            e.1 += s.bytes;
            // v9's header clock has whole seconds, so uptime-based times are good to a second.
            assert!(
                s.start + 1 >= t0 && s.end <= t0 + 20 && s.start <= s.end,
                "v{version} times {}..{} of {s:?}",
                s.start,
                s.end
            );
        }
        assert_eq!(got, want, "NetFlow v{version} from softflowd");
        assert_eq!(decoder.stats().errors, 0);
    }
}
