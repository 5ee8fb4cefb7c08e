//! Request and response shapes of the EC2 flow-log operations (CreateFlowLogs,
//! DescribeFlowLogs, DeleteFlowLogs; `spec/flowlogs.md` §9). EC2 speaks the ec2 query protocol;
//! the server turns its forms into these JSON shapes and the answers back into XML. Inputs use
//! the form's names (`ResourceId`, `TagSpecification`, `Filter`: the model's `locationName`s
//! with a capital), outputs the XML element names (`flowLogIdSet`, `unsuccessful`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagSpecification {
    pub resource_type: Option<String>,
    pub tag: Option<Vec<Tag>>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationOptionsRequest {
    pub file_format: Option<String>,
    pub hive_compatible_partitions: Option<bool>,
    pub per_hour_partition: Option<bool>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFlowLogsInput {
    pub dry_run: Option<bool>,
    pub client_token: Option<String>,
    pub deliver_logs_permission_arn: Option<String>,
    pub deliver_cross_account_role: Option<String>,
    pub log_group_name: Option<String>,
    pub resource_id: Option<Vec<String>>,
    pub resource_type: Option<String>,
    pub traffic_type: Option<String>,
    pub log_destination_type: Option<String>,
    pub log_destination: Option<String>,
    pub log_format: Option<String>,
    pub tag_specification: Option<Vec<TagSpecification>>,
    pub max_aggregation_interval: Option<i64>,
    pub destination_options: Option<DestinationOptionsRequest>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnsuccessfulItemError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnsuccessfulItem {
    pub error: UnsuccessfulItemError,
    pub resource_id: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFlowLogsOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub flow_log_id_set: Vec<String>,
    pub unsuccessful: Vec<UnsuccessfulItem>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    pub name: Option<String>,
    pub value: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeFlowLogsInput {
    pub dry_run: Option<bool>,
    pub filter: Option<Vec<Filter>>,
    pub flow_log_id: Option<Vec<String>>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagOut {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationOptionsResponse {
    pub file_format: String,
    pub hive_compatible_partitions: bool,
    pub per_hour_partition: bool,
}

/// One item of DescribeFlowLogs' `flowLogSet`.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowLogOut {
    /// Epoch seconds (milliseconds as the fraction).
    pub creation_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliver_logs_error_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliver_logs_permission_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliver_cross_account_role: Option<String>,
    pub deliver_logs_status: String,
    pub flow_log_id: String,
    pub flow_log_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    pub resource_id: String,
    pub traffic_type: String,
    pub log_destination_type: String,
    pub log_destination: String,
    pub log_format: String,
    pub tag_set: Vec<TagOut>,
    pub max_aggregation_interval: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_options: Option<DestinationOptionsResponse>,
}

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeFlowLogsOutput {
    pub flow_log_set: Vec<FlowLogOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteFlowLogsInput {
    pub dry_run: Option<bool>,
    pub flow_log_id: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteFlowLogsOutput {
    pub unsuccessful: Vec<UnsuccessfulItem>,
}
