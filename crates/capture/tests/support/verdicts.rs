//! Observed verdicts and live-capture helpers of the flow table: REJECT superseding ACCEPT
//! (`TableConfig::reject_wins`), SKIPDATA marks (`FlowTable::skip`) and directions learned from
//! what the kernel says of a frame (`Seen`).

use flowwatch_capture::{
    AggregationInterval, FlowTable, Interface, LinkType, PacketInfo, Seen, TableConfig, Timestamp,
};
use flowwatch_flowlog::{Action, FlowRecord, FlowType, LogFormat, TcpFlags, Token};

fn table(reject_wins: bool) -> FlowTable {
    let config = TableConfig {
        interval: AggregationInterval::OneMinute,
        reject_wins,
        ..TableConfig::default()
    };
    let iface = Interface::new(
        Token::new("eni-1235b8ca123456789").unwrap(),
        Token::new("123456789010").unwrap(),
    );
    FlowTable::new(config, vec![iface]).unwrap()
}

fn syn(secs: u64, dport: u16) -> PacketInfo {
    PacketInfo {
        ts: Timestamp::from_secs(secs),
        src: "10.0.0.2".parse().unwrap(),
        dst: "10.0.0.1".parse().unwrap(),
        src_port: 40000,
        dst_port: dport,
        protocol: 6,
        bytes: 60,
        tcp_flags: Some(TcpFlags(2)),
        flow_type: FlowType::Ipv4,
    }
}

fn lines(records: &[FlowRecord]) -> Vec<String> {
    let format = LogFormat::default_vpc();
    records.iter().map(|r| format.encode(r)).collect()
}

#[test]
fn a_rejected_flow_is_not_also_accepted_in_its_window() {
    let mut t = table(true);
    // The packet socket saw two SYNs to 22 and one to 80; NFLOG logged the two to 22.
    for secs in [1020, 1021] {
        t.observe(0, &syn(secs, 22), Action::Accept).unwrap();
        t.observe(0, &syn(secs, 22), Action::Reject).unwrap();
    }
    t.observe(0, &syn(1022, 80), Action::Accept).unwrap();
    // Next window: only accepted (the rule was removed): stays ACCEPT.
    t.observe(0, &syn(1085, 22), Action::Accept).unwrap();
    let mut out = Vec::new();
    t.finish(&mut out);
    assert_eq!(
        lines(&out),
        [
            "2 123456789010 eni-1235b8ca123456789 10.0.0.2 10.0.0.1 40000 22 6 2 120 1020 1021 REJECT OK",
            "2 123456789010 eni-1235b8ca123456789 10.0.0.2 10.0.0.1 40000 80 6 1 60 1022 1022 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 10.0.0.2 10.0.0.1 40000 22 6 1 60 1085 1085 ACCEPT OK",
        ]
    );
    let stats = t.stats();
    assert_eq!((stats.superseded_packets, stats.superseded_bytes), (2, 120));
    assert_eq!(stats.packets, 6);

    // Without the option both are written.
    let mut t = table(false);
    t.observe(0, &syn(1020, 22), Action::Accept).unwrap();
    t.observe(0, &syn(1020, 22), Action::Reject).unwrap();
    let mut out = Vec::new();
    t.finish(&mut out);
    assert_eq!(out.len(), 2);
}

#[test]
fn skip_marks_give_skipdata_in_the_right_window() {
    let mut t = table(false);
    t.advance(1000, &mut Vec::new());
    t.observe(0, &syn(1010, 80), Action::Accept).unwrap();
    t.skip(0, 1015).unwrap();
    t.skip(0, 1070).unwrap();
    let mut out = Vec::new();
    t.advance(1200, &mut out);
    assert_eq!(
        lines(&out),
        [
            "2 123456789010 eni-1235b8ca123456789 10.0.0.2 10.0.0.1 40000 80 6 1 60 1010 1010 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1015 1015 - SKIPDATA",
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1070 1070 - SKIPDATA",
        ]
    );
    // A mark for a closed window lands in the oldest open one.
    t.skip(0, 1000).unwrap();
    let mut out = Vec::new();
    t.advance(1300, &mut out);
    assert_eq!(
        lines(&out),
        ["2 123456789010 eni-1235b8ca123456789 - - - - - - - 1200 1200 - SKIPDATA"]
    );
}

#[test]
fn outgoing_and_host_frames_teach_the_interface_its_address() {
    let mut t = table(false);
    let frame = |src: [u8; 4], dst: [u8; 4]| {
        let mut out = Vec::new();
        etherparse::PacketBuilder::ipv4(src, dst, 64)
            .icmpv4_echo_request(1, 1)
            .write(&mut out, &[0; 56])
            .unwrap();
        out
    };
    let ts = Timestamp::from_secs(1000);
    t.observe_frame_seen(
        0,
        LinkType::RawIp,
        ts,
        &frame([10, 0, 0, 2], [10, 0, 0, 1]),
        Seen::ToHost,
    )
    .unwrap();
    t.observe_frame_seen(
        0,
        LinkType::RawIp,
        ts,
        &frame([10, 0, 0, 1], [10, 0, 0, 2]),
        Seen::Outgoing,
    )
    .unwrap();
    let mut out = Vec::new();
    t.finish(&mut out);
    let format = LogFormat::parse("${srcaddr} ${dstaddr} ${flow-direction}").unwrap();
    let got: Vec<String> = out.iter().map(|r| format.encode(r)).collect();
    assert_eq!(
        got,
        ["10.0.0.2 10.0.0.1 ingress", "10.0.0.1 10.0.0.2 egress"]
    );
}
