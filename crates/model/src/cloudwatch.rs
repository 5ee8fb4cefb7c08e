//! Request and response shapes of the CloudWatch API (metrics), member names as in the AWS
//! model (PascalCase). Timestamps are epoch seconds, as awsJson1.0 carries them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    pub name: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricStatisticsInput {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Option<Vec<Dimension>>,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub period: Option<i64>,
    pub statistics: Option<Vec<String>>,
    pub extended_statistics: Option<Vec<String>>,
    pub unit: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Datapoint {
    /// Epoch seconds.
    pub timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    pub unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_statistics: Option<std::collections::BTreeMap<String, f64>>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricStatisticsOutput {
    pub label: String,
    pub datapoints: Vec<Datapoint>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricsInput {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Option<Vec<Dimension>>,
    pub next_token: Option<String>,
    pub recently_active: Option<String>,
    pub include_linked_accounts: Option<bool>,
    pub owning_account: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<Dimension>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricsOutput {
    pub metrics: Vec<Metric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}
