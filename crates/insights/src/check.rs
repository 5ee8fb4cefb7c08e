//! Checks over a parsed query: functions exist and get the right number of arguments,
//! aggregates only in `stats`, `bin()` only as a `by` key, `*` only in `count(*)`, command
//! placement and the documented limits. Every error points at the offending source range.

use crate::ast::{
    Command, CommandKind, Expr, ExprKind, FilterIndexValues, Limit, Literal, ParsePattern, Query,
    Stats,
};
mod pipeline;

use crate::error::{Diag, ErrorKind};
use crate::functions::{self, FunctionKind};

/// At most this many `stats` commands per query (Standard class).
pub const MAX_STATS_COMMANDS: usize = 10;
/// `limit` accepts at most this many rows.
pub const MAX_LIMIT: u64 = 100_000;
/// `SOURCE logGroups(namePrefix: [...])` accepts at most this many prefixes.
pub const MAX_NAME_PREFIXES: usize = 5;
/// `SOURCE logGroups(accountIdentifiers: [...])` accepts at most this many accounts.
pub const MAX_ACCOUNT_IDENTIFIERS: usize = 20;
/// `SOURCE dataSource([...])` accepts at most this many data sources.
pub const MAX_DATA_SOURCES: usize = 10;
/// `topk(k, f)` accepts k up to this.
pub const MAX_TOPK: i64 = 10_000;
/// `histogram(f, buckets)` accepts at most this many buckets (flowwatch's bound on the map
/// it returns; AWS documents none).
pub const MAX_HISTOGRAM_BUCKETS: i64 = 1_000;

/// Where an expression sits, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// `fields`, `filter`, `sort`, …: no aggregates, no `bin`.
    Plain,
    /// A `stats` item outside any aggregate.
    StatsItem,
    /// Inside an aggregate's arguments.
    InAggregate,
    /// The top of a `stats … by` key: `bin()` allowed.
    GroupKey,
    /// Inside a `by` key.
    InGroupKey,
}

/// Every problem in `query`, in source order of commands.
pub(crate) fn check_query(query: &Query) -> Vec<Diag> {
    let mut checker = Checker { errors: Vec::new() };
    if let Some(source) = &query.source {
        checker.source(source);
    }
    checker.pipeline(&query.commands);
    for command in &query.commands {
        checker.command(command);
    }
    checker.errors
}

struct Checker {
    errors: Vec<Diag>,
}

fn invalid(message: impl Into<String>, span: crate::span::Span) -> Diag {
    Diag::new(
        ErrorKind::InvalidCommand {
            message: message.into(),
        },
        span,
    )
}

impl Checker {
    fn command(&mut self, command: &Command) {
        match &command.kind {
            CommandKind::Fields(items) | CommandKind::Display(items) => {
                for item in items {
                    self.expr(&item.expr, Place::Plain);
                }
            }
            CommandKind::Filter(expr) => self.expr(expr, Place::Plain),
            CommandKind::Stats(stats) => self.stats(stats, command),
            CommandKind::Sort(keys) => {
                for key in keys {
                    self.expr(&key.expr, Place::Plain);
                }
            }
            CommandKind::Limit(Limit::Rows(n)) if !(1..=MAX_LIMIT).contains(n) => {
                self.errors.push(invalid(
                    format!("limit must be between 1 and {MAX_LIMIT}"),
                    command.span,
                ));
            }
            CommandKind::Limit(_) | CommandKind::Dedup(_) | CommandKind::Unmask(_) => {}
            CommandKind::Parse(parse) => {
                self.expr(&parse.source, Place::Plain);
                match &parse.pattern {
                    ParsePattern::Glob { pattern, fields } => {
                        let wildcards = pattern.matches('*').count();
                        if wildcards != fields.len() {
                            self.errors.push(invalid(
                                format!(
                                    "parse pattern has {wildcards} wildcard(s) but {} field name(s)",
                                    fields.len()
                                ),
                                command.span,
                            ));
                        }
                    }
                    ParsePattern::Regex(re) if re.named_groups().is_empty() => {
                        self.errors.push(invalid(
                            "parse regex needs at least one named group such as (?<name>...)",
                            command.span,
                        ));
                    }
                    ParsePattern::Regex(_) => {}
                }
            }
            CommandKind::Unnest { expr, .. } | CommandKind::Pattern(expr) => {
                self.expr(expr, Place::Plain)
            }
            CommandKind::FilterIndex(index) => match &index.values {
                FilterIndexValues::Eq(value) => self.expr(value, Place::Plain),
                FilterIndexValues::In(values) => {
                    for value in values {
                        self.expr(value, Place::Plain);
                    }
                }
            },
        }
    }

    fn stats(&mut self, stats: &Stats, command: &Command) {
        for item in &stats.items {
            self.expr(&item.expr, Place::StatsItem);
        }
        for key in &stats.by {
            self.expr(&key.expr, Place::GroupKey);
            let is_bin = matches!(&key.expr.kind, ExprKind::Call(c) if c.name == "bin");
            if key.offset.is_some() && !is_bin {
                self.errors.push(invalid(
                    "offset is only allowed after a bin() key",
                    key.expr.span,
                ));
            }
        }
        let has_topk = stats.items.iter().any(|item| calls(&item.expr, "topk"));
        if has_topk && (stats.items.len() > 1 || !stats.by.is_empty()) {
            self.errors.push(invalid(
                "topk cannot be combined with by or with other aggregates",
                command.span,
            ));
        } else if has_topk
            && let Some(item) = stats.items.first()
            && !matches!(&item.expr.kind, ExprKind::Call(c) if c.name == "topk")
        {
            // Its result is rows, not one value an expression could use.
            self.errors.push(invalid(
                "topk must be the whole stats item, not part of an expression",
                item.expr.span,
            ));
        }
    }

    fn expr(&mut self, expr: &Expr, place: Place) {
        let inner = match place {
            Place::GroupKey => Place::InGroupKey,
            other => other,
        };
        match &expr.kind {
            ExprKind::Field(_) | ExprKind::Literal(_) => {}
            ExprKind::Wildcard => self
                .errors
                .push(Diag::new(ErrorKind::MisplacedWildcard, expr.span)),
            ExprKind::List(items) => {
                for item in items {
                    self.expr(item, inner);
                }
            }
            ExprKind::Unary { expr, .. } => self.expr(expr, inner),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs, inner);
                self.expr(rhs, inner);
            }
            ExprKind::Match { expr, .. } => self.expr(expr, inner),
            ExprKind::In { expr, list, .. } => {
                self.expr(expr, inner);
                for item in list {
                    self.expr(item, inner);
                }
            }
            ExprKind::Call(call) => self.call(expr, call, place),
        }
    }

    fn call(&mut self, expr: &Expr, call: &crate::ast::Call, place: Place) {
        let Some(def) = functions::lookup(&call.name) else {
            self.errors.push(Diag::new(
                ErrorKind::UnknownFunction {
                    name: call.name.clone(),
                },
                call.name_span,
            ));
            let inner = if place == Place::GroupKey {
                Place::InGroupKey
            } else {
                place
            };
            for arg in &call.args {
                self.expr(arg, inner);
            }
            return;
        };
        if !def.arity.accepts(call.args.len()) {
            self.errors.push(Diag::new(
                ErrorKind::WrongArity {
                    name: def.name.into(),
                    expected: def.arity.describe(),
                    found: call.args.len(),
                },
                expr.span,
            ));
        }
        let arg_place = match (def.kind, place) {
            (FunctionKind::Aggregate, Place::StatsItem) => Place::InAggregate,
            (FunctionKind::Aggregate, Place::Plain) => {
                self.errors.push(Diag::new(
                    ErrorKind::AggregateOutsideStats {
                        name: def.name.into(),
                    },
                    expr.span,
                ));
                Place::Plain
            }
            (FunctionKind::Aggregate, _) => {
                self.errors.push(Diag::new(
                    ErrorKind::MisplacedAggregate {
                        name: def.name.into(),
                    },
                    expr.span,
                ));
                place
            }
            (FunctionKind::Bin, Place::GroupKey) => Place::InGroupKey,
            (FunctionKind::Bin, _) => {
                self.errors
                    .push(Diag::new(ErrorKind::BinOutsideBy, expr.span));
                place
            }
            (FunctionKind::Scalar, Place::GroupKey) => Place::InGroupKey,
            (FunctionKind::Scalar, other) => other,
        };
        self.arguments(def.name, call);
        for (i, arg) in call.args.iter().enumerate() {
            let star_ok = def.name == "count" && i == 0 && call.args.len() == 1;
            if star_ok && arg.kind == ExprKind::Wildcard {
                continue;
            }
            self.expr(arg, arg_place);
        }
    }

    /// Argument shapes that are known before any data is seen.
    fn arguments(&mut self, name: &str, call: &crate::ast::Call) {
        let bad = |reason: &str, span| {
            Diag::new(
                ErrorKind::InvalidArgument {
                    name: name.into(),
                    reason: reason.into(),
                },
                span,
            )
        };
        let literal = |i: usize| match call.args.get(i).map(|a| &a.kind) {
            Some(ExprKind::Literal(lit)) => Some(lit),
            _ => None,
        };
        let number = |i: usize| match literal(i) {
            Some(Literal::Integer(n)) => Some(*n as f64),
            Some(Literal::Float(x)) => Some(*x),
            _ => None,
        };
        let period_at = match name {
            "bin" => Some(0),
            "datefloor" | "dateceil" | "rate" => Some(1),
            _ => None,
        };
        if let Some(i) = period_at
            && let Some(arg) = call.args.get(i)
            && !matches!(literal(i), Some(Literal::Duration(_)))
        {
            self.errors
                .push(bad("expected a period such as 5m", arg.span));
        }
        if name == "pct"
            && let Some(arg) = call.args.get(1)
            && !number(1).is_some_and(|p| (0.0..=100.0).contains(&p))
        {
            self.errors.push(bad(
                "the percentile must be a number from 0 to 100",
                arg.span,
            ));
        }
        if name == "topk"
            && let Some(arg) = call.args.first()
            && !matches!(literal(0), Some(Literal::Integer(1..=MAX_TOPK)))
        {
            self.errors.push(bad(
                &format!("k must be an integer from 1 to {MAX_TOPK}"),
                arg.span,
            ));
        }
        if name == "histogram"
            && let Some(arg) = call.args.get(1)
            && !matches!(
                literal(1),
                Some(Literal::Integer(1..=MAX_HISTOGRAM_BUCKETS))
            )
        {
            self.errors.push(bad(
                &format!("buckets must be an integer from 1 to {MAX_HISTOGRAM_BUCKETS}"),
                arg.span,
            ));
        }
    }
}

/// Whether `expr` calls the function `name` (canonical) anywhere.
fn calls(expr: &Expr, name: &str) -> bool {
    match &expr.kind {
        ExprKind::Call(c) => c.name == name || c.args.iter().any(|a| calls(a, name)),
        ExprKind::Field(_) | ExprKind::Literal(_) | ExprKind::Wildcard => false,
        ExprKind::List(items) => items.iter().any(|i| calls(i, name)),
        ExprKind::Unary { expr, .. } | ExprKind::Match { expr, .. } => calls(expr, name),
        ExprKind::Binary { lhs, rhs, .. } => calls(lhs, name) || calls(rhs, name),
        ExprKind::In { expr, list, .. } => calls(expr, name) || list.iter().any(|i| calls(i, name)),
    }
}
