//! `queryLanguage = SQL`: DataFusion SQL over one table per log group.

use std::sync::Arc;

use datafusion::catalog::MemTable;

use crate::error::{QueryError, Result};
use crate::input::Input;
use crate::{QueryOutput, collect, session};

/// Runs `sql` over `tables` (name → input, every discovered field of its events).
pub async fn run_sql(
    sql: &str,
    tables: Vec<(String, Input)>,
    memory_limit: usize,
) -> Result<QueryOutput> {
    let ctx = session(memory_limit)?;
    let mut scanned = 0;
    let mut bytes = 0;
    for (name, input) in tables {
        scanned += input.records;
        bytes += input.message_bytes;
        let table = MemTable::try_new(input.schema.clone(), vec![input.batches])?;
        ctx.register_table(
            datafusion::common::TableReference::bare(name),
            Arc::new(table),
        )?;
    }
    let plan = ctx
        .state()
        .create_logical_plan(sql)
        .await
        .map_err(|e| QueryError::Sql {
            message: e.strip_backtrace(),
        })?;
    let rows = collect(&ctx, plan, memory_limit).await?;
    Ok(QueryOutput {
        records_matched: rows.len() as u64,
        rows,
        records_scanned: scanned,
        bytes_scanned: bytes,
    })
}
