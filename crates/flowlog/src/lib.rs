//! # flowwatch-flowlog
//!
//! VPC flow-log records as AWS defines them (`spec/flowlogs.md`), with no I/O and no async:
//!
//! - [`Field`]: the one table of flow-log fields — every `${field}` of VPC flow logs versions 2
//!   to 10 and of Transit Gateway flow logs (version 6) with its version, value [`Kind`], Logs
//!   Insights name, Parquet column name and type, and `-` rule ([`FieldInfo`]). No other code
//!   in flowwatch lists field names.
//! - [`FlowRecord`]: one record, every field typed and optional (`None` = `-`), with
//!   [`FlowRecord::get`] / [`FlowRecord::set`] mapping fields to members in one place.
//! - [`LogFormat`]: a validated `${field}` list; [`LogFormat::default_vpc`] is the default
//!   format; [`LogFormat::parse`] and `Display` round-trip.
//! - Text codec: [`LogFormat::encode`] writes the exact line AWS writes, [`LogFormat::decode`]
//!   reads one back with errors naming the field and the value.
//! - Arrow codec: [`arrow_schema()`], [`to_record_batch`] and [`from_record_batch`] use AWS's
//!   Parquet column names and types.
//! - S3 layout: [`S3Layout::object_key`] names a delivered file as AWS does (prefix, Hive and
//!   per-hour partitions, 5-minute windows of end time, [`window_start`]).
//!
//! ## Invariants
//!
//! - A [`LogFormat`] is non-empty, has no duplicate field and never mixes VPC-only and Transit
//!   Gateway-only fields; its [`version`](LogFormat::version) is its highest field version.
//! - Every [`FlowRecord`] can be written: textual values are [`Token`]s (non-empty, no
//!   whitespace, not `-`), so `format.decode(&format.encode(&r)) == r.project(format.fields())`.
//! - Decoding is strict and never panics: exactly one value per field separated by single
//!   spaces, canonical decimals (no sign, no leading zero), documented codes only (AWS service
//!   codes excepted: unknown codes of the right shape are kept).
//! - Transit Gateway fields are fully supported in records and both codecs; the facts the spec
//!   does not give for them (Parquet types, Insights names) are inferred, see [`fields`].
//!
//! ## Example
//!
//! ```
//! use flowwatch_flowlog::{Action, Field, LogFormat, LogStatus, arrow_schema, to_record_batch};
//!
//! let format = LogFormat::default_vpc();
//! let line = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
//! let record = format.decode(line).unwrap();
//! assert_eq!(record.dstport, Some(22));
//! assert_eq!(record.action, Some(Action::Accept));
//! assert_eq!(record.log_status, Some(LogStatus::Ok));
//! assert_eq!(format.encode(&record), line);
//!
//! let custom = LogFormat::parse("${vpc-id} ${srcaddr} ${tcp-flags}").unwrap();
//! assert_eq!(custom.version(), 3);
//! assert_eq!(custom.encode(&record), "- 172.31.16.139 -");
//! assert_eq!(Field::SrcAddr.insights_name(), "srcAddr");
//!
//! let batch = to_record_batch(&format, &[record]).unwrap();
//! assert_eq!(batch.schema(), arrow_schema(&format));
//! assert_eq!(batch.schema().field(13).name(), "log_status");
//! ```

mod arrow;
mod error;
pub mod fields;
mod format;
mod record;
mod s3;
mod text;
mod values;

pub use crate::arrow::{arrow_schema, from_record_batch, to_record_batch};
pub use error::{FlowLogError, Result};
pub use fields::{Field, FieldInfo, Kind, ParquetType, Scope};
pub use format::LogFormat;
pub use record::{EcsFields, FlowRecord, TransitGatewayFields, Value};
pub use s3::{S3Layout, WINDOW_SECS, window_start};
pub use text::{ABSENT, default_record_spans};
pub use values::{
    Action, AwsService, EncryptionStatus, FlowDirection, FlowType, KnownAwsService, LogStatus,
    RejectReason, SublocationType, TcpFlags, Token, TrafficPath, UnknownCode,
};
