//! flowwatch's own operation for capture processes: PutFlowRecords (awsJson 1.1,
//! `X-Amz-Target: Flowwatch_20261123.PutFlowRecords`; `docs/flow-records.md`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutFlowRecordsInput {
    /// The interface the records were captured on (`eni-…`).
    pub interface_id: Option<String>,
    /// The `${field}` list the records are written in; default: every VPC field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// One record per line, in `format`.
    pub records: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutFlowRecordsOutput {
    /// The flow logs covering the interface.
    pub flow_log_ids: Vec<String>,
    /// Record deliveries made (a record kept by two flow logs counts twice).
    pub delivered: usize,
}
