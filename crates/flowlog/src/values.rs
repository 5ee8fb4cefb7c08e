//! The typed values of flow-log fields: [`Token`] for identifiers and the closed code sets
//! (action, log status, type, ...).

use std::fmt;
use std::str::FromStr;

use crate::error::{FlowLogError, quote};

/// A textual field value as it can appear in a record line: non-empty, no whitespace or control
/// characters, and not `-` (which means "absent"). Identifiers (`eni-...`, `vpc-...`), account
/// ids, regions and ECS names and ARNs are tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(Box<str>);

impl Token {
    /// Validates `value`.
    pub fn new(value: &str) -> Result<Self, FlowLogError> {
        if Self::is_valid(value) {
            Ok(Self(value.into()))
        } else {
            Err(FlowLogError::InvalidToken {
                value: quote(value),
            })
        }
    }

    /// Whether `value` is a valid token.
    pub fn is_valid(value: &str) -> bool {
        !value.is_empty()
            && value != "-"
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Token {
    type Err = FlowLogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for Token {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Error of parsing a code that is not in its set; callers turn it into
/// [`FlowLogError::InvalidValue`] with the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCode;

/// A closed set of codes written as fixed strings (or numbers, for the numeric ones).
macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vm])* $variant),+
        }

        impl $name {
            /// Every value, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code as written in a record.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, UnknownCode> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

codes!(
    /// `action`: whether security groups and network ACLs let the flow through.
    Action { Accept = "ACCEPT", Reject = "REJECT" }
);

codes!(
    /// `log-status`.
    LogStatus {
        /// Data is logging normally.
        Ok = "OK",
        /// No traffic to or from the interface during the interval.
        NoData = "NODATA",
        /// Some records were skipped during the interval.
        SkipData = "SKIPDATA",
    }
);

codes!(
    /// `type`: the traffic type.
    FlowType { Ipv4 = "IPv4", Ipv6 = "IPv6", Efa = "EFA" }
);

codes!(
    /// `sublocation-type`.
    SublocationType { Wavelength = "wavelength", Outpost = "outpost", LocalZone = "localzone" }
);

codes!(
    /// `flow-direction`, relative to the capturing interface.
    FlowDirection { Ingress = "ingress", Egress = "egress" }
);

codes!(
    /// `reject-reason`.
    RejectReason {
        /// VPC Block Public Access.
        Bpa = "BPA",
        /// Rejected by a VPC endpoint because of encryption controls.
        Ec = "EC",
    }
);

codes!(
    /// `traffic-path` (egress only): where the traffic leaves to.
    TrafficPath {
        /// Another resource in the same VPC.
        SameVpc = "1",
        /// Internet gateway or gateway VPC endpoint.
        InternetGateway = "2",
        /// Virtual private gateway.
        VirtualPrivateGateway = "3",
        /// Intra-Region VPC peering connection.
        IntraRegionPeering = "4",
        /// Inter-Region VPC peering connection.
        InterRegionPeering = "5",
        /// Local gateway, Local Zone or Wavelength Zone.
        LocalGateway = "6",
        /// Gateway VPC endpoint (Nitro-based instances only).
        GatewayEndpoint = "7",
        /// Internet gateway (Nitro-based instances only).
        NitroInternetGateway = "8",
    }
);

codes!(
    /// `encryption-status`.
    EncryptionStatus {
        NotEncrypted = "0",
        /// Encrypted by the Nitro system.
        Nitro = "1",
        /// Encrypted by the application.
        Application = "2",
        /// Both Nitro- and application-encrypted.
        Both = "3",
    }
);

codes!(
    /// `pkt-src-aws-service` / `pkt-dst-aws-service`: the AWS IP-range subset an address is in.
    KnownAwsService {
        Amazon = "AMAZON",
        AmazonAppflow = "AMAZON_APPFLOW",
        AmazonConnect = "AMAZON_CONNECT",
        ApiGateway = "API_GATEWAY",
        AuroraDsql = "AURORA_DSQL",
        ChimeMeetings = "CHIME_MEETINGS",
        ChimeVoiceconnector = "CHIME_VOICECONNECTOR",
        Cloud9 = "CLOUD9",
        Cloudfront = "CLOUDFRONT",
        CloudfrontOriginFacing = "CLOUDFRONT_ORIGIN_FACING",
        Codebuild = "CODEBUILD",
        Dynamodb = "DYNAMODB",
        Ebs = "EBS",
        Ec2 = "EC2",
        Ec2InstanceConnect = "EC2_INSTANCE_CONNECT",
        Globalaccelerator = "GLOBALACCELERATOR",
        IvsLowLatency = "IVS_LOW_LATENCY",
        IvsRealtime = "IVS_REALTIME",
        KinesisVideoStreams = "KINESIS_VIDEO_STREAMS",
        MediaPackageV2 = "MEDIA_PACKAGE_V2",
        Route53 = "ROUTE53",
        Route53Healthchecks = "ROUTE53_HEALTHCHECKS",
        Route53HealthchecksPublishing = "ROUTE53_HEALTHCHECKS_PUBLISHING",
        Route53Resolver = "ROUTE53_RESOLVER",
        S3 = "S3",
        WorkspacesGateways = "WORKSPACES_GATEWAYS",
    }
);

/// An AWS service code: one of the documented codes, or another code of the same shape
/// (upper-case letters, digits and `_`) since AWS adds IP ranges over time.
///
/// Invariant: `Other` never holds a documented code (parse with [`FromStr`], which always
/// picks `Known` for those), so equal codes compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AwsService {
    Known(KnownAwsService),
    Other(Token),
}

impl AwsService {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Known(k) => k.as_str(),
            Self::Other(t) => t.as_str(),
        }
    }
}

impl FromStr for AwsService {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, UnknownCode> {
        if let Ok(k) = s.parse() {
            return Ok(Self::Known(k));
        }
        let shaped = s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        match Token::new(s) {
            Ok(t) if shaped => Ok(Self::Other(t)),
            _ => Err(UnknownCode),
        }
    }
}

impl From<KnownAwsService> for AwsService {
    fn from(k: KnownAwsService) -> Self {
        Self::Known(k)
    }
}

impl fmt::Display for AwsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `tcp-flags`: the OR of the flags seen during the interval. Only FIN, SYN, RST and SYN-ACK
/// are reported (a pure ACK or PSH is 0); any byte value decodes, so the raw value round-trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(1);
    pub const SYN: TcpFlags = TcpFlags(2);
    pub const RST: TcpFlags = TcpFlags(4);
    /// SYN-ACK is reported as 18 (SYN 2 + ACK 16); ACK alone is never reported.
    pub const SYN_ACK: TcpFlags = TcpFlags(18);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(*a));
        }
        for k in KnownAwsService::ALL {
            assert_eq!(k.as_str().parse::<AwsService>(), Ok(AwsService::Known(*k)));
        }
        assert_eq!("accept".parse::<Action>(), Err(UnknownCode));
        assert_eq!(TrafficPath::ALL.len(), 8);
    }

    #[test]
    fn unknown_service_codes_of_the_right_shape_are_kept() {
        let s: AwsService = "NEW_SERVICE2".parse().unwrap();
        assert_eq!(s.as_str(), "NEW_SERVICE2");
        assert!(matches!(s, AwsService::Other(_)));
        assert!("s3".parse::<AwsService>().is_err());
        assert!("-".parse::<AwsService>().is_err());
        assert!("_X".parse::<AwsService>().is_err());
    }

    #[test]
    fn tokens_reject_spaces_dashes_and_empty() {
        assert!(Token::new("eni-1235b8ca123456789").is_ok());
        assert!(Token::new("unknown").is_ok());
        for bad in ["", "-", "a b", "a\tb", "a\n", "\u{7f}"] {
            assert!(Token::new(bad).is_err(), "{bad:?}");
        }
        assert!(Token::new("--").is_ok());
    }

    #[test]
    fn tcp_flags_combine_as_documented() {
        assert_eq!(TcpFlags::SYN | TcpFlags::FIN, TcpFlags(3));
        assert_eq!(TcpFlags::SYN_ACK | TcpFlags::FIN, TcpFlags(19));
        assert!(TcpFlags(19).contains(TcpFlags::SYN_ACK));
        assert!(!TcpFlags(3).contains(TcpFlags::SYN_ACK));
    }
}
