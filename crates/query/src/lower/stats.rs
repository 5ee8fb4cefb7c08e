//! `stats`: aggregates (and arithmetic over them) by group keys, `bin()` included; `topk`,
//! whose result is rows rather than one value per group.
//!
//! The time-series functions: `countOverTime(f)` is `count(f)` and `sumOverTime(f)` is
//! `sum(f)` per group (per time bin with `by bin()`); `rate(f, interval)` is the sum of f
//! over the group's time span counted in intervals, the span being the width of the bin
//! (the first `bin()` key; a calendar bin's own length) or, without `bin()`, from the
//! group's first to its last event (null when they are at the same time).

use std::collections::VecDeque;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::core::expr_fn::nullif;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, ExprFunctionExt, cast, lit};
use flowwatch_insights::ast::{Call, Projection, Stats};
use flowwatch_insights::{Expr as Ast, ExprKind, FunctionKind, Literal, Span, functions};

use super::expr::{as_double, as_number, as_text, is_text};
use super::functions::{Period, period};
use super::{Lowering, col_ident};
use crate::error::Result;
use crate::input::TIMESTAMP;
use crate::udf::{HistogramUdaf, TextFn, TextUdf};

/// An aggregate call lowered: the aggregates it needs over the input rows and how its value
/// is made of their columns.
struct AggCall {
    parts: Vec<Expr>,
    finish: Finish,
}

/// How an aggregate call's value is made of its aggregate columns.
#[derive(Debug, Clone)]
enum Finish {
    /// The one column as it is.
    Column,
    /// `rate`: the sum (first column) × the interval / the span: `width` (ms) when grouped
    /// by `bin()`, else the last minus the first `@timestamp` (second and third columns).
    Rate {
        interval_ms: f64,
        width: Option<Expr>,
    },
}

/// While lowering `stats` items: the next aggregate call's columns and how to finish them.
pub(crate) struct AggColumns {
    finish: Finish,
    columns: Vec<String>,
}

/// The first `bin()` key of a `stats`: its column and its period.
struct BinKey {
    name: String,
    period: Period,
}

impl BinKey {
    /// The width of the key's bin in ms, over the aggregated rows.
    fn width(&self) -> Expr {
        let months = match self.period {
            Period::Millis(ms) => return lit(ms as f64),
            Period::Calendar("quarter") => 3,
            Period::Calendar("year") => 12,
            Period::Calendar(_) => 1,
        };
        let start = col_ident(&self.name);
        let end = start.clone() + lit(ScalarValue::IntervalYearMonth(Some(months)));
        cast(
            cast(end, DataType::Int64) - cast(start, DataType::Int64),
            DataType::Float64,
        )
    }
}

impl Lowering<'_> {
    pub(crate) fn lower_stats(&mut self, stats: &Stats) -> Result<()> {
        if let ([item], []) = (stats.items.as_slice(), stats.by.as_slice())
            && let ExprKind::Call(call) = &item.expr.kind
            && is_named(call, "topk")
        {
            return self.lower_topk(item, call);
        }
        // Group keys.
        let mut keys = Vec::with_capacity(stats.by.len());
        let mut key_names = Vec::with_capacity(stats.by.len());
        let mut bin: Option<BinKey> = None;
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
                    let floored = self.floor_time(ts, &p, offset);
                    bin.get_or_insert(BinKey {
                        name: name.clone(),
                        period: p,
                    });
                    floored
                }
                (_, Some(_)) => return Err(self.unsupported("offset outside bin()", key.expr.span)),
                _ => self.lower(&key.expr)?,
            };
            keys.push(e.alias(name.clone()));
            key_names.push(name);
        }
        // Aggregates, in the order the items visit them.
        let mut calls = Vec::new();
        for item in &stats.items {
            self.collect_aggregates(&item.expr, bin.as_ref(), &mut calls)?;
        }
        // Each distinct aggregate once, unaliased: DataFusion then rewrites a `count_distinct`
        // (with `sum`/`min`/`max` beside it) into grouping by its argument too, which is far
        // faster than a set per group; items refer to the columns by their own names.
        let mut aggs: Vec<Expr> = Vec::with_capacity(calls.len());
        let mut positions = Vec::with_capacity(calls.len());
        for call in &mut calls {
            let at: Vec<usize> = call
                .parts
                .drain(..)
                .map(|e| {
                    let at = aggs.iter().position(|a| *a == e).unwrap_or_else(|| {
                        aggs.push(e);
                        aggs.len() - 1
                    });
                    keys.len() + at
                })
                .collect();
            positions.push(at);
        }
        self.plan = self.take_plan().aggregate(keys, aggs)?;
        let schema = self.plan.schema();
        let pending: VecDeque<AggColumns> = calls
            .into_iter()
            .zip(positions)
            .map(|(call, at)| AggColumns {
                finish: call.finish,
                columns: at
                    .into_iter()
                    .map(|at| schema.field(at).name().clone())
                    .collect(),
            })
            .collect();
        // Items over the aggregate columns.
        self.agg_columns = Some(pending);
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
        // A histogram is a JSON map: paths below it reach into it.
        for (item, name) in stats.items.iter().zip(&item_names) {
            if matches!(&item.expr.kind, ExprKind::Call(c) if is_named(c, "histogram")) {
                self.json_columns.insert(name.clone());
            } else {
                self.json_columns.remove(name);
            }
        }
        self.stats = Some((key_names, item_names));
        self.fields.clear();
        self.display = None;
        self.sort = None;
        Ok(())
    }

    /// `stats topk(k, f)`: one row per value of f (where f is present) with its count, the
    /// most frequent first (equal counts in f's natural order), at most k rows. The value's
    /// column is named as a `by` key would be (f's name, or the expression's text), the
    /// count's as the item (its alias, or `topk(k, f)`); what follows sees those two, as
    /// after `stats … by f`.
    fn lower_topk(&mut self, item: &Projection, call: &Call) -> Result<()> {
        let k = match call.args.first().map(|a| &a.kind) {
            Some(ExprKind::Literal(Literal::Integer(k))) if *k >= 1 => *k,
            _ => return Err(self.unsupported("this k in topk()", item.expr.span)),
        };
        let Some(value) = call.args.get(1) else {
            return Err(self.unsupported("topk() without a field", item.expr.span));
        };
        let value_name = match &value.kind {
            ExprKind::Field(p) => p.flat_name(),
            _ => value.to_string(),
        };
        let count_name = item
            .alias
            .as_ref()
            .map_or_else(|| item.expr.to_string(), |a| a.flat_name());
        if value_name == count_name {
            return Err(self.unsupported(
                "topk() named like its field (give it another alias)",
                item.expr.span,
            ));
        }
        let v = self.lower(value)?;
        self.plan = self
            .take_plan()
            .filter(v.clone().is_not_null())?
            .aggregate(
                vec![v.alias(value_name.clone())],
                vec![agg::count(lit(1i64)).alias(count_name.clone())],
            )?;
        let value_col = col_ident(&value_name);
        let order = vec![
            col_ident(&count_name).sort(false, false),
            self.sort_key(value_col.clone(), true),
            value_col.sort(true, false),
        ];
        let k = usize::try_from(k).unwrap_or(usize::MAX);
        self.plan = self.take_plan().sort(order.clone())?.limit(0, Some(k))?;
        self.json_columns.remove(&value_name);
        self.json_columns.remove(&count_name);
        self.stats = Some((vec![value_name], vec![count_name]));
        self.fields.clear();
        self.display = None;
        self.sort = Some(order);
        Ok(())
    }

    /// Lowers every aggregate call inside `ast` (not inside each other) over the input rows.
    fn collect_aggregates(
        &mut self,
        ast: &Ast,
        bin: Option<&BinKey>,
        out: &mut Vec<AggCall>,
    ) -> Result<()> {
        match &ast.kind {
            ExprKind::Call(call) if is_aggregate(call) => {
                out.push(self.aggregate(call, bin, ast.span)?);
            }
            ExprKind::Call(call) => {
                for a in &call.args {
                    self.collect_aggregates(a, bin, out)?;
                }
            }
            ExprKind::Unary { expr, .. } | ExprKind::Match { expr, .. } => {
                self.collect_aggregates(expr, bin, out)?;
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                self.collect_aggregates(lhs, bin, out)?;
                self.collect_aggregates(rhs, bin, out)?;
            }
            ExprKind::In { expr, list, .. } => {
                self.collect_aggregates(expr, bin, out)?;
                for i in list {
                    self.collect_aggregates(i, bin, out)?;
                }
            }
            ExprKind::List(items) => {
                for i in items {
                    self.collect_aggregates(i, bin, out)?;
                }
            }
            ExprKind::Field(_) | ExprKind::Literal(_) | ExprKind::Wildcard => {}
        }
        Ok(())
    }

    /// While lowering `stats` items: the value of the next aggregate call, over the
    /// aggregate columns.
    pub(crate) fn aggregate_column(&mut self, call: &Call, span: Span) -> Result<Expr> {
        let Some(AggColumns { finish, columns }) =
            self.agg_columns.as_mut().and_then(VecDeque::pop_front)
        else {
            return Err(self.unsupported(format!("{}() outside stats", call.name), span));
        };
        let column = |i: usize| col_ident(&columns[i]);
        Ok(match finish {
            Finish::Column => column(0),
            Finish::Rate { interval_ms, width } => {
                let sum = column(0);
                let t = self.type_of(&sum);
                let span = match width {
                    Some(width) => width,
                    None => nullif(cast(column(2) - column(1), DataType::Float64), lit(0.0)),
                };
                as_double(sum, &t) * lit(interval_ms) / span
            }
        })
    }

    fn aggregate(&mut self, call: &Call, bin: Option<&BinKey>, span: Span) -> Result<AggCall> {
        let name = functions::lookup(&call.name).map_or(call.name.as_str(), |d| d.name);
        let column = |e: Expr| AggCall {
            parts: vec![e],
            finish: Finish::Column,
        };
        Ok(match name {
            "rate" => {
                let interval = match call.args.get(1).map(|a| &a.kind) {
                    Some(ExprKind::Literal(Literal::Duration(d))) => d.millis() as f64,
                    _ => return Err(self.unsupported("this interval in rate()", span)),
                };
                let sum = self.aggregate_value(call, span)?;
                match bin {
                    Some(bin) => AggCall {
                        parts: vec![sum],
                        finish: Finish::Rate {
                            interval_ms: interval,
                            width: Some(bin.width()),
                        },
                    },
                    None => {
                        let ts = self.lower_field_named(TIMESTAMP);
                        let t = self.type_of(&ts);
                        let ms = as_number(ts, &t);
                        AggCall {
                            parts: vec![sum, agg::min(ms.clone()), agg::max(ms)],
                            finish: Finish::Rate {
                                interval_ms: interval,
                                width: None,
                            },
                        }
                    }
                }
            }
            "topk" => {
                return Err(self.unsupported("topk() beside other items or a by", span));
            }
            _ => column(self.aggregate_value(call, span)?),
        })
    }

    /// The one aggregate expression of `call` over the input rows (for `rate`, its sum).
    fn aggregate_value(&mut self, call: &Call, span: Span) -> Result<Expr> {
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
            "count" | "countOverTime" => agg::count(arg(self, 0)?.0),
            "countDistinct" => agg::count_distinct(arg(self, 0)?.0),
            "sum" | "sumOverTime" | "rate" => {
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
            "histogram" => {
                let buckets = match call.args.get(1).map(|a| &a.kind) {
                    Some(ExprKind::Literal(Literal::Integer(n))) if *n >= 1 => {
                        usize::try_from(*n).unwrap_or(usize::MAX)
                    }
                    _ => {
                        return Err(self.unsupported("this number of buckets in histogram()", span));
                    }
                };
                let (e, t) = arg(self, 0)?;
                HistogramUdaf::call(buckets, as_double(e, &t))
            }
            other => return Err(self.unsupported(format!("aggregate function `{other}`"), span)),
        })
    }
}

/// Whether `call` calls the function named `name` (canonical).
fn is_named(call: &Call, name: &str) -> bool {
    functions::lookup(&call.name).is_some_and(|d| d.name == name)
}

fn is_aggregate(call: &Call) -> bool {
    functions::lookup(&call.name).is_some_and(|d| d.kind == FunctionKind::Aggregate)
}

fn is_bin(call: &Call) -> bool {
    functions::lookup(&call.name).is_some_and(|d| d.kind == FunctionKind::Bin)
}
