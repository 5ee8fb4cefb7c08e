//! Literal values: strings, numbers, durations and regexes.

/// Literal values.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'` or `"text"` (unescaped).
    String(String),
    /// An integer that fits in `i64`.
    Integer(i64),
    /// A decimal or exponent number (or an integer too large for `i64`).
    Float(f64),
    /// `5m`, `1h`: a period for `bin`, `datefloor`, `offset`.
    Duration(Duration),
    /// `/pattern/flags`.
    Regex(Regex),
}

/// A regex literal `/pattern/flags`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Regex {
    /// The pattern, with `\/` unescaped to `/`.
    pub pattern: String,
    /// Flags after the closing slash, each one of `imsux`.
    pub flags: String,
}

impl Regex {
    /// The names of the named capture groups `(?<name>…)` / `(?P<name>…)`, in order.
    pub fn named_groups(&self) -> Vec<&str> {
        let mut names = Vec::new();
        let bytes = self.pattern.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'(' if self.pattern[i..].starts_with("(?<")
                    && !self.pattern[i..].starts_with("(?<=")
                    && !self.pattern[i..].starts_with("(?<!") =>
                {
                    i = self.push_group(i + 3, &mut names);
                }
                b'(' if self.pattern[i..].starts_with("(?P<") => {
                    i = self.push_group(i + 4, &mut names);
                }
                _ => i += 1,
            }
        }
        names
    }

    fn push_group<'a>(&'a self, start: usize, names: &mut Vec<&'a str>) -> usize {
        match self.pattern[start..].find('>') {
            Some(len) => {
                names.push(&self.pattern[start..start + len]);
                start + len + 1
            }
            None => self.pattern.len(),
        }
    }
}

/// A time period such as `5m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    /// How many units.
    pub amount: u64,
    /// Which unit.
    pub unit: TimeUnit,
}

/// The units of a [`Duration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `ms`, `msec`, `millisecond`
    Millisecond,
    /// `s`, `sec`, `second`
    Second,
    /// `m`, `min`, `minute`
    Minute,
    /// `h`, `hr`, `hour`
    Hour,
    /// `d`, `day`
    Day,
    /// `w`, `week`
    Week,
    /// `mo`, `mon`, `month`
    Month,
    /// `q`, `qtr`, `quarter`
    Quarter,
    /// `y`, `yr`, `year`
    Year,
}

impl TimeUnit {
    /// Every unit with its spellings (singular; a plural `s` is allowed on multi-letter ones).
    const SPELLINGS: &'static [(TimeUnit, &'static [&'static str])] = &[
        (TimeUnit::Millisecond, &["ms", "msec", "millisecond"]),
        (TimeUnit::Second, &["s", "sec", "second"]),
        (TimeUnit::Minute, &["m", "min", "minute"]),
        (TimeUnit::Hour, &["h", "hr", "hour"]),
        (TimeUnit::Day, &["d", "day"]),
        (TimeUnit::Week, &["w", "week"]),
        (TimeUnit::Month, &["mo", "mon", "month"]),
        (TimeUnit::Quarter, &["q", "qtr", "quarter"]),
        (TimeUnit::Year, &["y", "yr", "year"]),
    ];

    /// Parses a unit spelling, case-insensitively.
    pub fn parse(text: &str) -> Option<TimeUnit> {
        let lower = text.to_ascii_lowercase();
        let singular = match lower.strip_suffix('s') {
            Some(stem) if stem.len() > 1 => stem,
            _ => lower.as_str(),
        };
        Self::SPELLINGS
            .iter()
            .find(|(_, names)| names.contains(&lower.as_str()) || names.contains(&singular))
            .map(|(unit, _)| *unit)
    }

    /// The canonical short spelling (`ms s m h d w mo q y`).
    pub fn as_str(self) -> &'static str {
        Self::SPELLINGS
            .iter()
            .find(|(unit, _)| *unit == self)
            .map_or("", |(_, names)| names[0])
    }

    /// The unit's length in milliseconds; months, quarters and years are calendar units and
    /// give their nominal length (30, 91 and 365 days).
    pub fn millis(self) -> u64 {
        const DAY: u64 = 86_400_000;
        match self {
            TimeUnit::Millisecond => 1,
            TimeUnit::Second => 1_000,
            TimeUnit::Minute => 60_000,
            TimeUnit::Hour => 3_600_000,
            TimeUnit::Day => DAY,
            TimeUnit::Week => 7 * DAY,
            TimeUnit::Month => 30 * DAY,
            TimeUnit::Quarter => 91 * DAY,
            TimeUnit::Year => 365 * DAY,
        }
    }
}

impl Duration {
    /// The period in milliseconds (saturating), using [`TimeUnit::millis`].
    pub fn millis(self) -> u64 {
        self.amount.saturating_mul(self.unit.millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_accept_documented_spellings() {
        for (text, unit) in [
            ("5m", TimeUnit::Minute),
            ("mins", TimeUnit::Minute),
            ("MS", TimeUnit::Millisecond),
            ("msecs", TimeUnit::Millisecond),
            ("hours", TimeUnit::Hour),
            ("mo", TimeUnit::Month),
            ("qtrs", TimeUnit::Quarter),
            ("yr", TimeUnit::Year),
        ] {
            let text = text.trim_start_matches(char::is_numeric);
            assert_eq!(TimeUnit::parse(text), Some(unit), "{text}");
        }
        assert_eq!(TimeUnit::parse("ss"), None);
        assert_eq!(TimeUnit::parse("x"), None);
    }

    #[test]
    fn named_groups_skip_lookbehinds_and_escapes() {
        let re = Regex {
            pattern: r"(?<user>\w+) \(?<no> (?<=x)(?P<id>\d+)".into(),
            flags: String::new(),
        };
        assert_eq!(re.named_groups(), vec!["user", "id"]);
    }

    #[test]
    fn durations_convert_to_millis() {
        let d = Duration {
            amount: 5,
            unit: TimeUnit::Minute,
        };
        assert_eq!(d.millis(), 300_000);
        let huge = Duration {
            amount: u64::MAX,
            unit: TimeUnit::Year,
        };
        assert_eq!(huge.millis(), u64::MAX);
    }
}
