//! Metric filter definitions in the catalog (the engine's JSON, opaque here).

use flowwatch_model::Scope;

use crate::db::Storage;
use crate::error::{Result, StorageError};

impl Storage {
    /// A group's metric filters as (name, definition), sorted by name. Definitions are the
    /// engine's JSON; the storage keeps them opaque.
    pub fn metric_filters(&self, scope: &Scope, group: &str) -> Result<Vec<(String, String)>> {
        let catalog = self.shared().catalog();
        let gid = catalog.group_id(scope, group)?;
        Ok(catalog.metric_filters(gid))
    }

    /// Number of metric filters of a group (by id).
    pub fn metric_filter_count(&self, group_id: i64) -> usize {
        self.shared().catalog().metric_filter_count(group_id)
    }

    /// Creates or replaces a metric filter. `check` sees the group's current filters (name,
    /// definition) first, in the same catalog transaction, and may refuse with an AWS error.
    pub async fn put_metric_filter(
        &self,
        scope: &Scope,
        group: &str,
        name: &str,
        definition: String,
        check: impl FnOnce(&[(String, String)]) -> flowwatch_model::ApiResult<()> + Send + 'static,
    ) -> Result<()> {
        let (scope, group, name) = (scope.clone(), group.to_owned(), name.to_owned());
        self.catalog_op(move |c, _| {
            let gid = c.group_id(&scope, &group)?;
            check(&c.metric_filters(gid)).map_err(StorageError::Refused)?;
            c.put_metric_filter(gid, &name, &definition)
        })
        .await
    }

    /// Deletes a metric filter; `Ok(false)` when the group has none of that name.
    pub async fn delete_metric_filter(
        &self,
        scope: &Scope,
        group: &str,
        name: &str,
    ) -> Result<bool> {
        let (scope, group, name) = (scope.clone(), group.to_owned(), name.to_owned());
        self.catalog_op(move |c, _| {
            let gid = c.group_id(&scope, &group)?;
            c.delete_metric_filter(gid, &name)
        })
        .await
    }
}
