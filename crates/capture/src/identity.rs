//! Network interface identity: AWS-shaped ENI ids derived stably from where traffic was seen.

/// FNV-1a, 64 bits: stable across builds and platforms (unlike `std`'s hasher).
fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `eni-` and 17 lowercase hex digits derived from a host and an interface (or capture) name:
/// the same pair always gives the same id, different pairs practically never collide.
pub fn derive_eni(host: &str, interface: &str) -> String {
    let key = format!("{host}\u{0}{interface}");
    let a = fnv1a(0xcbf2_9ce4_8422_2325, key.as_bytes());
    let b = fnv1a(0x8422_2325_cbf2_9ce4, key.as_bytes());
    let hex = format!("{a:016x}{b:016x}");
    format!("eni-{}", &hex[..17])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_aws_shaped() {
        let id = derive_eni("host-1", "eth0");
        assert_eq!(id, derive_eni("host-1", "eth0"));
        assert_ne!(id, derive_eni("host-1", "eth1"));
        assert_ne!(id, derive_eni("host-2", "eth0"));
        assert_eq!(id.len(), 4 + 17);
        assert!(
            id[4..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        // Pinned: a change here would rename every derived interface.
        assert_eq!(id, "eni-be015e441e62a216d");
    }
}
