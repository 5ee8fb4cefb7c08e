//! A security group's rules deciding ACCEPT or REJECT for sources that carry no verdict (pcap
//! files, NetFlow). **This is an evaluation of the rules, not an observed verdict**: the
//! records say what the rules would have done to the traffic, as AWS would with these rules.
//!
//! Semantics, as AWS security groups:
//! - rules only allow; traffic no rule allows is rejected;
//! - inbound rules match the protocol, the destination port (a range) and the source CIDR;
//!   outbound rules the protocol, destination port and destination CIDR;
//! - **stateful**: once a connection is allowed in one direction, its return traffic is allowed
//!   whatever the rules (connections are tracked per 5-tuple, idle timeouts TCP 5 days, UDP
//!   180 s, others 60 s, at most [`MAX_TRACKED`] at once);
//! - a file without an `outbound` list allows all outbound traffic, like a new security group;
//! - direction comes from the interface's own addresses: traffic to one of them is inbound,
//!   from one of them outbound; traffic neither to nor from them is not filtered.
//!
//! The file (TOML):
//!
//! ```toml
//! [[inbound]]
//! protocol = "tcp"          # tcp, udp, icmp, icmpv6, all (or -1), or a protocol number
//! ports = "443"             # "443", "1024-65535"; omitted: all ports
//! source = "0.0.0.0/0"      # omitted: every IPv4 and IPv6 address
//!
//! [[inbound]]
//! protocol = "tcp"
//! ports = "22"
//! source = "10.0.0.0/16"
//!
//! # [[outbound]] ...        # omitted: all outbound traffic allowed
//! ```

use std::collections::HashMap;
use std::net::IpAddr;

use flowwatch_flowlog::Action;
use ipnet::IpNet;
use serde::Deserialize;

use crate::packet::PacketInfo;

/// Connections tracked at once; beyond that new connections are judged by the rules alone.
pub const MAX_TRACKED: usize = 200_000;

/// Why a rules file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid security-group rules: {0}")]
pub struct RulesError(pub String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    inbound: Vec<RuleText>,
    outbound: Option<Vec<RuleText>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleText {
    protocol: String,
    ports: Option<String>,
    source: Option<String>,
    destination: Option<String>,
}

/// One allow rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `None`: every protocol.
    pub protocol: Option<u8>,
    /// Inclusive port range (ignored for protocols without ports).
    pub ports: (u16, u16),
    /// `None`: every address.
    pub peer: Option<IpNet>,
}

impl Rule {
    fn matches(&self, protocol: u8, port: u16, peer: IpAddr) -> bool {
        self.protocol.is_none_or(|p| p == protocol)
            && (!matches!(protocol, 6 | 17 | 132) || (self.ports.0..=self.ports.1).contains(&port))
            && self.peer.is_none_or(|net| net.contains(&peer))
    }
}

/// A security group: inbound and outbound allow rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub inbound: Vec<Rule>,
    pub outbound: Vec<Rule>,
}

fn protocol(text: &str) -> Result<Option<u8>, RulesError> {
    Ok(match text.to_ascii_lowercase().as_str() {
        "all" | "-1" => None,
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "icmpv6" => Some(58),
        other => Some(other.parse().map_err(|_| {
            RulesError(format!(
                "protocol {text:?}: expected tcp, udp, icmp, icmpv6, all or a number 0-255"
            ))
        })?),
    })
}

fn ports(text: Option<&str>) -> Result<(u16, u16), RulesError> {
    let Some(text) = text else {
        return Ok((0, u16::MAX));
    };
    let bad = || {
        RulesError(format!(
            "ports {text:?}: expected \"443\" or \"1024-65535\""
        ))
    };
    let (from, to) = text.split_once('-').unwrap_or((text, text));
    let from: u16 = from.trim().parse().map_err(|_| bad())?;
    let to: u16 = to.trim().parse().map_err(|_| bad())?;
    if from > to {
        return Err(bad());
    }
    Ok((from, to))
}

fn peer(text: Option<&str>) -> Result<Option<IpNet>, RulesError> {
    text.map(|t| {
        t.parse::<IpNet>()
            .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| RulesError(format!("address {t:?}: expected a CIDR like 10.0.0.0/16")))
    })
    .transpose()
}

impl SecurityGroup {
    /// Parses the TOML rules file (see the module docs).
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let file: RulesFile = toml::from_str(text).map_err(|e| RulesError(e.to_string()))?;
        let convert = |rules: &[RuleText], inbound: bool| -> Result<Vec<Rule>, RulesError> {
            rules
                .iter()
                .map(|r| {
                    let (wrong, right) = if inbound {
                        (&r.destination, &r.source)
                    } else {
                        (&r.source, &r.destination)
                    };
                    if wrong.is_some() {
                        return Err(RulesError(format!(
                            "{} rules name a {}, not a {}",
                            if inbound { "inbound" } else { "outbound" },
                            if inbound { "source" } else { "destination" },
                            if inbound { "destination" } else { "source" },
                        )));
                    }
                    Ok(Rule {
                        protocol: protocol(&r.protocol)?,
                        ports: ports(r.ports.as_deref())?,
                        peer: peer(right.as_deref())?,
                    })
                })
                .collect()
        };
        let outbound = match &file.outbound {
            None => vec![Rule {
                protocol: None,
                ports: (0, u16::MAX),
                peer: None,
            }],
            Some(rules) => convert(rules, false)?,
        };
        Ok(Self {
            inbound: convert(&file.inbound, true)?,
            outbound,
        })
    }
}

/// A tracked connection: (local address, local port, remote address, remote port, protocol).
type Connection = (IpAddr, u16, IpAddr, u16, u8);

/// Verdicts for packets of one interface: the rules plus connection tracking.
#[derive(Debug, Clone)]
pub struct Verdicts {
    group: SecurityGroup,
    /// Connection → last packet (Unix seconds).
    tracked: HashMap<Connection, u64>,
}

fn idle_timeout(protocol: u8) -> u64 {
    match protocol {
        6 => 432_000,
        17 => 180,
        _ => 60,
    }
}

impl Verdicts {
    pub fn new(group: SecurityGroup) -> Self {
        Self {
            group,
            tracked: HashMap::new(),
        }
    }

    /// ACCEPT or REJECT for `pkt` on an interface whose addresses are `local`.
    pub fn verdict(&mut self, local: &[IpAddr], pkt: &PacketInfo) -> Action {
        let now = pkt.ts.secs;
        let (inbound, conn) = if local.contains(&pkt.dst) {
            (
                true,
                (pkt.dst, pkt.dst_port, pkt.src, pkt.src_port, pkt.protocol),
            )
        } else if local.contains(&pkt.src) {
            (
                false,
                (pkt.src, pkt.src_port, pkt.dst, pkt.dst_port, pkt.protocol),
            )
        } else {
            return Action::Accept;
        };
        if let Some(last) = self.tracked.get_mut(&conn)
            && now.saturating_sub(*last) <= idle_timeout(conn.4)
        {
            *last = (*last).max(now);
            return Action::Accept;
        }
        let (rules, port, peer) = if inbound {
            (&self.group.inbound, pkt.dst_port, pkt.src)
        } else {
            (&self.group.outbound, pkt.dst_port, pkt.dst)
        };
        if !rules.iter().any(|r| r.matches(pkt.protocol, port, peer)) {
            return Action::Reject;
        }
        if self.tracked.len() >= MAX_TRACKED {
            self.tracked
                .retain(|c, last| now.saturating_sub(*last) <= idle_timeout(c.4));
        }
        if self.tracked.len() < MAX_TRACKED {
            self.tracked.insert(conn, now);
        }
        Action::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Timestamp;
    use flowwatch_flowlog::{FlowType, TcpFlags};

    const WEB: &str = "10.0.1.5";

    fn pkt(src: &str, sport: u16, dst: &str, dport: u16, protocol: u8, secs: u64) -> PacketInfo {
        PacketInfo {
            ts: Timestamp::from_secs(secs),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            src_port: sport,
            dst_port: dport,
            protocol,
            bytes: 60,
            tcp_flags: Some(TcpFlags(2)),
            flow_type: FlowType::Ipv4,
        }
    }

    fn web_group() -> Verdicts {
        Verdicts::new(
            SecurityGroup::parse(
                r#"
                [[inbound]]
                protocol = "tcp"
                ports = "443"

                [[inbound]]
                protocol = "tcp"
                ports = "22"
                source = "10.0.0.0/16"
                "#,
            )
            .unwrap(),
        )
    }

    #[test]
    fn inbound_rules_and_return_traffic() {
        let local: Vec<IpAddr> = vec![WEB.parse().unwrap()];
        let mut v = web_group();
        // HTTPS from anywhere, and its answer.
        assert_eq!(
            v.verdict(&local, &pkt("198.51.100.7", 40000, WEB, 443, 6, 0)),
            Action::Accept
        );
        assert_eq!(
            v.verdict(&local, &pkt(WEB, 443, "198.51.100.7", 40000, 6, 1)),
            Action::Accept
        );
        // SSH only from the VPC.
        assert_eq!(
            v.verdict(&local, &pkt("198.51.100.7", 40001, WEB, 22, 6, 2)),
            Action::Reject
        );
        assert_eq!(
            v.verdict(&local, &pkt("10.0.2.9", 40001, WEB, 22, 6, 2)),
            Action::Accept
        );
        // Outbound is open by default, and its answers come back in.
        assert_eq!(
            v.verdict(&local, &pkt(WEB, 50000, "93.184.216.34", 80, 6, 3)),
            Action::Accept
        );
        assert_eq!(
            v.verdict(&local, &pkt("93.184.216.34", 80, WEB, 50000, 6, 4)),
            Action::Accept
        );
        // An unsolicited inbound packet to that port is not an answer.
        assert_eq!(
            v.verdict(&local, &pkt("93.184.216.35", 80, WEB, 50000, 6, 4)),
            Action::Reject
        );
        // UDP answers expire after 180 s idle.
        assert_eq!(
            v.verdict(&local, &pkt(WEB, 5353, "10.0.0.2", 53, 17, 10)),
            Action::Accept
        );
        assert_eq!(
            v.verdict(&local, &pkt("10.0.0.2", 53, WEB, 5353, 17, 100)),
            Action::Accept
        );
        assert_eq!(
            v.verdict(&local, &pkt("10.0.0.2", 53, WEB, 5353, 17, 400)),
            Action::Reject
        );
        // Traffic of other hosts is not filtered.
        assert_eq!(
            v.verdict(&local, &pkt("1.2.3.4", 1, "5.6.7.8", 22, 6, 5)),
            Action::Accept
        );
    }

    #[test]
    fn explicit_outbound_rules_and_errors() {
        let group = SecurityGroup::parse(
            r#"
            outbound = [{ protocol = "udp", ports = "53", destination = "10.0.0.2/32" }]
            "#,
        )
        .unwrap();
        let local: Vec<IpAddr> = vec![WEB.parse().unwrap()];
        let mut v = Verdicts::new(group);
        assert_eq!(
            v.verdict(&local, &pkt(WEB, 5353, "10.0.0.2", 53, 17, 0)),
            Action::Accept
        );
        assert_eq!(
            v.verdict(&local, &pkt(WEB, 5353, "8.8.8.8", 53, 17, 0)),
            Action::Reject
        );
        assert_eq!(
            v.verdict(&local, &pkt(WEB, 50000, "10.0.0.2", 443, 6, 0)),
            Action::Reject
        );
        // Nothing inbound is allowed.
        assert_eq!(
            v.verdict(&local, &pkt("10.0.0.3", 1, WEB, 443, 6, 0)),
            Action::Reject
        );

        for bad in [
            r#"inbound = [{ protocol = "tcpp" }]"#,
            r#"inbound = [{ protocol = "tcp", ports = "90-80" }]"#,
            r#"inbound = [{ protocol = "tcp", source = "10.0.0.0/33" }]"#,
            r#"inbound = [{ protocol = "tcp", destination = "10.0.0.0/8" }]"#,
            r#"sideways = []"#,
        ] {
            assert!(SecurityGroup::parse(bad).is_err(), "{bad}");
        }
    }
}
