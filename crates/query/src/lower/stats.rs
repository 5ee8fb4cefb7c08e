//! `stats`: aggregates (and arithmetic over them) by group keys, `bin()` included.

use std::collections::VecDeque;

use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, ExprFunctionExt, lit};
use flowwatch_insights::ast::{Call, Stats};
use flowwatch_insights::{Expr as Ast, ExprKind, FunctionKind, Span, functions};

use super::expr::{as_double, as_number, as_text, is_text};
use super::functions::period;
use super::{Lowering, col_ident};
use crate::error::Result;
use crate::input::TIMESTAMP;
use crate::udf::{TextFn, TextUdf};

impl Lowering<'_> {
    pub(crate) fn lower_stats(&mut self, stats: &Stats) -> Result<()> {
        // Group keys.
        let mut keys = Vec::with_capacity(stats.by.len());
        let mut key_names = Vec::with_capacity(stats.by.len());
        for key in &stats.by {
            let name = match (&key.alias, &key.expr.kind) {
                (Some(a), _) => a.flat_name(),
                (None, ExprKind::Field(p)) => p.flat_name(),
                (None, _) => key.expr.to_string(),
            };
            let e = match (&key.expr.kind, key.offset) {
                (ExprKind::Call(call), offset) if is_bin(call) => {
                    let p = call
                        .args
                        .first()
                        .and_then(|a| match &a.kind {
                            ExprKind::Literal(flowwatch_insights::Literal::Duration(d)) => {
                                period(*d)
                            }
                            _ => None,
                        })
                        .ok_or_else(|| self.unsupported("this period in bin()", key.expr.span))?;
                    let offset = offset.map_or(0, |d| i64::try_from(d.millis()).unwrap_or(0));
                    let ts = self.lower_field_named(TIMESTAMP);
                    self.floor_time(ts, &p, offset)
                }
                (_, Some(_)) => return Err(self.unsupported("offset outside bin()", key.expr.span)),
                _ => self.lower(&key.expr)?,
            };
            keys.push(e.alias(name.clone()));
            key_names.push(name);
        }
        // Aggregates, in the order the items visit them.
        let mut aggregates = Vec::new();
        for item in &stats.items {
            self.collect_aggregates(&item.expr, &mut aggregates)?;
        }
        // Each distinct aggregate once, unaliased: DataFusion then rewrites a `count_distinct`
        // (with `sum`/`min`/`max` beside it) into grouping by its argument too, which is far
        // faster than a set per group; items refer to the columns by their own names.
        let mut aggs: Vec<Expr> = Vec::with_capacity(aggregates.len());
        let mut positions = Vec::with_capacity(aggregates.len());
        for e in aggregates {
            let at = aggs.iter().position(|a| *a == e).unwrap_or_else(|| {
                aggs.push(e);
                aggs.len() - 1
            });
            positions.push(keys.len() + at);
        }
        self.plan = self.take_plan().aggregate(keys, aggs)?;
        let schema = self.plan.schema();
        let agg_names: Vec<String> = positions
            .into_iter()
            .map(|at| schema.field(at).name().clone())
            .collect();
        // Items over the aggregate columns.
        self.agg_columns = Some(agg_names.into_iter().collect::<VecDeque<_>>());
        self.item_exprs.clear();
        let mut items = Vec::with_capacity(stats.items.len());
        let mut item_names = Vec::with_capacity(stats.items.len());
        let lowered: Result<()> = (|| {
            for item in &stats.items {
                let name = item
                    .alias
                    .as_ref()
                    .map_or_else(|| item.expr.to_string(), |a| a.flat_name());
                let e = self.lower(&item.expr)?;
                self.item_exprs.insert(name.clone(), e.clone());
                items.push(e.alias(name.clone()));
                item_names.push(name);
            }
            Ok(())
        })();
        self.agg_columns = None;
        self.item_exprs.clear();
        lowered?;
        let mut exprs: Vec<Expr> = key_names.iter().map(|k| col_ident(k)).collect();
        exprs.extend(items);
        self.plan = self.take_plan().project(exprs)?;
        self.stats = Some((key_names, item_names));
        self.fields.clear();
        self.display = None;
        self.sort = None;
        Ok(())
    }

    /// Lowers every aggregate call inside `ast` (not inside each other) over the input rows.
    fn collect_aggregates(&mut self, ast: &Ast, out: &mut Vec<Expr>) -> Result<()> {
        match &ast.kind {
            ExprKind::Call(call) if is_aggregate(call) => out.push(self.aggregate(call, ast.span)?),
            ExprKind::Call(call) => {
                for a in &call.args {
                    self.collect_aggregates(a, out)?;
                }
            }
            ExprKind::Unary { expr, .. } | ExprKind::Match { expr, .. } => {
                self.collect_aggregates(expr, out)?;
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                self.collect_aggregates(lhs, out)?;
                self.collect_aggregates(rhs, out)?;
            }
            ExprKind::In { expr, list, .. } => {
                self.collect_aggregates(expr, out)?;
                for i in list {
                    self.collect_aggregates(i, out)?;
                }
            }
            ExprKind::List(items) => {
                for i in items {
                    self.collect_aggregates(i, out)?;
                }
            }
            ExprKind::Field(_) | ExprKind::Literal(_) | ExprKind::Wildcard => {}
        }
        Ok(())
    }

    /// While lowering `stats` items: the column holding the next aggregate.
    pub(crate) fn aggregate_column(&mut self, call: &Call, span: Span) -> Result<Expr> {
        match self.agg_columns.as_mut().and_then(VecDeque::pop_front) {
            Some(name) => Ok(col_ident(&name)),
            None => Err(self.unsupported(format!("{}() outside stats", call.name), span)),
        }
    }

    fn aggregate(&mut self, call: &Call, span: Span) -> Result<Expr> {
        let name = functions::lookup(&call.name).map_or(call.name.as_str(), |d| d.name);
        let arg =
            |this: &mut Self, i: usize| -> Result<(Expr, datafusion::arrow::datatypes::DataType)> {
                let e = this.lower(&call.args[i])?;
                let t = this.type_of(&e);
                Ok((e, t))
            };
        let star = call.args.is_empty()
            || matches!(call.args.first().map(|a| &a.kind), Some(ExprKind::Wildcard));
        Ok(match name {
            "count" if star => agg::count(lit(1i64)),
            "count" => agg::count(arg(self, 0)?.0),
            "countDistinct" => agg::count_distinct(arg(self, 0)?.0),
            "sum" => {
                let (e, t) = arg(self, 0)?;
                agg::sum(if is_text(&t) {
                    as_double(e, &t)
                } else {
                    as_number(e, &t)
                })
            }
            "avg" => {
                let (e, t) = arg(self, 0)?;
                agg::avg(as_double(e, &t))
            }
            "min" | "max" => {
                let (e, t) = arg(self, 0)?;
                let e = if is_text(&t) { as_double(e, &t) } else { e };
                if name == "min" {
                    agg::min(e)
                } else {
                    agg::max(e)
                }
            }
            "stddev" => {
                let (e, t) = arg(self, 0)?;
                agg::stddev_pop(as_double(e, &t))
            }
            "variance" => {
                let (e, t) = arg(self, 0)?;
                agg::var_pop(as_double(e, &t))
            }
            "pct" => {
                let (e, t) = arg(self, 0)?;
                let (p, pt) = arg(self, 1)?;
                let fraction = as_double(p, &pt) / lit(100.0);
                agg::percentile_cont(as_double(e, &t).sort(true, false), fraction)
            }
            "earliest" | "latest" => {
                let (e, _) = arg(self, 0)?;
                let ts = self.lower_field_named(TIMESTAMP);
                let asc = name == "earliest";
                agg::first_value(e, vec![ts.sort(asc, false)])
            }
            "sortsFirst" | "sortsLast" => {
                // The value first (last) in Insights' natural order, as `sort` orders text.
                let (e, t) = arg(self, 0)?;
                let key = TextUdf::call(TextFn::NaturalKey, vec![as_text(e.clone(), &t)])
                    .expect("no regex to compile");
                agg::first_value(e, vec![key.sort(name == "sortsFirst", false)])
            }
            "values" => agg::array_agg(arg(self, 0)?.0).distinct().build()?,
            other => return Err(self.unsupported(format!("aggregate function `{other}`"), span)),
        })
    }
}

fn is_aggregate(call: &Call) -> bool {
    functions::lookup(&call.name).is_some_and(|d| d.kind == FunctionKind::Aggregate)
}

fn is_bin(call: &Call) -> bool {
    functions::lookup(&call.name).is_some_and(|d| d.kind == FunctionKind::Bin)
}
