//! The integration tests of flowwatch-flowlog: the documented example records of
//! `spec/flowlogs.md` §3, format validation and decode errors here; the Arrow columns of §2/§7
//! in `support/arrow_columns.rs`; property tests in `support/properties.rs`.

#[path = "support/arrow_columns.rs"]
mod arrow_columns;
#[path = "support/properties.rs"]
mod properties;

use std::net::IpAddr;

use flowwatch_flowlog::{
    Action, AwsService, Field, FlowDirection, FlowLogError, FlowRecord, FlowType, KnownAwsService,
    LogFormat, LogStatus, TcpFlags, Token, TrafficPath,
};

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn tok(s: &str) -> Option<Token> {
    Some(Token::new(s).unwrap())
}

/// Decodes `line` in `format`, checks it re-encodes identically and returns the record.
fn round_trip(format: &LogFormat, line: &str) -> FlowRecord {
    let record = format
        .decode(line)
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    assert_eq!(format.encode(&record), line);
    record
}

fn default_record(
    eni: &str,
    (src, dst): (&str, &str),
    (sport, dport, proto): (u16, u16, u8),
    (packets, bytes): (u64, u64),
    (start, end): (u64, u64),
    action: Action,
) -> FlowRecord {
    FlowRecord {
        version: Some(2),
        account_id: tok("123456789010"),
        interface_id: tok(eni),
        srcaddr: ip(src),
        dstaddr: ip(dst),
        srcport: Some(sport),
        dstport: Some(dport),
        protocol: Some(proto),
        packets: Some(packets),
        bytes: Some(bytes),
        start: Some(start),
        end: Some(end),
        action: Some(action),
        log_status: Some(LogStatus::Ok),
        ..FlowRecord::default()
    }
}

const ENI: &str = "eni-1235b8ca123456789";

#[test]
fn default_format_accepted_and_rejected_examples() {
    let d = LogFormat::default_vpc();
    let cases = [
        (
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
            default_record(
                ENI,
                ("172.31.16.139", "172.31.16.21"),
                (20641, 22, 6),
                (20, 4249),
                (1418530010, 1418530070),
                Action::Accept,
            ),
        ),
        (
            "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
            default_record(
                ENI,
                ("172.31.9.69", "172.31.9.12"),
                (49761, 3389, 6),
                (20, 4249),
                (1418530010, 1418530070),
                Action::Reject,
            ),
        ),
        (
            "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
            default_record(
                ENI,
                (
                    "2001:db8:1234:a100:8d6e:3477:df66:f105",
                    "2001:db8:1234:a102:3304:8879:34cf:4071",
                ),
                (34892, 22, 6),
                (54, 8855),
                (1477913708, 1477913820),
                Action::Accept,
            ),
        ),
        (
            "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK",
            default_record(
                ENI,
                ("203.0.113.12", "172.31.16.139"),
                (0, 0, 1),
                (4, 336),
                (1432917027, 1432917142),
                Action::Accept,
            ),
        ),
        (
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK",
            default_record(
                ENI,
                ("172.31.16.139", "203.0.113.12"),
                (0, 0, 1),
                (4, 336),
                (1432917094, 1432917142),
                Action::Reject,
            ),
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(round_trip(&d, line), expected, "{line}");
    }
}

#[test]
fn default_format_nodata_and_skipdata_examples() {
    let d = LogFormat::default_vpc();
    for (line, eni, status) in [
        (
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
            ENI,
            LogStatus::NoData,
        ),
        (
            "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
            "eni-11111111aaaaaaaaa",
            LogStatus::SkipData,
        ),
    ] {
        let expected = FlowRecord {
            version: Some(2),
            account_id: tok("123456789010"),
            interface_id: tok(eni),
            start: Some(1431280876),
            end: Some(1431280934),
            log_status: Some(status),
            ..FlowRecord::default()
        };
        assert_eq!(round_trip(&d, line), expected);
    }
}

const V5_FORMAT: &str = "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${type} ${packets} ${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${action} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction} ${log-status}";

#[test]
fn version_5_examples() {
    let f = LogFormat::parse(V5_FORMAT).unwrap();
    assert_eq!(f.version(), 5);
    assert_eq!(f.to_string(), V5_FORMAT);
    let common = FlowRecord {
        version: Some(5),
        protocol: Some(6),
        start: Some(1616729292),
        end: Some(1616729349),
        flow_type: Some(FlowType::Ipv4),
        account_id: tok("123456789012"),
        vpc_id: tok("vpc-abcdefab012345678"),
        subnet_id: tok("subnet-aaaaaaaa012345678"),
        instance_id: tok("i-0c50d5961bcb2d47b"),
        interface_id: tok(ENI),
        region: tok("ap-southeast-2"),
        az_id: tok("apse2-az3"),
        action: Some(Action::Accept),
        log_status: Some(LogStatus::Ok),
        ..FlowRecord::default()
    };
    let ingress = round_trip(
        &f,
        "5 52.95.128.179 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 19 52.95.128.179 10.0.0.71 S3 - - ingress OK",
    );
    assert_eq!(
        ingress,
        FlowRecord {
            srcaddr: ip("52.95.128.179"),
            dstaddr: ip("10.0.0.71"),
            srcport: Some(80),
            dstport: Some(34210),
            packets: Some(14),
            bytes: Some(15044),
            tcp_flags: Some(TcpFlags::SYN_ACK | TcpFlags::FIN),
            pkt_srcaddr: ip("52.95.128.179"),
            pkt_dstaddr: ip("10.0.0.71"),
            pkt_src_aws_service: Some(AwsService::Known(KnownAwsService::S3)),
            flow_direction: Some(FlowDirection::Ingress),
            ..common.clone()
        }
    );
    let egress = round_trip(
        &f,
        "5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK",
    );
    assert_eq!(
        egress,
        FlowRecord {
            srcaddr: ip("10.0.0.71"),
            dstaddr: ip("52.95.128.179"),
            srcport: Some(34210),
            dstport: Some(80),
            packets: Some(7),
            bytes: Some(471),
            tcp_flags: Some(TcpFlags::SYN | TcpFlags::FIN),
            pkt_srcaddr: ip("10.0.0.71"),
            pkt_dstaddr: ip("52.95.128.179"),
            pkt_dst_aws_service: Some(AwsService::Known(KnownAwsService::S3)),
            traffic_path: Some(TrafficPath::NitroInternetGateway),
            flow_direction: Some(FlowDirection::Egress),
            ..common
        }
    );
}

#[test]
fn nat_gateway_example() {
    let f = LogFormat::parse(
        "${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}",
    )
    .unwrap();
    assert_eq!(f.version(), 3);
    let r = round_trip(
        &f,
        "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5",
    );
    assert_eq!(
        r,
        FlowRecord {
            interface_id: tok(ENI),
            srcaddr: ip("10.0.1.5"),
            dstaddr: ip("10.0.0.220"),
            pkt_srcaddr: ip("10.0.1.5"),
            pkt_dstaddr: ip("203.0.113.5"),
            ..FlowRecord::default()
        }
    );
}

#[test]
fn tcp_flag_sequence_format() {
    let f = LogFormat::parse("${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}").unwrap();
    assert_eq!(f.version(), 3);
    let pos = f.position(Field::TcpFlags).unwrap();
    for (flags, text) in [
        (TcpFlags::SYN, "2"),
        (TcpFlags::SYN_ACK, "18"),
        (TcpFlags::FIN, "1"),
        (TcpFlags::SYN | TcpFlags::FIN, "3"),
        (TcpFlags::SYN_ACK | TcpFlags::FIN, "19"),
    ] {
        let r = FlowRecord {
            version: Some(3),
            tcp_flags: Some(flags),
            ..FlowRecord::default()
        };
        let line = f.encode(&r);
        assert_eq!(line.split(' ').nth(pos), Some(text));
        assert_eq!(f.decode(&line).unwrap(), r);
    }
}

#[test]
fn format_validation_errors() {
    use FlowLogError as E;
    assert_eq!(LogFormat::parse(""), Err(E::EmptyFormat));
    assert_eq!(LogFormat::new(vec![]), Err(E::EmptyFormat));
    assert_eq!(
        LogFormat::parse("${version} ${foo}"),
        Err(E::UnknownField { name: "foo".into() })
    );
    assert_eq!(
        LogFormat::parse("${VERSION}"),
        Err(E::UnknownField {
            name: "VERSION".into()
        })
    );
    for bad in [
        "${version}  ${srcaddr}",
        " ${version}",
        "${version} ",
        "${version}\t${srcaddr}",
        "version",
        "${version",
        "{version}",
        "$ {version}",
        "${version}${srcaddr}",
        "${version},${srcaddr}",
        "${}x",
    ] {
        assert!(
            matches!(LogFormat::parse(bad), Err(E::FormatSyntax { .. })),
            "{bad:?}: {:?}",
            LogFormat::parse(bad)
        );
    }
    assert_eq!(
        LogFormat::parse("${srcaddr} ${version} ${srcaddr}"),
        Err(E::DuplicateField {
            field: Field::SrcAddr
        })
    );
    assert_eq!(
        LogFormat::parse("${srcaddr} ${tgw-id} ${vpc-id}"),
        Err(E::MixedScopes {
            vpc: Field::VpcId,
            transit_gateway: Field::TgwId
        })
    );
    let err = LogFormat::parse("${version} ${nope}")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "unknown flow-log field ${nope}");
}

#[test]
fn decode_errors_name_the_field_and_the_value() {
    let d = LogFormat::default_vpc();
    let ok = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK";
    assert!(d.decode(ok).is_ok());
    let with = |i: usize, v: &str| {
        let mut parts: Vec<&str> = ok.split(' ').collect();
        parts[i] = v;
        d.decode(&parts.join(" "))
    };
    let invalid = |field: Field, value: &str| FlowLogError::InvalidValue {
        field,
        value: value.into(),
        expected: field.kind().expected(),
    };
    assert_eq!(with(5, "65536"), Err(invalid(Field::SrcPort, "65536")));
    assert_eq!(with(6, "022"), Err(invalid(Field::DstPort, "022")));
    assert_eq!(with(7, "256"), Err(invalid(Field::Protocol, "256")));
    assert_eq!(with(8, "-1"), Err(invalid(Field::Packets, "-1")));
    assert_eq!(
        with(3, "10.0.0.256"),
        Err(invalid(Field::SrcAddr, "10.0.0.256"))
    );
    assert_eq!(with(12, "accept"), Err(invalid(Field::Action, "accept")));
    assert_eq!(with(13, "FINE"), Err(invalid(Field::LogStatus, "FINE")));
    assert_eq!(
        with(12, "accept").unwrap_err().to_string(),
        r#"invalid value "accept" for field action: expected ACCEPT or REJECT"#
    );
    assert_eq!(
        d.decode("2 123456789010"),
        Err(FlowLogError::FieldCount {
            expected: 14,
            found: 2
        })
    );
    assert!(matches!(
        d.decode(&ok.replace(" 6 ACCEPT", "  6 ACCEPT")),
        Err(FlowLogError::FieldCount { found: 15, .. })
    ));
    assert!(matches!(
        d.decode(""),
        Err(FlowLogError::FieldCount { found: 1, .. })
    ));
    // Quoted values are bounded.
    let long = "x".repeat(10_000);
    let msg = with(12, &long).unwrap_err().to_string();
    assert!(msg.len() < 200, "{msg}");

    let v5 = LogFormat::parse("${traffic-path} ${encryption-status} ${reject-reason}").unwrap();
    assert_eq!(v5.version(), 10);
    assert!(v5.decode("8 3 EC").is_ok());
    assert_eq!(v5.decode("0 - -"), Err(invalid(Field::TrafficPath, "0")));
    assert_eq!(v5.decode("9 - -"), Err(invalid(Field::TrafficPath, "9")));
    assert_eq!(
        v5.decode("- 4 -"),
        Err(invalid(Field::EncryptionStatus, "4"))
    );
    assert_eq!(v5.decode("- - XX"), Err(invalid(Field::RejectReason, "XX")));
}
