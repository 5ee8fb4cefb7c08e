//! Live capture through the TPACKET_V3 ring and through `recvfrom`, on the root-side end of a
//! veth pair whose other end is in a network namespace made for the test: UDP datagrams and a
//! refused TCP connection sent from the namespace must give exact records, the same with
//! either reader. Needs root, `ip netns` and python3; skipped (with a message) without them.

use std::collections::BTreeMap;
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flowwatch_capture::{
    AggregationInterval, LiveCapture, LiveConfig, LiveInterface, TableConfig, Timestamp,
};
use flowwatch_flowlog::{Action, FlowDirection, FlowRecord, LogStatus, TcpFlags, Token};

/// Why the test cannot run here, if it cannot.
fn unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0");
    if !root {
        return Some("not root".into());
    }
    for (tool, args) in [
        ("ip", &["netns", "list"][..]),
        ("python3", &["--version"][..]),
        ("sysctl", &["-n", "kernel.ostype"][..]),
    ] {
        let ok = Command::new(tool)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Some(format!("`{tool} {}` is unavailable", args.join(" ")));
        }
    }
    None
}

fn run(cmd: &[&str]) -> String {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .expect("run a command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A namespace and the veth pair into it, deleted on drop.
struct Lab {
    ns: String,
    veth: String,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.veth])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

/// Sends `n` UDP datagrams of 100 bytes from port 40001, then a TCP connection attempt from
/// port 40002 to a closed port (a SYN answered by a RST).
const PY_SENDER: &str = r#"
import socket, sys
host, n, udp_port, tcp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("", 40001))
for i in range(n):
    u.sendto(b"x" * 100, (host, udp_port))
u.close()
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("", 40002))
t.settimeout(5)
try:
    t.connect((host, tcp_port))
    sys.exit("the closed port answered")
except ConnectionRefusedError:
    pass
"#;

const DATAGRAMS: u64 = 50;

fn clock() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(Timestamp::from)
        .unwrap_or_default()
}

/// What the test compares of a record (times differ between runs).
type Key = (IpAddr, IpAddr, u16, u16, u8);
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counted {
    packets: u64,
    bytes: u64,
    tcp_flags: Option<TcpFlags>,
    direction: Option<FlowDirection>,
    action: Option<Action>,
}

struct Scenario<'a> {
    ns: &'a str,
    veth: &'a str,
    local: IpAddr,
    peer: IpAddr,
}

impl Scenario<'_> {
    /// Captures the traffic of one sender run and checks its records, returning them by
    /// 5-tuple (summed over windows, in case the run straddles a minute; the receiving ports
    /// as 0).
    fn capture(&self, ring: bool) -> BTreeMap<Key, Counted> {
        let config = LiveConfig {
            interfaces: vec![LiveInterface {
                name: self.veth.to_string(),
                eni: Token::new("eni-0123456789abcdef0").unwrap(),
                account: Token::new("123456789010").unwrap(),
                local_addrs: Vec::new(),
            }],
            nflog_group: None,
            table: TableConfig {
                interval: AggregationInterval::OneMinute,
                ..TableConfig::default()
            },
            nodata: false,
        };
        let mut capture = LiveCapture::open_with_ring(config, ring).expect("open the capture");
        assert_eq!(capture.uses_ring(), ring, "the ring could not be set up");

        // A listener for the datagrams (else each would be answered by an ICMP error), and a
        // port known to be closed for the TCP attempt.
        let receiver = UdpSocket::bind((self.local, 0)).expect("bind the UDP receiver");
        receiver
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let udp_port = receiver.local_addr().unwrap().port();
        let tcp_port = {
            let l = TcpListener::bind((self.local, 0)).expect("find a free port");
            l.local_addr().unwrap().port()
        };

        let mut clock = clock;
        // Time for the sockets to settle before the traffic (nothing may be in flight).
        capture
            .poll(Duration::from_millis(50), &mut clock)
            .expect("poll");
        let out = Command::new("ip")
            .args(["netns", "exec", self.ns, "python3", "-c", PY_SENDER])
            .args([
                self.local.to_string(),
                DATAGRAMS.to_string(),
                udp_port.to_string(),
                tcp_port.to_string(),
            ])
            .output()
            .expect("run the sender");
        assert!(
            out.status.success(),
            "sender: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut buf = [0u8; 2048];
        for i in 0..DATAGRAMS {
            let (n, _) = receiver
                .recv_from(&mut buf)
                .unwrap_or_else(|e| panic!("datagram {i} not received: {e}"));
            assert_eq!(n, 100);
        }

        // Until the frames are counted (a ring hands over a part-filled block after 100 ms),
        // then a little longer, so that any extra frame would be counted too.
        let expected = DATAGRAMS + 2;
        let deadline = Instant::now() + Duration::from_secs(10);
        while capture.table().stats().packets < expected && Instant::now() < deadline {
            capture
                .poll(Duration::from_millis(200), &mut clock)
                .expect("poll");
        }
        for _ in 0..3 {
            capture
                .poll(Duration::from_millis(100), &mut clock)
                .expect("poll");
        }
        assert_eq!(capture.stats().kernel_drops, 0);
        let mut records = Vec::new();
        capture.finish(clock().secs, &mut records);

        let mut flows = BTreeMap::new();
        for r in records.iter().filter(|r| self.ours(r)) {
            assert_eq!(r.log_status, Some(LogStatus::Ok), "{r:?}");
            let key = (
                r.pkt_srcaddr.unwrap(),
                r.pkt_dstaddr.unwrap(),
                r.srcport.unwrap(),
                r.dstport.unwrap(),
                r.protocol.unwrap(),
            );
            let c = flows.entry(key).or_insert(Counted {
                packets: 0,
                bytes: 0,
                tcp_flags: r.tcp_flags,
                direction: r.flow_direction,
                action: r.action,
            });
            c.packets += r.packets.unwrap();
            c.bytes += r.bytes.unwrap();
            assert_eq!(
                (c.tcp_flags, c.direction, c.action),
                (r.tcp_flags, r.flow_direction, r.action)
            );
        }
        let expected = BTreeMap::from([
            (
                (self.peer, self.local, 40001, udp_port, 17),
                Counted {
                    packets: DATAGRAMS,
                    // IPv4 (20) + UDP (8) + 100 bytes of payload each.
                    bytes: DATAGRAMS * 128,
                    tcp_flags: Some(TcpFlags(0)),
                    direction: Some(FlowDirection::Ingress),
                    action: Some(Action::Accept),
                },
            ),
            (
                (self.peer, self.local, 40002, tcp_port, 6),
                Counted {
                    packets: 1,
                    // A SYN with MSS, SACK-permitted, timestamp and window-scale options.
                    bytes: 60,
                    tcp_flags: Some(TcpFlags(2)),
                    direction: Some(FlowDirection::Ingress),
                    action: Some(Action::Accept),
                },
            ),
            (
                (self.local, self.peer, tcp_port, 40002, 6),
                Counted {
                    packets: 1,
                    // RST-ACK without options.
                    bytes: 40,
                    tcp_flags: Some(TcpFlags(4)),
                    direction: Some(FlowDirection::Egress),
                    action: Some(Action::Accept),
                },
            ),
        ]);
        assert_eq!(flows, expected, "ring: {ring}");
        // Direction also chose the interface's address as srcaddr/dstaddr.
        for r in records.iter().filter(|r| self.ours(r)) {
            let (src, dst) = (r.srcaddr.unwrap(), r.dstaddr.unwrap());
            assert!(src == self.local || dst == self.local, "{r:?}");
        }
        // The receiving ports were picked for this run: compare runs without them.
        let port = |p: u16| if p == udp_port || p == tcp_port { 0 } else { p };
        flows
            .into_iter()
            .map(|((s, d, sp, dp, proto), c)| ((s, d, port(sp), port(dp), proto), c))
            .collect()
    }

    fn ours(&self, r: &FlowRecord) -> bool {
        let pair = [Some(self.local), Some(self.peer)];
        pair.contains(&r.pkt_srcaddr) && pair.contains(&r.pkt_dstaddr)
    }
}

#[test]
fn ring_and_recvfrom_capture_the_same_records_on_a_veth() {
    if let Some(reason) = unavailable() {
        eprintln!("skipping ring_and_recvfrom_capture_the_same_records_on_a_veth: {reason}");
        return;
    }
    let id = std::process::id() % 100_000;
    let lab = Lab {
        ns: format!("fwring-{id}"),
        veth: format!("fwr{id}a"),
    };
    let peer_dev = format!("fwr{id}b");
    let net = 1 + id % 250;
    let (local, peer) = (format!("10.214.{net}.1"), format!("10.214.{net}.2"));
    run(&["ip", "netns", "add", &lab.ns]);
    run(&[
        "ip", "link", "add", &lab.veth, "type", "veth", "peer", "name", &peer_dev, "netns", &lab.ns,
    ]);
    // No IPv6 on either end: its neighbour discovery would add frames this test does not
    // count (the root namespace's setting is changed for this interface only).
    let _ = Command::new("sysctl")
        .args(["-qw", &format!("net.ipv6.conf.{}.disable_ipv6=1", lab.veth)])
        .status();
    run(&[
        "ip",
        "netns",
        "exec",
        &lab.ns,
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.disable_ipv6=1",
    ]);
    run(&[
        "ip",
        "addr",
        "add",
        &format!("{local}/24"),
        "dev",
        &lab.veth,
    ]);
    run(&[
        "ip",
        "-n",
        &lab.ns,
        "addr",
        "add",
        &format!("{peer}/24"),
        "dev",
        &peer_dev,
    ]);
    run(&["ip", "link", "set", &lab.veth, "up"]);
    run(&["ip", "-n", &lab.ns, "link", "set", &peer_dev, "up"]);
    run(&["ip", "-n", &lab.ns, "link", "set", "lo", "up"]);
    // Static neighbours: no ARP exchange, whose queueing could delay or drop the first
    // datagrams.
    let mac = |ns: Option<&str>, dev: &str| {
        let path = format!("/sys/class/net/{dev}/address");
        match ns {
            None => run(&["cat", &path]),
            Some(ns) => run(&["ip", "netns", "exec", ns, "cat", &path]),
        }
        .trim()
        .to_string()
    };
    let (local_mac, peer_mac) = (mac(None, &lab.veth), mac(Some(&lab.ns), &peer_dev));
    run(&[
        "ip",
        "neigh",
        "replace",
        &peer,
        "lladdr",
        &peer_mac,
        "dev",
        &lab.veth,
        "nud",
        "permanent",
    ]);
    run(&[
        "ip",
        "-n",
        &lab.ns,
        "neigh",
        "replace",
        &local,
        "lladdr",
        &local_mac,
        "dev",
        &peer_dev,
        "nud",
        "permanent",
    ]);

    let scenario = Scenario {
        ns: &lab.ns,
        veth: &lab.veth,
        local: local.parse().unwrap(),
        peer: peer.parse().unwrap(),
    };
    let with_ring = scenario.capture(true);
    let with_recvfrom = scenario.capture(false);
    assert_eq!(with_ring, with_recvfrom);
}
