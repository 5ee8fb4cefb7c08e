//! [`FlowRecord`]: one flow-log record with every field typed, and the one place that maps
//! [`Field`]s to its members ([`FlowRecord::get`] / [`FlowRecord::set`]), which the text and
//! Arrow codecs share.

use std::net::IpAddr;

use crate::error::{FlowLogError, Result, quote};
use crate::fields::Field;
use crate::values::{
    Action, AwsService, EncryptionStatus, FlowDirection, FlowType, LogStatus, RejectReason,
    SublocationType, TcpFlags, Token, TrafficPath,
};

/// One flow-log record. `None` is a field written as `-` (absent, not applicable or not
/// computed) or not in the record's format. Members are named after the fields (`type` is
/// `flow_type`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FlowRecord {
    pub version: Option<u8>,
    pub account_id: Option<Token>,
    pub interface_id: Option<Token>,
    pub srcaddr: Option<IpAddr>,
    pub dstaddr: Option<IpAddr>,
    pub srcport: Option<u16>,
    pub dstport: Option<u16>,
    pub protocol: Option<u8>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    /// Unix seconds.
    pub start: Option<u64>,
    /// Unix seconds.
    pub end: Option<u64>,
    pub action: Option<Action>,
    pub log_status: Option<LogStatus>,
    pub vpc_id: Option<Token>,
    pub subnet_id: Option<Token>,
    pub instance_id: Option<Token>,
    pub tcp_flags: Option<TcpFlags>,
    pub flow_type: Option<FlowType>,
    pub pkt_srcaddr: Option<IpAddr>,
    pub pkt_dstaddr: Option<IpAddr>,
    pub region: Option<Token>,
    pub az_id: Option<Token>,
    pub sublocation_type: Option<SublocationType>,
    pub sublocation_id: Option<Token>,
    pub pkt_src_aws_service: Option<AwsService>,
    pub pkt_dst_aws_service: Option<AwsService>,
    pub flow_direction: Option<FlowDirection>,
    pub traffic_path: Option<TrafficPath>,
    /// The ECS fields (v7), boxed: most records have none of them.
    pub ecs: Option<Box<EcsFields>>,
    pub reject_reason: Option<RejectReason>,
    pub resource_id: Option<Token>,
    pub encryption_status: Option<EncryptionStatus>,
    /// The transit gateway fields, boxed: VPC records have none of them.
    pub transit: Option<Box<TransitGatewayFields>>,
}

/// The ECS fields of a [`FlowRecord`] (`ecs-cluster-arn` is `cluster_arn`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EcsFields {
    pub cluster_arn: Option<Token>,
    pub cluster_name: Option<Token>,
    pub container_instance_arn: Option<Token>,
    pub container_instance_id: Option<Token>,
    pub container_id: Option<Token>,
    pub second_container_id: Option<Token>,
    pub service_name: Option<Token>,
    pub task_definition_arn: Option<Token>,
    pub task_arn: Option<Token>,
    pub task_id: Option<Token>,
}

/// The transit gateway fields of a [`FlowRecord`] (`tgw-id` is `tgw_id`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TransitGatewayFields {
    pub resource_type: Option<Token>,
    pub tgw_id: Option<Token>,
    pub tgw_attachment_id: Option<Token>,
    pub tgw_src_vpc_account_id: Option<Token>,
    pub tgw_dst_vpc_account_id: Option<Token>,
    pub tgw_src_vpc_id: Option<Token>,
    pub tgw_dst_vpc_id: Option<Token>,
    pub tgw_src_subnet_id: Option<Token>,
    pub tgw_dst_subnet_id: Option<Token>,
    pub tgw_src_eni: Option<Token>,
    pub tgw_dst_eni: Option<Token>,
    pub tgw_src_az_id: Option<Token>,
    pub tgw_dst_az_id: Option<Token>,
    pub tgw_pair_attachment_id: Option<Token>,
    pub packets_lost_no_route: Option<u64>,
    pub packets_lost_blackhole: Option<u64>,
    pub packets_lost_mtu_exceeded: Option<u64>,
    pub packets_lost_ttl_expired: Option<u64>,
}

/// A field value in its untyped form, as codecs read and write it: integer-kinded fields
/// (ports, counts, times, tcp-flags, traffic-path...) are `Int`, addresses are `Ip` (or `Str`,
/// which [`FlowRecord::set`] parses), everything else is `Str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Int(u64),
    Ip(IpAddr),
    Str(&'a str),
}

impl Value<'_> {
    /// Appends the value as a record writes it: what `Display` writes, without the formatting
    /// machinery (a capture encodes tens of thousands of records).
    pub fn write_to(&self, out: &mut String) {
        match self {
            Value::Int(n) => out.push_str(itoa::Buffer::new().format(*n)),
            Value::Ip(IpAddr::V4(a)) => {
                let mut digits = itoa::Buffer::new();
                for (i, octet) in a.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(digits.format(octet));
                }
            }
            Value::Ip(ip) => {
                use std::fmt::Write;
                // Writing to a String cannot fail.
                let _ = write!(out, "{ip}");
            }
            Value::Str(s) => out.push_str(s),
        }
    }
}

impl std::fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Ip(ip) => write!(f, "{ip}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}

/// Converts one value for `field`, with the error naming the field and the value.
struct Conv<'a> {
    field: Field,
    value: Value<'a>,
}

impl Conv<'_> {
    fn invalid(&self) -> FlowLogError {
        FlowLogError::InvalidValue {
            field: self.field,
            value: quote(&self.value.to_string()),
            expected: self.field.kind().expected(),
        }
    }

    fn int<T: TryFrom<u64>>(&self) -> Result<T> {
        match self.value {
            Value::Int(n) => T::try_from(n).map_err(|_| self.invalid()),
            _ => Err(self.invalid()),
        }
    }

    fn ip(&self) -> Result<IpAddr> {
        match self.value {
            Value::Ip(ip) => Ok(ip),
            Value::Str(s) => s.parse().map_err(|_| self.invalid()),
            Value::Int(_) => Err(self.invalid()),
        }
    }

    fn token(&self) -> Result<Token> {
        match self.value {
            Value::Str(s) => Token::new(s).map_err(|_| self.invalid()),
            _ => Err(self.invalid()),
        }
    }

    fn code<T: std::str::FromStr>(&self) -> Result<T> {
        match self.value {
            Value::Str(s) => s.parse().map_err(|_| self.invalid()),
            _ => Err(self.invalid()),
        }
    }

    /// A numeric code: the `index - base`th entry of `all`.
    fn numbered<T: Copy>(&self, all: &[T], base: u64) -> Result<T> {
        let n: u64 = self.int()?;
        n.checked_sub(base)
            .and_then(|i| all.get(usize::try_from(i).ok()?))
            .copied()
            .ok_or_else(|| self.invalid())
    }
}

fn tok(t: &Option<Token>) -> Option<Value<'_>> {
    t.as_ref().map(|t| Value::Str(t.as_str()))
}

fn int<T: Into<u64> + Copy>(n: &Option<T>) -> Option<Value<'static>> {
    n.map(|n| Value::Int(n.into()))
}

fn ip(a: &Option<IpAddr>) -> Option<Value<'static>> {
    a.map(Value::Ip)
}

impl FlowRecord {
    /// The ECS fields, created empty when the record has none. A caller sets one at once
    /// (assignment evaluates its value first, so a failed conversion adds nothing).
    fn ecs_mut(&mut self) -> &mut EcsFields {
        self.ecs.get_or_insert_with(Box::default)
    }

    /// The transit gateway fields, created empty when the record has none (as `ecs_mut`).
    fn transit_mut(&mut self) -> &mut TransitGatewayFields {
        self.transit.get_or_insert_with(Box::default)
    }

    /// The value of `field`, `None` when absent.
    pub fn get(&self, field: Field) -> Option<Value<'_>> {
        use Field as F;
        match field {
            F::Version => int(&self.version),
            F::AccountId => tok(&self.account_id),
            F::InterfaceId => tok(&self.interface_id),
            F::SrcAddr => ip(&self.srcaddr),
            F::DstAddr => ip(&self.dstaddr),
            F::SrcPort => int(&self.srcport),
            F::DstPort => int(&self.dstport),
            F::Protocol => int(&self.protocol),
            F::Packets => int(&self.packets),
            F::Bytes => int(&self.bytes),
            F::Start => int(&self.start),
            F::End => int(&self.end),
            F::Action => self.action.map(|a| Value::Str(a.as_str())),
            F::LogStatus => self.log_status.map(|s| Value::Str(s.as_str())),
            F::VpcId => tok(&self.vpc_id),
            F::SubnetId => tok(&self.subnet_id),
            F::InstanceId => tok(&self.instance_id),
            F::TcpFlags => self.tcp_flags.map(|f| Value::Int(f.0.into())),
            F::Type => self.flow_type.map(|t| Value::Str(t.as_str())),
            F::PktSrcAddr => ip(&self.pkt_srcaddr),
            F::PktDstAddr => ip(&self.pkt_dstaddr),
            F::Region => tok(&self.region),
            F::AzId => tok(&self.az_id),
            F::SublocationType => self.sublocation_type.map(|t| Value::Str(t.as_str())),
            F::SublocationId => tok(&self.sublocation_id),
            F::PktSrcAwsService => self
                .pkt_src_aws_service
                .as_ref()
                .map(|s| Value::Str(s.as_str())),
            F::PktDstAwsService => self
                .pkt_dst_aws_service
                .as_ref()
                .map(|s| Value::Str(s.as_str())),
            F::FlowDirection => self.flow_direction.map(|d| Value::Str(d.as_str())),
            F::TrafficPath => self.traffic_path.map(|p| Value::Int(p as u64 + 1)),
            F::EcsClusterArn => self.ecs.as_ref().and_then(|e| tok(&e.cluster_arn)),
            F::EcsClusterName => self.ecs.as_ref().and_then(|e| tok(&e.cluster_name)),
            F::EcsContainerInstanceArn => self
                .ecs
                .as_ref()
                .and_then(|e| tok(&e.container_instance_arn)),
            F::EcsContainerInstanceId => self
                .ecs
                .as_ref()
                .and_then(|e| tok(&e.container_instance_id)),
            F::EcsContainerId => self.ecs.as_ref().and_then(|e| tok(&e.container_id)),
            F::EcsSecondContainerId => self.ecs.as_ref().and_then(|e| tok(&e.second_container_id)),
            F::EcsServiceName => self.ecs.as_ref().and_then(|e| tok(&e.service_name)),
            F::EcsTaskDefinitionArn => self.ecs.as_ref().and_then(|e| tok(&e.task_definition_arn)),
            F::EcsTaskArn => self.ecs.as_ref().and_then(|e| tok(&e.task_arn)),
            F::EcsTaskId => self.ecs.as_ref().and_then(|e| tok(&e.task_id)),
            F::RejectReason => self.reject_reason.map(|r| Value::Str(r.as_str())),
            F::ResourceId => tok(&self.resource_id),
            F::EncryptionStatus => self.encryption_status.map(|e| Value::Int(e as u64)),
            F::ResourceType => self.transit.as_ref().and_then(|t| tok(&t.resource_type)),
            F::TgwId => self.transit.as_ref().and_then(|t| tok(&t.tgw_id)),
            F::TgwAttachmentId => self
                .transit
                .as_ref()
                .and_then(|t| tok(&t.tgw_attachment_id)),
            F::TgwSrcVpcAccountId => self
                .transit
                .as_ref()
                .and_then(|t| tok(&t.tgw_src_vpc_account_id)),
            F::TgwDstVpcAccountId => self
                .transit
                .as_ref()
                .and_then(|t| tok(&t.tgw_dst_vpc_account_id)),
            F::TgwSrcVpcId => self.transit.as_ref().and_then(|t| tok(&t.tgw_src_vpc_id)),
            F::TgwDstVpcId => self.transit.as_ref().and_then(|t| tok(&t.tgw_dst_vpc_id)),
            F::TgwSrcSubnetId => self
                .transit
                .as_ref()
                .and_then(|t| tok(&t.tgw_src_subnet_id)),
            F::TgwDstSubnetId => self
                .transit
                .as_ref()
                .and_then(|t| tok(&t.tgw_dst_subnet_id)),
            F::TgwSrcEni => self.transit.as_ref().and_then(|t| tok(&t.tgw_src_eni)),
            F::TgwDstEni => self.transit.as_ref().and_then(|t| tok(&t.tgw_dst_eni)),
            F::TgwSrcAzId => self.transit.as_ref().and_then(|t| tok(&t.tgw_src_az_id)),
            F::TgwDstAzId => self.transit.as_ref().and_then(|t| tok(&t.tgw_dst_az_id)),
            F::TgwPairAttachmentId => self
                .transit
                .as_ref()
                .and_then(|t| tok(&t.tgw_pair_attachment_id)),
            F::PacketsLostNoRoute => self
                .transit
                .as_ref()
                .and_then(|t| int(&t.packets_lost_no_route)),
            F::PacketsLostBlackhole => self
                .transit
                .as_ref()
                .and_then(|t| int(&t.packets_lost_blackhole)),
            F::PacketsLostMtuExceeded => self
                .transit
                .as_ref()
                .and_then(|t| int(&t.packets_lost_mtu_exceeded)),
            F::PacketsLostTtlExpired => self
                .transit
                .as_ref()
                .and_then(|t| int(&t.packets_lost_ttl_expired)),
        }
    }

    /// Sets `field` (`None` = absent). On error — a value out of range or not in the field's
    /// code set — the record is unchanged and the error names the field and the value.
    pub fn set(&mut self, field: Field, value: Option<Value<'_>>) -> Result<()> {
        use Field as F;
        let Some(value) = value else {
            self.clear(field);
            return Ok(());
        };
        let c = Conv { field, value };
        match field {
            F::Version => self.version = Some(c.int()?),
            F::AccountId => self.account_id = Some(c.token()?),
            F::InterfaceId => self.interface_id = Some(c.token()?),
            F::SrcAddr => self.srcaddr = Some(c.ip()?),
            F::DstAddr => self.dstaddr = Some(c.ip()?),
            F::SrcPort => self.srcport = Some(c.int()?),
            F::DstPort => self.dstport = Some(c.int()?),
            F::Protocol => self.protocol = Some(c.int()?),
            F::Packets => self.packets = Some(c.int()?),
            F::Bytes => self.bytes = Some(c.int()?),
            F::Start => self.start = Some(c.int()?),
            F::End => self.end = Some(c.int()?),
            F::Action => self.action = Some(c.code()?),
            F::LogStatus => self.log_status = Some(c.code()?),
            F::VpcId => self.vpc_id = Some(c.token()?),
            F::SubnetId => self.subnet_id = Some(c.token()?),
            F::InstanceId => self.instance_id = Some(c.token()?),
            F::TcpFlags => self.tcp_flags = Some(TcpFlags(c.int()?)),
            F::Type => self.flow_type = Some(c.code()?),
            F::PktSrcAddr => self.pkt_srcaddr = Some(c.ip()?),
            F::PktDstAddr => self.pkt_dstaddr = Some(c.ip()?),
            F::Region => self.region = Some(c.token()?),
            F::AzId => self.az_id = Some(c.token()?),
            F::SublocationType => self.sublocation_type = Some(c.code()?),
            F::SublocationId => self.sublocation_id = Some(c.token()?),
            F::PktSrcAwsService => self.pkt_src_aws_service = Some(c.code()?),
            F::PktDstAwsService => self.pkt_dst_aws_service = Some(c.code()?),
            F::FlowDirection => self.flow_direction = Some(c.code()?),
            F::TrafficPath => self.traffic_path = Some(c.numbered(TrafficPath::ALL, 1)?),
            F::EcsClusterArn => self.ecs_mut().cluster_arn = Some(c.token()?),
            F::EcsClusterName => self.ecs_mut().cluster_name = Some(c.token()?),
            F::EcsContainerInstanceArn => self.ecs_mut().container_instance_arn = Some(c.token()?),
            F::EcsContainerInstanceId => self.ecs_mut().container_instance_id = Some(c.token()?),
            F::EcsContainerId => self.ecs_mut().container_id = Some(c.token()?),
            F::EcsSecondContainerId => self.ecs_mut().second_container_id = Some(c.token()?),
            F::EcsServiceName => self.ecs_mut().service_name = Some(c.token()?),
            F::EcsTaskDefinitionArn => self.ecs_mut().task_definition_arn = Some(c.token()?),
            F::EcsTaskArn => self.ecs_mut().task_arn = Some(c.token()?),
            F::EcsTaskId => self.ecs_mut().task_id = Some(c.token()?),
            F::RejectReason => self.reject_reason = Some(c.code()?),
            F::ResourceId => self.resource_id = Some(c.token()?),
            F::EncryptionStatus => {
                self.encryption_status = Some(c.numbered(EncryptionStatus::ALL, 0)?);
            }
            F::ResourceType => self.transit_mut().resource_type = Some(c.token()?),
            F::TgwId => self.transit_mut().tgw_id = Some(c.token()?),
            F::TgwAttachmentId => self.transit_mut().tgw_attachment_id = Some(c.token()?),
            F::TgwSrcVpcAccountId => self.transit_mut().tgw_src_vpc_account_id = Some(c.token()?),
            F::TgwDstVpcAccountId => self.transit_mut().tgw_dst_vpc_account_id = Some(c.token()?),
            F::TgwSrcVpcId => self.transit_mut().tgw_src_vpc_id = Some(c.token()?),
            F::TgwDstVpcId => self.transit_mut().tgw_dst_vpc_id = Some(c.token()?),
            F::TgwSrcSubnetId => self.transit_mut().tgw_src_subnet_id = Some(c.token()?),
            F::TgwDstSubnetId => self.transit_mut().tgw_dst_subnet_id = Some(c.token()?),
            F::TgwSrcEni => self.transit_mut().tgw_src_eni = Some(c.token()?),
            F::TgwDstEni => self.transit_mut().tgw_dst_eni = Some(c.token()?),
            F::TgwSrcAzId => self.transit_mut().tgw_src_az_id = Some(c.token()?),
            F::TgwDstAzId => self.transit_mut().tgw_dst_az_id = Some(c.token()?),
            F::TgwPairAttachmentId => self.transit_mut().tgw_pair_attachment_id = Some(c.token()?),
            F::PacketsLostNoRoute => self.transit_mut().packets_lost_no_route = Some(c.int()?),
            F::PacketsLostBlackhole => self.transit_mut().packets_lost_blackhole = Some(c.int()?),
            F::PacketsLostMtuExceeded => {
                self.transit_mut().packets_lost_mtu_exceeded = Some(c.int()?)
            }
            F::PacketsLostTtlExpired => {
                self.transit_mut().packets_lost_ttl_expired = Some(c.int()?)
            }
        }
        Ok(())
    }

    /// Makes `field` absent (rebuilds the record; not for hot paths, where records start
    /// empty and only present fields are set).
    pub fn clear(&mut self, field: Field) {
        *self = self.project(Field::all().filter(|f| *f != field));
    }

    /// A copy holding only `fields` (what a record looks like after a round trip through a
    /// format with those fields).
    pub fn project(&self, fields: impl IntoIterator<Item = Field>) -> FlowRecord {
        let mut out = FlowRecord::default();
        for f in fields {
            if let Some(v) = self.get(f) {
                // Copies a value this record already holds, so it is valid.
                let _ = out.set(f, Some(v));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_fields_are_boxed_only_when_present() {
        // A capture holds tens of thousands of records: the ECS and transit gateway fields,
        // which VPC records never have, live behind one pointer each.
        assert!(std::mem::size_of::<FlowRecord>() <= 512);
        let mut r = FlowRecord::default();
        // A failed conversion leaves the record as it was (no empty group created).
        assert!(r.set(Field::EcsTaskId, Some(Value::Int(3))).is_err());
        assert!(r.set(Field::TgwId, Some(Value::Str("has space"))).is_err());
        assert_eq!(r, FlowRecord::default());
        r.set(Field::EcsTaskId, Some(Value::Str("task-1"))).unwrap();
        r.set(Field::PacketsLostBlackhole, Some(Value::Int(7)))
            .unwrap();
        assert_eq!(r.get(Field::EcsTaskId), Some(Value::Str("task-1")));
        assert_eq!(r.get(Field::EcsTaskArn), None);
        assert_eq!(r.get(Field::PacketsLostBlackhole), Some(Value::Int(7)));
        assert_eq!(r.get(Field::TgwId), None);
        r.set(Field::EcsTaskId, None).unwrap();
        r.set(Field::PacketsLostBlackhole, None).unwrap();
        assert_eq!(r, FlowRecord::default());
    }

    #[test]
    fn values_are_written_as_displayed() {
        let values = [
            Value::Int(0),
            Value::Int(u64::MAX),
            Value::Ip("10.0.255.1".parse().unwrap()),
            Value::Ip("0.0.0.0".parse().unwrap()),
            Value::Ip("2001:db8::ff00:42:8329".parse().unwrap()),
            Value::Ip("::ffff:10.0.0.1".parse().unwrap()),
            Value::Str("eni-0123"),
        ];
        for v in values {
            let mut out = String::from("x");
            v.write_to(&mut out);
            assert_eq!(out, format!("x{v}"));
        }
    }
}
