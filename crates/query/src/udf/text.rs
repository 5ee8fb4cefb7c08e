//! Text conversions: `isNumeric`, `urlencode`, `urldecode`, `hexToAscii`, `hexToDec`,
//! `decToHex`.

/// Digits with an optional sign and decimal part.
pub fn is_numeric(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(s.contains('.') && frac.is_empty())
}

/// Percent-encodes everything but unreserved characters (`A-Z a-z 0-9 - _ . ~`).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` as space; `None` when the result is not UTF-8.
pub fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(s.get(i + 1..i + 3)?, 16) {
                Ok(v) => {
                    out.push(v);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn strip_hex(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s)
}

/// `hexToAscii("48656c6c6f")` = `Hello`.
pub fn hex_to_ascii(s: &str) -> Option<String> {
    let hex = strip_hex(s);
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// `hexToDec("0xff")` = 255.
pub fn hex_to_dec(s: &str) -> Option<i64> {
    i64::from_str_radix(strip_hex(s), 16).ok()
}

/// `decToHex(255)` = `0xff`; negative numbers give `-0x…`, fractions are truncated.
pub fn dec_to_hex(s: &str) -> Option<String> {
    let n = s.trim().parse::<f64>().ok()?.trunc();
    if !n.is_finite() || n.abs() > 9.0e18 {
        return None;
    }
    let n = n as i64;
    Some(if n < 0 {
        format!("-0x{:x}", n.unsigned_abs())
    } else {
        format!("0x{n:x}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_examples() {
        assert_eq!(hex_to_ascii("48656c6c6f").as_deref(), Some("Hello"));
        assert_eq!(hex_to_dec("0xff"), Some(255));
        assert_eq!(dec_to_hex("255").as_deref(), Some("0xff"));
        assert_eq!(dec_to_hex("-255.7").as_deref(), Some("-0xff"));
        assert_eq!(url_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(url_decode("a%20b%2Fc+d").as_deref(), Some("a b/c d"));
        assert_eq!(url_decode("100%").as_deref(), Some("100%"));
        assert!(is_numeric("-12.5") && is_numeric("7") && !is_numeric("1.") && !is_numeric("x"));
    }
}
