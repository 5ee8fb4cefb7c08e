//! Logs Insights shapes: StartQuery, GetQueryResults, StopQuery, DescribeQueries,
//! GetLogRecord, GetLogGroupFields, and the saved queries (Put/Describe/DeleteQueryDefinition).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartQueryRequest {
    pub query_language: Option<String>,
    pub log_group_name: Option<String>,
    pub log_group_names: Option<Vec<String>>,
    pub log_group_identifiers: Option<Vec<String>>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub query_string: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartQueryResponse {
    pub query_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryIdRequest {
    pub query_id: Option<String>,
    pub next_token: Option<String>,
    pub max_items: Option<i64>,
}

/// One `{field, value}` of a result row.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ResultField {
    pub field: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryStatistics {
    pub records_matched: f64,
    pub records_scanned: f64,
    pub estimated_records_skipped: f64,
    pub bytes_scanned: f64,
    pub estimated_bytes_skipped: f64,
    pub log_groups_scanned: f64,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetQueryResultsResponse {
    pub query_language: String,
    pub results: Vec<Vec<ResultField>>,
    pub statistics: QueryStatistics,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StopQueryResponse {
    pub success: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueriesRequest {
    pub log_group_name: Option<String>,
    pub status: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub query_language: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryInfo {
    pub query_language: String,
    pub query_id: String,
    pub query_string: String,
    pub status: String,
    pub create_time: i64,
    pub log_group_name: String,
    pub query_duration: i64,
    pub bytes_scanned: f64,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueriesResponse {
    pub queries: Vec<QueryInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogRecordRequest {
    pub log_record_pointer: Option<String>,
    pub unmask: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogRecordResponse {
    pub log_record: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogGroupFieldsRequest {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub time: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LogGroupField {
    pub name: String,
    pub percent: i64,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogGroupFieldsResponse {
    pub log_group_fields: Vec<LogGroupField>,
}

/// PutQueryDefinition: a saved query, created (no `queryDefinitionId`) or replaced whole.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutQueryDefinitionRequest {
    pub query_language: Option<String>,
    pub name: Option<String>,
    pub query_definition_id: Option<String>,
    pub log_group_names: Option<Vec<String>>,
    pub query_string: Option<String>,
    pub client_token: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutQueryDefinitionResponse {
    pub query_definition_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueryDefinitionsRequest {
    pub query_language: Option<String>,
    pub query_definition_name_prefix: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// A saved query as DescribeQueryDefinitions shows it (and as the engine keeps it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryDefinition {
    pub query_language: String,
    pub query_definition_id: String,
    pub name: String,
    pub query_string: String,
    /// Milliseconds since the epoch.
    pub last_modified: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_group_names: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueryDefinitionsResponse {
    pub query_definitions: Vec<QueryDefinition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQueryDefinitionRequest {
    pub query_definition_id: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQueryDefinitionResponse {
    pub success: bool,
}
