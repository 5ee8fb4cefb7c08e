//! CloudWatch's members that are not text or structures (model `2010-08-01`), for the
//! operations flowwatch serves: GetMetricStatistics, ListMetrics, PutMetricData,
//! GetMetricData, PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric, DeleteAlarms,
//! SetAlarmState, DescribeAlarmHistory, Enable/DisableAlarmActions (inputs and outputs).
//!
//! Checked against the model as the AWS SDK for Rust decodes it (`decoder.double()` accepts
//! only floats, `decoder.timestamp()` only tag 1). A new operation needs a row here for each
//! new list, map, number, boolean or timestamp member, and nothing else.

use super::{DOUBLE, Hints, Kind, PLAIN, TIMESTAMP, any, within};

pub(crate) const HINTS: Hints = Hints(&[
    // Lists (items are text or structures unless said).
    any("Dimensions", Kind::List(PLAIN)),
    any("Metrics", Kind::List(PLAIN)),
    any("MetricData", Kind::List(PLAIN)),
    any("EntityMetricData", Kind::List(PLAIN)),
    any("MetricDataQueries", Kind::List(PLAIN)),
    any("MetricDataResults", Kind::List(PLAIN)),
    any("Messages", Kind::List(PLAIN)),
    any("Datapoints", Kind::List(PLAIN)),
    any("Statistics", Kind::List(PLAIN)),
    any("ExtendedStatistics", Kind::List(PLAIN)),
    any("OwningAccounts", Kind::List(PLAIN)),
    any("MetricAlarms", Kind::List(PLAIN)),
    any("CompositeAlarms", Kind::List(PLAIN)),
    any("AlarmHistoryItems", Kind::List(PLAIN)),
    any("AlarmNames", Kind::List(PLAIN)),
    any("AlarmTypes", Kind::List(PLAIN)),
    any("OKActions", Kind::List(PLAIN)),
    any("AlarmActions", Kind::List(PLAIN)),
    any("InsufficientDataActions", Kind::List(PLAIN)),
    any("Tags", Kind::List(PLAIN)),
    any("TagKeys", Kind::List(PLAIN)),
    any("Values", Kind::List(DOUBLE)),
    any("Counts", Kind::List(DOUBLE)),
    any("Timestamps", Kind::List(TIMESTAMP)),
    // Maps.
    within("Datapoints", "ExtendedStatistics", Kind::map(DOUBLE)),
    within("Entity", "KeyAttributes", Kind::map(PLAIN)),
    within("Entity", "Attributes", Kind::map(PLAIN)),
    within(
        "AlarmHistoryItems",
        "AlarmContributorAttributes",
        Kind::map(PLAIN),
    ),
    // Integers.
    any("Period", Kind::Integer),
    any("EvaluationPeriods", Kind::Integer),
    any("DatapointsToAlarm", Kind::Integer),
    any("EvaluationInterval", Kind::Integer),
    any("PendingPeriod", Kind::Integer),
    any("RecoveryPeriod", Kind::Integer),
    any("StorageResolution", Kind::Integer),
    any("MaxRecords", Kind::Integer),
    any("MaxDatapoints", Kind::Integer),
    any("ActionsSuppressorWaitPeriod", Kind::Integer),
    any("ActionsSuppressorExtensionPeriod", Kind::Integer),
    // Doubles.
    within("MetricData", "Value", Kind::Double),
    any("Threshold", Kind::Double),
    any("SampleCount", Kind::Double),
    any("Average", Kind::Double),
    any("Sum", Kind::Double),
    any("Minimum", Kind::Double),
    any("Maximum", Kind::Double),
    // Booleans.
    any("ActionsEnabled", Kind::Boolean),
    any("ReturnData", Kind::Boolean),
    any("IncludeLinkedAccounts", Kind::Boolean),
    any("StrictEntityValidation", Kind::Boolean),
    // Timestamps.
    any("Timestamp", Kind::Timestamp),
    any("StartTime", Kind::Timestamp),
    any("EndTime", Kind::Timestamp),
    any("StartDate", Kind::Timestamp),
    any("EndDate", Kind::Timestamp),
    any("StateUpdatedTimestamp", Kind::Timestamp),
    any("StateTransitionedTimestamp", Kind::Timestamp),
    any("AlarmConfigurationUpdatedTimestamp", Kind::Timestamp),
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_name_two_meanings() {
        assert_eq!(HINTS.kind("MetricData", "Value"), Kind::Double);
        assert_eq!(HINTS.kind("Dimensions", "Value"), Kind::Plain);
        assert_eq!(HINTS.kind("Tags", "Value"), Kind::Plain);
        assert_eq!(
            HINTS.kind("GetMetricStatistics", "ExtendedStatistics"),
            Kind::List(PLAIN)
        );
        assert_eq!(
            HINTS.kind("Datapoints", "ExtendedStatistics"),
            Kind::map(DOUBLE)
        );
    }
}
