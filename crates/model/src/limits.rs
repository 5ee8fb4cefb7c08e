//! AWS limits, named once (`spec/logs-api.md` §2, §5).

/// Bytes added to each event's UTF-8 message length when sizing a PutLogEvents batch.
pub const EVENT_OVERHEAD_BYTES: usize = 26;
/// Largest PutLogEvents batch: sum of (message bytes + 26).
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Most events in one PutLogEvents call.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Largest single event (message bytes + overhead), 1,024 KB.
pub const MAX_EVENT_BYTES: usize = 1_048_576;
/// A batch's accepted events may span at most this long.
pub const MAX_BATCH_SPAN_MS: i64 = 24 * 3600 * 1000;
/// Events older than this (relative to ingestion) are rejected as too old.
pub const MAX_EVENT_AGE_MS: i64 = 14 * 24 * 3600 * 1000;
/// Events further in the future than this are rejected as too new.
pub const MAX_EVENT_FUTURE_MS: i64 = 2 * 3600 * 1000;
/// Largest page GetLogEvents / FilterLogEvents return, in bytes (events counted like a batch).
pub const MAX_READ_PAGE_BYTES: usize = 1_048_576;
/// Most events a GetLogEvents / FilterLogEvents page holds.
pub const MAX_READ_PAGE_EVENTS: usize = 10_000;
/// Describe* page size bounds.
pub const DESCRIBE_LIMIT_MAX: usize = 50;
/// Tags per resource.
pub const MAX_TAGS: usize = 50;
/// Log groups per account and region.
pub const MAX_LOG_GROUPS: usize = 1_000_000;
/// Longest log group / log stream name.
pub const MAX_NAME_LEN: usize = 512;
/// Longest log group identifier (name or ARN).
pub const MAX_IDENTIFIER_LEN: usize = 2048;
/// Longest KMS key id.
pub const MAX_KMS_KEY_ID_LEN: usize = 256;
/// Largest HTTP request body the server reads (a full 1 MiB batch of escaped JSON fits).
pub const MAX_REQUEST_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Most log group identifiers in DescribeLogGroups.
pub const MAX_LOG_GROUP_IDENTIFIERS: usize = 50;
/// Metric filters per log group.
pub const MAX_METRIC_FILTERS_PER_GROUP: usize = 100;
/// Log group metric filters whose pattern holds a regex.
pub const MAX_REGEX_METRIC_FILTERS_PER_GROUP: usize = 5;
/// Dimensions of one metric transformation.
pub const MAX_METRIC_DIMENSIONS: usize = 3;
/// Messages one TestMetricFilter call tests.
pub const MAX_TEST_MESSAGES: usize = 50;

/// Logs Insights (`spec/insights.md` §7, `spec/logs-api.md` StartQuery).
pub mod insights {
    /// Rows a query returns when neither the query nor StartQuery sets a limit.
    pub const DEFAULT_ROWS: u64 = 10_000;
    /// Largest StartQuery `limit` (and `limit` command) AWS accepts.
    pub const MAX_ROWS: u64 = 100_000;
    /// Most rows one GetQueryResults page holds (`maxItems`).
    pub const MAX_PAGE_ROWS: usize = 10_000;
    /// Log groups one query may name.
    pub const MAX_LOG_GROUPS: usize = 50;
    /// Queries running or scheduled at once per account (Logs Insights QL).
    pub const MAX_CONCURRENT: usize = 100;
    /// Queries running or scheduled at once per account (SQL).
    pub const MAX_CONCURRENT_SQL: usize = 15;
    /// Results are kept this long after a query starts.
    pub const RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;
    /// Longest query string, in characters.
    pub const MAX_QUERY_CHARS: usize = 10_000;
    /// DescribeQueries `maxResults` bound.
    pub const MAX_DESCRIBE_RESULTS: usize = 1_000;
    /// GetLogGroupFields looks this far either side of `time`.
    pub const FIELDS_WINDOW_MS: i64 = 8 * 60 * 1000;
    /// Longest query definition name (PutQueryDefinition `name`).
    pub const MAX_DEFINITION_NAME_CHARS: usize = 255;
    /// Longest query definition id (`queryDefinitionId`).
    pub const MAX_DEFINITION_ID_CHARS: usize = 256;
    /// Saved query definitions per account: flowwatch's bound (the spec gives no AWS quota),
    /// beyond which PutQueryDefinition answers LimitExceededException.
    pub const MAX_DEFINITIONS: usize = 1_000;
    /// DescribeQueryDefinitions `maxResults` bound (and default).
    pub const MAX_DESCRIBE_DEFINITIONS: usize = 1_000;
    /// PutQueryDefinition `clientToken` length bounds.
    pub const CLIENT_TOKEN_CHARS: std::ops::RangeInclusive<usize> = 36..=128;
}
