//! Insights' natural sort order as a byte key (`spec/insights.md`, sort).
//!
//! Ascending order: every value that is only digits comes after every other value and those
//! compare by number (then by text, so `01` follows `0`); other values are split into runs
//! of digits and of other characters, other characters compare by code point and a digit
//! run compares by length first, then by value. The key's byte order is exactly this order.

/// The key of `text`.
pub fn natural_key(text: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(text.len() + 8);
    let bytes = text.as_bytes();
    if !text.is_empty() && bytes.iter().all(u8::is_ascii_digit) {
        key.push(2);
        let digits = text.trim_start_matches('0');
        key.extend_from_slice(&(digits.len() as u32).to_be_bytes());
        key.extend_from_slice(digits.as_bytes());
        key.push(0);
        key.extend_from_slice(bytes);
        return key;
    }
    key.push(1);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            // A digit run sorts among other characters as the digits do, then by length
            // and value.
            key.push(b'0');
            key.extend_from_slice(&((i - start) as u32).to_be_bytes());
            key.extend_from_slice(&bytes[start..i]);
        } else {
            key.push(bytes[i]);
            i += 1;
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_sequence_is_ascending() {
        let seq = [
            "!:",
            "#",
            "*%04",
            "0#",
            "5A",
            "111A",
            "2345_",
            "@",
            "@_",
            "A",
            "A9876fghj",
            "a12345hfh",
            "0",
            "01",
            "1",
            "2",
            "3",
        ];
        for pair in seq.windows(2) {
            assert!(
                natural_key(pair[0]) < natural_key(pair[1]),
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
        assert!(natural_key("9") < natural_key("10"));
        assert!(natural_key("x9") < natural_key("x10"));
    }
}
