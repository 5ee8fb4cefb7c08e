//! Request and response shapes of CloudTrail (`2013-11-01`, awsJson1.1), the subset flowwatch
//! serves: LookupEvents (spec `cloudtrail-iam.md` Part C). Member names are the model's
//! (PascalCase); times are epoch seconds.

use serde::{Deserialize, Serialize};

/// LookupEvents' input.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEventsRequest {
    /// At most one attribute to match.
    pub lookup_attributes: Option<Vec<LookupAttribute>>,
    /// Inclusive lower bound, epoch seconds.
    pub start_time: Option<f64>,
    /// Inclusive upper bound, epoch seconds.
    pub end_time: Option<f64>,
    /// Only `insight` is accepted.
    pub event_category: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// One `{AttributeKey, AttributeValue}` of LookupEvents.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupAttribute {
    pub attribute_key: Option<String>,
    pub attribute_value: Option<String>,
}

/// LookupEvents' output.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEventsResponse {
    pub events: Vec<Event>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One event as LookupEvents lists it.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Event {
    pub event_id: String,
    pub event_name: String,
    /// `"true"` or `"false"`.
    pub read_only: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// Epoch seconds.
    pub event_time: f64,
    pub event_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub resources: Vec<Resource>,
    /// The whole CloudTrail record, as JSON text.
    pub cloud_trail_event: String,
}

/// A resource an event names.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    pub resource_type: String,
    pub resource_name: String,
}
