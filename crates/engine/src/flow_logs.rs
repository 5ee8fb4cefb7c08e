//! VPC flow logs as EC2 resources (`spec/flowlogs.md` §9): CreateFlowLogs, DescribeFlowLogs and
//! DeleteFlowLogs over the persisted [`FlowLogSet`] (engine state `flow_logs`). What a flow log
//! is and how CreateFlowLogs' parameters are checked is in [`resource`]; DescribeFlowLogs'
//! filters in [`describe`]; delivery to CloudWatch Logs as the flow log's role in `role`, with
//! the records it could not deliver yet held in `backlog`; delivery to S3 in `s3`.

mod backlog;
mod delivery;
mod describe;
mod inventory;
pub(crate) mod resource;
mod role;
mod s3;

use std::collections::BTreeMap;

use flowwatch_model::ec2::{
    CreateFlowLogsInput, CreateFlowLogsOutput, DeleteFlowLogsInput, DeleteFlowLogsOutput,
    DescribeFlowLogsInput, DescribeFlowLogsOutput, UnsuccessfulItem, UnsuccessfulItemError,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};
use serde::{Deserialize, Serialize};

use crate::Engine;
pub use backlog::BACKLOG_GROUP;
pub(crate) use backlog::Backlog;
pub use delivery::full_format;
pub use inventory::{Interface, Inventory, InventoryError};
use resource::{FlowLog, MAX_RESOURCE_IDS, ResourceType, invalid, missing};
pub use role::FLOW_LOGS_SERVICE;
pub(crate) use s3::S3Delivery;
pub use s3::S3DeliveryConfig;

/// Most flow logs on one resource (EC2's quota per resource per account).
const MAX_FLOW_LOGS_PER_RESOURCE: usize = 250;

/// Every flow log, and the answers given to ClientTokens (CreateFlowLogs is idempotent per
/// token).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct FlowLogSet {
    /// In creation order.
    pub logs: Vec<FlowLog>,
    /// `<account>/<region>/<token>` to the call it answered.
    pub tokens: BTreeMap<String, IssuedToken>,
}

/// A CreateFlowLogs call made with a ClientToken.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IssuedToken {
    /// The call's parameters (without DryRun and the token), to tell a retry from a misuse.
    pub fingerprint: String,
    pub output: CreateFlowLogsOutput,
}

fn dry_run() -> ApiError {
    ApiError::new(
        ErrorCode::DryRunOperation,
        "Request would have succeeded, but DryRun flag is set.",
    )
}

fn unsuccessful(
    resource_id: &str,
    code: ErrorCode,
    message: impl Into<String>,
) -> UnsuccessfulItem {
    UnsuccessfulItem {
        error: UnsuccessfulItemError {
            code: code.query_code().to_owned(),
            message: message.into(),
        },
        resource_id: resource_id.to_owned(),
    }
}

/// The `unsuccessful` item of a resource the inventory does not list.
fn not_in(inventory: &Inventory, kind: ResourceType, id: &str) -> Option<UnsuccessfulItem> {
    let (known, code, noun) = match kind {
        ResourceType::Vpc => (
            inventory.in_vpc(id).next().is_some(),
            ErrorCode::InvalidVpcIdNotFound,
            "vpc",
        ),
        ResourceType::Subnet => (
            inventory.in_subnet(id).next().is_some(),
            ErrorCode::InvalidSubnetIdNotFound,
            "subnet",
        ),
        ResourceType::NetworkInterface => (
            inventory.interface(id).is_some(),
            ErrorCode::InvalidNetworkInterfaceIdNotFound,
            "networkInterface",
        ),
    };
    (!known).then(|| unsuccessful(id, code, format!("The {noun} ID '{id}' does not exist")))
}

/// A new flow-log id: `fl-` and 17 hex digits.
fn new_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("fl-{}", &hex[..17])
}

impl Engine {
    /// CreateFlowLogs: one flow log per resource; per-resource failures (duplicates, quota)
    /// are `unsuccessful` items, not errors of the call.
    pub async fn create_flow_logs(
        &self,
        caller: &Caller,
        input: CreateFlowLogsInput,
    ) -> ApiResult<CreateFlowLogsOutput> {
        let (account, region) = (&caller.scope.account, &caller.scope.region);
        let request = resource::validate(&input, account, region)?;
        if input.dry_run == Some(true) {
            return Err(dry_run());
        }
        let fingerprint = {
            let mut plain = input.clone();
            plain.client_token = None;
            plain.dry_run = None;
            serde_json::to_string(&plain).unwrap_or_default()
        };
        let token_key = input
            .client_token
            .as_ref()
            .map(|t| format!("{account}/{region}/{t}"));
        let now = self.now();
        self.flow_logs
            .update_when(|set| {
                if let Some(key) = &token_key
                    && let Some(issued) = set.tokens.get(key)
                {
                    if issued.fingerprint != fingerprint {
                        return Err(ApiError::new(
                            ErrorCode::IdempotentParameterMismatch,
                            "The client token has been used with different parameters",
                        ));
                    }
                    return Ok((issued.output.clone(), false));
                }
                let mut output = CreateFlowLogsOutput {
                    client_token: input.client_token.clone(),
                    ..Default::default()
                };
                for resource_id in &request.resource_ids {
                    if let Some(inventory) = &self.config.inventory
                        && let Some(missing) = not_in(inventory, request.resource_type, resource_id)
                    {
                        output.unsuccessful.push(missing);
                        continue;
                    }
                    let on_resource = set.logs.iter().filter(|l| {
                        l.account == *account && l.region == *region && l.resource_id == *resource_id
                    });
                    let mut count = 0;
                    let mut duplicate = false;
                    for existing in on_resource {
                        count += 1;
                        duplicate |= existing.traffic_type == request.traffic_type
                            && existing.log_destination == request.log_destination;
                    }
                    if duplicate {
                        output.unsuccessful.push(unsuccessful(
                            resource_id,
                            ErrorCode::FlowLogAlreadyExists,
                            "Error. There is an existing Flow Log with the same configuration and log destination.",
                        ));
                        continue;
                    }
                    if count >= MAX_FLOW_LOGS_PER_RESOURCE {
                        output.unsuccessful.push(unsuccessful(
                            resource_id,
                            ErrorCode::FlowLogsLimitExceeded,
                            format!("Resource {resource_id} already has {MAX_FLOW_LOGS_PER_RESOURCE} flow logs"),
                        ));
                        continue;
                    }
                    let id = new_id();
                    output.flow_log_id_set.push(id.clone());
                    set.logs.push(FlowLog {
                        id,
                        account: account.clone(),
                        region: region.clone(),
                        creation_time: now,
                        resource_type: request.resource_type,
                        resource_id: resource_id.clone(),
                        traffic_type: request.traffic_type,
                        destination: request.destination.clone(),
                        log_destination: request.log_destination.clone(),
                        deliver_logs_permission_arn: request.deliver_logs_permission_arn.clone(),
                        deliver_cross_account_role: request.deliver_cross_account_role.clone(),
                        log_format: request.log_format.clone(),
                        max_aggregation_interval: request.max_aggregation_interval,
                        tags: request.tags.clone(),
                        delivery_error: None,
                    });
                }
                if let Some(key) = token_key {
                    set.tokens.insert(
                        key,
                        IssuedToken {
                            fingerprint,
                            output: output.clone(),
                        },
                    );
                }
                Ok((output, true))
            })
            .await
    }

    /// DescribeFlowLogs: the caller's flow logs, by id and filters, a page at a time.
    pub async fn describe_flow_logs(
        &self,
        caller: &Caller,
        input: DescribeFlowLogsInput,
    ) -> ApiResult<DescribeFlowLogsOutput> {
        let query = describe::Query::new(&input)?;
        if input.dry_run == Some(true) {
            return Err(dry_run());
        }
        let scope = &caller.scope;
        self.flow_logs
            .read(|set| {
                let matching: Vec<&FlowLog> = set
                    .logs
                    .iter()
                    .filter(|l| l.account == scope.account && l.region == scope.region)
                    .filter(|l| query.matches(l))
                    .collect();
                query.page(&matching)
            })
            .await
    }

    /// DeleteFlowLogs: ids that name no flow log of the caller are `unsuccessful` items.
    pub async fn delete_flow_logs(
        &self,
        caller: &Caller,
        input: DeleteFlowLogsInput,
    ) -> ApiResult<DeleteFlowLogsOutput> {
        let ids = input.flow_log_id.unwrap_or_default();
        if ids.is_empty() {
            return Err(missing("FlowLogId"));
        }
        if ids.len() > MAX_RESOURCE_IDS {
            return Err(invalid(format!(
                "At most {MAX_RESOURCE_IDS} FlowLogIds may be given, not {}",
                ids.len()
            )));
        }
        if input.dry_run == Some(true) {
            return Err(dry_run());
        }
        let scope = &caller.scope;
        self.flow_logs
            .update_when(|set| {
                let mut output = DeleteFlowLogsOutput::default();
                let before = set.logs.len();
                for id in &ids {
                    let found = set.logs.iter().position(|l| {
                        l.id == *id && l.account == scope.account && l.region == scope.region
                    });
                    match found {
                        Some(i) => {
                            set.logs.remove(i);
                        }
                        None => output.unsuccessful.push(unsuccessful(
                            id,
                            ErrorCode::InvalidFlowLogIdNotFound,
                            format!("Flow Log Id '{id}' does not exist"),
                        )),
                    }
                }
                let changed = set.logs.len() != before;
                Ok((output, changed))
            })
            .await
    }

    /// The flow logs covering interface `eni`: on the interface itself, or on its VPC or
    /// subnet as the inventory places it.
    pub(crate) async fn flow_logs_covering(&self, eni: &str) -> Vec<FlowLog> {
        let place = self
            .config
            .inventory
            .as_ref()
            .and_then(|inventory| inventory.interface(eni).cloned())
            .unwrap_or_default();
        self.flow_logs
            .read(|set| {
                set.logs
                    .iter()
                    .filter(|l| match l.resource_type {
                        ResourceType::NetworkInterface => l.resource_id == eni,
                        ResourceType::Vpc => place.vpc_id.as_deref() == Some(&l.resource_id),
                        ResourceType::Subnet => place.subnet_id.as_deref() == Some(&l.resource_id),
                    })
                    .cloned()
                    .collect()
            })
            .await
    }
}
