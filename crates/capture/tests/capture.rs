//! The integration tests of flowwatch-capture: capture files built here (support/build.rs)
//! read into records asserted as exact lines of the default and custom formats; property
//! tests in support/properties.rs.

#[path = "support/build.rs"]
mod build;
#[path = "support/properties.rs"]
mod properties;
#[path = "support/verdicts.rs"]
mod verdicts;

use std::io::Cursor;

use build::{ACK, ECE, FIN, Frame, L4, PSH, SYN, arp_frame, pkt};
use flowwatch_capture::{
    AggregationInterval, Capture, CaptureError, CaptureFormat, FlowTable, Interface, Options,
    Progress, TableConfig, Timestamp, read_capture, read_capture_into,
};
use flowwatch_flowlog::{Action, FlowRecord, LogFormat, Token};
use pcap_file::DataLink;

const ENI: &str = "eni-1235b8ca123456789";
const ACCOUNT: &str = "123456789010";
const CLIENT: &str = "172.31.16.139";
const SERVER: &str = "172.31.16.21";
const T0: u64 = 1418530010;

fn options() -> Options {
    Options::new(Token::new(ENI).unwrap(), Token::new(ACCOUNT).unwrap())
}

fn read(file: &[u8], options: &Options) -> Capture {
    read_capture(
        Cursor::new(file),
        Some(file.len() as u64),
        options,
        &mut |_| {},
    )
    .unwrap()
}

fn lines(format: &LogFormat, records: &[FlowRecord]) -> Vec<String> {
    records.iter().map(|r| format.encode(r)).collect()
}

fn default_lines(records: &[FlowRecord]) -> Vec<String> {
    lines(&LogFormat::default_vpc(), records)
}

/// A short SSH connection: handshake, data both ways, FIN both ways.
fn ssh_session() -> Vec<Frame> {
    let c2s = |flags, payload| pkt(CLIENT, 20641, SERVER, 22, L4::Tcp(flags), payload);
    let s2c = |flags, payload| pkt(SERVER, 22, CLIENT, 20641, L4::Tcp(flags), payload);
    [
        (T0, 1, c2s(SYN, 0)),
        (T0, 900, s2c(SYN | ACK, 0)),
        (T0 + 1, 0, c2s(ACK, 0)),
        (T0 + 1, 5, c2s(PSH | ACK, 100)),
        (T0 + 2, 0, s2c(PSH | ACK, 200)),
        (T0 + 60, 0, c2s(FIN | ACK, 0)),
        (T0 + 60, 7, s2c(FIN | ACK, 0)),
        (T0 + 61, 0, c2s(ACK, 0)),
    ]
    .into_iter()
    .map(|(s, us, p)| (s, us, p.ethernet(&[])))
    .collect()
}

const SSH_LINES: [&str; 2] = [
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 5 300 1418530010 1418530071 ACCEPT OK",
    "2 123456789010 eni-1235b8ca123456789 172.31.16.21 172.31.16.139 22 20641 6 3 320 1418530010 1418530070 ACCEPT OK",
];

#[test]
fn tcp_session_in_one_interval_gives_one_record_per_direction() {
    let capture = read(&build::pcap(DataLink::ETHERNET, &ssh_session()), &options());
    assert_eq!(capture.format, CaptureFormat::Pcap);
    assert_eq!(default_lines(&capture.records), SSH_LINES);
    assert_eq!(capture.stats.frames, 8);
    assert_eq!(capture.stats.packets, 8);
    assert_eq!(capture.stats.bytes, 620);
}

#[test]
fn tcp_flags_direction_and_packet_addresses_in_a_custom_format() {
    let format = LogFormat::parse(
        "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${packets} ${bytes} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${log-status}",
    )
    .unwrap();
    let mut opts = options();
    opts.version = format.version();
    // The server's ENI: primary 172.31.16.21, secondary 172.31.16.22.
    opts.local_addrs = vec![SERVER.parse().unwrap(), "172.31.16.22".parse().unwrap()];
    let mut frames = ssh_session();
    let to_secondary = pkt(CLIENT, 40000, "172.31.16.22", 443, L4::Tcp(SYN | ECE), 0);
    frames.push((T0 + 70, 0, to_secondary.ethernet(&[])));
    let capture = read(&build::pcap(DataLink::ETHERNET, &frames), &opts);
    assert_eq!(
        lines(&format, &capture.records),
        [
            "5 172.31.16.139 172.31.16.21 20641 22 5 300 3 IPv4 172.31.16.139 172.31.16.21 ingress OK",
            "5 172.31.16.21 172.31.16.139 22 20641 3 320 19 IPv4 172.31.16.21 172.31.16.139 egress OK",
            "5 172.31.16.139 172.31.16.21 40000 443 1 40 2 IPv4 172.31.16.139 172.31.16.22 ingress OK",
        ]
    );
}

#[test]
fn the_same_flow_across_two_intervals_gives_two_records() {
    let mut opts = options();
    opts.interval = AggregationInterval::OneMinute;
    let dns = pkt(CLIENT, 5353, "10.0.0.2", 53, L4::Udp, 30);
    let frames: Vec<Frame> = [120, 150, 185]
        .into_iter()
        .map(|s| (s, 0, dns.ethernet(&[])))
        .collect();
    let capture = read(&build::pcap(DataLink::ETHERNET, &frames), &opts);
    assert_eq!(
        default_lines(&capture.records),
        [
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 10.0.0.2 5353 53 17 2 116 120 150 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 10.0.0.2 5353 53 17 1 58 185 185 ACCEPT OK",
        ]
    );
}

#[test]
fn records_stream_out_as_their_windows_close_and_a_failing_sink_stops_the_read() {
    let mut opts = options();
    opts.interval = AggregationInterval::OneMinute;
    let dns = pkt(CLIENT, 5353, "10.0.0.2", 53, L4::Udp, 30);
    let ntp = pkt(CLIENT, 123, "10.0.0.3", 123, L4::Udp, 48);
    let frames: Vec<Frame> = [
        (120, &dns),
        (130, &ntp),
        (150, &dns),
        (185, &dns),
        (250, &ntp),
    ]
    .into_iter()
    .map(|(s, p)| (s, 0, p.ethernet(&[])))
    .collect();
    let whole = read(&build::pcap(DataLink::ETHERNET, &frames), &opts);
    for file in [
        build::pcap(DataLink::ETHERNET, &frames),
        build::pcapng(DataLink::ETHERNET, None, &frames),
    ] {
        // One batch per closed window, in order, the last ones at the end of the file.
        let mut batches = Vec::new();
        let summary = read_capture_into(Cursor::new(&file), None, &opts, &mut |_| {}, &mut |b| {
            batches.push(std::mem::take(b));
            Ok(())
        })
        .unwrap();
        assert_eq!(summary.stats, whole.stats);
        let starts: Vec<Vec<u64>> = batches
            .iter()
            .map(|b| b.iter().map(|r| r.start.unwrap()).collect())
            .collect();
        assert_eq!(starts, [vec![120, 130], vec![185], vec![250]]);
        assert_eq!(batches.concat(), whole.records);

        let mut calls = 0;
        let err = read_capture_into(Cursor::new(&file), None, &opts, &mut |_| {}, &mut |_| {
            calls += 1;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(calls, 1);
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}

#[test]
fn icmp_has_ports_zero_and_counts_ip_lengths_like_the_documented_ping() {
    // spec §3: 4 pings of 84 bytes (20 IP + 8 ICMP + 56 data) = 336 bytes.
    let ping = pkt("203.0.113.12", 0, "172.31.16.139", 0, L4::Ping, 56);
    let gre = pkt("203.0.113.12", 0, "172.31.16.139", 0, L4::Raw(47), 24);
    let mut frames: Vec<Frame> = [1432917027, 1432917060, 1432917100, 1432917142]
        .into_iter()
        .map(|s| (s, 0, ping.ethernet(&[])))
        .collect();
    frames.push((1432917150, 0, gre.ethernet(&[])));
    let capture = read(&build::pcap(DataLink::ETHERNET, &frames), &options());
    assert_eq!(
        default_lines(&capture.records),
        [
            "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 47 1 44 1432917150 1432917150 ACCEPT OK",
        ]
    );
}

#[test]
fn ipv6_tcp_and_icmpv6() {
    let a = "2001:db8:1234:a100:8d6e:3477:df66:f105";
    let b = "2001:db8:1234:a102:3304:8879:34cf:4071";
    let format = LogFormat::parse("${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${tcp-flags} ${type}").unwrap();
    let frames = vec![
        (
            1477913708,
            0,
            pkt(a, 34892, b, 22, L4::Tcp(SYN), 0).ethernet(&[]),
        ),
        (
            1477913709,
            0,
            pkt(a, 34892, b, 22, L4::Tcp(PSH | ACK), 100).ethernet(&[]),
        ),
        (1477913710, 0, pkt(b, 0, a, 0, L4::Ping, 16).ethernet(&[])),
    ];
    let capture = read(&build::pcap(DataLink::ETHERNET, &frames), &options());
    assert_eq!(
        lines(&format, &capture.records),
        [
            format!("{a} {b} 34892 22 6 2 220 2 IPv6"),
            format!("{b} {a} 0 0 58 1 64 0 IPv6"),
        ]
    );
}

#[test]
fn vlan_tags_and_other_link_types_count_like_plain_ethernet() {
    let p = pkt(CLIENT, 20641, SERVER, 22, L4::Tcp(ACK), 10);
    let expected = [format!(
        "2 123456789010 eni-1235b8ca123456789 {CLIENT} {SERVER} 20641 22 6 1 50 1000 1000 ACCEPT OK"
    )];
    let files = [
        build::pcap(DataLink::ETHERNET, &[(1000, 0, p.ethernet(&[42]))]),
        build::pcap(DataLink::ETHERNET, &[(1000, 0, p.ethernet(&[100, 42]))]),
        build::pcap(DataLink::LINUX_SLL, &[(1000, 0, p.sll())]),
        build::pcap(DataLink::LINUX_SLL2, &[(1000, 0, p.sll2())]),
        build::pcap(DataLink::RAW, &[(1000, 0, p.ip())]),
        build::pcap(DataLink::IPV4, &[(1000, 0, p.ip())]),
    ];
    for (i, file) in files.iter().enumerate() {
        let capture = read(file, &options());
        assert_eq!(default_lines(&capture.records), expected, "file {i}");
    }
}

#[test]
fn pcapng_files_give_the_same_records_at_any_timestamp_resolution() {
    for tsresol in [None, Some(9), Some(3)] {
        let file = build::pcapng(DataLink::ETHERNET, tsresol, &ssh_session());
        let capture = read(&file, &options());
        assert_eq!(capture.format, CaptureFormat::PcapNg);
        assert_eq!(default_lines(&capture.records), SSH_LINES, "{tsresol:?}");
    }
}

#[test]
fn a_full_table_drops_new_flows_and_marks_the_interval_skipdata() {
    let mut opts = options();
    opts.max_flows = 2;
    let frames: Vec<Frame> = (0..4u16)
        .map(|i| {
            let p = pkt(CLIENT, 1000 + i, SERVER, 80, L4::Tcp(SYN), 0);
            (T0 + u64::from(i), 0, p.ethernet(&[]))
        })
        .chain([(
            T0 + 9,
            0,
            pkt(CLIENT, 1000, SERVER, 80, L4::Tcp(ACK), 0).ethernet(&[]),
        )])
        .collect();
    let capture = read(&build::pcap(DataLink::ETHERNET, &frames), &opts);
    assert_eq!(
        default_lines(&capture.records),
        [
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 1000 80 6 2 80 1418530010 1418530019 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 1001 80 6 1 40 1418530011 1418530011 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1418530012 1418530013 - SKIPDATA",
        ]
    );
    assert_eq!(
        (capture.stats.dropped_packets, capture.stats.dropped_bytes),
        (2, 80)
    );
}

#[test]
fn an_interval_without_traffic_gives_nodata_when_asked() {
    let mut opts = options();
    opts.interval = AggregationInterval::OneMinute;
    let p = pkt(CLIENT, 5000, SERVER, 53, L4::Udp, 0);
    let frames = vec![(30, 0, p.ethernet(&[])), (200, 0, p.ethernet(&[]))];
    let file = build::pcap(DataLink::ETHERNET, &frames);
    let without = read(&file, &opts);
    assert_eq!(without.records.len(), 2);
    opts.nodata = true;
    let with = read(&file, &opts);
    assert_eq!(
        default_lines(&with.records),
        [
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 5000 53 17 1 28 30 30 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 60 119 - NODATA",
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 120 179 - NODATA",
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 5000 53 17 1 28 200 200 ACCEPT OK",
        ]
    );
}

#[test]
fn an_idle_interface_of_a_table_gets_nodata_and_verdicts_become_actions() {
    let tok = |s: &str| Token::new(s).unwrap();
    let busy = Interface::new(tok("eni-aaaaaaaaaaaaaaaaa"), tok(ACCOUNT));
    let mut idle = Interface::new(tok("eni-bbbbbbbbbbbbbbbbb"), tok(ACCOUNT));
    idle.nodata = true;
    let config = TableConfig {
        interval: AggregationInterval::OneMinute,
        ..TableConfig::default()
    };
    let mut table = FlowTable::new(config, vec![busy, idle]).unwrap();
    let frame = pkt(CLIENT, 3389, SERVER, 3389, L4::Tcp(SYN), 0).ip();
    let info = flowwatch_capture::packet::decode(
        flowwatch_capture::LinkType::RawIp,
        Timestamp::from_secs(65),
        &frame,
    )
    .unwrap();
    table.observe(0, &info, Action::Reject).unwrap();
    assert!(matches!(
        table.observe(2, &info, Action::Accept),
        Err(CaptureError::UnknownInterface { index: 2 })
    ));
    let mut out = Vec::new();
    table.advance(119, &mut out);
    assert!(out.is_empty(), "the window [60, 120) is still open");
    table.advance(120, &mut out);
    assert_eq!(
        default_lines(&out),
        [
            "2 123456789010 eni-aaaaaaaaaaaaaaaaa 172.31.16.139 172.31.16.21 3389 3389 6 1 40 65 65 REJECT OK",
            "2 123456789010 eni-bbbbbbbbbbbbbbbbb - - - - - - - 60 119 - NODATA",
        ]
    );
    assert!(table.is_empty());
}

#[test]
fn late_packets_count_in_the_oldest_open_window() {
    let config = TableConfig {
        interval: AggregationInterval::OneMinute,
        ..TableConfig::default()
    };
    let iface = Interface::new(Token::new(ENI).unwrap(), Token::new(ACCOUNT).unwrap());
    let mut table = FlowTable::new(config, vec![iface]).unwrap();
    let frame = pkt(CLIENT, 1, SERVER, 2, L4::Udp, 0).ip();
    let at = |s| {
        flowwatch_capture::packet::decode(
            flowwatch_capture::LinkType::RawIp,
            Timestamp::from_secs(s),
            &frame,
        )
        .unwrap()
    };
    let mut out = Vec::new();
    table.observe(0, &at(10), Action::Accept).unwrap();
    table.advance(70, &mut out);
    table.observe(0, &at(50), Action::Accept).unwrap(); // its window closed at 60
    table.finish(&mut out);
    assert_eq!(
        default_lines(&out),
        [
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 1 2 17 1 28 10 10 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 1 2 17 1 28 60 60 ACCEPT OK",
        ]
    );
    assert_eq!(table.stats().late, 1);
}

#[test]
fn an_invalid_flag_combination_makes_tcp_flags_absent() {
    let format = LogFormat::parse("${srcport} ${packets} ${tcp-flags}").unwrap();
    let frames = vec![
        (
            T0,
            0,
            pkt(CLIENT, 1, SERVER, 2, L4::Tcp(SYN), 0).ethernet(&[]),
        ),
        (
            T0,
            1,
            pkt(CLIENT, 1, SERVER, 2, L4::Tcp(SYN | FIN), 0).ethernet(&[]),
        ),
        (
            T0,
            2,
            pkt(CLIENT, 3, SERVER, 2, L4::Tcp(PSH | ACK), 5).ethernet(&[]),
        ),
    ];
    let capture = read(&build::pcap(DataLink::ETHERNET, &frames), &options());
    assert_eq!(lines(&format, &capture.records), ["1 2 -", "3 1 0"]);
}

#[test]
fn non_ip_garbage_and_unlogged_traffic_are_counted_not_recorded() {
    let metadata = pkt(CLIENT, 40000, "169.254.169.254", 80, L4::Tcp(SYN), 0);
    let dhcp = pkt("0.0.0.0", 68, "255.255.255.255", 67, L4::Udp, 300);
    let kept = pkt(CLIENT, 40000, SERVER, 80, L4::Tcp(SYN), 0);
    let frames = vec![
        (T0, 0, arp_frame()),
        (T0, 0, vec![0xde, 0xad]),
        (T0, 0, metadata.ethernet(&[])),
        (T0, 0, dhcp.ethernet(&[])),
        (T0, 0, kept.ethernet(&[])),
    ];
    let file = build::pcap(DataLink::ETHERNET, &frames);
    let capture = read(&file, &options());
    assert_eq!(capture.records.len(), 1);
    let s = capture.stats;
    assert_eq!(
        (s.frames, s.not_ip, s.undecodable, s.not_logged, s.packets),
        (5, 1, 1, 2, 1)
    );
    let mut all = options();
    all.exclude_unlogged = false;
    assert_eq!(read(&file, &all).records.len(), 3);
}

#[test]
fn bad_files_are_errors_and_a_cut_last_packet_keeps_the_rest() {
    let opts = options();
    let err =
        |bytes: &[u8]| read_capture(Cursor::new(bytes), None, &opts, &mut |_| {}).unwrap_err();
    assert!(matches!(err(b""), CaptureError::UnknownFormat { magic } if magic.is_empty()));
    assert!(matches!(err(b"GIF89a"), CaptureError::UnknownFormat { .. }));
    let wifi = build::pcap(DataLink::IEEE802_11_RADIOTAP, &[]);
    assert!(matches!(
        err(&wifi),
        CaptureError::UnsupportedLinkType { link_type: 127 }
    ));
    assert!(matches!(
        err(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
        CaptureError::Malformed { format: "pcap", .. }
    ));

    let file = build::pcap(DataLink::ETHERNET, &ssh_session());
    let cut = read(&file[..file.len() - 10], &opts);
    assert_eq!(cut.records.len(), 2);
    assert_eq!((cut.stats.packets, cut.stats.undecodable), (7, 1));
}

#[test]
fn progress_reaches_the_total() {
    let frames: Vec<Frame> = (0..3000u64)
        .map(|i| {
            (
                T0 + i / 10,
                0,
                pkt(CLIENT, 1, SERVER, 2, L4::Udp, 400).ethernet(&[]),
            )
        })
        .collect();
    let file = build::pcap(DataLink::ETHERNET, &frames);
    let mut seen: Vec<Progress> = Vec::new();
    read_capture(
        Cursor::new(&file),
        Some(file.len() as u64),
        &options(),
        &mut |p| seen.push(p),
    )
    .unwrap();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].bytes_read <= w[1].bytes_read));
    let last = seen.last().unwrap();
    assert_eq!(
        (last.bytes_read, last.total),
        (file.len() as u64, Some(file.len() as u64))
    );
}

#[test]
fn a_jump_in_time_writes_a_bounded_number_of_nodata_records() {
    let mut opts = options();
    opts.interval = AggregationInterval::OneMinute;
    opts.nodata = true;
    let p = pkt(CLIENT, 5000, SERVER, 53, L4::Udp, 0);
    // Ten years between two packets.
    let frames = vec![(30, 0, p.ethernet(&[])), (315_360_000, 0, p.ethernet(&[]))];
    let capture = read(&build::pcap(DataLink::ETHERNET, &frames), &opts);
    let nodata = capture
        .records
        .iter()
        .filter(|r| r.log_status == Some(flowwatch_flowlog::LogStatus::NoData))
        .count();
    assert_eq!(nodata, flowwatch_capture::MAX_IDLE_WINDOWS);
    assert_eq!(capture.records.len(), nodata + 2);
    assert_eq!(capture.records.last().unwrap().start, Some(315_360_000));
}

#[test]
fn a_table_tells_at_most_65536_interfaces_apart() {
    let iface = Interface::new(Token::new(ENI).unwrap(), Token::new(ACCOUNT).unwrap());
    let at_most = vec![iface.clone(); 1 << 16];
    assert!(FlowTable::new(TableConfig::default(), at_most).is_ok());
    let too_many = vec![iface; (1 << 16) + 1];
    assert!(matches!(
        FlowTable::new(TableConfig::default(), too_many),
        Err(CaptureError::TooManyInterfaces {
            count: 65537,
            max: 65536
        })
    ));
}
