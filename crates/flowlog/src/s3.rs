//! Where AWS puts flow-log files in an S3 bucket (`spec/flowlogs.md` §7): the object key of
//! each file, from the flow log's destination options and the 5-minute window of record end
//! times the file covers.

/// The length of the window of record end times one file covers: AWS publishes every 5 minutes
/// (flowwatch's default; shorter windows give fresher files).
pub const WINDOW_SECS: u64 = 300;

/// The start (Unix seconds) of the window of `len` seconds a record ending at `end` belongs to.
pub fn window_start(end: u64, len: u64) -> u64 {
    end - end % len.max(1)
}

/// The destination options that shape object keys, for one flow log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S3Layout<'a> {
    /// The account owning the flow log.
    pub account: &'a str,
    pub region: &'a str,
    /// The key prefix from `arn:aws:s3:::bucket/prefix/`, without slashes at either end
    /// (empty: none).
    pub prefix: &'a str,
    /// `HiveCompatiblePartitions`: `key=value` folder names.
    pub hive: bool,
    /// `PerHourPartition`: an hour folder below the day.
    pub per_hour: bool,
    /// `FileFormat=parquet` (`.log.parquet`) rather than plain text (`.log.gz`).
    pub parquet: bool,
}

impl S3Layout<'_> {
    /// The key (inside the bucket) of a file of flow log `flow_log_id` holding records whose
    /// end time is in the window starting at `window_start` (Unix seconds; its minute names
    /// the file); `hash` tells apart several files of one window (AWS: 8 hex digits).
    ///
    /// ```
    /// use flowwatch_flowlog::S3Layout;
    /// let layout = S3Layout {
    ///     account: "123456789012",
    ///     region: "us-east-1",
    ///     prefix: "",
    ///     hive: false,
    ///     per_hour: false,
    ///     parquet: false,
    /// };
    /// assert_eq!(
    ///     layout.object_key("fl-1234abcd", 1_529_511_600, "fe123456"),
    ///     "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/\
    ///      123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz"
    /// );
    /// ```
    pub fn object_key(&self, flow_log_id: &str, window_start: u64, hash: &str) -> String {
        let (year, month, day) = civil_date(window_start / 86_400);
        let hour = window_start % 86_400 / 3600;
        let minute = window_start % 3600 / 60;
        let (account, region) = (self.account, self.region);
        let mut key = String::with_capacity(160);
        if !self.prefix.is_empty() {
            key.push_str(self.prefix);
            key.push('/');
        }
        if self.hive {
            key.push_str(&format!(
                "AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/\
                 year={year:04}/month={month:02}/day={day:02}/"
            ));
            if self.per_hour {
                key.push_str(&format!("hour={hour:02}/"));
            }
        } else {
            key.push_str(&format!(
                "AWSLogs/{account}/vpcflowlogs/{region}/{year:04}/{month:02}/{day:02}/"
            ));
            if self.per_hour {
                key.push_str(&format!("{hour:02}/"));
            }
        }
        let extension = if self.parquet {
            "log.parquet"
        } else {
            "log.gz"
        };
        key.push_str(&format!(
            "{account}_vpcflowlogs_{region}_{flow_log_id}_\
             {year:04}{month:02}{day:02}T{hour:02}{minute:02}Z_{hash}.{extension}"
        ));
        key
    }
}

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(prefix: &str, hive: bool, per_hour: bool, parquet: bool) -> S3Layout<'_> {
        S3Layout {
            account: "123456789012",
            region: "us-east-1",
            prefix,
            hive,
            per_hour,
            parquet,
        }
    }

    /// 2018-06-20T16:20:00Z, the file of the spec's example.
    const T: u64 = 1_529_511_600;

    #[test]
    fn windows_are_five_minutes_of_end_time_or_shorter() {
        let w = WINDOW_SECS;
        assert_eq!(window_start(T, w), T);
        assert_eq!(window_start(T + 299, w), T);
        assert_eq!(window_start(T + 300, w), T + 300);
        assert_eq!(window_start(T - 1, w), T - 300);
        assert_eq!(window_start(T + 7, 5), T + 5);
        assert_eq!(
            window_start(T + 7, 0),
            T + 7,
            "a window of at least one second"
        );
    }

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(59), (1970, 3, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(19_722), (2023, 12, 31));
        assert_eq!(civil_date(19_723), (2024, 1, 1));
        assert_eq!(civil_date(T / 86_400), (2018, 6, 20));
    }

    #[test]
    fn default_layout_matches_the_spec_example() {
        assert_eq!(
            layout("", false, false, false).object_key(
                "fl-1234abcd",
                window_start(T + 299, WINDOW_SECS),
                "fe123456"
            ),
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/\
             123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
            "the file of 16:20:00-16:24:59"
        );
    }

    #[test]
    fn prefix_and_per_hour() {
        assert_eq!(
            layout("flows/prod", false, true, false).object_key("fl-1234abcd", T, "0a0b0c0d"),
            "flows/prod/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/16/\
             123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_0a0b0c0d.log.gz"
        );
    }

    #[test]
    fn hive_partitions_with_and_without_hours() {
        assert_eq!(
            layout("p", true, false, true).object_key("fl-1234abcd", T, "fe123456"),
            "p/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/\
             year=2018/month=06/day=20/\
             123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.parquet"
        );
        assert_eq!(
            layout("", true, true, false).object_key("fl-1234abcd", T + 3600 * 7, "fe123456"),
            "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/\
             year=2018/month=06/day=20/hour=23/\
             123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T2320Z_fe123456.log.gz"
        );
    }
}
