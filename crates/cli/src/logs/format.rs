//! Human-readable times, sizes and durations, and the table style.

use chrono::{DateTime, SecondsFormat, Utc};
use comfy_table::{ContentArrangement, Table, presets};

/// Epoch milliseconds as `2024-01-02T03:04:05.678Z` (UTC), or `-` when absent or out of range.
pub(crate) fn time_ms(ms: Option<i64>) -> String {
    ms.and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| "-".to_owned())
}

/// Epoch milliseconds as `2024-01-02 03:04:05` (UTC, for tables), or `-`.
pub(crate) fn time_short(ms: Option<i64>) -> String {
    ms.and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".to_owned())
}

/// Bytes in binary units: `0 B`, `1.5 KiB`, `12.0 MiB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Parses `--since`: a duration before `now_ms` (`30s`, `10m`, `1h`, `2d`, `1w`), an RFC 3339
/// time (`2024-01-02T03:04:05Z`), or epoch milliseconds.
pub(crate) fn parse_since(text: &str, now_ms: i64) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    if text.len() > 10 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().map_err(|e| e.to_string());
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("expected e.g. 10m, 1h, 2d or 2024-01-02T03:04:05Z, got {text:?}"))?;
    let unit_ms: i64 = match unit {
        "ms" => 1,
        "s" | "sec" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use s, m, h, d or w)"
            ));
        }
    };
    number
        .checked_mul(unit_ms)
        .map(|d| now_ms.saturating_sub(d).max(0))
        .ok_or_else(|| format!("{text:?} is too long ago"))
}

/// A table with the house style: no borders inside, header underlined, wraps to the terminal.
pub(crate) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    table
}

/// Now in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_sizes_and_times() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(12 * 1024 * 1024), "12.0 MiB");
        assert_eq!(time_ms(Some(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(time_ms(None), "-");
        assert_eq!(time_short(Some(1_700_000_000_000)), "2023-11-14 22:13:20");
    }

    #[test]
    fn parses_since() {
        let now = 10_000_000_000;
        assert_eq!(parse_since("10m", now), Ok(now - 600_000));
        assert_eq!(parse_since("1h", now), Ok(now - 3_600_000));
        assert_eq!(parse_since("2d", now), Ok(now - 172_800_000));
        assert_eq!(parse_since("1970-01-01T00:00:01Z", now), Ok(1000));
        assert_eq!(parse_since("1700000000000", now), Ok(1_700_000_000_000));
        assert!(parse_since("10 parsecs", now).is_err());
        assert!(parse_since("", now).is_err());
    }
}
