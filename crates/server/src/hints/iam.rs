//! IAM's (`2010-05-08`) and STS's (`2011-06-15`) members that are not text or structures,
//! for the operations `crate::iam` serves (inputs and outputs). Their JSON uses the awsQuery
//! member names: `{"Users": [{"UserName": "alice", "CreateDate": 1704067200, ...}],
//! "IsTruncated": false}`.

use super::{Hints, Kind, PLAIN, any};

pub(crate) const HINTS: Hints = Hints(&[
    // Lists out.
    any("Users", Kind::List(PLAIN)),
    any("Roles", Kind::List(PLAIN)),
    any("Policies", Kind::List(PLAIN)),
    any("AccessKeyMetadata", Kind::List(PLAIN)),
    any("AttachedPolicies", Kind::List(PLAIN)),
    any("PolicyNames", Kind::List(PLAIN)),
    // Numbers.
    any("MaxItems", Kind::Integer),
    any("MaxSessionDuration", Kind::Integer),
    any("DurationSeconds", Kind::Integer),
    any("AttachmentCount", Kind::Integer),
    any("PermissionsBoundaryUsageCount", Kind::Integer),
    any("PackedPolicySize", Kind::Integer),
    // Booleans.
    any("IsTruncated", Kind::Boolean),
    any("IsAttachable", Kind::Boolean),
    any("IsDefaultVersion", Kind::Boolean),
    any("OnlyAttached", Kind::Boolean),
    // Timestamps.
    any("CreateDate", Kind::Timestamp),
    any("UpdateDate", Kind::Timestamp),
    any("Expiration", Kind::Timestamp),
]);
