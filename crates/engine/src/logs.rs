//! CloudWatch Logs actions (`spec/logs-api.md`), one method each on [`Engine`](crate::Engine).
//!
//! - [`groups`]: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, retention, deletion protection
//! - [`streams`]: CreateLogStream, DeleteLogStream, DescribeLogStreams
//! - [`events`]: PutLogEvents, GetLogEvents
//! - [`filter`]: FilterLogEvents with the filter-pattern language
//! - [`metric_filters`]: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter, TestMetricFilter
//! - [`queries`]: Logs Insights — StartQuery, GetQueryResults, StopQuery, DescribeQueries,
//!   GetLogRecord, GetLogGroupFields
//! - [`tags`]: TagResource, UntagResource, ListTagsForResource and the older *LogGroup forms

pub mod events;
pub mod filter;
pub mod groups;
pub mod internal;
pub mod metric_filters;
pub mod queries;
pub mod query_definitions;
pub mod streams;
pub mod tags;
