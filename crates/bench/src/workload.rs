//! The flow-log workload the metric-filter benchmarks share: VPC Flow Logs lines and two sets
//! of 100 metric filters a VPC flow-log group might carry. Used by the criterion benchmark
//! `crates/monitor/benches/metric_filters.rs` (storage level) and by `ingest-bench --events
//! flow-logs --metric-filters dashboard|alerting` (over HTTP). See `docs/benchmarks.md`.

use std::collections::BTreeMap;

use flowwatch_model::logs::{MetricFilter, MetricTransformation};

/// The log group the filters name (callers may rename it).
pub const GROUP: &str = "vpc-flow-logs";

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The ports the filters watch.
pub const PORTS: [u16; 15] = [
    22, 23, 25, 53, 80, 443, 445, 1433, 3306, 3389, 5432, 6379, 8080, 9200, 27017,
];

/// The longest line [`flow_lines`] makes, in bytes (for sizing batches).
pub const FLOW_LINE_MAX_BYTES: usize = 160;

/// VPC Flow Logs v2 lines (default format): 256 sources (a quarter internal `10.0.x.y`), 64
/// destinations, 8 ENIs; destination ports mostly 443/80, then the watched ports and ephemeral
/// ones; about 20 % `REJECT`, 2 % `NODATA`, 1 % `SKIPDATA`.
pub fn flow_lines(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let start = 1_763_900_000 + (i as u64 / 64) * 60;
            let eni = format!("eni-0{:016x}", 0x0a1b_2c3d_0000 + rng.below(8));
            let dice = rng.below(100);
            if dice < 3 {
                let status = if dice < 2 { "NODATA" } else { "SKIPDATA" };
                return format!(
                    "2 123456789012 {eni} - - - - - - - {start} {} - {status}",
                    start + 60
                );
            }
            let src = rng.below(256);
            let source = if src < 64 {
                format!("10.0.{}.{}", src / 8, src % 8 + 10)
            } else {
                format!("{}.{}.113.{}", [198, 203, 192][src as usize % 3], 51 + src % 7, src)
            };
            let (dport, proto) = match rng.below(100) {
                0..40 => (443, 6),
                40..55 => (80, 6),
                55..80 => (PORTS[rng.below(PORTS.len() as u64) as usize], 6),
                80..88 => (53, 17),
                88..90 => (0, 1),
                _ => (1024 + rng.below(64_000) as u16, 6),
            };
            let action = if rng.below(100) < 20 { "REJECT" } else { "ACCEPT" };
            let spread = rng.below(2000) + 1;
            let packets = 1 + rng.below(spread);
            format!(
                "2 123456789012 {eni} {source} 10.0.{}.{} {} {dport} {proto} {packets} {} {start} {} {action} OK",
                rng.below(4),
                rng.below(16) + 4,
                1024 + rng.below(64_000),
                packets * (40 + rng.below(1400)),
                start + 60,
            )
        })
        .collect()
}

/// The fields of the default flow-log format, for space-delimited patterns.
pub const FIELDS: [&str; 14] = [
    "version",
    "account",
    "eni",
    "source",
    "destination",
    "srcport",
    "destport",
    "protocol",
    "packets",
    "bytes",
    "windowstart",
    "windowend",
    "action",
    "flowlogstatus",
];

/// A space-delimited pattern over the 14 fields with conditions on some of them.
pub fn flow_pattern(conditions: &[(&str, &str)]) -> String {
    let specs: Vec<String> = FIELDS
        .iter()
        .map(|f| match conditions.iter().find(|(name, _)| name == f) {
            Some((_, cond)) => format!("{f}{cond}"),
            None => (*f).to_owned(),
        })
        .collect();
    format!("[{}]", specs.join(", "))
}

pub fn filter(
    name: &str,
    pattern: String,
    value: &str,
    default: Option<f64>,
    dims: &[(&str, &str)],
) -> MetricFilter {
    MetricFilter {
        filter_name: name.to_owned(),
        filter_pattern: pattern,
        metric_transformations: vec![MetricTransformation {
            metric_name: Some(name.to_owned()),
            metric_namespace: Some("VPC".into()),
            metric_value: Some(value.to_owned()),
            default_value: default,
            dimensions: (!dims.is_empty()).then(|| {
                dims.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<BTreeMap<_, _>>()
            }),
            unit: None,
        }],
        creation_time: 0,
        log_group_name: GROUP.into(),
        ..Default::default()
    }
}

/// 100 metric filters one might put on a VPC flow-log group (AWS's maximum per group): per
/// watched port (15), rejected connections (the user guide's SSH pattern, 5 with
/// `defaultValue` 0), accepted bytes (`$bytes`), privileged source ports (`...` and a numeric
/// comparison) and short flows (`packets < 3`); for 10 of the ports, rejected packets by
/// source (a dimension), accepted connections by destination (a dimension) and internal
/// sources (a `10.0.*` wildcard); then protocol, action, size, term, regex and ENI filters.
pub fn vpc_filters() -> Vec<MetricFilter> {
    let mut out = Vec::new();
    for (i, port) in PORTS.iter().enumerate() {
        let quoted = format!("=\"{port}\"");
        let bare = format!(" = {port}");
        let default = (i < 5).then_some(0.0);
        out.push(filter(
            &format!("Rejected{port}"),
            flow_pattern(&[
                ("destport", &quoted),
                ("protocol", "=\"6\""),
                ("action", "=\"REJECT\""),
            ]),
            "1",
            default,
            &[],
        ));
        out.push(filter(
            &format!("AcceptedBytes{port}"),
            flow_pattern(&[("destport", &bare), ("action", " = ACCEPT")]),
            "$bytes",
            None,
            &[],
        ));
        out.push(filter(
            &format!("PrivilegedSource{port}"),
            format!(
                "[version, account, eni, source, destination, srcport < 1024, destport = {port}, ..., action, status]"
            ),
            "1",
            None,
            &[],
        ));
        out.push(filter(
            &format!("ShortFlows{port}"),
            flow_pattern(&[("destport", &bare), ("packets", " < 3")]),
            "1",
            None,
            &[],
        ));
    }
    for port in &PORTS[..10] {
        let bare = format!(" = {port}");
        out.push(filter(
            &format!("RejectedPackets{port}BySource"),
            flow_pattern(&[("destport", &bare), ("action", " = REJECT")]),
            "$packets",
            None,
            &[("Source", "$source")],
        ));
        out.push(filter(
            &format!("Accepted{port}ByDestination"),
            flow_pattern(&[("destport", &bare), ("action", " = ACCEPT")]),
            "1",
            None,
            &[("Destination", "$destination")],
        ));
        out.push(filter(
            &format!("Internal{port}"),
            flow_pattern(&[("source", " = 10.0.*"), ("destport", &bare)]),
            "1",
            None,
            &[],
        ));
    }
    let reject = flow_pattern(&[("action", " = REJECT")]);
    out.extend([
        filter(
            "UdpFlows",
            flow_pattern(&[("protocol", " = 17")]),
            "1",
            None,
            &[],
        ),
        filter(
            "IcmpFlows",
            flow_pattern(&[("protocol", " = 1")]),
            "1",
            Some(0.0),
            &[],
        ),
        filter("Rejects", reject.clone(), "1", Some(0.0), &[]),
        filter("RejectsByEni", reject, "1", None, &[("Eni", "$eni")]),
        filter(
            "AcceptedBytes",
            flow_pattern(&[("action", " = ACCEPT")]),
            "$bytes",
            None,
            &[],
        ),
        filter(
            "LargeFlows",
            flow_pattern(&[("bytes", " > 1000000")]),
            "$bytes",
            None,
            &[],
        ),
        filter("NoData", "NODATA".into(), "1", None, &[]),
        filter("SkipData", "SKIPDATA".into(), "1", None, &[]),
        filter(
            "TestNetSources",
            flow_pattern(&[("source", " = %^203\\.5[1-7]\\.%")]),
            "1",
            None,
            &[],
        ),
        filter(
            "EniRejects",
            format!("REJECT eni-0{:016x}", 0x0a1b_2c3d_0003_u64),
            "1",
            None,
            &[],
        ),
    ]);
    out
}

/// 100 alerting-style filters: each matches few events (rejected connections to one watched
/// port, counted, summed, by source, short, from internal sources; privileged source ports;
/// no-data records, ICMP and UDP rejects, very large flows, a regex and a term), so that
/// together they publish about one sample per 3 events.
pub fn alert_filters() -> Vec<MetricFilter> {
    let mut out = Vec::new();
    for port in PORTS {
        let dp = format!(" = {port}");
        let reject = flow_pattern(&[("destport", &dp), ("action", " = REJECT")]);
        out.extend([
            filter(
                &format!("Rejected{port}"),
                flow_pattern(&[
                    ("destport", &format!("=\"{port}\"")),
                    ("protocol", "=\"6\""),
                    ("action", "=\"REJECT\""),
                ]),
                "1",
                Some(0.0),
                &[],
            ),
            filter(
                &format!("RejectedPackets{port}"),
                reject.clone(),
                "$packets",
                None,
                &[],
            ),
            filter(
                &format!("Rejected{port}BySource"),
                reject,
                "1",
                None,
                &[("Source", "$source")],
            ),
            filter(
                &format!("ShortRejected{port}"),
                flow_pattern(&[
                    ("destport", &dp),
                    ("packets", " < 3"),
                    ("action", " = REJECT"),
                ]),
                "1",
                None,
                &[],
            ),
            filter(
                &format!("InternalRejected{port}"),
                flow_pattern(&[
                    ("source", " = 10.0.*"),
                    ("destport", &dp),
                    ("action", " = REJECT"),
                ]),
                "1",
                None,
                &[],
            ),
            filter(
                &format!("PrivilegedSource{port}"),
                format!(
                    "[version, account, eni, source, destination, srcport < 1024, destport = {port}, ..., action, status]"
                ),
                "1",
                None,
                &[],
            ),
        ]);
    }
    out.extend([
        filter("NoData", "NODATA".into(), "1", None, &[]),
        filter("SkipData", "SKIPDATA".into(), "1", None, &[]),
        filter(
            "IcmpRejects",
            flow_pattern(&[("protocol", " = 1"), ("action", " = REJECT")]),
            "1",
            None,
            &[],
        ),
        filter(
            "UdpRejects",
            flow_pattern(&[("protocol", " = 17"), ("action", " = REJECT")]),
            "1",
            Some(0.0),
            &[],
        ),
        filter(
            "HugeFlows",
            flow_pattern(&[("bytes", " > 2500000")]),
            "$bytes",
            None,
            &[],
        ),
        filter(
            "TestNetRejects",
            flow_pattern(&[("source", " = %^203\\.5[1-7]\\.%"), ("action", " = REJECT")]),
            "1",
            None,
            &[],
        ),
        filter(
            "EniRejects",
            format!("REJECT eni-0{:016x}", 0x0a1b_2c3d_0003_u64),
            "1",
            None,
            &[],
        ),
        filter(
            "Rejects",
            flow_pattern(&[("action", " = REJECT")]),
            "1",
            Some(0.0),
            &[],
        ),
        filter(
            "RejectsByEni",
            flow_pattern(&[("action", " = REJECT"), ("protocol", " = 6")]),
            "1",
            None,
            &[("Eni", "$eni")],
        ),
        filter(
            "SshAccepted",
            flow_pattern(&[("destport", " = 22"), ("action", " = ACCEPT")]),
            "1",
            None,
            &[],
        ),
    ]);
    out
}
