//! # flowwatch-model
//!
//! The vocabulary every other flowwatch crate shares, with no I/O and no async:
//!
//! - [`ErrorCode`] / [`ApiError`]: the closed set of AWS error codes and their HTTP status,
//!   decided once here;
//! - validated names ([`LogGroupName`], [`LogStreamName`]), [`RetentionDays`], tags and ARNs;
//! - [`limits`]: every AWS limit flowwatch enforces, named once;
//! - [`logs`]: the CloudWatch Logs request and response shapes;
//! - [`Caller`] / [`Scope`]: who calls, in which account and region.
//!
//! ```
//! use flowwatch_model::{LogGroupName, RetentionDays};
//! assert!(LogGroupName::parse("logGroupName", "app/web").is_ok());
//! assert!(RetentionDays::parse(2).is_err());
//! ```

pub mod arn;
pub mod caller;
pub mod clock;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod ec2;
pub mod error;
pub mod flow_records;
pub mod iam;
pub mod limits;
pub mod logs;
pub mod names;
pub mod retention;
pub mod sns;
pub mod tags;

pub use caller::{Caller, Scope};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ApiError, ApiResult, ErrorCode};
pub use names::{LogGroupName, LogStreamName};
pub use retention::RetentionDays;
pub use tags::Tags;
