//! The audit trail: a CloudTrail record for every API call the server answers, of every
//! service and protocol, allowed or denied, successful or failed (spec `cloudtrail-iam.md`
//! Part A), and LookupEvents over them (Part C, [`lookup`]).
//!
//! The server hands each answered call to [`Engine::record_api_call`] from one place in its
//! request path; [`record::build`] turns it into the record (pure, with the per-service
//! tables of `services`: event source, data events, read-only operations, secrets). Records
//! are stored like log events, through the storage engine, so they are exactly as durable: one
//! event per record (its JSON text, timestamp = the completion time) in the hidden internal
//! log group [`AUDIT_GROUP`] of the caller's account and region (names starting with `aws/`
//! are reserved, so no user group collides; hidden from the Logs API like the metric-data
//! group; kept 90 days, CloudTrail's event history). Management events go to the stream
//! [`MANAGEMENT_STREAM`], data events to [`DATA_STREAM`], so LookupEvents (management events
//! only) never reads past data-plane traffic.
//!
//! Trails ([`trails`]) deliver each management record to their log groups too, and write
//! log files and signed digest files to their S3 bucket ([`keys`] holds the signing keys).
//!
//! The call is answered only once its record is durable. The append runs in its own task, so
//! a client that hangs up cannot cancel it half-way.

pub mod keys;
pub mod lookup;
pub mod members;
pub mod record;
pub(crate) mod services;
pub mod trails;

use flowwatch_model::{ApiResult, Scope};
use flowwatch_security::policy::PrincipalKind;
use flowwatch_storage::{EventRef, StreamKey};

pub use record::{ApiCall, Built, Identity, request_members};

use crate::{Engine, storage_error};

/// The internal log group holding audit records (hidden; `aws/` is reserved).
pub const AUDIT_GROUP: &str = "aws/cloudtrail/events";
/// The stream of management events.
pub const MANAGEMENT_STREAM: &str = "management";
/// The stream of data events.
pub const DATA_STREAM: &str = "data";
/// How long records are kept (CloudTrail's event history: 90 days).
pub const RETENTION_DAYS: i64 = 90;

impl Engine {
    /// Records one answered call and waits until the record is durable. A failure to store it
    /// is logged (the call's own answer stands).
    pub async fn record_api_call(&self, call: ApiCall<'_>) {
        let mut call = call;
        // A role session's record says when the session was issued.
        if let Identity::Known {
            principal,
            access_key_id,
            session_created_ms: None,
        } = call.identity
            && matches!(principal.kind, PrincipalKind::AssumedRole { .. })
        {
            call.identity = Identity::Known {
                principal,
                access_key_id,
                session_created_ms: self.session_created_ms(access_key_id).await,
            };
        }
        let now = self.now();
        let event_id = uuid::Uuid::new_v4().to_string();
        let built = record::build(&call, now, &event_id);
        let scope = Scope {
            account: call.account.to_owned(),
            region: call.region.to_owned(),
        };
        let engine = self.clone();
        let stored = tokio::spawn(async move { engine.store_record(&scope, now, built).await });
        match stored.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(code = %error.code, message = %error.message, "audit record not stored");
            }
            Err(error) => tracing::error!(%error, "audit record task failed"),
        }
    }

    async fn store_record(&self, scope: &Scope, now: i64, built: Built) -> ApiResult<()> {
        let stream = if built.management {
            MANAGEMENT_STREAM
        } else {
            DATA_STREAM
        };
        let key = self.audit_stream(scope, stream).await?;
        let event = EventRef {
            timestamp: now,
            message: &built.json,
        };
        self.storage()
            .append(key, now, &[event])
            .await
            .map_err(storage_error)?;
        // Trails log management events (CloudTrail's default event selectors).
        if built.management {
            self.deliver_to_trails(scope, now, &built).await;
        }
        Ok(())
    }

    /// The audit stream `stream` of `scope`, created (with its group) on first use.
    pub(crate) async fn audit_stream(&self, scope: &Scope, stream: &str) -> ApiResult<StreamKey> {
        self.internal_stream(scope, AUDIT_GROUP, stream, RETENTION_DAYS, |_| {})
            .await
    }
}
