//! The one table of flow-log fields (`spec/flowlogs.md` §2): every `${field}` of VPC flow logs
//! versions 2 to 10 and of Transit Gateway flow logs (version 6), with the version that
//! introduced it, its value kind, its Logs Insights name, its Parquet column and its `-` rule.
//! Nothing else in flowwatch lists field names: look them up here.

use arrow_schema::DataType;

/// A flow-log field. The discriminant indexes [`Field::all`] and the table behind
/// [`Field::info`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Field {
    // version 2
    Version,
    AccountId,
    InterfaceId,
    SrcAddr,
    DstAddr,
    SrcPort,
    DstPort,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    // version 3
    VpcId,
    SubnetId,
    InstanceId,
    TcpFlags,
    Type,
    PktSrcAddr,
    PktDstAddr,
    // version 4
    Region,
    AzId,
    SublocationType,
    SublocationId,
    // version 5
    PktSrcAwsService,
    PktDstAwsService,
    FlowDirection,
    TrafficPath,
    // version 7
    EcsClusterArn,
    EcsClusterName,
    EcsContainerInstanceArn,
    EcsContainerInstanceId,
    EcsContainerId,
    EcsSecondContainerId,
    EcsServiceName,
    EcsTaskDefinitionArn,
    EcsTaskArn,
    EcsTaskId,
    // versions 8 to 10
    RejectReason,
    ResourceId,
    EncryptionStatus,
    // version 6, Transit Gateway flow logs only
    ResourceType,
    TgwId,
    TgwAttachmentId,
    TgwSrcVpcAccountId,
    TgwDstVpcAccountId,
    TgwSrcVpcId,
    TgwDstVpcId,
    TgwSrcSubnetId,
    TgwDstSubnetId,
    TgwSrcEni,
    TgwDstEni,
    TgwSrcAzId,
    TgwDstAzId,
    TgwPairAttachmentId,
    PacketsLostNoRoute,
    PacketsLostBlackhole,
    PacketsLostMtuExceeded,
    PacketsLostTtlExpired,
}

/// Which kind of flow log a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// VPC, subnet and network-interface flow logs only.
    Vpc,
    /// Transit Gateway flow logs only.
    TransitGateway,
    /// Both kinds.
    Both,
}

/// The typed value a field holds (see [`crate::FlowRecord`] for the Rust types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Format version (`u8`).
    Version,
    /// An identifier or name without spaces ([`crate::Token`]).
    Text,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A TCP/UDP port (`u16`).
    Port,
    /// An IANA protocol number (`u8`).
    Protocol,
    /// A packet or byte count (`u64`).
    Count,
    /// Unix seconds (`u64`).
    Time,
    /// `ACCEPT` or `REJECT`.
    Action,
    /// `OK`, `NODATA` or `SKIPDATA`.
    LogStatus,
    /// The reported TCP flags bitmask.
    TcpFlags,
    /// `IPv4`, `IPv6` or `EFA`.
    FlowType,
    /// `wavelength`, `outpost` or `localzone`.
    SublocationType,
    /// An AWS IP-range service code such as `S3`.
    AwsService,
    /// `ingress` or `egress`.
    FlowDirection,
    /// Egress path code 1 to 8.
    TrafficPath,
    /// `BPA` or `EC`.
    RejectReason,
    /// Encryption status code 0 to 3.
    EncryptionStatus,
}

/// The physical column type AWS uses when it delivers flow logs as Parquet (§2, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParquetType {
    Int32,
    Int64,
    String,
}

impl ParquetType {
    /// The Arrow type of the column.
    pub fn arrow_type(self) -> DataType {
        match self {
            Self::Int32 => DataType::Int32,
            Self::Int64 => DataType::Int64,
            Self::String => DataType::Utf8,
        }
    }
}

impl Kind {
    /// The Parquet column type of fields of this kind, as the VPC field table gives it
    /// (`protocol` is INT_32 although Athena's DDL says bigint; the table wins).
    pub fn parquet_type(self) -> ParquetType {
        match self {
            Self::Version
            | Self::Port
            | Self::Protocol
            | Self::TcpFlags
            | Self::TrafficPath
            | Self::EncryptionStatus => ParquetType::Int32,
            Self::Count | Self::Time => ParquetType::Int64,
            Self::Text
            | Self::Ip
            | Self::Action
            | Self::LogStatus
            | Self::FlowType
            | Self::SublocationType
            | Self::AwsService
            | Self::FlowDirection
            | Self::RejectReason => ParquetType::String,
        }
    }

    /// Whether the text form is a decimal number.
    pub fn is_integer(self) -> bool {
        self.parquet_type() != ParquetType::String
    }

    /// What a valid value looks like, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Self::Version => "a version number (0-255)",
            Self::Text => "a value without spaces",
            Self::Ip => "an IPv4 or IPv6 address",
            Self::Port => "a port (0-65535)",
            Self::Protocol => "an IANA protocol number (0-255)",
            Self::Count => "an unsigned integer",
            Self::Time => "Unix seconds",
            Self::Action => "ACCEPT or REJECT",
            Self::LogStatus => "OK, NODATA or SKIPDATA",
            Self::TcpFlags => "a TCP flags bitmask (0-255)",
            Self::FlowType => "IPv4, IPv6 or EFA",
            Self::SublocationType => "wavelength, outpost or localzone",
            Self::AwsService => "an AWS service code such as S3",
            Self::FlowDirection => "ingress or egress",
            Self::TrafficPath => "a traffic path (1-8)",
            Self::RejectReason => "BPA or EC",
            Self::EncryptionStatus => "an encryption status (0-3)",
        }
    }
}

/// Everything flowwatch knows about one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    pub field: Field,
    /// The id used in `${...}` formats and in S3 text headers.
    pub name: &'static str,
    /// The flow-log version that introduced the field.
    pub version: u8,
    pub scope: Scope,
    pub kind: Kind,
    /// The Logs Insights discovered-field name. Documented for the 14 default-format fields
    /// (`spec/insights.md` §3); for the others it follows the same camelCase rule (inferred).
    pub insights: &'static str,
    /// The Parquet/Athena column name: `name` with `-` replaced by `_`.
    pub parquet: &'static str,
    /// When the value is `-` (absent), beyond "does not apply or could not be computed".
    pub absent: &'static str,
}

#[expect(
    clippy::too_many_arguments,
    reason = "one positional row per field keeps the table readable"
)]
const fn f(
    field: Field,
    name: &'static str,
    version: u8,
    scope: Scope,
    kind: Kind,
    insights: &'static str,
    parquet: &'static str,
    absent: &'static str,
) -> FieldInfo {
    FieldInfo {
        field,
        name,
        version,
        scope,
        kind,
        insights,
        parquet,
        absent,
    }
}

use Kind as K;
use Scope::{Both, TransitGateway as Tgw, Vpc};

const NODATA: &str = "NODATA and SKIPDATA records";
const NOT_ECS: &str = "traffic not from a running ECS task (awsvpc mode) of the flow-log owner";
const NOT_TGW: &str = "does not apply to the flow";

#[rustfmt::skip]
static FIELDS: [FieldInfo; Field::COUNT] = [
    f(Field::Version, "version", 2, Both, K::Version, "version", "version", "never"),
    f(Field::AccountId, "account-id", 2, Both, K::Text, "accountId", "account_id", "never (`unknown` for ENIs of AWS services)"),
    f(Field::InterfaceId, "interface-id", 2, Vpc, K::Text, "interfaceId", "interface_id", "flows of a regional NAT gateway"),
    f(Field::SrcAddr, "srcaddr", 2, Both, K::Ip, "srcAddr", "srcaddr", NODATA),
    f(Field::DstAddr, "dstaddr", 2, Both, K::Ip, "dstAddr", "dstaddr", NODATA),
    f(Field::SrcPort, "srcport", 2, Both, K::Port, "srcPort", "srcport", NODATA),
    f(Field::DstPort, "dstport", 2, Both, K::Port, "dstPort", "dstport", NODATA),
    f(Field::Protocol, "protocol", 2, Both, K::Protocol, "protocol", "protocol", NODATA),
    f(Field::Packets, "packets", 2, Both, K::Count, "packets", "packets", NODATA),
    f(Field::Bytes, "bytes", 2, Both, K::Count, "bytes", "bytes", "NODATA and SKIPDATA records; VPC Block Public Access flow logs"),
    f(Field::Start, "start", 2, Both, K::Time, "startTime", "start", "never"),
    f(Field::End, "end", 2, Both, K::Time, "endTime", "end", "never"),
    f(Field::Action, "action", 2, Vpc, K::Action, "action", "action", NODATA),
    f(Field::LogStatus, "log-status", 2, Both, K::LogStatus, "logStatus", "log_status", "never"),
    f(Field::VpcId, "vpc-id", 3, Vpc, K::Text, "vpcId", "vpc_id", NODATA),
    f(Field::SubnetId, "subnet-id", 3, Vpc, K::Text, "subnetId", "subnet_id", "flows of a regional NAT gateway"),
    f(Field::InstanceId, "instance-id", 3, Vpc, K::Text, "instanceId", "instance_id", "requester-managed ENIs (NAT gateway, transit gateway...) or instances you do not own"),
    f(Field::TcpFlags, "tcp-flags", 3, Both, K::TcpFlags, "tcpFlags", "tcp_flags", "an invalid flag combination; non-TCP flows"),
    f(Field::Type, "type", 3, Both, K::FlowType, "type", "type", NODATA),
    f(Field::PktSrcAddr, "pkt-srcaddr", 3, Vpc, K::Ip, "pktSrcAddr", "pkt_srcaddr", NODATA),
    f(Field::PktDstAddr, "pkt-dstaddr", 3, Vpc, K::Ip, "pktDstAddr", "pkt_dstaddr", NODATA),
    f(Field::Region, "region", 4, Both, K::Text, "region", "region", "never"),
    f(Field::AzId, "az-id", 4, Vpc, K::Text, "azId", "az_id", "traffic from a sublocation"),
    f(Field::SublocationType, "sublocation-type", 4, Vpc, K::SublocationType, "sublocationType", "sublocation_type", "traffic not from a sublocation"),
    f(Field::SublocationId, "sublocation-id", 4, Vpc, K::Text, "sublocationId", "sublocation_id", "traffic not from a sublocation"),
    f(Field::PktSrcAwsService, "pkt-src-aws-service", 5, Both, K::AwsService, "pktSrcAwsService", "pkt_src_aws_service", "pkt-srcaddr is not in an AWS service range"),
    f(Field::PktDstAwsService, "pkt-dst-aws-service", 5, Both, K::AwsService, "pktDstAwsService", "pkt_dst_aws_service", "pkt-dstaddr is not in an AWS service range"),
    f(Field::FlowDirection, "flow-direction", 5, Both, K::FlowDirection, "flowDirection", "flow_direction", NODATA),
    f(Field::TrafficPath, "traffic-path", 5, Vpc, K::TrafficPath, "trafficPath", "traffic_path", "ingress traffic, or no path applies"),
    f(Field::EcsClusterArn, "ecs-cluster-arn", 7, Vpc, K::Text, "ecsClusterArn", "ecs_cluster_arn", NOT_ECS),
    f(Field::EcsClusterName, "ecs-cluster-name", 7, Vpc, K::Text, "ecsClusterName", "ecs_cluster_name", NOT_ECS),
    f(Field::EcsContainerInstanceArn, "ecs-container-instance-arn", 7, Vpc, K::Text, "ecsContainerInstanceArn", "ecs_container_instance_arn", "Fargate tasks; traffic not from an ECS task"),
    f(Field::EcsContainerInstanceId, "ecs-container-instance-id", 7, Vpc, K::Text, "ecsContainerInstanceId", "ecs_container_instance_id", "Fargate tasks; traffic not from an ECS task"),
    f(Field::EcsContainerId, "ecs-container-id", 7, Vpc, K::Text, "ecsContainerId", "ecs_container_id", NOT_ECS),
    f(Field::EcsSecondContainerId, "ecs-second-container-id", 7, Vpc, K::Text, "ecsSecondContainerId", "ecs_second_container_id", "tasks with one container; traffic not from an ECS task"),
    f(Field::EcsServiceName, "ecs-service-name", 7, Vpc, K::Text, "ecsServiceName", "ecs_service_name", "tasks not started by a service; traffic not from an ECS task"),
    f(Field::EcsTaskDefinitionArn, "ecs-task-definition-arn", 7, Vpc, K::Text, "ecsTaskDefinitionArn", "ecs_task_definition_arn", NOT_ECS),
    f(Field::EcsTaskArn, "ecs-task-arn", 7, Vpc, K::Text, "ecsTaskArn", "ecs_task_arn", NOT_ECS),
    f(Field::EcsTaskId, "ecs-task-id", 7, Vpc, K::Text, "ecsTaskId", "ecs_task_id", NOT_ECS),
    f(Field::RejectReason, "reject-reason", 8, Vpc, K::RejectReason, "rejectReason", "reject_reason", "accepted flows and rejections for any reason other than BPA or EC"),
    f(Field::ResourceId, "resource-id", 9, Vpc, K::Text, "resourceId", "resource_id", "the ENI is not owned by a regional NAT gateway"),
    f(Field::EncryptionStatus, "encryption-status", 10, Vpc, K::EncryptionStatus, "encryptionStatus", "encryption_status", "VPC Encryption Controls not enabled, or status unknown"),
    f(Field::ResourceType, "resource-type", 6, Tgw, K::Text, "resourceType", "resource_type", "never"),
    f(Field::TgwId, "tgw-id", 6, Tgw, K::Text, "tgwId", "tgw_id", "never"),
    f(Field::TgwAttachmentId, "tgw-attachment-id", 6, Tgw, K::Text, "tgwAttachmentId", "tgw_attachment_id", NOT_TGW),
    f(Field::TgwSrcVpcAccountId, "tgw-src-vpc-account-id", 6, Tgw, K::Text, "tgwSrcVpcAccountId", "tgw_src_vpc_account_id", NOT_TGW),
    f(Field::TgwDstVpcAccountId, "tgw-dst-vpc-account-id", 6, Tgw, K::Text, "tgwDstVpcAccountId", "tgw_dst_vpc_account_id", NOT_TGW),
    f(Field::TgwSrcVpcId, "tgw-src-vpc-id", 6, Tgw, K::Text, "tgwSrcVpcId", "tgw_src_vpc_id", NOT_TGW),
    f(Field::TgwDstVpcId, "tgw-dst-vpc-id", 6, Tgw, K::Text, "tgwDstVpcId", "tgw_dst_vpc_id", NOT_TGW),
    f(Field::TgwSrcSubnetId, "tgw-src-subnet-id", 6, Tgw, K::Text, "tgwSrcSubnetId", "tgw_src_subnet_id", NOT_TGW),
    f(Field::TgwDstSubnetId, "tgw-dst-subnet-id", 6, Tgw, K::Text, "tgwDstSubnetId", "tgw_dst_subnet_id", NOT_TGW),
    f(Field::TgwSrcEni, "tgw-src-eni", 6, Tgw, K::Text, "tgwSrcEni", "tgw_src_eni", NOT_TGW),
    f(Field::TgwDstEni, "tgw-dst-eni", 6, Tgw, K::Text, "tgwDstEni", "tgw_dst_eni", NOT_TGW),
    f(Field::TgwSrcAzId, "tgw-src-az-id", 6, Tgw, K::Text, "tgwSrcAzId", "tgw_src_az_id", NOT_TGW),
    f(Field::TgwDstAzId, "tgw-dst-az-id", 6, Tgw, K::Text, "tgwDstAzId", "tgw_dst_az_id", NOT_TGW),
    f(Field::TgwPairAttachmentId, "tgw-pair-attachment-id", 6, Tgw, K::Text, "tgwPairAttachmentId", "tgw_pair_attachment_id", NOT_TGW),
    f(Field::PacketsLostNoRoute, "packets-lost-no-route", 6, Tgw, K::Count, "packetsLostNoRoute", "packets_lost_no_route", NODATA),
    f(Field::PacketsLostBlackhole, "packets-lost-blackhole", 6, Tgw, K::Count, "packetsLostBlackhole", "packets_lost_blackhole", NODATA),
    f(Field::PacketsLostMtuExceeded, "packets-lost-mtu-exceeded", 6, Tgw, K::Count, "packetsLostMtuExceeded", "packets_lost_mtu_exceeded", NODATA),
    f(Field::PacketsLostTtlExpired, "packets-lost-ttl-expired", 6, Tgw, K::Count, "packetsLostTtlExpired", "packets_lost_ttl_expired", NODATA),
];

impl Field {
    /// How many fields there are.
    pub const COUNT: usize = 60;

    /// Every field, in table order (VPC fields by version, then Transit Gateway fields).
    pub fn all() -> impl ExactSizeIterator<Item = Field> + Clone {
        FIELDS.iter().map(|i| i.field)
    }

    /// The table entry of this field.
    pub fn info(self) -> &'static FieldInfo {
        &FIELDS[self as usize]
    }

    /// The `${...}` id.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The version that introduced the field.
    pub fn version(self) -> u8 {
        self.info().version
    }

    pub fn kind(self) -> Kind {
        self.info().kind
    }

    pub fn scope(self) -> Scope {
        self.info().scope
    }

    /// The Logs Insights discovered-field name.
    pub fn insights_name(self) -> &'static str {
        self.info().insights
    }

    /// The Parquet column name.
    pub fn parquet_name(self) -> &'static str {
        self.info().parquet
    }

    /// The Arrow type of the Parquet column.
    pub fn arrow_type(self) -> DataType {
        self.info().kind.parquet_type().arrow_type()
    }

    /// The field with this `${...}` id.
    pub fn from_name(name: &str) -> Option<Field> {
        FIELDS.iter().find(|i| i.name == name).map(|i| i.field)
    }

    /// The field with this Logs Insights discovered-field name (case-sensitive).
    pub fn from_insights_name(name: &str) -> Option<Field> {
        FIELDS.iter().find(|i| i.insights == name).map(|i| i.field)
    }

    /// The field with this Parquet column name.
    pub fn from_parquet_name(name: &str) -> Option<Field> {
        FIELDS.iter().find(|i| i.parquet == name).map(|i| i.field)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_discriminant() {
        for (i, info) in FIELDS.iter().enumerate() {
            assert_eq!(info.field as usize, i, "{}", info.name);
        }
        assert_eq!(Field::all().len(), Field::COUNT);
    }

    #[test]
    fn names_are_unique_and_parquet_names_follow_the_rule() {
        for a in Field::all() {
            assert_eq!(Field::from_name(a.name()), Some(a));
            assert_eq!(a.parquet_name(), a.name().replace('-', "_"));
            assert_eq!(Field::from_parquet_name(a.parquet_name()), Some(a));
            assert_eq!(Field::from_insights_name(a.insights_name()), Some(a));
            assert!(!a.insights_name().contains('-'));
        }
    }

    #[test]
    fn documented_insights_names_of_the_default_format() {
        // spec/insights.md §3
        let documented = [
            ("version", "version"),
            ("account-id", "accountId"),
            ("interface-id", "interfaceId"),
            ("srcaddr", "srcAddr"),
            ("dstaddr", "dstAddr"),
            ("srcport", "srcPort"),
            ("dstport", "dstPort"),
            ("protocol", "protocol"),
            ("packets", "packets"),
            ("bytes", "bytes"),
            ("start", "startTime"),
            ("end", "endTime"),
            ("action", "action"),
            ("log-status", "logStatus"),
        ];
        for (name, insights) in documented {
            assert_eq!(Field::from_name(name).unwrap().insights_name(), insights);
        }
    }

    #[test]
    fn transit_gateway_fields_are_version_6_and_vpc_fields_are_not() {
        for a in Field::all() {
            match a.scope() {
                Scope::TransitGateway => assert_eq!(a.version(), 6, "{a}"),
                _ => assert!((2..=10).contains(&a.version()) && a.version() != 6, "{a}"),
            }
        }
    }
}
