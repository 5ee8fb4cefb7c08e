//! # flowwatch-query
//!
//! Runs CloudWatch Logs Insights queries (and, for `queryLanguage = SQL`, DataFusion SQL)
//! over log events. The Insights front end (`flowwatch-insights`) gives a checked AST; this
//! crate lowers it to a DataFusion logical plan ([`lower`]) over an input table built from
//! the events ([`InputBuilder`]) and formats the result as GetQueryResults rows.
//!
//! Main types:
//!
//! - [`Compiled`]: a query that compiled and lowered once against an empty input, so every
//!   error a client can fix (`MalformedQueryException`) is found before any event is read;
//! - [`InputBuilder`] / [`Input`]: the events as Arrow batches — system fields (`@timestamp`,
//!   `@message`, `@logStream`, `@log`, `@ingestionTime`, `@ptr`) plus the discovered fields
//!   the query refers to (flow-log names, flattened JSON paths; see [`discover`]) — bounded by
//!   a byte budget;
//! - [`run`]: executes a compiled query over an input under a memory limit and returns the
//!   rows and `recordsMatched`.
//!
//! Invariants: a construct not lowered yet fails with [`QueryError::Unsupported`] naming it,
//! never silently; DataFusion stays inside this crate (callers see rows of text).
//!
//! ```
//! use flowwatch_query::{Compiled, Event, Params, run};
//!
//! let query = Compiled::new("filter action = 'REJECT' | stats count(*) as n by srcAddr")?;
//! let mut input = query.input(1 << 20);
//! let line = "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT OK";
//! input.push(&Event { timestamp: 1000, ingestion_time: 1000, seq: 1, log_stream: "s",
//!     log: "123456789012:g", ptr: "p", message: line })?;
//! let params = Params { start_ms: 0, end_ms: 2000, now_ms: 2000, default_limit: 10_000, stable_ties: false };
//! let out = tokio::runtime::Runtime::new().unwrap()
//!     .block_on(run(&query, input.finish()?, params, 64 << 20))?;
//! assert_eq!(out.rows, vec![vec![("srcAddr".into(), "10.0.0.1".into()), ("n".into(), "1".into())]]);
//! # Ok::<(), flowwatch_query::QueryError>(())
//! ```

pub mod discover;
mod error;
pub mod files;
mod input;
pub mod lower;
mod output;
mod pattern;
mod sql;
mod stream;
mod udf;

use std::sync::Arc;

use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::datasource::provider_as_source;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::{SessionConfig, SessionContext};
use flowwatch_insights::Query;

pub use error::{QueryError, Result};
pub use input::{
    ColumnBatch, Event, INGESTION_TIME, Input, InputBuilder, LOG, LOG_STREAM, MESSAGE, PTR,
    SYSTEM_FIELDS, TIMESTAMP, input_schema,
};
pub use lower::Params;
pub use output::{Row, format_double, format_millis};
pub use sql::run_sql;

/// What a finished query gives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOutput {
    /// The rows, each a list of `(field, value)`.
    pub rows: Vec<Row>,
    /// Events left after the leading filters (all scanned events when there is none).
    pub records_matched: u64,
    /// Events read.
    pub records_scanned: u64,
    /// Message bytes read.
    pub bytes_scanned: u64,
}

/// What a query's `SOURCE` clause selects (the server resolves it to log groups).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSpec {
    /// `logGroups(namePrefix: [...])`: groups whose name starts with one of these.
    pub name_prefixes: Option<Vec<String>>,
    /// `logGroups(accountIdentifiers: [...])`.
    pub accounts: Option<Vec<String>>,
    /// `logGroups(class: [...])`; `STANDARD` when not given.
    pub classes: Vec<String>,
    /// `dataSource([...])`, e.g. `amazon_vpc.flow`.
    pub data_sources: Option<Vec<String>>,
}

/// A checked and lowered Insights query.
#[derive(Debug, Clone)]
pub struct Compiled {
    text: String,
    query: Query,
    fields: Vec<String>,
}

impl Compiled {
    /// Compiles `text`, and lowers it once against an empty input so that unsupported
    /// constructs are reported now.
    pub fn new(text: &str) -> Result<Self> {
        let query = flowwatch_insights::compile(text)?;
        let fields = lower::referenced_fields(&query);
        let compiled = Self {
            text: text.to_owned(),
            query,
            fields,
        };
        let empty = compiled.input(0).finish()?;
        let params = Params {
            start_ms: 0,
            end_ms: 0,
            now_ms: 0,
            default_limit: 1,
            stable_ties: false,
        };
        compiled.lower(empty.table()?, params)?;
        Ok(compiled)
    }

    /// What its `SOURCE` clause selects, if it has one.
    pub fn source(&self) -> Option<SourceSpec> {
        use flowwatch_insights::ast::{LogGroupsParam, SourceSelector};
        let source = self.query.source.as_ref()?;
        let mut spec = SourceSpec {
            classes: vec!["STANDARD".to_owned()],
            ..SourceSpec::default()
        };
        for selector in &source.selectors {
            match selector {
                SourceSelector::LogGroups(args) => {
                    for arg in args {
                        let values = arg.values.clone();
                        match arg.param {
                            LogGroupsParam::NamePrefix => spec.name_prefixes = Some(values),
                            LogGroupsParam::AccountIdentifiers => spec.accounts = Some(values),
                            LogGroupsParam::Class => spec.classes = values,
                        }
                    }
                }
                SourceSelector::DataSource(names) => spec.data_sources = Some(names.clone()),
            }
        }
        Some(spec)
    }

    /// The discovered fields the input must carry.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The query text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// An empty input for this query, holding at most `max_bytes`.
    pub fn input(&self, max_bytes: usize) -> InputBuilder {
        InputBuilder::new(self.fields.clone(), max_bytes)
    }

    /// An empty input whose flow-log numbers are Int64 when `flow_types`
    /// ([`InputBuilder::with_flow_types`]).
    pub fn input_with(&self, max_bytes: usize, flow_types: bool) -> InputBuilder {
        InputBuilder::with_flow_types(self.fields.clone(), max_bytes, flow_types)
    }

    /// Starts the query over an input fed while it runs: push the events into the builder
    /// (on a thread that is not an async runtime's: it waits while the query is behind), then
    /// `finish` it; meanwhile [`Streamed::run`] executes the query. The query holds a few
    /// batches of input at a time, not all of it. When `push` answers
    /// [`QueryError::InputClosed`] the query has all it reads: stop pushing.
    pub fn stream(&self, params: Params) -> Result<(InputBuilder, Streamed)> {
        self.stream_with(params, false)
    }

    /// [`Compiled::stream`], the input's flow-log numbers Int64 when `flow_types`
    /// ([`InputBuilder::with_flow_types`]: every event the query reads is a flow-log record).
    pub fn stream_with(
        &self,
        params: Params,
        flow_types: bool,
    ) -> Result<(InputBuilder, Streamed)> {
        self.stream_partitioned(params, flow_types, 1)
    }

    /// [`Compiled::stream_with`] over an input of `partitions` partitions: the builder feeds
    /// the first, and each of its first `partitions - 1` [forks](InputBuilder::fork) another,
    /// so the plans (a `stats`' partial aggregates, a sort's runs) work on each partition on
    /// a core of their own. For inputs read on several threads, a builder each.
    pub fn stream_partitioned(
        &self,
        params: Params,
        flow_types: bool,
        partitions: usize,
    ) -> Result<(InputBuilder, Streamed)> {
        let mut builder =
            InputBuilder::with_flow_types(self.fields.clone(), usize::MAX, flow_types);
        let schema = builder.schema().clone();
        let feeds: Vec<Arc<stream::Feed>> = (0..partitions.max(1))
            .map(|_| Arc::new(stream::Feed::new(schema.clone())))
            .collect();
        let partitions = feeds
            .iter()
            .map(|feed| feed.clone() as Arc<dyn PartitionStream>)
            .collect();
        let table = StreamingTable::try_new(schema, partitions)?;
        let lowered = self.lower(Arc::new(table), params)?;
        let scanned = Arc::new(stream::Scanned::default());
        let readers = if lowered.matched.is_some() { 2 } else { 1 };
        builder.needed = needed_columns(&lowered, builder.schema().fields().len())?;
        builder.sink = Some(stream::connect(&feeds, readers, &scanned));
        Ok((builder, Streamed { lowered, scanned }))
    }

    fn lower(&self, table: Arc<dyn TableProvider>, params: Params) -> Result<lower::Lowered> {
        let scan = LogicalPlanBuilder::scan("events", provider_as_source(table), None)?;
        lower::Lowering::new(&self.text, params, scan).lower_query(&self.query)
    }
}

impl Input {
    /// The input as a table.
    fn table(&self) -> Result<Arc<dyn TableProvider>> {
        let table = MemTable::try_new(self.schema.clone(), vec![self.batches.clone()])?;
        Ok(Arc::new(table))
    }
}

/// A query started by [`Compiled::stream`], to run while its input is fed.
#[derive(Debug)]
pub struct Streamed {
    lowered: lower::Lowered,
    scanned: Arc<stream::Scanned>,
}

impl Streamed {
    /// Runs the query, operators using at most `memory_limit` bytes, until its input ends (the
    /// builder is finished or dropped) or it needs no more. `recordsScanned` and
    /// `bytesScanned` count what the builder took.
    pub async fn run(self, memory_limit: usize) -> Result<QueryOutput> {
        let (rows, matched) = execute(self.lowered, memory_limit).await?;
        let (records, bytes) = self.scanned.get();
        Ok(QueryOutput {
            rows,
            records_matched: matched.unwrap_or(records),
            records_scanned: records,
            bytes_scanned: bytes,
        })
    }
}

/// A DataFusion session with at most `memory_limit` bytes for operators.
pub(crate) fn session(memory_limit: usize) -> Result<SessionContext> {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(memory_limit, 1.0)
        .build_arc()?;
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_information_schema(false);
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

async fn collect(ctx: &SessionContext, plan: LogicalPlan, limit: usize) -> Result<Vec<Row>> {
    let batches = ctx
        .execute_logical_plan(plan)
        .await?
        .collect()
        .await
        .map_err(|e| memory_error(e.into(), limit))?;
    let mut rows = Vec::new();
    for batch in &batches {
        output::append_rows(batch, &mut rows)?;
    }
    Ok(rows)
}

fn memory_error(e: QueryError, limit: usize) -> QueryError {
    match e {
        QueryError::MemoryExceeded { .. } => QueryError::MemoryExceeded { limit },
        other => other,
    }
}

/// Runs `query` over `input`, operators using at most `memory_limit` bytes.
pub async fn run(
    query: &Compiled,
    input: Input,
    params: Params,
    memory_limit: usize,
) -> Result<QueryOutput> {
    let lowered = query.lower(input.table()?, params)?;
    let (rows, matched) = execute(lowered, memory_limit).await?;
    Ok(QueryOutput {
        rows,
        records_matched: matched.unwrap_or(input.records),
        records_scanned: input.records,
        bytes_scanned: input.message_bytes,
    })
}

/// The plan counting the rows of `plan`.
fn count_rows(plan: LogicalPlan) -> Result<LogicalPlan> {
    Ok(LogicalPlanBuilder::from(plan)
        .aggregate(
            Vec::<datafusion::logical_expr::Expr>::new(),
            vec![datafusion::functions_aggregate::expr_fn::count(
                datafusion::logical_expr::lit(1i64),
            )],
        )?
        .build()?)
}

/// Which input columns a lowered query reads (by position), as DataFusion's optimizer
/// projects its scans: the others need not be built (a `stats` query never shows `@ptr`; most
/// never read `@message`).
fn needed_columns(lowered: &lower::Lowered, width: usize) -> Result<Vec<bool>> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let state = SessionContext::new().state();
    let mut needed = vec![false; width];
    let matched = lowered.matched.clone().map(count_rows).transpose()?;
    for plan in std::iter::once(&lowered.plan).chain(matched.as_ref()) {
        state.optimize(plan)?.apply(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                match &scan.projection {
                    Some(columns) => {
                        for &i in columns {
                            if let Some(n) = needed.get_mut(i) {
                                *n = true;
                            }
                        }
                    }
                    None => needed.fill(true),
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
    }
    Ok(needed)
}

/// Executes a lowered query's plan and, at the same time (they may read one streamed input),
/// the count of its matched records when that is a plan of its own.
async fn execute(lowered: lower::Lowered, memory_limit: usize) -> Result<(Vec<Row>, Option<u64>)> {
    let ctx = session(memory_limit)?;
    let matched = async {
        let Some(plan) = lowered.matched else {
            return Ok(None);
        };
        let rows = collect(&ctx, count_rows(plan)?, memory_limit).await?;
        Ok::<_, QueryError>(Some(
            rows.first()
                .and_then(|r| r.first())
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0),
        ))
    };
    let rows = collect(&ctx, lowered.plan, memory_limit);
    // The first error drops the other plan (and its channel: the reader stops).
    let (matched, rows) = futures::future::try_join(matched, rows).await?;
    Ok((rows, matched))
}
