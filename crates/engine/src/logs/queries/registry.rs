//! The queries of every account: status, results, and the task running each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use flowwatch_model::limits::insights::RETENTION_MS;
use flowwatch_model::logs::queries::QueryInfo;
use flowwatch_model::{ApiError, ApiResult, ErrorCode};
use flowwatch_query::QueryOutput;
use tokio::sync::Semaphore;
use tokio::task::AbortHandle;

/// `queryLanguage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    Cwli,
    Sql,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Cwli => "CWLI",
            Language::Sql => "SQL",
        }
    }
}

/// A query's status as GetQueryResults and DescribeQueries show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Scheduled,
    Running,
    Complete,
    Failed,
    Cancelled,
    Timeout,
    Unknown,
}

impl Status {
    const ALL: [Status; 7] = [
        Status::Scheduled,
        Status::Running,
        Status::Complete,
        Status::Failed,
        Status::Cancelled,
        Status::Timeout,
        Status::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "Scheduled",
            Status::Running => "Running",
            Status::Complete => "Complete",
            Status::Failed => "Failed",
            Status::Cancelled => "Cancelled",
            Status::Timeout => "Timeout",
            Status::Unknown => "Unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    fn is_active(self) -> bool {
        matches!(self, Status::Scheduled | Status::Running)
    }
}

/// One query.
#[derive(Debug, Clone)]
pub(crate) struct QueryRecord {
    pub account: String,
    pub id: String,
    pub language: Language,
    pub text: String,
    pub groups: Vec<String>,
    pub status: Status,
    pub create_time: i64,
    pub finish_time: Option<i64>,
    pub output: Option<Arc<QueryOutput>>,
    /// Events and message bytes read so far (GetQueryResults' statistics while it runs).
    pub scanned: (u64, u64),
    pub task: Option<AbortHandle>,
}

impl QueryRecord {
    pub fn info(&self, now: i64) -> QueryInfo {
        QueryInfo {
            query_language: self.language.as_str().to_owned(),
            query_id: self.id.clone(),
            query_string: self.text.clone(),
            status: self.status.as_str().to_owned(),
            create_time: self.create_time,
            log_group_name: self.groups.first().cloned().unwrap_or_default(),
            query_duration: self.finish_time.unwrap_or(now) - self.create_time,
            bytes_scanned: self
                .output
                .as_ref()
                .map_or(self.scanned.1 as f64, |o| o.bytes_scanned as f64),
        }
    }
}

/// Every query, and the execution slots.
#[derive(Debug)]
pub(crate) struct QueryRegistry {
    queries: Mutex<HashMap<String, QueryRecord>>,
    /// Queries executing at once.
    pub slots: Semaphore,
}

impl QueryRegistry {
    pub fn new(slots: usize) -> Self {
        Self {
            queries: Mutex::default(),
            slots: Semaphore::new(slots),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, QueryRecord>> {
        self.queries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a scheduled query unless the account already has `max` active ones.
    pub fn insert(&self, record: QueryRecord, max: usize, now: i64) -> ApiResult<()> {
        let mut queries = self.lock();
        queries.retain(|_, q| q.status.is_active() || q.create_time + RETENTION_MS > now);
        let active = queries
            .values()
            .filter(|q| {
                q.account == record.account && q.language == record.language && q.status.is_active()
            })
            .count();
        if active >= max {
            return Err(ApiError::new(
                ErrorCode::LimitExceededException,
                format!("Account maximum query concurrency limit of [{max}] reached."),
            ));
        }
        queries.insert(record.id.clone(), record);
        Ok(())
    }

    pub fn set_task(&self, id: &str, task: AbortHandle) {
        let mut queries = self.lock();
        match queries.get_mut(id) {
            Some(q) if q.status.is_active() => q.task = Some(task),
            _ => {}
        }
    }

    pub fn get(&self, account: &str, id: &str, now: i64) -> Option<QueryRecord> {
        let queries = self.lock();
        queries
            .get(id)
            .filter(|q| {
                q.account == account && (q.status.is_active() || q.create_time + RETENTION_MS > now)
            })
            .cloned()
    }

    /// The account's queries, newest first.
    pub fn list(&self, account: &str, now: i64) -> Vec<QueryRecord> {
        let queries = self.lock();
        let mut list: Vec<QueryRecord> = queries
            .values()
            .filter(|q| {
                q.account == account && (q.status.is_active() || q.create_time + RETENTION_MS > now)
            })
            .cloned()
            .collect();
        list.sort_by(|a, b| b.create_time.cmp(&a.create_time).then(b.id.cmp(&a.id)));
        list
    }

    /// Moves a scheduled query to running; false when it was stopped meanwhile.
    pub fn mark_running(&self, id: &str) -> bool {
        let mut queries = self.lock();
        match queries.get_mut(id) {
            Some(q) if q.status == Status::Scheduled => {
                q.status = Status::Running;
                true
            }
            _ => false,
        }
    }

    /// Counts events and bytes read by a running query.
    pub fn add_scanned(&self, id: &str, records: u64, bytes: u64) {
        if let Some(q) = self.lock().get_mut(id) {
            q.scanned.0 += records;
            q.scanned.1 += bytes;
        }
    }

    /// Whether the query is still wanted.
    pub fn is_active(&self, id: &str) -> bool {
        self.lock().get(id).is_some_and(|q| q.status.is_active())
    }

    /// Records how a query ended (unless it was cancelled meanwhile). Why a query failed is
    /// logged by the caller; GetQueryResults shows only the status, as AWS does.
    pub fn finish(&self, id: &str, result: Result<QueryOutput, String>, now: i64) {
        let mut queries = self.lock();
        let Some(q) = queries.get_mut(id) else { return };
        if !q.status.is_active() {
            return;
        }
        q.finish_time = Some(now);
        q.task = None;
        match result {
            Ok(output) => {
                q.status = Status::Complete;
                q.output = Some(Arc::new(output));
            }
            Err(_) => q.status = Status::Failed,
        }
    }

    /// StopQuery.
    pub fn stop(&self, account: &str, id: &str, now: i64) -> ApiResult<()> {
        let mut queries = self.lock();
        let q = queries
            .get_mut(id)
            .filter(|q| q.account == account)
            .ok_or_else(super::query_not_found)?;
        if !q.status.is_active() {
            return Err(ApiError::invalid_parameter(format!(
                "Query {id} is not running; its status is {}.",
                q.status.as_str()
            )));
        }
        if let Some(task) = q.task.take() {
            task.abort();
        }
        q.status = Status::Cancelled;
        q.finish_time = Some(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_query_shows_what_it_has_read() {
        let registry = QueryRegistry::new(1);
        let record = QueryRecord {
            account: "123456789012".into(),
            id: "q".into(),
            language: Language::Cwli,
            text: "fields @message".into(),
            groups: vec!["g".into()],
            status: Status::Scheduled,
            create_time: 0,
            finish_time: None,
            output: None,
            scanned: (0, 0),
            task: None,
        };
        registry.insert(record, 1, 0).unwrap();
        assert!(registry.mark_running("q"));
        registry.add_scanned("q", 10_000, 1_500_000);
        registry.add_scanned("q", 5, 100);
        let q = registry.get("123456789012", "q", 1).unwrap();
        assert_eq!(q.scanned, (10_005, 1_500_100));
        assert_eq!(q.info(1).bytes_scanned, 1_500_100.0);
    }
}
