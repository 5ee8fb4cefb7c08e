//! A query's `SOURCE` clause (`spec/insights.md` §4): the log groups it selects, instead of
//! StartQuery's log-group members.
//!
//! `logGroups(namePrefix: [...])` keeps the groups whose name starts with one of the prefixes
//! (at most 5), `class: [...]` those of the classes (`STANDARD` when not given),
//! `accountIdentifiers: [...]` those of the accounts (at most 20; only the caller's own account
//! holds groups here); `dataSource([...])` (at most 10) those holding a data source:
//! `amazon_vpc.flow` is every group a VPC flow log delivers to. Both selectors together keep
//! the groups both select. At most 10,000 groups; internal groups are never selected.

use flowwatch_model::{ApiError, ApiResult, Caller};
use flowwatch_query::SourceSpec;

use super::Target;
use crate::Engine;
use crate::flow_logs::resource::Destination;

const MAX_PREFIXES: usize = 5;
const MAX_ACCOUNTS: usize = 20;
const MAX_DATA_SOURCES: usize = 10;
const MAX_SELECTED: usize = 10_000;
/// The data sources flowwatch knows which groups hold.
const DATA_SOURCES: &[&str] = &["amazon_vpc.flow"];

impl Engine {
    /// The groups `source` selects in the caller's account and region.
    pub(super) async fn source_targets(
        &self,
        caller: &Caller,
        source: &SourceSpec,
    ) -> ApiResult<Vec<Target>> {
        let too_many = |what: &str, max: usize| {
            ApiError::invalid_parameter(format!("SOURCE takes at most {max} {what}."))
        };
        if source
            .name_prefixes
            .as_ref()
            .is_some_and(|p| p.len() > MAX_PREFIXES)
        {
            return Err(too_many("name prefixes", MAX_PREFIXES));
        }
        if source
            .accounts
            .as_ref()
            .is_some_and(|a| a.len() > MAX_ACCOUNTS)
        {
            return Err(too_many("account identifiers", MAX_ACCOUNTS));
        }
        if let Some(sources) = &source.data_sources {
            if sources.len() > MAX_DATA_SOURCES {
                return Err(too_many("data sources", MAX_DATA_SOURCES));
            }
            if let Some(unknown) = sources.iter().find(|s| !DATA_SOURCES.contains(&s.as_str())) {
                return Err(ApiError::invalid_parameter(format!(
                    "Unknown data source '{unknown}' in SOURCE; flowwatch knows {}.",
                    DATA_SOURCES.join(", ")
                )));
            }
        }
        for class in &source.classes {
            if class != "STANDARD" && class != "INFREQUENT_ACCESS" {
                return Err(ApiError::invalid_parameter(format!(
                    "Unknown log group class '{class}' in SOURCE: STANDARD or INFREQUENT_ACCESS."
                )));
            }
        }
        let own_account = source
            .accounts
            .as_ref()
            .is_none_or(|a| a.contains(&caller.scope.account));
        let flow_log_groups: Vec<String> = match &source.data_sources {
            None => Vec::new(),
            Some(_) => {
                let scope = &caller.scope;
                self.flow_logs
                    .read(|set| {
                        set.logs
                            .iter()
                            .filter(|l| l.account == scope.account && l.region == scope.region)
                            .filter_map(|l| match &l.destination {
                                Destination::CloudWatchLogs { group } => Some(group.clone()),
                                Destination::S3 { .. } => None,
                            })
                            .collect()
                    })
                    .await
            }
        };
        let targets: Vec<Target> =
            self.storage()
                .log_groups(&caller.scope)
                .into_iter()
                .filter(|_| own_account)
                .filter(|g| !crate::is_internal_group(&g.name))
                .filter(|g| source.classes.contains(&g.class))
                .filter(|g| {
                    source.name_prefixes.as_ref().is_none_or(|prefixes| {
                        prefixes.iter().any(|p| g.name.starts_with(p.as_str()))
                    })
                })
                .filter(|g| source.data_sources.is_none() || flow_log_groups.contains(&g.name))
                .map(|g| Target {
                    id: g.id,
                    name: g.name,
                })
                .collect();
        if targets.len() > MAX_SELECTED {
            return Err(ApiError::invalid_parameter(format!(
                "SOURCE selects {} log groups; a query may read at most {MAX_SELECTED}.",
                targets.len()
            )));
        }
        if targets.is_empty() {
            return Err(ApiError::not_found(
                "SOURCE selects no log group: no group of this account and region matches it.",
            ));
        }
        Ok(targets)
    }
}
