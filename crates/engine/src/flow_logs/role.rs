//! Delivery to CloudWatch Logs as the flow log's IAM role (`spec/flowlogs.md` §6): the flow
//! logs service assumes the role named by `DeliverLogsPermissionArn`, so the role must exist in
//! the flow log's account, its trust policy must let `vpc-flow-logs.amazonaws.com` assume it
//! (with `aws:SourceAccount` = the account and `aws:SourceArn` = the flow log's ARN in the
//! context, for the guide's recommended conditions), and its identity policies must allow what
//! the delivery does: `logs:CreateLogGroup` when the group is missing, `logs:CreateLogStream`
//! when the stream is, and `logs:PutLogEvents` on the stream. The policy and trust documents of
//! the user guide work verbatim.
//!
//! With `--auth off` there is no IAM to speak of, and deliveries are not checked.

use flowwatch_model::Scope;
use flowwatch_model::arn::{log_group_arn, log_stream_arn};
use flowwatch_security::policy::{Principal, RequestContext, access_denied_message};

use super::resource::FlowLog;
use crate::Engine;

/// The service principal that assumes delivery roles.
pub const FLOW_LOGS_SERVICE: &str = "vpc-flow-logs.amazonaws.com";
/// The session name deliveries run as.
const SESSION_NAME: &str = "vpc-flow-logs";

impl Engine {
    /// Why flow log `log`'s role may not deliver to stream `stream` of log group `group` now,
    /// in words for the server's log (`None`: it may). DescribeFlowLogs shows every refusal as
    /// `Access error`, as AWS does.
    pub(super) async fn role_refusal(
        &self,
        log: &FlowLog,
        group: &str,
        stream: &str,
    ) -> Option<String> {
        if !self.config.auth.verify {
            return None;
        }
        let Some(role_arn) = log.deliver_logs_permission_arn.as_deref() else {
            return Some("the flow log has no DeliverLogsPermissionArn".to_owned());
        };
        let Some((path, name, role_id)) = self.role_identity(&log.account, role_arn).await else {
            return Some(format!(
                "role {role_arn} does not exist in account {}",
                log.account
            ));
        };
        let now_secs = self.now().div_euclid(1000);
        let flow_log_arn = format!(
            "arn:aws:ec2:{}:{}:vpc-flow-log/{}",
            log.region, log.account, log.id
        );
        let trust = RequestContext::new(
            Principal::service(FLOW_LOGS_SERVICE),
            "sts:AssumeRole",
            role_arn,
        )
        .at(now_secs)
        .with("aws:SourceAccount", log.account.clone())
        .with("aws:SourceArn", flow_log_arn);
        if !self.authorize_assume_role(&trust).await.is_allowed() {
            return Some(format!(
                "the trust policy of role {role_arn} does not let {FLOW_LOGS_SERVICE} assume it"
            ));
        }
        let session = Principal::assumed_role(&log.account, &path, &name, SESSION_NAME, &role_id);
        let scope = Scope {
            account: log.account.clone(),
            region: log.region.clone(),
        };
        let (group_exists, stream_exists) = match self.storage().stream_key(&scope, group, stream) {
            Ok(_) => (true, true),
            Err(flowwatch_storage::StorageError::LogStreamNotFound) => (true, false),
            Err(_) => (false, false),
        };
        let group_arn = log_group_arn(&scope, group);
        let mut needed = Vec::with_capacity(3);
        if !group_exists {
            needed.push(("logs:CreateLogGroup", group_arn.clone()));
        }
        if !stream_exists {
            needed.push(("logs:CreateLogStream", group_arn));
        }
        needed.push(("logs:PutLogEvents", log_stream_arn(&scope, group, stream)));
        for (action, resource) in needed {
            let context = RequestContext::new(session.clone(), action, resource).at(now_secs);
            let decision = self.authorize(&context).await;
            if let Some(message) = access_denied_message(&context, &decision) {
                return Some(message);
            }
        }
        None
    }
}
