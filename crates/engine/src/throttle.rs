//! Rate limits: every principal has, per operation, a token bucket refilled at AWS's documented
//! rate for that operation (`spec/logs-api.md` §9, `cloudwatch-api.md`, `cloudtrail-iam.md`
//! Part C; [`DEFAULT_RATE`] for the others) times the configured scale, holding up to ten
//! seconds of it (at least [`MIN_BURST`] requests). A call finding its bucket empty is refused
//! with the service's throttling error, which every AWS SDK and the aws CLI retry with backoff.
//!
//! Buckets are per principal (its ARN), not per account as in AWS: one noisy user or role
//! session cannot starve the others. A scale of 0 turns rate limits off.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use flowwatch_model::{ApiError, ApiResult, ErrorCode};

use crate::Engine;

/// Requests per second of an operation AWS documents no quota for here.
pub const DEFAULT_RATE: f64 = 50.0;
/// The smallest bucket: bursts of this many requests are always allowed.
pub const MIN_BURST: f64 = 50.0;
/// Seconds of an operation's rate a bucket holds.
const BURST_SECS: f64 = 10.0;
/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 10_000;

/// AWS's quotas (requests per second) by service signing name and operation.
const QUOTAS: &[(&str, &str, f64)] = &[
    ("logs", "PutLogEvents", 5000.0),
    ("logs", "CreateLogGroup", 10.0),
    ("logs", "DeleteLogGroup", 10.0),
    ("logs", "CreateLogStream", 50.0),
    ("logs", "DeleteLogStream", 15.0),
    ("logs", "DescribeLogGroups", 10.0),
    ("logs", "DescribeLogStreams", 25.0),
    ("logs", "FilterLogEvents", 25.0),
    ("logs", "GetLogEvents", 25.0),
    ("logs", "StartQuery", 10.0),
    ("logs", "GetQueryResults", 10.0),
    ("monitoring", "PutMetricData", 500.0),
    ("monitoring", "GetMetricStatistics", 400.0),
    ("monitoring", "ListMetrics", 25.0),
    ("monitoring", "GetMetricData", 50.0),
    ("monitoring", "PutMetricAlarm", 3.0),
    ("monitoring", "DescribeAlarms", 9.0),
    ("monitoring", "DeleteAlarms", 3.0),
    ("monitoring", "DescribeAlarmHistory", 3.0),
    ("monitoring", "EnableAlarmActions", 3.0),
    ("monitoring", "DisableAlarmActions", 3.0),
    ("monitoring", "SetAlarmState", 3.0),
    ("cloudtrail", "LookupEvents", 2.0),
    // Not an AWS API: captures send records as fast as PutLogEvents takes them.
    ("flowwatch", "PutFlowRecords", 5000.0),
];

/// The quota of an operation, requests per second.
pub fn quota(service: &str, op: &str) -> f64 {
    QUOTAS
        .iter()
        .find(|(s, o, _)| *s == service && *o == op)
        .map_or(DEFAULT_RATE, |q| q.2)
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    /// Milliseconds of the engine's clock when `tokens` was computed.
    at_ms: i64,
}

/// The buckets of every principal and operation.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    buckets: Mutex<HashMap<(String, String, String), Bucket>>,
}

impl Throttle {
    /// Takes a token for one call at `now_ms`; `false` when the bucket is empty.
    fn admit(&self, principal: &str, service: &str, op: &str, rate: f64, now_ms: i64) -> bool {
        let capacity = (rate * BURST_SECS).max(MIN_BURST);
        let refill = |b: &Bucket| {
            let elapsed = (now_ms - b.at_ms).max(0) as f64 / 1000.0;
            (b.tokens + elapsed * rate).min(capacity)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            // Full buckets hold nothing a fresh one would not.
            buckets.retain(|_, b| refill(b) < capacity);
        }
        let key = (principal.to_owned(), service.to_owned(), op.to_owned());
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            at_ms: now_ms,
        });
        bucket.tokens = refill(bucket);
        bucket.at_ms = now_ms;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Engine {
    /// Admits one call of `op` of `service` (its signing name) by `principal` (an ARN), or
    /// refuses it with the service's throttling error.
    pub fn admit(&self, principal: &str, service: &str, op: &str) -> ApiResult<()> {
        let scale = self.config.rate_limit_scale;
        if scale <= 0.0 {
            return Ok(());
        }
        let rate = quota(service, op) * scale;
        if self
            .throttle
            .admit(principal, service, op, rate, self.now())
        {
            Ok(())
        } else {
            Err(throttled(service))
        }
    }
}

/// The throttling error of a service, in its spelling.
fn throttled(service: &str) -> ApiError {
    let code = match service {
        "monitoring" | "iam" | "sts" => ErrorCode::Throttling,
        "sns" => ErrorCode::Throttled,
        "ec2" => ErrorCode::RequestLimitExceeded,
        _ => ErrorCode::ThrottlingException,
    };
    ApiError::new(code, "Rate exceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let throttle = Throttle::default();
        let admitted = |now| throttle.admit("p", "logs", "CreateLogGroup", 10.0, now);
        // Ten seconds of 10/s, at least 50: 100 at once.
        assert_eq!((0..150).filter(|_| admitted(0)).count(), 100);
        // A tenth of a second later, one more.
        assert!(admitted(100));
        assert!(!admitted(100));
        // Two seconds later, twenty more.
        assert_eq!((0..50).filter(|_| admitted(2100)).count(), 20);
    }

    #[test]
    fn principals_and_operations_have_their_own_buckets() {
        let throttle = Throttle::default();
        assert_eq!(
            (0..60)
                .filter(|_| throttle.admit("a", "cloudtrail", "LookupEvents", 2.0, 0))
                .count(),
            50
        );
        assert!(throttle.admit("b", "cloudtrail", "LookupEvents", 2.0, 0));
        assert!(throttle.admit("a", "logs", "GetLogEvents", 25.0, 0));
        assert!(!throttle.admit("a", "cloudtrail", "LookupEvents", 2.0, 0));
        assert!(throttle.admit("a", "cloudtrail", "LookupEvents", 2.0, 500));
    }

    #[test]
    fn idle_buckets_are_dropped_when_there_are_too_many() {
        let throttle = Throttle::default();
        for i in 0..MAX_BUCKETS {
            throttle.admit(&format!("p{i}"), "logs", "GetLogEvents", 25.0, 0);
        }
        // Every bucket refilled by now.
        throttle.admit("late", "logs", "GetLogEvents", 25.0, 60_000);
        assert_eq!(throttle.buckets.lock().unwrap().len(), 1);
    }

    #[test]
    fn each_service_throttles_in_its_own_words() {
        assert_eq!(throttled("logs").code.name(), "ThrottlingException");
        assert_eq!(throttled("monitoring").code.name(), "Throttling");
        assert_eq!(throttled("ec2").code.name(), "RequestLimitExceeded");
        assert_eq!(throttled("ec2").code.http_status(), 503);
        assert_eq!(throttled("sns").code.name(), "Throttled");
    }
}
