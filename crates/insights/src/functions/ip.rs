//! IP address functions.

use super::{Arity, FunctionDef, FunctionKind::Scalar, def};

/// The IP family.
pub const FUNCTIONS: &[FunctionDef] = &[
    def(
        "isValidIp",
        Scalar,
        Arity::exactly(1),
        "isValidIp(f)",
        "true if f is an IPv4 or IPv6 address",
        "filter isValidIp(srcAddr)",
    ),
    def(
        "isValidIpV4",
        Scalar,
        Arity::exactly(1),
        "isValidIpV4(f)",
        "true if f is an IPv4 address",
        "filter isValidIpV4(srcAddr)",
    ),
    def(
        "isValidIpV6",
        Scalar,
        Arity::exactly(1),
        "isValidIpV6(f)",
        "true if f is an IPv6 address",
        "filter isValidIpV6(srcAddr)",
    ),
    def(
        "isIpInSubnet",
        Scalar,
        Arity::exactly(2),
        "isIpInSubnet(f, cidr)",
        "true if f is in the IPv4 or IPv6 subnet",
        "filter isIpInSubnet(srcAddr, \"10.0.0.0/8\")",
    ),
    def(
        "isIpv4InSubnet",
        Scalar,
        Arity::exactly(2),
        "isIpv4InSubnet(f, cidr)",
        "true if f is in the IPv4 subnet",
        "filter isIpv4InSubnet(srcAddr, \"192.0.2.0/24\")",
    ),
    def(
        "isIpv6InSubnet",
        Scalar,
        Arity::exactly(2),
        "isIpv6InSubnet(f, cidr)",
        "true if f is in the IPv6 subnet",
        "filter isIpv6InSubnet(srcAddr, \"2001:db8::/32\")",
    ),
    def(
        "ipv4ToNumber",
        Scalar,
        Arity::exactly(1),
        "ipv4ToNumber(f)",
        "an IPv4 address as a 32-bit number",
        "fields ipv4ToNumber(srcAddr)",
    ),
    def(
        "isPrivateIP",
        Scalar,
        Arity::exactly(1),
        "isPrivateIP(f)",
        "true if f is an RFC 1918 address",
        "filter isPrivateIP(srcAddr)",
    ),
    def(
        "isPublicIP",
        Scalar,
        Arity::exactly(1),
        "isPublicIP(f)",
        "true if f is a public address",
        "filter isPublicIP(dstAddr)",
    ),
    def(
        "isReservedIP",
        Scalar,
        Arity::exactly(1),
        "isReservedIP(f)",
        "true if f is a reserved address",
        "filter isReservedIP(dstAddr)",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn subnet_checks_need_a_cidr() {
        let err = crate::compile("filter isIpv4InSubnet(srcAddr)").unwrap_err();
        assert_eq!(
            err.message(),
            "function `isIpv4InSubnet` expects 2 argument(s), found 1"
        );
    }
}
