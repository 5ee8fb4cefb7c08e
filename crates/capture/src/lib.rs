//! # flowwatch-capture
//!
//! Packets to VPC flow-log records (`spec/flowlogs.md`), as a library without I/O of its own
//! beyond reading capture files, and without async:
//!
//! - [`packet`]: one link-layer frame (Ethernet with VLAN tags, Linux cooked SLL/SLL2, raw IP,
//!   BSD loopback) to a [`PacketInfo`] — addresses, ports, protocol, the IP length AWS counts
//!   as `bytes`, and the packet's `tcp-flags` contribution.
//! - [`FlowTable`]: packets per interface, 5-tuple and aligned aggregation window
//!   ([`AggregationInterval`], 60 or 600 s) to [`FlowRecord`](flowwatch_flowlog::FlowRecord)s of flowwatch-flowlog, with
//!   `flow-direction`, `pkt-srcaddr`/`pkt-dstaddr`, `type`, NODATA and SKIPDATA records.
//! - [`read_capture`] / [`read_capture_file`]: pcap and pcapng files (detected by magic) through
//!   a table, with [`Progress`] callbacks; [`read_capture_into`] / [`read_capture_file_into`]
//!   hand each window's records to a [`RecordSink`] as it closes instead of keeping them.
//! - [`live`] (Linux): [`LiveCapture`], `AF_PACKET` sockets on interfaces and an NFLOG group's
//!   logged packets (REJECT) through a table, windows closed on the caller's clock; [`nflog`]
//!   writes and reads the nfnetlink_log messages. The crate's only unsafe code is the small
//!   system-call wrapper they use (`sys.rs`), the TPACKET_V3 ring's shared memory
//!   (`ring.rs`), the prefetch hint of the flow table and the pcap reader (`hint.rs`) and the
//!   mapping of pcap files (`pcap_file/mapped.rs`).
//! - [`netflow`]: NetFlow v5, v9 and IPFIX export packets to [`netflow::FlowSample`]s, which
//!   [`FlowTable::observe_flow`] counts like packets.
//!
//! ## Invariants
//!
//! - No input panics: malformed frames and unsupported link types are counted in [`Stats`],
//!   malformed files are [`CaptureError`]s.
//! - Memory is bounded by [`TableConfig::max_flows`]: when the table is full, packets of new
//!   flows are dropped and their interface's window gets one SKIPDATA record.
//! - Nothing counted is lost: after [`FlowTable::finish`], the packets and bytes of the OK
//!   records plus [`Stats::dropped_packets`] / [`Stats::dropped_bytes`] equal
//!   [`Stats::packets`] / [`Stats::bytes`]. Packets that arrive after their window closed are
//!   counted in the oldest open window ([`Stats::late`]).
//! - Time is the caller's: windows close only on [`FlowTable::advance`] and
//!   [`FlowTable::finish`]; the same packets always give the same records in the same order.
//!
//! ## Example
//!
//! ```
//! use flowwatch_capture::{FlowTable, Interface, PacketInfo, TableConfig, Timestamp};
//! use flowwatch_flowlog::{Action, FlowType, LogFormat, TcpFlags, Token};
//!
//! let eni = Token::new("eni-1235b8ca123456789").unwrap();
//! let account = Token::new("123456789010").unwrap();
//! let mut table = FlowTable::new(TableConfig::default(), vec![Interface::new(eni, account)]).unwrap();
//! let ping = |secs| PacketInfo {
//!     ts: Timestamp::from_secs(secs),
//!     src: "203.0.113.12".parse().unwrap(),
//!     dst: "172.31.16.139".parse().unwrap(),
//!     src_port: 0,
//!     dst_port: 0,
//!     protocol: 1,
//!     bytes: 84,
//!     tcp_flags: Some(TcpFlags(0)),
//!     flow_type: FlowType::Ipv4,
//! };
//! for secs in [1432917027, 1432917050, 1432917100, 1432917142] {
//!     table.observe(0, &ping(secs), Action::Accept).unwrap();
//! }
//! let mut records = Vec::new();
//! table.finish(&mut records);
//! assert_eq!(
//!     LogFormat::default_vpc().encode(&records[0]),
//!     "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK"
//! );
//! ```

mod error;
mod flow_table;
mod hint;
mod identity;
#[cfg(target_os = "linux")]
pub mod live;
pub mod netflow;
pub mod nflog;
pub mod packet;
mod pcap_file;
#[cfg(target_os = "linux")]
mod ring;
pub mod rules;
#[cfg(target_os = "linux")]
mod sys;

pub use error::{CaptureError, Result};
pub use flow_table::{
    AggregationInterval, FlowTable, Interface, MAX_IDLE_WINDOWS, Seen, Stats, TableConfig,
};
pub use identity::derive_eni;
#[cfg(target_os = "linux")]
pub use live::{LiveCapture, LiveConfig, LiveInterface, LiveStats};
pub use packet::{LinkType, PacketInfo, Skipped, Timestamp};
pub use pcap_file::{
    Capture, CaptureFormat, Options, Progress, RecordSink, Summary, read_capture,
    read_capture_file, read_capture_file_into, read_capture_into,
};
pub use rules::{RulesError, SecurityGroup};
