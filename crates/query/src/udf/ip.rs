//! IP address functions: `isValidIp*`, `isIpInSubnet`, `isPrivateIP`, `isPublicIP`,
//! `isReservedIP`, `ipv4ToNumber`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub fn parse(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

pub fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    s.trim().parse().ok()
}

pub fn parse_v6(s: &str) -> Option<Ipv6Addr> {
    s.trim().parse().ok()
}

/// Whether `addr` lies in `cidr` (`a.b.c.d/n` or `x::/n`); `family` 4 or 6 restricts both.
pub fn in_subnet(addr: &str, cidr: &str, family: Option<u8>) -> bool {
    let Some((net, bits)) = cidr.trim().split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u32>() else {
        return false;
    };
    match (parse(addr), parse(net)) {
        (Some(IpAddr::V4(a)), Some(IpAddr::V4(n))) if family != Some(6) && bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (Some(IpAddr::V6(a)), Some(IpAddr::V6(n))) if family != Some(4) && bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// RFC 1918 (IPv4) and unique-local `fc00::/7` (IPv6) addresses.
pub fn is_private(s: &str) -> bool {
    match parse(s) {
        Some(IpAddr::V4(a)) => a.is_private(),
        Some(IpAddr::V6(a)) => (a.segments()[0] & 0xfe00) == 0xfc00,
        None => false,
    }
}

/// Addresses reserved by the IANA special-purpose registries (loopback, link-local,
/// multicast, documentation, shared, benchmarking, future use, unspecified, broadcast).
pub fn is_reserved(s: &str) -> bool {
    match parse(s) {
        Some(IpAddr::V4(a)) => {
            let o = a.octets();
            a.is_loopback()
                || a.is_link_local()
                || a.is_multicast()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        }
        Some(IpAddr::V6(a)) => {
            let first = a.segments()[0];
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && a.segments()[1] == 0x0db8)
        }
        None => false,
    }
}

/// Valid, and neither private nor reserved.
pub fn is_public(s: &str) -> bool {
    parse(s).is_some() && !is_private(s) && !is_reserved(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_and_classes() {
        assert!(in_subnet("192.0.2.7", "192.0.2.0/24", None));
        assert!(!in_subnet("192.0.3.7", "192.0.2.0/24", Some(4)));
        assert!(in_subnet("10.1.2.3", "0.0.0.0/0", None));
        assert!(in_subnet("2001:db8::1", "2001:db8::/32", Some(6)));
        assert!(!in_subnet("2001:db8::1", "2001:db8::/32", Some(4)));
        assert!(is_private("172.16.0.1") && !is_private("172.32.0.1"));
        assert!(is_reserved("127.0.0.1") && is_reserved("100.64.0.1"));
        assert!(is_public("8.8.8.8") && !is_public("10.0.0.1") && !is_public("nope"));
    }
}
