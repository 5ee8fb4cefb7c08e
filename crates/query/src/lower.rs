//! Lowering: an Insights [`Query`] to a DataFusion [`LogicalPlan`] over the input table
//! (`input.rs`), command by command with `LogicalPlanBuilder`.
//!
//! Rules the lowering keeps:
//!
//! - `fields` and `parse` add (or replace) columns but drop none, so later commands still see
//!   every field; what is shown is decided once, at the end (last `display`, else every
//!   `fields` item, else the `stats` columns, else `@timestamp, @message`), and rows of
//!   non-aggregated results carry `@ptr`;
//! - discovered fields are text; comparisons, arithmetic and aggregates read them as numbers
//!   where the other side or the function is numeric (`filter dstPort = 22`, `sum(bytes)`);
//! - order: the last `sort` (text sorts in Insights' natural order), else `@timestamp`
//!   descending then arrival order, else after `stats` the group keys ascending;
//! - a construct not lowered yet is an [`QueryError::Unsupported`] naming it, never ignored.

mod expr;
mod functions;
mod stats;

use std::collections::{HashMap, HashSet};

use datafusion::common::DFSchemaRef;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, ExprSchemable, LogicalPlan, LogicalPlanBuilder, SortExpr, ident, lit,
};
use flowwatch_insights::ast::{
    CommandKind, FieldPath, Limit, Parse, ParsePattern, Projection, SortKey, SortOrder,
};
use flowwatch_insights::{Query, Span};

use crate::error::{QueryError, Result};
use crate::input::{MESSAGE, PTR, SEQ, TIMESTAMP};
use crate::udf::{TextFn, TextUdf};

/// What a query needs besides its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Inclusive start of the time range, ms.
    pub start_ms: i64,
    /// Inclusive end of the time range, ms.
    pub end_ms: i64,
    /// When the query started, ms (`now()`, `queryStartTime()`).
    pub now_ms: i64,
    /// Rows returned when the query has no `limit` (10,000 for StartQuery).
    pub default_limit: u64,
    /// Whether a `sort` breaks ties by the order before it (in the end by arrival), so rows
    /// it ties on come out the same however the input arrived: for an input read on several
    /// threads ([`crate::files::load`]). It widens every sort (group keys after `stats`), so
    /// inputs read in order leave it off.
    pub stable_ties: bool,
}

/// A lowered query.
#[derive(Debug)]
pub struct Lowered {
    /// The whole query, sorted, limited and projected to the shown fields.
    pub plan: LogicalPlan,
    /// The plan whose row count is `recordsMatched` (events left after the leading
    /// filters), when it differs from the input.
    pub matched: Option<LogicalPlan>,
    /// The shown fields, in order.
    pub columns: Vec<String>,
}

/// Every field name the query refers to that is not a system field: the discovered fields
/// the input table must carry.
pub fn referenced_fields(query: &Query) -> Vec<String> {
    let mut names = Vec::new();
    for command in &query.commands {
        expr::command_fields(&command.kind, &mut names);
    }
    names.retain(|n| !crate::input::is_system(n));
    names.sort();
    names.dedup();
    names
}

pub(crate) struct Lowering<'a> {
    source: &'a str,
    params: Params,
    plan: LogicalPlanBuilder,
    /// Names made by `fields` (in order).
    fields: Vec<String>,
    /// Names of the last `display`.
    display: Option<Vec<String>>,
    /// Group keys and items of the last `stats`.
    stats: Option<(Vec<String>, Vec<String>)>,
    sort: Option<Vec<SortExpr>>,
    limit: Option<u64>,
    matched: Option<LogicalPlan>,
    filtered: bool,
    /// The last command was `limit`: the plan is sorted and limited as the result must be.
    limited: bool,
    /// While lowering `stats` items: the aggregate columns to use, in visiting order.
    agg_columns: Option<std::collections::VecDeque<stats::AggColumns>>,
    /// While lowering `stats` items: earlier items by alias.
    item_exprs: HashMap<String, Expr>,
    /// Columns holding JSON values (`jsonParse`, `split`, `unnest`): paths below them
    /// (`j.a.b`, `j.list[1]`) reach into the value (`udf::json`).
    json_columns: HashSet<String>,
}

impl<'a> Lowering<'a> {
    pub(crate) fn new(source: &'a str, params: Params, input: LogicalPlanBuilder) -> Self {
        Self {
            source,
            params,
            plan: input,
            fields: Vec::new(),
            display: None,
            stats: None,
            sort: None,
            limit: None,
            matched: None,
            filtered: false,
            limited: false,
            agg_columns: None,
            item_exprs: HashMap::new(),
            json_columns: HashSet::new(),
        }
    }

    pub(crate) fn unsupported(&self, construct: impl Into<String>, span: Span) -> QueryError {
        QueryError::Unsupported {
            construct: construct.into(),
            location: span.location(self.source),
        }
    }

    fn schema(&self) -> &DFSchemaRef {
        self.plan.schema()
    }

    fn has_column(&self, name: &str) -> bool {
        self.schema().fields().iter().any(|f| f.name() == name)
    }

    pub(crate) fn type_of(&self, e: &Expr) -> datafusion::arrow::datatypes::DataType {
        e.get_type(self.schema().as_ref())
            .unwrap_or(datafusion::arrow::datatypes::DataType::Utf8)
    }

    fn take_plan(&mut self) -> LogicalPlanBuilder {
        std::mem::replace(&mut self.plan, LogicalPlanBuilder::empty(false))
    }

    /// Adds or replaces columns, keeping every other column.
    fn set_columns(&mut self, new: Vec<(String, Expr)>) -> Result<()> {
        let mut exprs: Vec<Expr> = self
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|name| !new.iter().any(|(n, _)| n == name))
            .map(ident)
            .collect();
        exprs.extend(new.into_iter().map(|(name, e)| e.alias(name)));
        self.plan = self.take_plan().project(exprs)?;
        Ok(())
    }

    /// Marks the end of the leading filter stage (what `recordsMatched` counts).
    fn end_match_stage(&mut self) -> Result<()> {
        if self.filtered {
            self.matched = Some(self.plan.clone().build()?);
        }
        Ok(())
    }

    pub(crate) fn lower_query(mut self, query: &Query) -> Result<Lowered> {
        // `SOURCE` chose the input (the server resolves it: `Compiled::source`).
        let mut in_match_stage = true;
        for command in &query.commands {
            let leading = matches!(
                command.kind,
                CommandKind::Filter(_)
                    | CommandKind::Fields(_)
                    | CommandKind::Parse(_)
                    | CommandKind::Display(_)
            );
            if in_match_stage && !leading {
                in_match_stage = false;
                self.end_match_stage()?;
            }
            if !matches!(command.kind, CommandKind::Limit(_)) {
                self.limited = false;
            }
            match &command.kind {
                CommandKind::Fields(items) => self.lower_fields(items, false)?,
                CommandKind::Display(items) => self.lower_fields(items, true)?,
                CommandKind::Filter(e) => {
                    let predicate = self.predicate(e)?;
                    self.plan = self.take_plan().filter(predicate)?;
                    if in_match_stage {
                        self.filtered = true;
                    }
                }
                CommandKind::Stats(s) => self.lower_stats(s)?,
                CommandKind::Sort(keys) => self.lower_sort(keys)?,
                CommandKind::Limit(limit) => {
                    let n = match limit {
                        Limit::Rows(n) => *n,
                        Limit::Any => self.params.default_limit,
                    };
                    self.limit = Some(self.limit.map_or(n, |l| l.min(n)));
                    let order = self.current_order();
                    let mut plan = self.take_plan();
                    if !self.limited && !order.is_empty() {
                        plan = plan.sort(order)?;
                    }
                    self.plan = plan.limit(0, Some(fetch(n)))?;
                    self.limited = true;
                    continue;
                }
                CommandKind::Parse(p) => self.lower_parse(p)?,
                CommandKind::Dedup(fields) => self.lower_dedup(fields)?,
                CommandKind::Unnest { expr, into } => self.lower_unnest(expr, into)?,
                CommandKind::Pattern(e) => self.lower_pattern(e)?,
                other => {
                    return Err(
                        self.unsupported(format!("command `{}`", other.name()), command.span)
                    );
                }
            }
        }
        if in_match_stage {
            self.end_match_stage()?;
        }
        self.finish()
    }

    fn finish(mut self) -> Result<Lowered> {
        let order = self.current_order();
        let limit = self.limit.unwrap_or(self.params.default_limit);
        let columns = self.shown_columns();
        let exprs: Vec<Expr> = columns
            .iter()
            .map(|c| {
                if self.has_column(c) {
                    ident(c)
                } else {
                    lit(datafusion::common::ScalarValue::Utf8(None)).alias(c)
                }
            })
            .collect();
        let mut plan = self.take_plan();
        if !self.limited {
            if !order.is_empty() {
                plan = plan.sort(order)?;
            }
            plan = plan.limit(0, Some(fetch(limit)))?;
        }
        let plan = plan.project(exprs)?.build()?;
        let matched = self.matched.take();
        Ok(Lowered {
            plan,
            matched,
            columns,
        })
    }

    fn shown_columns(&self) -> Vec<String> {
        let mut columns = if let Some(display) = &self.display {
            display.clone()
        } else if !self.fields.is_empty() {
            self.fields.clone()
        } else if let Some((keys, items)) = &self.stats {
            keys.iter().chain(items).cloned().collect()
        } else {
            vec![TIMESTAMP.to_owned(), MESSAGE.to_owned()]
        };
        if self.stats.is_none() && !columns.iter().any(|c| c == PTR) {
            columns.push(PTR.to_owned());
        }
        let mut seen = std::collections::HashSet::new();
        columns.retain(|c| seen.insert(c.clone()));
        columns
    }

    /// The last `sort`, else the default order.
    fn current_order(&self) -> Vec<SortExpr> {
        if let Some(sort) = &self.sort {
            return sort.clone();
        }
        match &self.stats {
            Some((keys, _)) => keys.iter().map(|k| self.sort_key(ident(k), true)).collect(),
            None => vec![
                col_ident(TIMESTAMP).sort(false, false),
                col_ident(SEQ).sort(false, false),
            ],
        }
    }

    /// Text sorts in natural order; nulls last either way.
    fn sort_key(&self, e: Expr, asc: bool) -> SortExpr {
        let e = if expr::is_text(&self.type_of(&e)) {
            TextUdf::call(TextFn::NaturalKey, vec![e]).expect("no regex to compile")
        } else {
            e
        };
        e.sort(asc, false)
    }

    fn lower_fields(&mut self, items: &[Projection], display: bool) -> Result<()> {
        let mut names = Vec::with_capacity(items.len());
        let mut new = Vec::new();
        for item in items {
            let name = match (&item.alias, &item.expr.kind) {
                (Some(alias), _) => alias.flat_name(),
                (None, flowwatch_insights::ExprKind::Field(path)) => path.flat_name(),
                (None, _) => item.expr.to_string(),
            };
            let path = match &item.expr.kind {
                flowwatch_insights::ExprKind::Field(path) => Some(path),
                _ => None,
            };
            let into_json = path.is_some_and(|p| self.json_root(p).is_some());
            let plain = item.alias.is_none() && path.is_some() && !into_json;
            if !plain || !self.has_column(&name) {
                let e = self.lower(&item.expr)?;
                new.push((name.clone(), e));
            }
            if into_json || self.makes_json(&item.expr) {
                self.json_columns.insert(name.clone());
            } else {
                self.json_columns.remove(&name);
            }
            names.push(name);
        }
        if !new.is_empty() {
            self.set_columns(new)?;
        }
        if display {
            self.display = Some(names);
        } else {
            self.fields.extend(names);
        }
        Ok(())
    }

    /// `pattern expr`: the values' patterns (`crate::pattern`), one row each, most frequent
    /// first; like `stats`, what follows sees only the pattern fields.
    fn lower_pattern(&mut self, e: &flowwatch_insights::Expr) -> Result<()> {
        use datafusion::functions::core::expr_fn::get_field;
        use datafusion::logical_expr::AggregateUDF;

        use crate::pattern::{
            COUNT_FIELD, PATTERN_FIELD, PatternUdaf, RATIO_FIELD, SEVERITY_FIELD,
        };

        const PATTERNS: &str = "__patterns";
        let value = self.lower(e)?;
        let t = self.type_of(&value);
        let value = expr::as_text(value, &t);
        let patterns = AggregateUDF::new_from_impl(PatternUdaf::new())
            .call(vec![value])
            .alias(PATTERNS);
        let plan = self
            .take_plan()
            .aggregate(Vec::<Expr>::new(), vec![patterns])?
            .unnest_column(PATTERNS)?;
        let columns = [
            ("@pattern", PATTERN_FIELD),
            ("@ratio", RATIO_FIELD),
            ("@sampleCount", COUNT_FIELD),
            ("@severityLabel", SEVERITY_FIELD),
        ];
        let exprs: Vec<Expr> = columns
            .iter()
            .map(|(name, field)| get_field(ident(PATTERNS), *field).alias(*name))
            .collect();
        self.plan = plan.project(exprs)?;
        self.stats = Some((
            Vec::new(),
            columns.iter().map(|(n, _)| (*n).to_owned()).collect(),
        ));
        self.fields.clear();
        self.display = None;
        self.json_columns.clear();
        self.sort = Some(vec![col_ident("@sampleCount").sort(false, false)]);
        Ok(())
    }

    /// `unnest expr into field`: one row per element of the list `expr` gives (a value that
    /// is not a list is a list of itself), every other column copied.
    fn lower_unnest(&mut self, expr: &flowwatch_insights::Expr, into: &FieldPath) -> Result<()> {
        const ELEMENTS: &str = "__unnest";
        let e = self.lower(expr)?;
        let t = self.type_of(&e);
        let list = TextUdf::call(TextFn::JsonElements, vec![expr::as_text(e, &t)])
            .expect("no regex to compile");
        self.set_columns(vec![(ELEMENTS.to_owned(), list)])?;
        let plan = self.take_plan().unnest_column(ELEMENTS)?;
        let name = into.flat_name();
        let mut exprs: Vec<Expr> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| n != ELEMENTS && *n != name)
            .map(ident)
            .collect();
        exprs.push(ident(ELEMENTS).alias(name.clone()));
        self.plan = plan.project(exprs)?;
        self.json_columns.insert(name);
        Ok(())
    }

    /// `sort`: its keys, then (with [`Params::stable_ties`]) the order before it for rows
    /// they tie on.
    fn lower_sort(&mut self, keys: &[SortKey]) -> Result<()> {
        let mut order = Vec::with_capacity(keys.len());
        for key in keys {
            let e = self.lower(&key.expr)?;
            let asc = key.order == Some(SortOrder::Asc);
            order.push(self.sort_key(e, asc));
        }
        if self.params.stable_ties {
            order.extend(self.current_order());
        }
        self.sort = Some(order);
        self.limited = false;
        Ok(())
    }

    fn lower_parse(&mut self, parse: &Parse) -> Result<()> {
        let source = self.lower(&parse.source)?;
        let source_type = self.type_of(&source);
        let source = expr::as_text(source, &source_type);
        let (regex, fields): (String, Vec<(String, usize)>) = match &parse.pattern {
            ParsePattern::Glob { pattern, fields } => {
                let regex = glob_regex(pattern);
                let fields = fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.flat_name(), i + 1))
                    .collect();
                (regex, fields)
            }
            ParsePattern::Regex(re) => {
                let text = expr::regex_text(re);
                let compiled = regex::Regex::new(&text).map_err(|e| QueryError::Execution {
                    message: format!("invalid regex in parse: {e}"),
                })?;
                let fields = compiled
                    .capture_names()
                    .enumerate()
                    .filter_map(|(i, n)| n.map(|n| (n.to_owned(), i)))
                    .collect();
                (text, fields)
            }
        };
        let mut new = Vec::with_capacity(fields.len());
        for (name, group) in fields {
            let e = TextUdf::call(
                TextFn::Capture {
                    regex: regex.clone(),
                    group,
                },
                vec![source.clone()],
            )
            .map_err(|e| QueryError::Execution {
                message: format!("invalid regex in parse: {e}"),
            })?;
            new.push((name, e));
        }
        self.set_columns(new)
    }

    fn lower_dedup(&mut self, fields: &[FieldPath]) -> Result<()> {
        let keys: Vec<Expr> = fields.iter().map(|f| col_ident(&f.flat_name())).collect();
        let order = self.current_order();
        let rn = row_number()
            .partition_by(keys.clone())
            .order_by(order)
            .build()?
            .alias("__rn");
        let mut keep = col_ident("__rn").eq(lit(1u64));
        for k in keys {
            keep = keep.or(k.is_null());
        }
        self.plan = self.take_plan().window(vec![rn])?.filter(keep)?;
        Ok(())
    }
}

/// A column by its exact name (dots and `@` are part of the name).
pub(crate) fn col_ident(name: &str) -> Expr {
    ident(name)
}

/// The regex of a `parse` glob: literal text with each `*` capturing as little as possible,
/// except a trailing `*`, which takes the rest.
pub fn glob_regex(glob: &str) -> String {
    let mut out = String::from("(?s)");
    let pieces: Vec<&str> = glob.split('*').collect();
    for (i, piece) in pieces.iter().enumerate() {
        out.push_str(&regex::escape(piece));
        if i + 1 < pieces.len() {
            let last = i + 2 == pieces.len() && pieces[i + 1].is_empty();
            out.push_str(if last { "(.*)" } else { "(.*?)" });
        }
    }
    out
}

/// A row count as DataFusion's fetch: it is signed inside plans, so "no limit" (`u64::MAX`, as
/// `flowwatch query --file` asks) is the largest signed count.
fn fetch(n: u64) -> usize {
    usize::try_from(n.min(i64::MAX as u64)).unwrap_or(usize::MAX)
}
