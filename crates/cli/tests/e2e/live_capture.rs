//! `flowwatch capture --interface --nflog-group` in a pair of network namespaces joined by a
//! veth pair: an nftables rule logs TCP to port 22 to an NFLOG group and drops it; a TCP
//! exchange with an open port, an attempt on port 22 and a ping must come out as ACCEPT,
//! REJECT and ACCEPT records. Needs root, `ip netns`, `nft` and python3; skipped (with a
//! message) without them.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::binary;

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
        ("nft", &["--version"][..]),
        ("python3", &["--version"][..]),
        ("ping", &["-V"][..]),
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

fn run(cmd: &[&str]) {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .expect("run a command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces, deleted (with their veth pair) on drop, and processes killed on drop.
struct Lab {
    a: String,
    b: String,
    children: Vec<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

const PY_SERVER: &str = r#"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080))
s.listen()
print("listening", flush=True)
c, _ = s.accept()
got = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    got += len(d)
c.sendall(b"y" * 1000)
c.close()
"#;

const PY_CLIENT: &str = r#"
import socket, sys
host = sys.argv[1]
c = socket.create_connection((host, 8080), timeout=5)
print(c.getsockname()[1], flush=True)
c.sendall(b"x" * 500)
c.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    got += d
assert len(got) == 1000, len(got)
c.close()
try:
    socket.create_connection((host, 22), timeout=2)
    sys.exit("port 22 answered")
except (socket.timeout, TimeoutError):
    pass
"#;

#[test]
fn live_capture_in_network_namespaces_with_nflog_rejects() {
    if let Some(reason) = unavailable() {
        eprintln!("skipping live_capture_in_network_namespaces_with_nflog_rejects: {reason}");
        return;
    }
    let id = std::process::id() % 100_000;
    let mut lab = Lab {
        a: format!("fwlive-{id}-a"),
        b: format!("fwlive-{id}-b"),
        children: Vec::new(),
    };
    let (a, b) = (lab.a.clone(), lab.b.clone());
    let (va, vb) = (format!("fw{id}a"), format!("fw{id}b"));
    let net = 1 + id % 250;
    let (addr_a, addr_b) = (format!("10.213.{net}.1"), format!("10.213.{net}.2"));
    run(&["ip", "netns", "add", &a]);
    run(&["ip", "netns", "add", &b]);
    run(&[
        "ip", "-n", &a, "link", "add", &va, "type", "veth", "peer", "name", &vb, "netns", &b,
    ]);
    for (ns, dev, addr) in [(&a, &va, &addr_a), (&b, &vb, &addr_b)] {
        // No IPv6: its neighbour discovery would add flows this test does not look for.
        run(&[
            "ip",
            "netns",
            "exec",
            ns,
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.disable_ipv6=1",
        ]);
        run(&[
            "ip",
            "-n",
            ns,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            dev,
        ]);
        run(&["ip", "-n", ns, "link", "set", dev, "up"]);
        run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    let group = 7;
    let rules = format!(
        "table inet fwtest {{\n  chain input {{\n    type filter hook input priority 0; policy accept;\n    tcp dport 22 log prefix \"drop-ssh\" group {group} drop\n  }}\n}}\n"
    );
    let rules_file = tempfile::NamedTempFile::new().expect("rules file");
    std::fs::write(rules_file.path(), rules).expect("write rules");
    run(&[
        "ip",
        "netns",
        "exec",
        &a,
        "nft",
        "-f",
        rules_file.path().to_str().expect("path"),
    ]);

    // The server, then the capture, both in namespace a.
    let mut server = Command::new("ip")
        .args(["netns", "exec", &a, "python3", "-c", PY_SERVER, &addr_a])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("server ready");
    assert_eq!(line.trim(), "listening");
    lab.children.push(server);

    let mut capture = Command::new("ip")
        .args(["netns", "exec", &a])
        .arg(binary())
        .args([
            "capture",
            "--interface",
            &va,
            "--nflog-group",
            &group.to_string(),
        ])
        .args(["--interval", "60", "--stdout", "--account", "123456789010"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the capture");
    let pid = capture.id();
    let stderr = capture.stderr.take().expect("stderr");
    let mut stdout = capture.stdout.take().expect("stdout");
    lab.children.push(capture);
    let (started_tx, started_rx) = mpsc::channel();
    let stderr_thread = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("capturing on") {
                let _ = started_tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let stdout_thread = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = stdout.read_to_string(&mut all);
        all
    });
    if started_rx.recv_timeout(Duration::from_secs(30)).is_err() {
        drop(lab);
        panic!(
            "the capture did not start:\n{}",
            stderr_thread.join().unwrap_or_default()
        );
    }

    // Traffic from namespace b.
    let client = Command::new("ip")
        .args(["netns", "exec", &b, "python3", "-c", PY_CLIENT, &addr_a])
        .output()
        .expect("run the client");
    assert!(
        client.status.success(),
        "client: {}",
        String::from_utf8_lossy(&client.stderr)
    );
    let client_port: u16 = String::from_utf8_lossy(&client.stdout)
        .trim()
        .parse()
        .expect("client port");
    run(&[
        "ip", "netns", "exec", &b, "ping", "-c", "3", "-i", "0.2", "-q", &addr_a,
    ]);
    // NFLOG flushes within 100 ms; leave time for the last packets to be read.
    std::thread::sleep(Duration::from_millis(1500));
    run(&["kill", "-INT", &pid.to_string()]);
    let capture = lab.children.last_mut().expect("capture");
    let status = wait_for(capture, Duration::from_secs(30));
    let stderr = stderr_thread.join().unwrap_or_default();
    let stdout = stdout_thread.join().unwrap_or_default();
    assert!(status, "the capture did not stop on SIGINT:\n{stderr}");
    eprintln!("{stderr}{stdout}");

    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let eni = flowwatch_capture::derive_eni(host.trim(), &va);
    // (srcaddr, dstaddr, srcport, dstport, protocol, action) -> (packets, bytes), summed over
    // windows (the traffic may straddle a minute).
    let mut flows: HashMap<FlowKey, (u64, u64)> = HashMap::new();
    for line in stdout.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f.len(), 14, "default format: {line}");
        assert_eq!(&f[..3], ["2", "123456789010", eni.as_str()], "{line}");
        match f[13] {
            "OK" => {
                let start: u64 = f[10].parse().expect("start");
                let end: u64 = f[11].parse().expect("end");
                assert!(start <= end && end - start < 60, "{line}");
                let key = (
                    f[3].to_owned(),
                    f[4].to_owned(),
                    f[5].parse().expect("srcport"),
                    f[6].parse().expect("dstport"),
                    f[7].parse().expect("protocol"),
                    f[12].to_owned(),
                );
                let e = flows.entry(key).or_default();
                e.0 += f[8].parse::<u64>().expect("packets");
                e.1 += f[9].parse::<u64>().expect("bytes");
            }
            "NODATA" => assert_eq!(&f[3..10], ["-"; 7], "{line}"),
            other => panic!("unexpected log-status {other}: {line}"),
        }
    }
    let get = |src: &str, dst: &str, sport: u16, dport: u16, proto: u8, action: &str| {
        flows
            .get(&(
                src.to_owned(),
                dst.to_owned(),
                sport,
                dport,
                proto,
                action.to_owned(),
            ))
            .copied()
    };
    // The accepted exchange: SYN, ACK, 500 bytes, FIN... and back SYN-ACK, 1000 bytes, FIN.
    let (packets, bytes) = get(&addr_b, &addr_a, client_port, 8080, 6, "ACCEPT")
        .unwrap_or_else(|| panic!("no ACCEPT record for the client's flow:\n{stdout}"));
    assert!((4..=20).contains(&packets), "{packets} packets");
    assert!(
        bytes >= 500 + 40 * packets && bytes < 500 + 100 * packets,
        "{bytes} bytes"
    );
    let (packets, bytes) = get(&addr_a, &addr_b, 8080, client_port, 6, "ACCEPT")
        .unwrap_or_else(|| panic!("no ACCEPT record for the server's replies:\n{stdout}"));
    assert!((3..=20).contains(&packets), "{packets} packets");
    assert!(
        bytes >= 1000 + 40 * packets && bytes < 1000 + 100 * packets,
        "{bytes} bytes"
    );
    // Port 22: rejected by the firewall, and not also accepted.
    let to_22: Vec<_> = flows
        .iter()
        .filter(|(k, _)| k.3 == 22)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert!(!to_22.is_empty(), "no record for port 22:\n{stdout}");
    for ((src, dst, _, _, proto, action), (packets, bytes)) in &to_22 {
        assert_eq!(
            (src.as_str(), dst.as_str(), *proto, action.as_str()),
            (addr_b.as_str(), addr_a.as_str(), 6, "REJECT"),
            "{stdout}"
        );
        assert!((1..=4).contains(packets) && *bytes >= 40 * packets && *bytes <= 80 * packets);
    }
    // The ping, both ways: 84-byte IP packets.
    assert_eq!(
        get(&addr_b, &addr_a, 0, 0, 1, "ACCEPT"),
        Some((3, 252)),
        "{stdout}"
    );
    assert_eq!(
        get(&addr_a, &addr_b, 0, 0, 1, "ACCEPT"),
        Some((3, 252)),
        "{stdout}"
    );
    assert!(stderr.contains("NFLOG: "), "{stderr}");
}

/// (srcaddr, dstaddr, srcport, dstport, protocol, action) of a record.
type FlowKey = (String, String, u16, u16, u8, String);

/// Waits for `child` to exit; false if it had not within `limit`.
fn wait_for(child: &mut Child, limit: Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
