//! Saved Logs Insights queries: PutQueryDefinition, DescribeQueryDefinitions,
//! DeleteQueryDefinition. Kept whole in the catalog ([`Persisted`] `query_definitions`), per
//! account; an update replaces a definition whole, as in AWS (omitted log groups are dropped).

use std::collections::BTreeMap;

use flowwatch_model::limits::insights::{
    CLIENT_TOKEN_CHARS, MAX_DEFINITION_ID_CHARS, MAX_DEFINITION_NAME_CHARS, MAX_DEFINITIONS,
    MAX_DESCRIBE_DEFINITIONS, MAX_LOG_GROUPS, MAX_QUERY_CHARS,
};
use flowwatch_model::logs::queries::{
    DeleteQueryDefinitionRequest, DeleteQueryDefinitionResponse, DescribeQueryDefinitionsRequest,
    DescribeQueryDefinitionsResponse, PutQueryDefinitionRequest, PutQueryDefinitionResponse,
    QueryDefinition,
};
use flowwatch_model::logs::{page_limit, required};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode, LogGroupName};
use serde::{Deserialize, Serialize};

use super::queries::offset_token;
use crate::Engine;

/// Every account's saved queries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct QueryDefinitions {
    /// Account → definition id → definition.
    accounts: BTreeMap<String, BTreeMap<String, QueryDefinition>>,
    /// Account → client token → the id its create made (PutQueryDefinition's idempotency).
    #[serde(default)]
    tokens: BTreeMap<String, BTreeMap<String, String>>,
}

const LANGUAGES: &str = "[CWLI, SQL, PPL]";

fn language(member: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(l @ ("CWLI" | "SQL" | "PPL")) => Ok(Some(l.to_owned())),
        Some(other) => Err(ApiError::constraint(
            member,
            other,
            &format!("Member must satisfy enum value set: {LANGUAGES}"),
        )),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFoundException,
        format!("Query definition {id} does not exist."),
    )
}

fn length(member: &str, value: &str, range: std::ops::RangeInclusive<usize>) -> ApiResult<()> {
    let n = value.chars().count();
    if n < *range.start() {
        return Err(ApiError::constraint(
            member,
            value,
            &format!(
                "Member must have length greater than or equal to {}",
                range.start()
            ),
        ));
    }
    if n > *range.end() {
        return Err(ApiError::constraint(
            member,
            value,
            &format!(
                "Member must have length less than or equal to {}",
                range.end()
            ),
        ));
    }
    Ok(())
}

impl Engine {
    pub async fn put_query_definition(
        &self,
        caller: &Caller,
        req: PutQueryDefinitionRequest,
    ) -> ApiResult<PutQueryDefinitionResponse> {
        let query_language =
            language("queryLanguage", req.query_language.as_deref())?.unwrap_or("CWLI".into());
        let name = required("name", req.name)?;
        length("name", &name, 1..=MAX_DEFINITION_NAME_CHARS)?;
        let query_string = required("queryString", req.query_string)?;
        length("queryString", &query_string, 1..=MAX_QUERY_CHARS)?;
        let mut log_group_names = Vec::new();
        for group in req.log_group_names.unwrap_or_default() {
            log_group_names.push(
                LogGroupName::parse("logGroupNames", &group)?
                    .as_str()
                    .to_owned(),
            );
        }
        if log_group_names.len() > MAX_LOG_GROUPS {
            return Err(ApiError::invalid_parameter(format!(
                "A query definition can name at most {MAX_LOG_GROUPS} log groups."
            )));
        }
        if let Some(id) = &req.query_definition_id {
            length("queryDefinitionId", id, 0..=MAX_DEFINITION_ID_CHARS)?;
        }
        if let Some(token) = &req.client_token {
            length("clientToken", token, CLIENT_TOKEN_CHARS)?;
        }
        let account = caller.scope.account.clone();
        let now = self.now();
        self.query_definitions
            .update_when(|all| {
                let defs = all.accounts.entry(account.clone()).or_default();
                let id = match req.query_definition_id {
                    Some(id) => {
                        if !defs.contains_key(&id) {
                            return Err(not_found(&id));
                        }
                        id
                    }
                    None => {
                        let tokens = all.tokens.entry(account.clone()).or_default();
                        if let Some(token) = &req.client_token
                            && let Some(id) = tokens.get(token)
                            && defs.contains_key(id)
                        {
                            // The same create again (a retry): its definition, unchanged.
                            let id = id.clone();
                            return Ok((PutQueryDefinitionResponse { query_definition_id: id }, false));
                        }
                        if defs.len() >= MAX_DEFINITIONS {
                            return Err(ApiError::new(
                                ErrorCode::LimitExceededException,
                                format!(
                                    "You have reached the maximum number of query definitions ({MAX_DEFINITIONS})."
                                ),
                            ));
                        }
                        let id = uuid::Uuid::new_v4().to_string();
                        if let Some(token) = req.client_token {
                            tokens.insert(token, id.clone());
                        }
                        id
                    }
                };
                defs.insert(
                    id.clone(),
                    QueryDefinition {
                        query_language,
                        query_definition_id: id.clone(),
                        name,
                        query_string,
                        last_modified: now,
                        log_group_names,
                    },
                );
                Ok((PutQueryDefinitionResponse { query_definition_id: id }, true))
            })
            .await
    }

    pub async fn describe_query_definitions(
        &self,
        caller: &Caller,
        req: DescribeQueryDefinitionsRequest,
    ) -> ApiResult<DescribeQueryDefinitionsResponse> {
        let query_language = language("queryLanguage", req.query_language.as_deref())?;
        let max = page_limit(
            "maxResults",
            req.max_results,
            MAX_DESCRIBE_DEFINITIONS,
            MAX_DESCRIBE_DEFINITIONS,
        )?;
        if let Some(prefix) = &req.query_definition_name_prefix {
            length(
                "queryDefinitionNamePrefix",
                prefix,
                1..=MAX_DEFINITION_NAME_CHARS,
            )?;
        }
        let from = offset_token("qdef/", req.next_token.as_deref())?;
        let account = &caller.scope.account;
        let mut found: Vec<QueryDefinition> = self
            .query_definitions
            .read(|all| {
                all.accounts
                    .get(account)
                    .into_iter()
                    .flat_map(BTreeMap::values)
                    .filter(|d| {
                        req.query_definition_name_prefix
                            .as_deref()
                            .is_none_or(|p| d.name.starts_with(p))
                            && query_language
                                .as_deref()
                                .is_none_or(|l| d.query_language == l)
                    })
                    .cloned()
                    .collect()
            })
            .await;
        // By name, then id: a stable order for paging.
        found.sort_by(|a, b| {
            (&a.name, &a.query_definition_id).cmp(&(&b.name, &b.query_definition_id))
        });
        let rest = found.len().saturating_sub(from);
        let next_token = (rest > max).then(|| format!("qdef/{}", from + max));
        Ok(DescribeQueryDefinitionsResponse {
            query_definitions: found.into_iter().skip(from).take(max).collect(),
            next_token,
        })
    }

    pub async fn delete_query_definition(
        &self,
        caller: &Caller,
        req: DeleteQueryDefinitionRequest,
    ) -> ApiResult<DeleteQueryDefinitionResponse> {
        let id = required("queryDefinitionId", req.query_definition_id)?;
        length("queryDefinitionId", &id, 0..=MAX_DEFINITION_ID_CHARS)?;
        let account = caller.scope.account.clone();
        self.query_definitions
            .update(|all| {
                let removed = all
                    .accounts
                    .get_mut(&account)
                    .and_then(|defs| defs.remove(&id));
                if removed.is_none() {
                    return Err(not_found(&id));
                }
                if let Some(tokens) = all.tokens.get_mut(&account) {
                    tokens.retain(|_, made| *made != id);
                }
                Ok(DeleteQueryDefinitionResponse { success: true })
            })
            .await
    }
}
