//! EC2's members that are not text or structures (model `2016-11-15`, ec2Query), for
//! CreateFlowLogs, DescribeFlowLogs and DeleteFlowLogs (inputs and outputs).
//!
//! EC2's JSON (what `crate::ec2::dispatch` reads and writes) uses the names of the XML: the
//! form's on input (`ResourceId`, `TagSpecification`, `Filter`, each a list `X.N`), the
//! lower-camel `locationName`s on output (`flowLogIdSet`, `unsuccessful`, `flowLogSet`), whose
//! lists are written as `<item>` whatever their hints.

use super::{Hints, Kind, PLAIN, any, within};

pub(crate) const HINTS: Hints = Hints(&[
    // Lists in.
    any("ResourceId", Kind::List(PLAIN)),
    any("FlowLogId", Kind::List(PLAIN)),
    any("Filter", Kind::List(PLAIN)),
    within("Filter", "Value", Kind::List(PLAIN)),
    any("TagSpecification", Kind::List(PLAIN)),
    within("TagSpecification", "Tag", Kind::List(PLAIN)),
    // Numbers and booleans in.
    any("DryRun", Kind::Boolean),
    any("MaxAggregationInterval", Kind::Integer),
    any("MaxResults", Kind::Integer),
    within(
        "DestinationOptions",
        "HiveCompatiblePartitions",
        Kind::Boolean,
    ),
    within("DestinationOptions", "PerHourPartition", Kind::Boolean),
    // Out.
    any("creationTime", Kind::Timestamp),
]);
