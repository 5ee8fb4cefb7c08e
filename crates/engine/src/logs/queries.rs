//! Logs Insights: StartQuery, GetQueryResults, StopQuery, DescribeQueries, GetLogRecord,
//! GetLogGroupFields.
//!
//! StartQuery validates, resolves the log groups and compiles the query on the request path
//! (so a bad query is a `MalformedQueryException` at once), records the query as `Scheduled`
//! and returns; a background task waits for one of [`MAX_RUNNING`] execution slots, reads the
//! groups' events page by page and runs the query with `flowwatch-query`, all CPU work on
//! blocking threads. Results stay in memory for seven days (as in AWS); there is no timeout.

mod records;
mod registry;
mod run;
mod source;

use std::sync::Arc;

use flowwatch_model::limits::insights::{
    DEFAULT_ROWS, MAX_CONCURRENT, MAX_CONCURRENT_SQL, MAX_DESCRIBE_RESULTS, MAX_LOG_GROUPS,
    MAX_PAGE_ROWS, MAX_QUERY_CHARS, MAX_ROWS,
};
use flowwatch_model::logs::page_limit;
use flowwatch_model::logs::queries::{
    DescribeQueriesRequest, DescribeQueriesResponse, GetQueryResultsResponse, QueryIdRequest,
    QueryStatistics, ResultField, StartQueryRequest, StartQueryResponse, StopQueryResponse,
};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, LogGroupName, arn};
use flowwatch_query::Compiled;

pub(crate) use registry::QueryRegistry;
use registry::{Language, QueryRecord, Status};

use crate::Engine;

/// Queries executing at once; the others wait as `Scheduled`.
pub const MAX_RUNNING: usize = 2;

/// A log group a query reads.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub id: i64,
    pub name: String,
}

fn malformed(e: &flowwatch_query::QueryError) -> ApiError {
    let mut error = ApiError::new(ErrorCode::MalformedQueryException, e.message());
    if let Some(location) = e.compile_location() {
        error = error.with_member(
            "queryCompileError",
            serde_json::json!({
                "location": {
                    "startCharOffset": location.start,
                    "endCharOffset": location.end,
                },
                "message": e.message(),
            }),
        );
    }
    error
}

fn query_not_found() -> ApiError {
    ApiError::not_found("Query does not exist.")
}

pub(crate) fn offset_token(prefix: &str, token: Option<&str>) -> ApiResult<usize> {
    match token {
        None => Ok(0),
        Some(t) => t
            .strip_prefix(prefix)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| ApiError::invalid_parameter("The specified nextToken is invalid.")),
    }
}

impl Engine {
    pub async fn start_query(
        &self,
        caller: &Caller,
        req: StartQueryRequest,
    ) -> ApiResult<StartQueryResponse> {
        let language = match req.query_language.as_deref() {
            None | Some("CWLI") => Language::Cwli,
            Some("SQL") => Language::Sql,
            Some("PPL") => {
                return Err(ApiError::invalid_parameter(
                    "queryLanguage PPL is not supported by flowwatch yet.",
                ));
            }
            Some(other) => {
                return Err(ApiError::constraint(
                    "queryLanguage",
                    other,
                    "Member must satisfy enum value set: [CWLI, SQL, PPL]",
                ));
            }
        };
        let text = flowwatch_model::logs::required("queryString", req.query_string)?;
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::constraint(
                "queryString",
                &text,
                "Member must have length less than or equal to 10000",
            ));
        }
        let start = flowwatch_model::logs::required("startTime", req.start_time)?;
        let end = flowwatch_model::logs::required("endTime", req.end_time)?;
        if start < 0 || end < 0 {
            return Err(ApiError::invalid_parameter(
                "startTime and endTime must be greater than or equal to 0.",
            ));
        }
        if end < start {
            return Err(ApiError::invalid_parameter(
                "End time should not be before the start time.",
            ));
        }
        let limit = match req.limit {
            None => None,
            Some(_) => Some(page_limit("limit", req.limit, MAX_ROWS as usize, 1)? as u64),
        };
        let compiled = match language {
            Language::Cwli => Some(Arc::new(Compiled::new(&text).map_err(|e| malformed(&e))?)),
            Language::Sql => None,
        };
        let targets = match compiled.as_ref().and_then(|c| c.source()) {
            Some(source) => {
                if req.log_group_name.is_some()
                    || req.log_group_names.is_some()
                    || req.log_group_identifiers.is_some()
                {
                    return Err(ApiError::invalid_parameter(
                        "A query with SOURCE selects its log groups itself: do not give \
                         logGroupName, logGroupNames or logGroupIdentifiers.",
                    ));
                }
                self.source_targets(caller, &source).await?
            }
            None => self.query_targets(
                caller,
                req.log_group_name,
                req.log_group_names,
                req.log_group_identifiers,
            )?,
        };
        let max = match language {
            Language::Cwli => MAX_CONCURRENT,
            Language::Sql => MAX_CONCURRENT_SQL,
        };
        let now = self.now();
        let id = uuid::Uuid::new_v4().to_string();
        let record = QueryRecord {
            account: caller.scope.account.clone(),
            id: id.clone(),
            language,
            text,
            groups: targets.iter().map(|t| t.name.clone()).collect(),
            status: Status::Scheduled,
            create_time: now,
            finish_time: None,
            output: None,
            scanned: (0, 0),
            task: None,
        };
        self.queries.insert(record, max, now)?;
        let job = run::Job {
            id: id.clone(),
            scope: caller.scope.clone(),
            language,
            compiled,
            targets,
            start_ms: start.saturating_mul(1000),
            end_ms: end.saturating_add(1).saturating_mul(1000),
            now_ms: now,
            limit: limit.unwrap_or(DEFAULT_ROWS),
        };
        let engine = self.clone();
        let task = tokio::spawn(async move { engine.run_query(job).await });
        self.queries.set_task(&id, task.abort_handle());
        Ok(StartQueryResponse { query_id: id })
    }

    /// The groups named by exactly one of the three members, each resolved to its id.
    fn query_targets(
        &self,
        caller: &Caller,
        name: Option<String>,
        names: Option<Vec<String>>,
        identifiers: Option<Vec<String>>,
    ) -> ApiResult<Vec<Target>> {
        let given = [name.is_some(), names.is_some(), identifiers.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(ApiError::invalid_parameter(
                "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified.",
            ));
        }
        let mut resolved = Vec::new();
        if let Some(name) = name {
            resolved.push(LogGroupName::parse("logGroupName", &name)?);
        }
        for (member, list) in [
            ("logGroupNames", names),
            ("logGroupIdentifiers", identifiers),
        ] {
            let Some(list) = list else { continue };
            if list.is_empty() || list.len() > MAX_LOG_GROUPS {
                return Err(ApiError::constraint(
                    member,
                    &format!("{} items", list.len()),
                    "Member must have length between 1 and 50",
                ));
            }
            for item in list {
                resolved.push(if member == "logGroupNames" {
                    LogGroupName::parse(member, &item)?
                } else {
                    arn::resolve_log_group_identifier(&caller.scope, member, &item)?
                });
            }
        }
        let mut targets: Vec<Target> = Vec::with_capacity(resolved.len());
        for name in resolved {
            let id = self
                .storage()
                .log_group_id(&caller.scope, name.as_str())
                .ok_or_else(ApiError::log_group_not_found)?;
            if !targets.iter().any(|t| t.id == id) {
                targets.push(Target {
                    id,
                    name: name.as_str().to_owned(),
                });
            }
        }
        Ok(targets)
    }

    pub async fn get_query_results(
        &self,
        caller: &Caller,
        req: QueryIdRequest,
    ) -> ApiResult<GetQueryResultsResponse> {
        let id = flowwatch_model::logs::required("queryId", req.query_id)?;
        let page = match req.max_items {
            None => MAX_PAGE_ROWS,
            Some(_) => page_limit("maxItems", req.max_items, MAX_PAGE_ROWS, MAX_PAGE_ROWS)?,
        };
        let from = offset_token("gqr/", req.next_token.as_deref())?;
        let record = self
            .queries
            .get(&caller.scope.account, &id, self.now())
            .ok_or_else(query_not_found)?;
        let mut response = GetQueryResultsResponse {
            query_language: record.language.as_str().to_owned(),
            status: record.status.as_str().to_owned(),
            statistics: QueryStatistics::default(),
            ..Default::default()
        };
        if record.output.is_none() {
            // Running: what was read so far, as AWS reports it while a query runs.
            response.statistics = QueryStatistics {
                records_scanned: record.scanned.0 as f64,
                bytes_scanned: record.scanned.1 as f64,
                log_groups_scanned: record.groups.len() as f64,
                ..Default::default()
            };
        }
        if let Some(output) = &record.output {
            response.statistics = QueryStatistics {
                records_matched: output.records_matched as f64,
                records_scanned: output.records_scanned as f64,
                bytes_scanned: output.bytes_scanned as f64,
                log_groups_scanned: record.groups.len() as f64,
                ..Default::default()
            };
            let rows = output.rows.get(from..).unwrap_or_default();
            response.results = rows
                .iter()
                .take(page)
                .map(|row| {
                    row.iter()
                        .map(|(field, value)| ResultField {
                            field: field.clone(),
                            value: value.clone(),
                        })
                        .collect()
                })
                .collect();
            if rows.len() > page {
                response.next_token = Some(format!("gqr/{}", from + page));
            }
        }
        Ok(response)
    }

    pub async fn stop_query(
        &self,
        caller: &Caller,
        req: QueryIdRequest,
    ) -> ApiResult<StopQueryResponse> {
        let id = flowwatch_model::logs::required("queryId", req.query_id)?;
        self.queries.stop(&caller.scope.account, &id, self.now())?;
        Ok(StopQueryResponse { success: true })
    }

    pub async fn describe_queries(
        &self,
        caller: &Caller,
        req: DescribeQueriesRequest,
    ) -> ApiResult<DescribeQueriesResponse> {
        let status = req
            .status
            .as_deref()
            .map(|s| {
                Status::parse(s).ok_or_else(|| {
                    ApiError::constraint(
                        "status",
                        s,
                        "Member must satisfy enum value set: [Scheduled, Running, Complete, Failed, Cancelled, Timeout, Unknown]",
                    )
                })
            })
            .transpose()?;
        let max = page_limit(
            "maxResults",
            req.max_results,
            MAX_DESCRIBE_RESULTS,
            MAX_DESCRIBE_RESULTS,
        )?;
        let from = offset_token("dq/", req.next_token.as_deref())?;
        let mut all = self.queries.list(&caller.scope.account, self.now());
        all.retain(|q| {
            status.is_none_or(|s| q.status == s)
                && req
                    .log_group_name
                    .as_ref()
                    .is_none_or(|g| q.groups.contains(g))
                && req
                    .query_language
                    .as_deref()
                    .is_none_or(|l| q.language.as_str() == l)
        });
        let now = self.now();
        let queries: Vec<_> = all
            .iter()
            .skip(from)
            .take(max)
            .map(|q| q.info(now))
            .collect();
        let next_token = (all.len() > from + max).then(|| format!("dq/{}", from + max));
        Ok(DescribeQueriesResponse {
            queries,
            next_token,
        })
    }
}
