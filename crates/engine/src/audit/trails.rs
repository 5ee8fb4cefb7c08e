//! CloudTrail trails: CreateTrail, DescribeTrails, GetTrailStatus, StartLogging, StopLogging,
//! DeleteTrail, and the delivery of each management event to the CloudWatch Logs group of every
//! trail that is logging.
//!
//! Trails are one [`TrailSet`] saved whole in the catalog's engine state (`cloudtrail_trails`)
//! before a change is answered, like alarms and flow logs. A trail created by the API is not
//! logging until StartLogging, as in CloudTrail. A trail logs the management events of its
//! home region, or of every region when it is multi-region (the trail is then listed in every
//! region's DescribeTrails, as a shadow trail outside its home).
//!
//! Delivery: `Engine::deliver_to_trails` appends each management record, as written in the
//! audit group, as one event of the trail's group (`CloudWatchLogsLogGroupArn`), stream
//! `<account>_CloudTrail_<region>` (created on first use), through the storage engine, so
//! metric filters, filter patterns and Insights work on it as on any event. The group must
//! exist; a failed delivery is kept as the trail's `LatestCloudWatchLogsDeliveryError` (in
//! memory). Log files and digest files go to the trail's `S3BucketName` (module `files`), read back
//! from the audit stream every few minutes.

use std::collections::BTreeMap;

use flowwatch_model::cloudtrail::{
    CreateTrailRequest, DescribeTrailsRequest, DescribeTrailsResponse, EventSelectorsResponse,
    GetEventSelectorsRequest, PutEventSelectorsRequest, Trail, TrailNameRequest, TrailStatus,
    UpdateTrailRequest,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, Scope};
use serde::{Deserialize, Serialize};

use super::record::event_time;

mod delivery;
mod files;
mod selectors;

use crate::Engine;
pub use delivery::{Deliveries, DeliveryStatus};
pub use files::{MAX_FILE_RECORDS, REREAD_MS, S3Status, TrailFiles, TrailFilesConfig};
pub(crate) use selectors::Facts;
use selectors::Selectors;

/// Longest `S3KeyPrefix` (CloudTrail: 200).
const MAX_PREFIX_CHARS: usize = 200;
/// Trails per region (CloudTrail: 5).
const MAX_TRAILS_PER_REGION: usize = 5;

/// Every trail, by ARN.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrailSet {
    pub(crate) trails: BTreeMap<String, TrailRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TrailRecord {
    name: String,
    account: String,
    home_region: String,
    s3_bucket_name: String,
    s3_key_prefix: Option<String>,
    sns_topic_name: Option<String>,
    pub(crate) include_global_service_events: bool,
    is_multi_region: bool,
    log_file_validation: bool,
    pub(crate) log_group_arn: Option<String>,
    role_arn: Option<String>,
    kms_key_id: Option<String>,
    pub(crate) logging: bool,
    start_logging_ms: Option<i64>,
    stop_logging_ms: Option<i64>,
    /// The latest times the trail logged, `[start, stop)` (stop `None`: still logging), oldest
    /// first, at most [`MAX_LOGGING_PERIODS`]: S3 delivery writes only the records of these.
    #[serde(default)]
    logging_periods: Vec<(i64, Option<i64>)>,
    /// PutEventSelectors' selectors (saved before they existed: the default).
    #[serde(default)]
    selectors: Selectors,
}

/// Logging periods a trail remembers (S3 delivery runs every few minutes, so only the latest
/// matter).
const MAX_LOGGING_PERIODS: usize = 32;

fn trail_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::TrailNotFoundException,
        format!("Unknown trail: {name} for the user: the trail does not exist."),
    )
}

/// CloudTrail's trail-name rules: 3–128 letters, digits, `.`, `_`, `-`; starting and ending
/// with a letter or digit; no two of `.`, `_`, `-` in a row; not an IP address.
fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let punct = |b: u8| matches!(b, b'.' | b'_' | b'-');
    (3..=128).contains(&bytes.len())
        && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || punct(b))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !bytes.windows(2).any(|w| punct(w[0]) && punct(w[1]))
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// The (region, account, group name) of a `CloudWatchLogsLogGroupArn`
/// (`arn:aws:logs:<region>:<account>:log-group:<name>[:*]`).
pub(crate) fn log_group_of(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("logs"), Some(region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let name = rest.strip_prefix("log-group:")?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    (!name.is_empty() && !region.is_empty() && !account.is_empty())
        .then_some((region, account, name))
}

impl TrailRecord {
    fn arn(&self) -> String {
        trail_arn(&self.home_region, &self.account, &self.name)
    }

    fn shape(&self) -> Trail {
        Trail {
            name: self.name.clone(),
            s3_bucket_name: self.s3_bucket_name.clone(),
            s3_key_prefix: self.s3_key_prefix.clone(),
            sns_topic_name: self.sns_topic_name.clone(),
            include_global_service_events: self.include_global_service_events,
            is_multi_region_trail: self.is_multi_region,
            home_region: self.home_region.clone(),
            trail_arn: self.arn(),
            log_file_validation_enabled: self.log_file_validation,
            cloud_watch_logs_log_group_arn: self.log_group_arn.clone(),
            cloud_watch_logs_role_arn: self.role_arn.clone(),
            kms_key_id: self.kms_key_id.clone(),
            has_custom_event_selectors: self.selectors != Selectors::Default,
            has_insight_selectors: false,
            is_organization_trail: false,
        }
    }

    /// Whether the trail was logging at `ms`.
    pub(crate) fn logged_at(&self, ms: i64) -> bool {
        if self.logging_periods.is_empty() {
            // Saved before logging periods were kept.
            return self.logging && self.start_logging_ms.is_some_and(|s| ms >= s);
        }
        self.logging_periods
            .iter()
            .any(|&(start, stop)| ms >= start && stop.is_none_or(|stop| ms < stop))
    }

    /// Put/GetEventSelectors' answer.
    fn selectors_response(&self, trail_arn: String) -> EventSelectorsResponse {
        let (event_selectors, advanced_event_selectors) = self.selectors.shapes();
        EventSelectorsResponse {
            trail_arn,
            event_selectors,
            advanced_event_selectors,
        }
    }

    /// Whether the trail's event selectors choose the stored management record `json` (read
    /// only when the trail has selectors of its own).
    pub(crate) fn selects(&self, json: &str) -> bool {
        match &self.selectors {
            Selectors::Default => true,
            selectors => Facts::of_json(json).is_some_and(|f| selectors.logs(&f)),
        }
    }

    /// Whether the trail's event selectors choose a record with `facts`.
    pub(crate) fn selects_facts(&self, facts: &Facts) -> bool {
        self.selectors.logs(facts)
    }

    /// Whether the trail is seen from `scope` (its home region, or any region when it is
    /// multi-region).
    pub(crate) fn visible_in(&self, scope: &Scope) -> bool {
        self.account == scope.account && (self.home_region == scope.region || self.is_multi_region)
    }
}

impl TrailSet {
    /// The ARN of the trail `name` (a name or an ARN) seen from `scope`.
    fn find(&self, scope: &Scope, name: &str) -> ApiResult<String> {
        if name.starts_with("arn:") {
            return self
                .trails
                .get(name)
                .filter(|t| t.visible_in(scope))
                .map(|_| name.to_owned())
                .ok_or_else(|| not_found(name));
        }
        let home = trail_arn(&scope.region, &scope.account, name);
        if self.trails.contains_key(&home) {
            return Ok(home);
        }
        self.trails
            .iter()
            .find(|(_, t)| t.name == name && t.visible_in(scope))
            .map(|(arn, _)| arn.clone())
            .ok_or_else(|| not_found(name))
    }
}

fn required<'a>(member: &str, value: &'a Option<String>) -> ApiResult<&'a str> {
    value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidParameterException,
            format!("{member} is required."),
        )
    })
}

/// Changes are made in a trail's home region (CloudTrail: `InvalidHomeRegionException`).
fn home_region_only(trail: &TrailRecord, name: &str, scope: &Scope) -> ApiResult<()> {
    if trail.home_region == scope.region {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidHomeRegionException,
        format!(
            "The trail {name} can only be changed in its home region {}.",
            trail.home_region
        ),
    ))
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn valid_bucket(bucket: &str) -> ApiResult<&str> {
    if !flowwatch_model::names::valid_bucket_name(bucket) {
        return Err(ApiError::new(
            ErrorCode::InvalidS3BucketNameException,
            format!("Bucket name {bucket} is not valid."),
        ));
    }
    Ok(bucket)
}

/// The `S3KeyPrefix` without surrounding slashes, `None` when empty.
fn valid_prefix(prefix: Option<&str>) -> ApiResult<Option<String>> {
    let prefix = prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty());
    if let Some(p) = prefix
        && (p.len() > MAX_PREFIX_CHARS || !flowwatch_model::names::valid_key_prefix(p))
    {
        return Err(ApiError::new(
            ErrorCode::InvalidS3PrefixException,
            format!("S3 key prefix {p} is not valid."),
        ));
    }
    Ok(prefix.map(str::to_owned))
}

impl Engine {
    /// The CloudWatch Logs delivery of a trail: a log group of the caller's account that exists
    /// and a role, both or neither (empty strings are absent: UpdateTrail removes the delivery
    /// with two empty strings).
    fn valid_logs_delivery(
        &self,
        caller: &Caller,
        group: &str,
        role: &str,
    ) -> ApiResult<(Option<String>, Option<String>)> {
        match (!group.is_empty(), !role.is_empty()) {
            (false, false) => Ok((None, None)),
            (true, true) => {
                let invalid_group = || {
                    ApiError::new(
                        ErrorCode::InvalidCloudWatchLogsLogGroupArnException,
                        format!(
                            "CloudWatch Logs log group ARN {group} is not valid or does not exist."
                        ),
                    )
                };
                let (region, account, group_name) =
                    log_group_of(group).ok_or_else(invalid_group)?;
                let scope = Scope {
                    account: account.to_owned(),
                    region: region.to_owned(),
                };
                if account != caller.scope.account
                    || self.storage().log_group(&scope, group_name).is_none()
                {
                    return Err(invalid_group());
                }
                if !role.starts_with("arn:aws:iam::") || !role.contains(":role/") {
                    return Err(ApiError::new(
                        ErrorCode::InvalidCloudWatchLogsRoleArnException,
                        format!("CloudWatch Logs role ARN {role} is not valid."),
                    ));
                }
                Ok((Some(group.to_owned()), Some(role.to_owned())))
            }
            (true, false) => Err(ApiError::new(
                ErrorCode::InvalidCloudWatchLogsRoleArnException,
                "A CloudWatchLogsRoleArn is required with a CloudWatchLogsLogGroupArn.",
            )),
            (false, true) => Err(ApiError::new(
                ErrorCode::InvalidCloudWatchLogsLogGroupArnException,
                "A CloudWatchLogsLogGroupArn is required with a CloudWatchLogsRoleArn.",
            )),
        }
    }

    pub async fn create_trail(&self, caller: &Caller, req: CreateTrailRequest) -> ApiResult<Trail> {
        let name = required("Name", &req.name)?;
        if !valid_name(name) {
            return Err(ApiError::new(
                ErrorCode::InvalidTrailNameException,
                "Trail name must be 3 to 128 characters long, start and end with a letter or \
                 number, and contain only letters, numbers, periods, underscores and dashes, \
                 with no two of these in a row.",
            ));
        }
        let bucket = valid_bucket(required("S3BucketName", &req.s3_bucket_name)?)?;
        let prefix = valid_prefix(req.s3_key_prefix.as_deref())?;
        let (group_arn, role_arn) = self.valid_logs_delivery(
            caller,
            req.cloud_watch_logs_log_group_arn.as_deref().unwrap_or(""),
            req.cloud_watch_logs_role_arn.as_deref().unwrap_or(""),
        )?;
        if req.is_organization_trail == Some(true) {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterException,
                "Organization trails are not supported.",
            ));
        }
        let record = TrailRecord {
            name: name.to_owned(),
            account: caller.scope.account.clone(),
            home_region: caller.scope.region.clone(),
            s3_bucket_name: bucket.to_owned(),
            s3_key_prefix: prefix,
            sns_topic_name: req.sns_topic_name.filter(|t| !t.is_empty()),
            include_global_service_events: req.include_global_service_events.unwrap_or(true),
            is_multi_region: req.is_multi_region_trail.unwrap_or(false),
            log_file_validation: req.enable_log_file_validation.unwrap_or(false),
            log_group_arn: group_arn,
            role_arn,
            kms_key_id: req.kms_key_id.filter(|k| !k.is_empty()),
            logging: false,
            start_logging_ms: None,
            stop_logging_ms: None,
            logging_periods: Vec::new(),
            selectors: Selectors::Default,
        };
        let arn = record.arn();
        let shape = record.shape();
        self.trails
            .update(|set| {
                if set.trails.contains_key(&arn) {
                    return Err(ApiError::new(
                        ErrorCode::TrailAlreadyExistsException,
                        format!(
                            "Trail {} already exists for customer: {}",
                            record.name, record.account
                        ),
                    ));
                }
                let in_region = set
                    .trails
                    .values()
                    .filter(|t| t.account == record.account && t.home_region == record.home_region)
                    .count();
                if in_region >= MAX_TRAILS_PER_REGION {
                    return Err(ApiError::new(
                        ErrorCode::MaximumNumberOfTrailsExceededException,
                        format!(
                            "User: {} already has {MAX_TRAILS_PER_REGION} trails in {}.",
                            record.account, record.home_region
                        ),
                    ));
                }
                set.trails.insert(arn.clone(), record);
                Ok(())
            })
            .await?;
        Ok(shape)
    }

    pub async fn describe_trails(
        &self,
        caller: &Caller,
        req: DescribeTrailsRequest,
    ) -> ApiResult<DescribeTrailsResponse> {
        let shadows = req.include_shadow_trails.unwrap_or(true);
        let names = req.trail_name_list.unwrap_or_default();
        let scope = &caller.scope;
        let trail_list = self
            .trails
            .read(|set| {
                set.trails
                    .values()
                    .filter(|t| t.visible_in(scope) && (shadows || t.home_region == scope.region))
                    .filter(|t| {
                        names.is_empty() || names.iter().any(|n| *n == t.name || *n == t.arn())
                    })
                    .map(TrailRecord::shape)
                    .collect()
            })
            .await;
        Ok(DescribeTrailsResponse { trail_list })
    }

    pub async fn get_trail_status(
        &self,
        caller: &Caller,
        req: TrailNameRequest,
    ) -> ApiResult<TrailStatus> {
        let name = required("Name", &req.name)?;
        let (arn, trail) = self
            .trails
            .read(|set| {
                let arn = set.find(&caller.scope, name)?;
                let trail = set
                    .trails
                    .get(&arn)
                    .cloned()
                    .ok_or_else(|| not_found(name))?;
                Ok::<_, ApiError>((arn, trail))
            })
            .await?;
        let delivery = self
            .trail_deliveries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&arn)
            .cloned()
            .unwrap_or_default();
        let s3 = self.s3_status(&arn);
        Ok(TrailStatus {
            is_logging: trail.logging,
            latest_delivery_time: s3.latest_ms.map(secs),
            latest_delivery_error: s3.latest_error,
            latest_digest_delivery_time: s3.latest_digest_ms.map(secs),
            latest_digest_delivery_error: s3.latest_digest_error,
            start_logging_time: trail.start_logging_ms.map(secs),
            stop_logging_time: trail.stop_logging_ms.map(secs),
            latest_cloud_watch_logs_delivery_time: delivery.latest_ms.map(secs),
            latest_cloud_watch_logs_delivery_error: delivery.latest_error,
            time_logging_started: trail.start_logging_ms.map(event_time),
            time_logging_stopped: trail.stop_logging_ms.map(event_time),
        })
    }

    /// StartLogging (`on`) or StopLogging.
    pub async fn set_trail_logging(
        &self,
        caller: &Caller,
        req: TrailNameRequest,
        on: bool,
    ) -> ApiResult<serde_json::Value> {
        let name = required("Name", &req.name)?;
        let now = self.now();
        self.trails
            .update_when(|set| {
                let arn = set.find(&caller.scope, name)?;
                let trail = set.trails.get_mut(&arn).ok_or_else(|| not_found(name))?;
                if trail.home_region != caller.scope.region {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameterException,
                        format!(
                            "The trail {name} can only be changed in its home region {}.",
                            trail.home_region
                        ),
                    ));
                }
                if trail.logging == on {
                    return Ok(((), false));
                }
                trail.logging = on;
                if on {
                    trail.start_logging_ms = Some(now);
                    trail.logging_periods.push((now, None));
                    let excess = trail
                        .logging_periods
                        .len()
                        .saturating_sub(MAX_LOGGING_PERIODS);
                    trail.logging_periods.drain(..excess);
                } else {
                    trail.stop_logging_ms = Some(now);
                    if let Some((_, stop)) = trail.logging_periods.last_mut() {
                        *stop = Some(now);
                    }
                }
                Ok(((), true))
            })
            .await?;
        Ok(serde_json::json!({}))
    }

    /// UpdateTrail: changes the members given, with CreateTrail's checks; in the trail's home
    /// region only.
    pub async fn update_trail(&self, caller: &Caller, req: UpdateTrailRequest) -> ApiResult<Trail> {
        let name = required("Name", &req.name)?;
        let bucket = match req.s3_bucket_name.as_deref() {
            Some(b) => Some(valid_bucket(b)?.to_owned()),
            None => None,
        };
        let prefix = match req.s3_key_prefix.as_deref() {
            Some(p) => Some(valid_prefix(Some(p))?),
            None => None,
        };
        let logs = match (
            &req.cloud_watch_logs_log_group_arn,
            &req.cloud_watch_logs_role_arn,
        ) {
            (None, None) => None,
            (group, role) => Some(self.valid_logs_delivery(
                caller,
                group.as_deref().unwrap_or(""),
                role.as_deref().unwrap_or(""),
            )?),
        };
        if req.is_organization_trail == Some(true) {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterException,
                "Organization trails are not supported.",
            ));
        }
        self.trails
            .update(|set| {
                let arn = set.find(&caller.scope, name)?;
                let trail = set.trails.get_mut(&arn).ok_or_else(|| not_found(name))?;
                home_region_only(trail, name, &caller.scope)?;
                if let Some(bucket) = bucket {
                    trail.s3_bucket_name = bucket;
                }
                if let Some(prefix) = prefix {
                    trail.s3_key_prefix = prefix;
                }
                if let Some(topic) = req.sns_topic_name {
                    trail.sns_topic_name = Some(topic).filter(|t| !t.is_empty());
                }
                if let Some(global) = req.include_global_service_events {
                    trail.include_global_service_events = global;
                }
                if let Some(multi) = req.is_multi_region_trail {
                    trail.is_multi_region = multi;
                }
                if let Some(validation) = req.enable_log_file_validation {
                    trail.log_file_validation = validation;
                }
                if let Some((group, role)) = logs {
                    trail.log_group_arn = group;
                    trail.role_arn = role;
                }
                if let Some(key) = req.kms_key_id {
                    trail.kms_key_id = Some(key).filter(|k| !k.is_empty());
                }
                Ok(trail.shape())
            })
            .await
    }

    /// PutEventSelectors: replaces the trail's selectors (basic or advanced, not both).
    pub async fn put_event_selectors(
        &self,
        caller: &Caller,
        req: PutEventSelectorsRequest,
    ) -> ApiResult<EventSelectorsResponse> {
        let name = required("TrailName", &req.trail_name)?;
        let selectors = match (req.event_selectors, req.advanced_event_selectors) {
            (Some(basic), None) => Selectors::basic(basic)?,
            (None, Some(advanced)) => Selectors::advanced(advanced)?,
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameterCombinationException,
                    "Specify either EventSelectors or AdvancedEventSelectors, but not both.",
                ));
            }
        };
        self.trails
            .update(|set| {
                let arn = set.find(&caller.scope, name)?;
                let trail = set.trails.get_mut(&arn).ok_or_else(|| not_found(name))?;
                home_region_only(trail, name, &caller.scope)?;
                trail.selectors = selectors;
                Ok(trail.selectors_response(arn))
            })
            .await
    }

    /// GetEventSelectors.
    pub async fn get_event_selectors(
        &self,
        caller: &Caller,
        req: GetEventSelectorsRequest,
    ) -> ApiResult<EventSelectorsResponse> {
        let name = required("TrailName", &req.trail_name)?;
        self.trails
            .read(|set| {
                let arn = set.find(&caller.scope, name)?;
                let trail = set.trails.get(&arn).ok_or_else(|| not_found(name))?;
                Ok(trail.selectors_response(arn))
            })
            .await
    }

    pub async fn delete_trail(
        &self,
        caller: &Caller,
        req: TrailNameRequest,
    ) -> ApiResult<serde_json::Value> {
        let name = required("Name", &req.name)?;
        let arn = self
            .trails
            .update(|set| {
                let arn = set.find(&caller.scope, name)?;
                if set
                    .trails
                    .get(&arn)
                    .is_some_and(|t| t.home_region != caller.scope.region)
                {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameterException,
                        format!("The trail {name} can only be deleted in its home region."),
                    ));
                }
                set.trails.remove(&arn);
                Ok(arn)
            })
            .await?;
        self.trail_deliveries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&arn);
        // After any delivery pass in progress, which may still save the trail's marks.
        let _running = self.trail_files_running.lock().await;
        self.forget_trail_files(&arn).await;
        Ok(serde_json::json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names_follow_cloudtrails_rules() {
        for good in ["abc", "my-trail", "a.b_c-d", "Trail1"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "a--b",
            "a._b",
            "a b c",
            "10.0.0.1",
            &"a".repeat(129),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn log_group_arns_name_their_group() {
        assert_eq!(
            log_group_of("arn:aws:logs:us-east-1:123:log-group:trail/logs:*"),
            Some(("us-east-1", "123", "trail/logs"))
        );
        assert_eq!(
            log_group_of("arn:aws:logs:us-east-1:123:log-group:g"),
            Some(("us-east-1", "123", "g"))
        );
        assert_eq!(log_group_of("arn:aws:s3:::bucket"), None);
        assert_eq!(log_group_of("arn:aws:logs:us-east-1:123:log-group:"), None);
    }
}
