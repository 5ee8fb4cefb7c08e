//! The textual forms CloudWatch uses in alarm reasons, history and notifications: UTC dates
//! (no clock is read here) and Java's rendering of doubles.

/// Calendar fields of an epoch-milliseconds instant, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
}

fn civil(ms: i64) -> Civil {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: in_day / 3_600_000,
        minute: in_day / 60_000 % 60,
        second: in_day / 1000 % 60,
        millis: in_day % 1000,
    }
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`, the dates of StateReasonData, history and notifications.
pub fn iso_millis(ms: i64) -> String {
    let c = civil(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis
    )
}

/// `dd/MM/yy HH:mm:ss`, the datapoint dates of a threshold-crossing reason.
pub fn reason_date(ms: i64) -> String {
    let c = civil(ms);
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02}",
        c.day,
        c.month,
        c.year.rem_euclid(100),
        c.hour,
        c.minute,
        c.second
    )
}

/// A double as Java's `Double.toString` writes it (`10.0`, `99.50160229693434`, `1.0E7`):
/// CloudWatch's reasons are produced by Java.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let abs = v.abs();
    if v == 0.0 || (1e-3..1e7).contains(&abs) {
        let s = format!("{v}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        // Rust writes `1.5e7` / `1e-5`; Java `1.5E7` / `1.0E-5`.
        let s = format!("{v:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        // 2019-10-02T16:59:00Z, the user guide's example.
        let t = 1_570_035_540_000;
        assert_eq!(reason_date(t), "02/10/19 16:59:00");
        assert_eq!(iso_millis(t + 985), "2019-10-02T16:59:00.985+0000");
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000+0000");
        // A leap day, and before the epoch.
        assert_eq!(iso_millis(951_782_400_000), "2000-02-29T00:00:00.000+0000");
        assert_eq!(iso_millis(-1), "1969-12-31T23:59:59.999+0000");
    }

    #[test]
    fn doubles_like_java() {
        assert_eq!(java_double(10.0), "10.0");
        assert_eq!(java_double(50.0), "50.0");
        assert_eq!(java_double(-2.5), "-2.5");
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(99.50160229693434), "99.50160229693434");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(12_345_678.0), "1.2345678E7");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(0.001), "0.001");
    }
}
