//! [`LogFormat`]: the `${field}` list of a flow log (`spec/flowlogs.md` §2, "Default format"
//! and "Custom format").

use std::fmt;
use std::str::FromStr;

use crate::error::{FlowLogError, Result};
use crate::fields::{Field, Scope};

/// The 14 version-2 fields of the default format, in order.
const DEFAULT_FIELDS: [Field; 14] = [
    Field::Version,
    Field::AccountId,
    Field::InterfaceId,
    Field::SrcAddr,
    Field::DstAddr,
    Field::SrcPort,
    Field::DstPort,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::Action,
    Field::LogStatus,
];

/// A validated flow-log format: one or more known fields, each at most once, all of VPC flow
/// logs or all of Transit Gateway flow logs (fields common to both go with either).
///
/// `Display` writes the `${a} ${b}` form [`LogFormat::parse`] reads, so formats round-trip.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogFormat {
    fields: Box<[Field]>,
}

impl LogFormat {
    /// The default format of VPC flow logs (version 2).
    pub fn default_vpc() -> Self {
        Self {
            fields: DEFAULT_FIELDS.into(),
        }
    }

    /// The format of a Transit Gateway flow log created without `LogFormat`: every Transit
    /// Gateway field, in the documented order.
    pub fn default_transit_gateway() -> Self {
        use Field as F;
        let fields = [
            F::Version,
            F::ResourceType,
            F::AccountId,
            F::TgwId,
            F::TgwAttachmentId,
            F::TgwSrcVpcAccountId,
            F::TgwDstVpcAccountId,
            F::TgwSrcVpcId,
            F::TgwDstVpcId,
            F::TgwSrcSubnetId,
            F::TgwDstSubnetId,
            F::TgwSrcEni,
            F::TgwDstEni,
            F::TgwSrcAzId,
            F::TgwDstAzId,
            F::TgwPairAttachmentId,
            F::SrcAddr,
            F::DstAddr,
            F::SrcPort,
            F::DstPort,
            F::Protocol,
            F::Packets,
            F::Bytes,
            F::Start,
            F::End,
            F::LogStatus,
            F::Type,
            F::PacketsLostNoRoute,
            F::PacketsLostBlackhole,
            F::PacketsLostMtuExceeded,
            F::PacketsLostTtlExpired,
            F::TcpFlags,
            F::Region,
            F::FlowDirection,
            F::PktSrcAwsService,
            F::PktDstAwsService,
        ];
        Self {
            fields: fields.into(),
        }
    }

    /// Validates a list of fields (see the type's invariants).
    pub fn new(fields: Vec<Field>) -> Result<Self> {
        if fields.is_empty() {
            return Err(FlowLogError::EmptyFormat);
        }
        for (i, f) in fields.iter().enumerate() {
            if fields[..i].contains(f) {
                return Err(FlowLogError::DuplicateField { field: *f });
            }
        }
        let vpc = fields.iter().find(|f| f.scope() == Scope::Vpc);
        let tgw = fields.iter().find(|f| f.scope() == Scope::TransitGateway);
        if let (Some(vpc), Some(tgw)) = (vpc, tgw) {
            return Err(FlowLogError::MixedScopes {
                vpc: *vpc,
                transit_gateway: *tgw,
            });
        }
        Ok(Self {
            fields: fields.into(),
        })
    }

    /// Parses a `LogFormat` parameter: `${field}` tokens separated by single spaces, no
    /// leading or trailing space.
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() {
            return Err(FlowLogError::EmptyFormat);
        }
        let syntax = |offset, detail| Err(FlowLogError::FormatSyntax { offset, detail });
        let mut fields = Vec::new();
        let mut offset = 0;
        for part in s.split(' ') {
            if part.is_empty() {
                return syntax(offset, "fields are separated by single spaces");
            }
            let Some(inner) = part.strip_prefix("${") else {
                return syntax(offset, "expected `${`");
            };
            let Some(name) = inner.strip_suffix('}') else {
                return syntax(offset + part.len(), "expected `}` after the field name");
            };
            if name.contains(['$', '{', '}']) {
                return syntax(offset + 2, "one field per `${...}`, separated by spaces");
            }
            let field = Field::from_name(name).ok_or_else(|| FlowLogError::UnknownField {
                name: crate::error::quote(name),
            })?;
            fields.push(field);
            offset += part.len() + 1;
        }
        Self::new(fields)
    }

    /// The format of an S3 plain-text file, read from its header line: the field names
    /// separated by single spaces (see [`LogFormat::header`]).
    pub fn from_header(line: &str) -> Result<Self> {
        if line.is_empty() {
            return Err(FlowLogError::EmptyFormat);
        }
        let mut fields = Vec::new();
        let mut offset = 0;
        for name in line.split(' ') {
            if name.is_empty() {
                return Err(FlowLogError::FormatSyntax {
                    offset,
                    detail: "fields are separated by single spaces",
                });
            }
            fields.push(
                Field::from_name(name).ok_or_else(|| FlowLogError::UnknownField {
                    name: crate::error::quote(name),
                })?,
            );
            offset += name.len() + 1;
        }
        Self::new(fields)
    }

    /// The fields, in output order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The value of the `version` field of records in this format: the highest version among
    /// its fields (2 for the default format, 6 for Transit Gateway formats).
    pub fn version(&self) -> u8 {
        self.fields.iter().map(|f| f.version()).max().unwrap_or(2)
    }

    /// Whether records in this format come from Transit Gateway flow logs.
    pub fn is_transit_gateway(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.scope() == Scope::TransitGateway)
    }

    /// Whether this is the default VPC format.
    pub fn is_default(&self) -> bool {
        *self.fields == DEFAULT_FIELDS
    }

    /// The position of `field` in the format.
    pub fn position(&self, field: Field) -> Option<usize> {
        self.fields.iter().position(|f| *f == field)
    }

    /// The header line of S3 plain-text files: the field names separated by spaces.
    pub fn header(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(|f| f.name()).collect();
        names.join(" ")
    }
}

impl Default for LogFormat {
    fn default() -> Self {
        Self::default_vpc()
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "${{{}}}", field.name())?;
        }
        Ok(())
    }
}

impl FromStr for LogFormat {
    type Err = FlowLogError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_format_has_the_documented_text_and_version_2() {
        let d = LogFormat::default_vpc();
        assert_eq!(
            d.to_string(),
            "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
        );
        assert_eq!(d.version(), 2);
        assert!(d.is_default());
        assert!(d.fields().iter().all(|f| f.version() == 2));
        assert_eq!(LogFormat::parse(&d.to_string()), Ok(d));
    }

    #[test]
    fn transit_gateway_default_has_every_transit_gateway_field() {
        let t = LogFormat::default_transit_gateway();
        assert_eq!(t.version(), 6);
        assert!(t.is_transit_gateway());
        for f in Field::all().filter(|f| f.scope() != Scope::Vpc) {
            assert!(t.position(f).is_some(), "{f}");
        }
        assert_eq!(t.fields().len(), 36);
        assert_eq!(LogFormat::parse(&t.to_string()), Ok(t));
    }

    #[test]
    fn version_is_the_highest_field_version() {
        let f = LogFormat::parse("${srcaddr} ${vpc-id} ${region}").unwrap();
        assert_eq!(f.version(), 4);
        assert_eq!(
            LogFormat::parse("${encryption-status}").unwrap().version(),
            10
        );
        assert_eq!(
            LogFormat::parse("${ecs-task-id} ${srcaddr}")
                .unwrap()
                .version(),
            7
        );
    }

    #[test]
    fn header_lists_names() {
        let f = LogFormat::parse("${version} ${log-status}").unwrap();
        assert_eq!(f.header(), "version log-status");
        assert_eq!(LogFormat::from_header(&f.header()), Ok(f));
        let d = LogFormat::default_vpc();
        assert_eq!(LogFormat::from_header(&d.header()), Ok(d));
        assert_eq!(LogFormat::from_header(""), Err(FlowLogError::EmptyFormat));
        assert!(matches!(
            LogFormat::from_header("version  end"),
            Err(FlowLogError::FormatSyntax { offset: 8, .. })
        ));
        assert_eq!(
            LogFormat::from_header("version ${end}"),
            Err(FlowLogError::UnknownField {
                name: "${end}".into()
            })
        );
    }
}
