//! `flowwatch capture --pcap`: a capture file becomes flow-log records in `<eni>-all`, found by
//! the aws CLI with the user guide's SSH filter pattern.

use std::process::Command;
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

use crate::support::{Server, aws_env};

/// An Ethernet frame carrying TCP from `src:sport` to `dst:dport` with `flags` (SYN = 2).
fn tcp_frame(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    syn: bool,
    payload: usize,
) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, dst, 64)
        .tcp(sport, dport, 1000, 64_000);
    let builder = if syn { builder.syn() } else { builder.ack(1) };
    let mut out = Vec::new();
    builder.write(&mut out, &vec![0u8; payload]).expect("frame");
    out
}

pub(crate) fn write_pcap(path: &std::path::Path) {
    let file = std::fs::File::create(path).expect("pcap file");
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(file, header).expect("writer");
    let t0 = 1_700_000_000u64;
    let mut frames = Vec::new();
    // Five SSH attempts from 198.51.100.7, each one SYN (a scanner), and an HTTPS exchange.
    for i in 0..5u16 {
        frames.push((
            t0 + u64::from(i),
            tcp_frame([198, 51, 100, 7], 50_000 + i, [10, 0, 1, 5], 22, true, 0),
        ));
    }
    for i in 0..3u64 {
        frames.push((
            t0 + 10 + i,
            tcp_frame([10, 0, 1, 5], 40_000, [93, 184, 216, 34], 443, false, 100),
        ));
    }
    for (secs, data) in &frames {
        writer
            .write_packet(&PcapPacket::new(
                Duration::from_secs(*secs),
                data.len() as u32,
                data,
            ))
            .expect("packet");
    }
}

#[test]
fn capture_file_to_flow_log_records() {
    let server = Server::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let pcap = tmp.path().join("trace.pcap");
    write_pcap(&pcap);
    let out = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .args(["capture", "--pcap"])
        .arg(&pcap)
        .args([
            "--eni",
            "eni-0a1b2c3d4e5f67890",
            "--account",
            "123456789010",
            "--rebase-time",
        ])
        .args(["--endpoint-url", &server.endpoint])
        .envs(aws_env())
        .output()
        .expect("flowwatch capture");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "capture failed: {stderr}");
    assert!(stderr.contains("8 packets"), "{stderr}");
    assert!(
        stderr.contains("delivered 6 records to vpc-flow-logs/eni-0a1b2c3d4e5f67890-all"),
        "{stderr}"
    );

    let ssh = "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action, flowlogstatus]";
    let got = server.aws_ok(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "vpc-flow-logs",
        "--filter-pattern",
        ssh,
    ]);
    let events = got["events"].as_array().expect("events");
    assert_eq!(
        events.len(),
        5,
        "one record per SSH attempt (distinct source ports)"
    );
    let fields: Vec<&str> = events[0]["message"].as_str().unwrap().split(' ').collect();
    assert_eq!(
        &fields[..8],
        [
            "2",
            "123456789010",
            "eni-0a1b2c3d4e5f67890",
            "198.51.100.7",
            "10.0.1.5",
            "50000",
            "22",
            "6"
        ]
    );
    assert_eq!(fields[8], "1", "one packet");
    assert_eq!(fields[9], "40", "an IPv4 SYN without options is 40 bytes");
    assert_eq!(fields[12..], ["ACCEPT", "OK"]);
    assert_eq!(events[0]["logStreamName"], "eni-0a1b2c3d4e5f67890-all");
    // The event's timestamp is the record's start, in milliseconds.
    let start: i64 = fields[10].parse().unwrap();
    assert_eq!(events[0]["timestamp"].as_i64().unwrap(), start * 1000);

    // Without a server, --dry-run prints the same lines.
    let dry = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .args([
            "capture",
            "--dry-run",
            "--interval",
            "60",
            "--eni",
            "eni-0a1b2c3d4e5f67890",
            "--pcap",
        ])
        .arg(&pcap)
        .output()
        .expect("dry run");
    let lines = String::from_utf8_lossy(&dry.stdout);
    assert_eq!(lines.lines().count(), 6, "{lines}");
    // A file that is not a capture is an error, not a panic.
    let bad = tmp.path().join("bad.pcap");
    std::fs::write(&bad, b"not a capture").expect("bad file");
    let out = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .args(["capture", "--dry-run", "--pcap"])
        .arg(&bad)
        .output()
        .expect("bad run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.pcap"));
}

/// One NetFlow v5 record: (src, dst, sport, dport, protocol, flags, packets, bytes, seconds
/// before export).
type V5Record = ([u8; 4], [u8; 4], u16, u16, u8, u8, u32, u32, u32);

/// A NetFlow v5 export packet from a router clock at `now` (Unix seconds).
fn netflow_v5(now: u32, records: &[V5Record]) -> Vec<u8> {
    let uptime: u32 = 3_600_000;
    let mut b = Vec::new();
    b.extend_from_slice(&5u16.to_be_bytes());
    b.extend_from_slice(&(records.len() as u16).to_be_bytes());
    b.extend_from_slice(&uptime.to_be_bytes());
    b.extend_from_slice(&now.to_be_bytes());
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]);
    for &(src, dst, sport, dport, proto, flags, packets, bytes, ago) in records {
        b.extend_from_slice(&src);
        b.extend_from_slice(&dst);
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&3u16.to_be_bytes()); // input ifIndex
        b.extend_from_slice(&4u16.to_be_bytes());
        b.extend_from_slice(&packets.to_be_bytes());
        b.extend_from_slice(&bytes.to_be_bytes());
        b.extend_from_slice(&(uptime - ago * 1000).to_be_bytes());
        b.extend_from_slice(&(uptime - ago * 1000 + 500).to_be_bytes());
        b.extend_from_slice(&sport.to_be_bytes());
        b.extend_from_slice(&dport.to_be_bytes());
        b.extend_from_slice(&[0, flags, proto, 0, 0, 0, 0, 0, 24, 24, 0, 0]);
    }
    b
}

/// Runs `flowwatch capture --netflow` with `extra` arguments against `server`, sends it one
/// export packet of three records (two of one SSH flow, one HTTPS) from 127.0.0.1's input
/// interface 3, and stops it with SIGTERM (which closes and delivers every open window).
fn collect_one_export(server: &Server, extra: &[&str]) {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let mut collector = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .args(["capture", "--netflow", &format!("127.0.0.1:{port}")])
        .args(["--account", "123456789010", "--interval", "60"])
        .args(extra)
        .args(["--endpoint-url", &server.endpoint])
        .envs(aws_env())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the collector");
    // Wait until it listens.
    let stderr = collector.stderr.take().expect("stderr");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let first = lines.next().expect("a line").expect("utf-8");
    assert!(first.contains("collecting NetFlow"), "{first}");
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as u32;
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").expect("sender");
    let ssh = ([198, 51, 100, 7], [10, 0, 1, 5], 50_000, 22, 6, 0x02);
    let (s, d, sp, dp, p, f) = ssh;
    let packet = netflow_v5(
        now,
        &[
            (s, d, sp, dp, p, f, 1, 40, 10),
            (s, d, sp, dp, p, f, 2, 80, 10),
            (
                [10, 0, 1, 5],
                [93, 184, 216, 34],
                40_000,
                443,
                6,
                0x1b,
                5,
                900,
                5,
            ),
        ],
    );
    sender
        .send_to(&packet, ("127.0.0.1", port))
        .expect("send NetFlow");
    std::thread::sleep(Duration::from_millis(500));
    Command::new("kill")
        .args(["-TERM", &collector.id().to_string()])
        .status()
        .expect("kill");
    let status = collector.wait().expect("wait");
    let stderr = rest.join().expect("stderr reader").join("\n");
    assert!(status.success(), "collector exit: {status}: {stderr}");
    assert!(!stderr.contains("not delivered"), "{stderr}");
}

#[test]
fn netflow_collector_delivers_records_per_exporter_interface() {
    let server = Server::start();
    collect_one_export(&server, &[]);

    let eni = flowwatch_capture::derive_eni("127.0.0.1", "ifindex-3");
    let got = server.aws_ok(&[
        "logs",
        "get-log-events",
        "--log-group-name",
        "vpc-flow-logs",
        "--log-stream-name",
        &format!("{eni}-all"),
        "--start-from-head",
    ]);
    let messages: Vec<&str> = got["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["message"].as_str().expect("message"))
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let fields: Vec<Vec<&str>> = messages.iter().map(|m| m.split(' ').collect()).collect();
    // The two SSH records of one 5-tuple in one window are one flow-log record.
    let ssh = fields.iter().find(|f| f[6] == "22").expect("ssh record");
    assert_eq!(
        &ssh[..10],
        [
            "2",
            "123456789010",
            eni.as_str(),
            "198.51.100.7",
            "10.0.1.5",
            "50000",
            "22",
            "6",
            "3",
            "120"
        ]
    );
    let https = fields.iter().find(|f| f[6] == "443").expect("https record");
    assert_eq!((https[8], https[9]), ("5", "900"));
    assert_eq!(ssh[12], "ACCEPT");
}

/// `--flow-logs`: the collector's records go to the flow logs covering the exporter
/// interface's ENI, each in its own format.
#[test]
fn netflow_collector_feeds_flow_logs() {
    let server = Server::start();
    let eni = flowwatch_capture::derive_eni("127.0.0.1", "ifindex-3");
    let role = server.flow_logs_role("flow-logs");
    let created = server.aws_ok(&[
        "ec2",
        "create-flow-logs",
        "--resource-type",
        "NetworkInterface",
        "--resource-ids",
        &eni,
        "--traffic-type",
        "ALL",
        "--log-group-name",
        "netflow-flows",
        "--deliver-logs-permission-arn",
        &role,
        "--log-format",
        "${interface-id} ${srcaddr} ${dstport} ${packets} ${bytes} ${tcp-flags} ${action}",
    ]);
    assert_eq!(created["FlowLogIds"].as_array().map(Vec::len), Some(1));
    collect_one_export(&server, &["--flow-logs"]);

    let got = server.aws_ok(&[
        "logs",
        "get-log-events",
        "--log-group-name",
        "netflow-flows",
        "--log-stream-name",
        &format!("{eni}-all"),
        "--start-from-head",
    ]);
    let mut messages: Vec<&str> = got["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["message"].as_str().expect("message"))
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            // SYN, ACK, PSH and FIN over the flow: a client opening and closing, 3.
            format!("{eni} 10.0.1.5 443 5 900 3 ACCEPT"),
            format!("{eni} 198.51.100.7 22 3 120 2 ACCEPT"),
        ]
    );
    let described = server.aws_ok(&["ec2", "describe-flow-logs"]);
    assert_eq!(described["FlowLogs"][0]["DeliverLogsStatus"], "SUCCESS");
}

#[test]
fn generate_delivers_synthetic_flow_logs_per_interface() {
    let server = Server::start();
    let out = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .args([
            "generate",
            "--count",
            "300",
            "--interfaces",
            "3",
            "--seed",
            "9",
        ])
        .args(["--log-group", "synthetic"])
        .args(["--endpoint-url", &server.endpoint])
        .envs(aws_env())
        .output()
        .expect("flowwatch generate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let streams = server.aws_ok(&[
        "logs",
        "describe-log-streams",
        "--log-group-name",
        "synthetic",
    ]);
    let names: Vec<&str> = streams["logStreams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| s["logStreamName"].as_str().expect("name"))
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("eni-") && n.ends_with("-all"))
    );
    // Every record is there, and the scanners' rejected SSH attempts are findable.
    let all = server.aws_ok(&["logs", "filter-log-events", "--log-group-name", "synthetic"]);
    assert_eq!(all["events"].as_array().map(Vec::len), Some(300));
    let ssh = server.aws_ok(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "synthetic",
        "--filter-pattern",
        "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]",
    ]);
    assert!(!ssh["events"].as_array().expect("events").is_empty());
}

#[test]
fn security_group_rules_decide_accept_and_reject() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pcap = tmp.path().join("trace.pcap");
    write_pcap(&pcap);
    let rules = tmp.path().join("sg.toml");
    std::fs::write(
        &rules,
        "[[inbound]]\nprotocol = \"tcp\"\nports = \"443\"\n\n[[inbound]]\nprotocol = \"tcp\"\nports = \"22\"\nsource = \"10.0.0.0/16\"\n",
    )
    .expect("rules file");
    let out = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .args([
            "capture",
            "--stdout",
            "--interval",
            "60",
            "--local-addr",
            "10.0.1.5",
        ])
        .args(["--eni", "eni-0a1b2c3d4e5f67890", "--rules"])
        .arg(&rules)
        .arg("--pcap")
        .arg(&pcap)
        .output()
        .expect("flowwatch capture");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split(' ').collect()).collect();
    // SSH from the internet is not allowed in: five REJECT records.
    let ssh: Vec<&Vec<&str>> = lines.iter().filter(|f| f[6] == "22").collect();
    assert_eq!(ssh.len(), 5, "{stdout}");
    assert!(ssh.iter().all(|f| f[12] == "REJECT"), "{stdout}");
    // Outbound HTTPS is allowed (a new group allows all outbound).
    let https: Vec<&Vec<&str>> = lines.iter().filter(|f| f[6] == "443").collect();
    assert!(
        !https.is_empty() && https.iter().all(|f| f[12] == "ACCEPT"),
        "{stdout}"
    );

    // A bad rules file is an error that names the problem.
    std::fs::write(&rules, "[[inbound]]\nprotocol = \"tcpp\"\n").expect("rules file");
    let bad = Command::new(env!("CARGO_BIN_EXE_flowwatch"))
        .args(["capture", "--stdout", "--local-addr", "10.0.1.5", "--rules"])
        .arg(&rules)
        .arg("--pcap")
        .arg(&pcap)
        .output()
        .expect("flowwatch capture");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("protocol \"tcpp\""));
}

/// An inventory names the exporter's interface: the collector records its flows under the
/// listed ENI, a flow log on the interface's VPC covers it, and the server fills in what the
/// inventory knows of it (`vpc-id`, `az-id`).
#[test]
fn netflow_exporter_interfaces_come_from_the_inventory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let inventory = tmp.path().join("inventory.toml");
    std::fs::write(
        &inventory,
        "[[interface]]\neni = \"eni-0123456789abcdef0\"\nexporter = \"127.0.0.1\"\nif-index = 3\n\
         vpc-id = \"vpc-0a1b2c3d\"\naz-id = \"use1-az2\"\n",
    )
    .expect("inventory");
    let inventory = inventory.to_str().expect("utf-8 path");
    let server = Server::start_in(&tmp.path().join("data"), &["--inventory", inventory]);
    let role = server.flow_logs_role("flow-logs");
    server.aws_ok(&[
        "ec2",
        "create-flow-logs",
        "--resource-type",
        "VPC",
        "--resource-ids",
        "vpc-0a1b2c3d",
        "--traffic-type",
        "ALL",
        "--log-group-name",
        "vpc-flows",
        "--deliver-logs-permission-arn",
        &role,
        "--log-format",
        "${interface-id} ${vpc-id} ${subnet-id} ${az-id} ${dstport} ${packets}",
    ]);
    collect_one_export(&server, &["--flow-logs", "--inventory", inventory]);
    let got = server.aws_ok(&[
        "logs",
        "get-log-events",
        "--log-group-name",
        "vpc-flows",
        "--log-stream-name",
        "eni-0123456789abcdef0-all",
        "--start-from-head",
    ]);
    let mut messages: Vec<&str> = got["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["message"].as_str().expect("message"))
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            "eni-0123456789abcdef0 vpc-0a1b2c3d - use1-az2 22 3",
            "eni-0123456789abcdef0 vpc-0a1b2c3d - use1-az2 443 5",
        ]
    );
}

/// `serve --netflow ADDR`: the collector runs inside the server; its records go to the flow
/// logs covering the exporter interface, and a graceful stop delivers the open windows before
/// the engine closes.
#[test]
fn serve_collects_netflow_into_its_flow_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Server::start_in(&data, &["--netflow", &addr, "--capture-interval", "60"]);
    let eni = flowwatch_capture::derive_eni("127.0.0.1", "ifindex-3");
    let role = server.flow_logs_role("flow-logs");
    server.aws_ok(&[
        "ec2",
        "create-flow-logs",
        "--resource-type",
        "NetworkInterface",
        "--resource-ids",
        &eni,
        "--traffic-type",
        "ALL",
        "--log-group-name",
        "in-server",
        "--deliver-logs-permission-arn",
        &role,
        "--log-format",
        "${interface-id} ${srcaddr} ${dstport} ${packets} ${bytes} ${action}",
    ]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as u32;
    let packet = netflow_v5(
        now,
        &[(
            [198, 51, 100, 7],
            [10, 0, 1, 5],
            50_000,
            22,
            6,
            0x02,
            3,
            120,
            10,
        )],
    );
    std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("sender")
        .send_to(&packet, ("127.0.0.1", port))
        .expect("send NetFlow");
    std::thread::sleep(Duration::from_millis(500));
    server.stop();

    let server = Server::start_in(&data, &[]);
    let got = server.aws_ok(&[
        "logs",
        "get-log-events",
        "--log-group-name",
        "in-server",
        "--log-stream-name",
        &format!("{eni}-all"),
        "--start-from-head",
    ]);
    let messages: Vec<&str> = got["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["message"].as_str().expect("message"))
        .collect();
    assert_eq!(messages, [format!("{eni} 198.51.100.7 22 3 120 ACCEPT")]);
}
