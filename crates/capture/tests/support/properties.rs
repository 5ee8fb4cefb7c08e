//! Property tests: no bytes make decoding or reading panic; nothing counted is lost.

use std::io::Cursor;

use flowwatch_capture::packet::decode;
use flowwatch_capture::{AggregationInterval, LinkType, Timestamp, read_capture};
use flowwatch_flowlog::LogStatus;
use pcap_file::DataLink;
use proptest::prelude::*;

use crate::build::{self, L4, pkt};

const LINKS: [LinkType; 5] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::RawIp,
    LinkType::Loopback,
];

proptest! {
    #[test]
    fn arbitrary_frames_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..200)) {
        for link in LINKS {
            let _ = decode(link, Timestamp::default(), &frame);
        }
    }

    #[test]
    fn arbitrary_files_never_panic(
        head in prop_oneof![
            Just(vec![0xd4, 0xc3, 0xb2, 0xa1]),
            Just(vec![0x0a, 0x0d, 0x0d, 0x0a]),
            Just(vec![]),
        ],
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut file = head;
        file.extend(body);
        let _ = read_capture(Cursor::new(&file), None, &crate::options(), &mut |_| {});
    }

    #[test]
    fn mangled_frames_in_a_valid_file_never_panic(
        cut in 0usize..80,
        flip in proptest::collection::vec((0usize..80, any::<u8>()), 0..6),
    ) {
        let mut frame = pkt("10.0.0.1", 1, "10.0.0.2", 2, L4::Tcp(build::SYN), 20).ethernet(&[7]);
        for (i, b) in flip {
            if let Some(x) = frame.get_mut(i) { *x = b; }
        }
        frame.truncate(cut);
        let file = build::pcap(DataLink::ETHERNET, &[(5, 0, frame)]);
        let _ = read_capture(Cursor::new(&file), None, &crate::options(), &mut |_| {});
    }

    #[test]
    fn packet_and_byte_totals_are_kept(
        packets in proptest::collection::vec((0u8..6, 0u64..30, 0usize..300, any::<bool>()), 1..120),
        max_flows in 1usize..8,
        one_minute in any::<bool>(),
    ) {
        let mut t = 1_000_000u64;
        let mut frames = Vec::new();
        let mut want = (0u64, 0u64);
        for (flow, gap, payload, v6) in packets {
            t += gap;
            let p = if v6 {
                pkt("2001:db8::1", 1000 + u16::from(flow), "2001:db8::2", 443, L4::Tcp(build::ACK), payload)
            } else {
                pkt("10.0.0.1", 1000 + u16::from(flow), "10.0.0.2", 53, L4::Udp, payload)
            };
            want.0 += 1;
            want.1 += p.ip().len() as u64;
            frames.push((t, 0, p.ethernet(&[])));
        }
        let mut opts = crate::options();
        opts.max_flows = max_flows;
        opts.nodata = true;
        opts.interval = if one_minute { AggregationInterval::OneMinute } else { AggregationInterval::TenMinutes };
        let file = build::pcap(DataLink::ETHERNET, &frames);
        let capture = read_capture(Cursor::new(&file), None, &opts, &mut |_| {}).unwrap();
        let ok = capture.records.iter().filter(|r| r.log_status == Some(LogStatus::Ok));
        let (p, b) = ok.fold((0, 0), |(p, b), r| (p + r.packets.unwrap(), b + r.bytes.unwrap()));
        let s = capture.stats;
        prop_assert_eq!((s.packets, s.bytes), want);
        prop_assert_eq!((p + s.dropped_packets, b + s.dropped_bytes), want);
    }
}
