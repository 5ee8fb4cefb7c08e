//! Rules about the whole pipeline: `SOURCE` limits, how many `stats`, what may follow
//! `dedup`, where `sort` and `limit` go, and which fields a later `stats` can see.

use super::{
    Checker, MAX_ACCOUNT_IDENTIFIERS, MAX_DATA_SOURCES, MAX_NAME_PREFIXES, MAX_STATS_COMMANDS,
    invalid,
};
use crate::ast::{
    Command, CommandKind, Expr, ExprKind, FieldPath, LogGroupsParam, ParsePattern, Source,
    SourceSelector, Stats,
};
use crate::error::{Diag, ErrorKind};

impl Checker {
    pub(super) fn source(&mut self, source: &Source) {
        for selector in &source.selectors {
            match selector {
                SourceSelector::LogGroups(args) => {
                    for (i, arg) in args.iter().enumerate() {
                        if args[..i].iter().any(|a| a.param == arg.param) {
                            self.errors.push(invalid(
                                format!("{} is given twice", arg.param.as_str()),
                                arg.span,
                            ));
                        }
                        let max = match arg.param {
                            LogGroupsParam::NamePrefix => MAX_NAME_PREFIXES,
                            LogGroupsParam::AccountIdentifiers => MAX_ACCOUNT_IDENTIFIERS,
                            LogGroupsParam::Class => 1,
                        };
                        if arg.values.len() > max {
                            self.errors.push(invalid(
                                format!("{} accepts at most {max} value(s)", arg.param.as_str()),
                                arg.span,
                            ));
                        }
                        if arg.param == LogGroupsParam::Class
                            && arg
                                .values
                                .iter()
                                .any(|v| v != "STANDARD" && v != "INFREQUENT_ACCESS")
                        {
                            self.errors.push(invalid(
                                "class must be STANDARD or INFREQUENT_ACCESS",
                                arg.span,
                            ));
                        }
                    }
                }
                SourceSelector::DataSource(names) if names.len() > MAX_DATA_SOURCES => {
                    self.errors.push(invalid(
                        format!("dataSource accepts at most {MAX_DATA_SOURCES} data sources"),
                        source.span,
                    ));
                }
                SourceSelector::DataSource(_) => {}
            }
        }
    }

    /// Rules about the order and number of commands.
    pub(super) fn pipeline(&mut self, commands: &[Command]) {
        let stats: Vec<usize> = commands
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c.kind, CommandKind::Stats(_)))
            .map(|(i, _)| i)
            .collect();
        if let Some(&extra) = stats.get(MAX_STATS_COMMANDS) {
            self.errors.push(invalid(
                format!("a query can have at most {MAX_STATS_COMMANDS} stats commands"),
                commands[extra].span,
            ));
        }
        if stats.len() > 1 {
            let last = stats[stats.len() - 1];
            for command in &commands[..last] {
                if matches!(command.kind, CommandKind::Sort(_) | CommandKind::Limit(_)) {
                    self.errors.push(invalid(
                        "with several stats commands, sort and limit must come after the last stats",
                        command.span,
                    ));
                }
            }
        }
        if let Some(dedup) = commands
            .iter()
            .position(|c| matches!(c.kind, CommandKind::Dedup(_)))
        {
            for command in &commands[dedup + 1..] {
                if !matches!(command.kind, CommandKind::Limit(_)) {
                    self.errors
                        .push(invalid("only limit can follow dedup", command.span));
                }
            }
        }
        self.later_stats(commands);
    }

    /// A `stats` after another one sees only what the previous one produced (plus what
    /// `fields`, `display`, `parse` and `unnest` add in between); `bin()` there needs
    /// `@timestamp` to have been carried through.
    fn later_stats(&mut self, commands: &[Command]) {
        let mut available: Option<Vec<String>> = None;
        for command in commands {
            match (&command.kind, available.as_mut()) {
                (CommandKind::Stats(stats), previous) => {
                    if let Some(names) = previous {
                        self.stats_sees(stats, names);
                    }
                    available = Some(outputs(stats));
                }
                (CommandKind::Fields(items) | CommandKind::Display(items), Some(names)) => {
                    for item in items {
                        names.push(match &item.alias {
                            Some(alias) => alias.flat_name(),
                            None => output_name(&item.expr),
                        });
                    }
                }
                (CommandKind::Parse(parse), Some(names)) => match &parse.pattern {
                    ParsePattern::Glob { fields, .. } => {
                        names.extend(fields.iter().map(FieldPath::flat_name));
                    }
                    ParsePattern::Regex(re) => {
                        names.extend(re.named_groups().into_iter().map(str::to_owned));
                    }
                },
                (CommandKind::Unnest { into, .. }, Some(names)) => names.push(into.flat_name()),
                _ => {}
            }
        }
    }

    fn stats_sees(&mut self, stats: &Stats, names: &[String]) {
        let mut fields = Vec::new();
        for item in &stats.items {
            fields_in(&item.expr, &mut fields);
        }
        for key in &stats.by {
            fields_in(&key.expr, &mut fields);
            if let ExprKind::Call(call) = &key.expr.kind
                && call.name == "bin"
                && !names.iter().any(|n| n == "@timestamp")
            {
                self.errors.push(invalid(
                    "bin() needs @timestamp, which the previous stats does not produce",
                    key.expr.span,
                ));
            }
        }
        for field in fields {
            let name = field.flat_name();
            let seen = names.iter().any(|n| {
                name == *n
                    || name
                        .strip_prefix(n.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            });
            if !seen {
                self.errors
                    .push(Diag::new(ErrorKind::UnavailableField { name }, field.span));
            }
        }
    }
}

/// The column names a `stats` produces: aliases, else the field name, else the printed
/// expression (`count(*)`); `topk(k, f)` also produces f's column (its rows are values of f
/// with their counts).
fn outputs(stats: &Stats) -> Vec<String> {
    let items = stats.items.iter().map(|item| (&item.expr, &item.alias));
    let keys = stats.by.iter().map(|key| (&key.expr, &key.alias));
    let topk_values = stats.items.iter().filter_map(|item| match &item.expr.kind {
        ExprKind::Call(call) if call.name == "topk" => call.args.get(1).map(output_name),
        _ => None,
    });
    items
        .chain(keys)
        .map(|(expr, alias)| match alias {
            Some(alias) => alias.flat_name(),
            None => output_name(expr),
        })
        .chain(topk_values)
        .collect()
}

fn output_name(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Field(path) => path.flat_name(),
        _ => expr.to_string(),
    }
}

/// Every field reference in `expr`.
fn fields_in<'a>(expr: &'a Expr, out: &mut Vec<&'a FieldPath>) {
    match &expr.kind {
        ExprKind::Field(path) => out.push(path),
        ExprKind::Literal(_) | ExprKind::Wildcard => {}
        ExprKind::List(items) => items.iter().for_each(|e| fields_in(e, out)),
        ExprKind::Unary { expr, .. } | ExprKind::Match { expr, .. } => fields_in(expr, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            fields_in(lhs, out);
            fields_in(rhs, out);
        }
        ExprKind::In { expr, list, .. } => {
            fields_in(expr, out);
            list.iter().for_each(|e| fields_in(e, out));
        }
        ExprKind::Call(call) => call.args.iter().for_each(|e| fields_in(e, out)),
    }
}
