//! `parseDate(str, pattern[, tz])`: a Java `DateTimeFormatter` pattern read with chrono.
//!
//! Pattern letters are translated to chrono's: `yyyy`/`uuuu` `yy`, `M` `MM` `MMM` `MMMM`, `d`
//! `dd`, `H` `HH`, `h` `hh`, `m` `mm`, `s` `ss`, `S`… (fraction), `a`, `E`… (day names), `X`/`x`/
//! `Z` (offsets); `'quoted'` text is literal (`''` a quote), other punctuation stands for itself.
//! Without an offset in the text the time is in `tz` (`UTC`, `Z` or `±HH:MM`; UTC when not
//! given); a pattern with only a date is midnight. Anything that does not parse has no value.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

/// The chrono format of a Java pattern, or `None` for letters chrono cannot read.
pub fn chrono_format(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted text; '' is a quote.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        out.push('\'');
                        i += 2;
                        continue;
                    }
                    break;
                }
                push_literal(&mut out, chars[i]);
                i += 1;
            }
            i += 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            push_literal(&mut out, c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        out.push_str(match (c, n) {
            ('y' | 'u', 2) => "%y",
            ('y' | 'u', _) => "%Y",
            ('M', 1 | 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', _) => "%d",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', _) => "%f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('X' | 'x', 1) => "%#z",
            ('X' | 'x' | 'Z', 3) | ('Z', 5) => "%:z",
            ('X' | 'x' | 'Z', _) => "%z",
            _ => return None,
        });
    }
    Some(out)
}

fn push_literal(out: &mut String, c: char) {
    if c == '%' {
        out.push_str("%%");
    } else {
        out.push(c);
    }
}

/// `tz` as an offset: `UTC`, `Z`, `GMT` or `±HH:MM` / `±HHMM`.
fn offset(tz: Option<&str>) -> Option<FixedOffset> {
    let tz = tz.map_or("UTC", str::trim);
    if ["UTC", "Z", "GMT"]
        .iter()
        .any(|z| tz.eq_ignore_ascii_case(z))
    {
        return FixedOffset::east_opt(0);
    }
    let sign = match tz.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = tz[1..].chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 4 {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// Epoch milliseconds of `text` read with Java pattern `pattern`, in `tz` when the text has no
/// offset.
pub fn parse_date(text: &str, pattern: &str, tz: Option<&str>) -> Option<i64> {
    let format = chrono_format(pattern)?;
    if let Ok(t) = DateTime::parse_from_str(text, &format) {
        return Some(t.timestamp_millis());
    }
    let zone = offset(tz)?;
    let local = NaiveDateTime::parse_from_str(text, &format)
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, &format)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    zone.from_local_datetime(&local)
        .single()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_patterns_become_chrono_formats() {
        assert_eq!(
            chrono_format("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").as_deref(),
            Some("%Y-%m-%dT%H:%M:%S.%f%:z")
        );
        assert_eq!(
            chrono_format("dd/MMM/yyyy:HH:mm:ss Z").as_deref(),
            Some("%d/%b/%Y:%H:%M:%S %z")
        );
        assert_eq!(chrono_format("'it''s' yy%").as_deref(), Some("it's %y%%"));
        assert_eq!(chrono_format("yyyy G"), None);
    }

    #[test]
    fn dates_parse_to_epoch_millis() {
        // toMillis' documented example.
        assert_eq!(
            parse_date(
                "2022-01-14T13:18:31.000-08:00",
                "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
                None
            ),
            Some(1_642_195_111_000)
        );
        assert_eq!(
            parse_date("10/Oct/2000:13:55:36 -0700", "dd/MMM/yyyy:HH:mm:ss Z", None),
            Some(971_211_336_000)
        );
        assert_eq!(
            parse_date("2024-05-01", "yyyy-MM-dd", None),
            Some(1_714_521_600_000)
        );
        assert_eq!(
            parse_date("2024-05-01 12:00:00", "yyyy-MM-dd HH:mm:ss", Some("+02:00")),
            Some(1_714_557_600_000)
        );
        assert_eq!(
            parse_date(
                "2024-05-01 12:00:00",
                "yyyy-MM-dd HH:mm:ss",
                Some("Mars/Base")
            ),
            None
        );
        assert_eq!(parse_date("yesterday", "yyyy-MM-dd", None), None);
    }
}
