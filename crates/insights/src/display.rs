//! `Display` for the AST: prints canonical query text that parses back to an equal AST.
//!
//! Canonical form: lowercase command names and keywords, `where` printed as `filter`,
//! double-quoted strings, canonical function names, short duration units, single spaces, and
//! parentheses only where precedence needs them.

use std::fmt::{self, Display, Formatter, Write as _};

use crate::ast::{
    BinaryOp, Call, Command, CommandKind, Duration, Expr, ExprKind, FieldPath, FilterIndex,
    FilterIndexValues, GroupKey, Limit, Literal, LogGroupsArg, MatchOp, MatchPattern, Parse,
    ParsePattern, Projection, Query, Regex, Segment, SortKey, SortOrder, Source, SourceSelector,
    Stats, UnaryOp,
};
use crate::parser::KEYWORDS;

/// Binding strength, loosest first (see `parser/expr.rs`).
fn precedence(expr: &Expr) -> u8 {
    match &expr.kind {
        ExprKind::Binary { op, .. } => match op {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
            BinaryOp::Pow => 8,
        },
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => 3,
        ExprKind::Match { .. } | ExprKind::In { .. } => 4,
        ExprKind::Unary {
            op: UnaryOp::Neg, ..
        } => 7,
        _ => 9,
    }
}

/// Writes `expr`, in parentheses when it binds looser than `min`.
fn operand(f: &mut Formatter<'_>, expr: &Expr, min: u8) -> fmt::Result {
    if precedence(expr) < min {
        write!(f, "({expr})")
    } else {
        write!(f, "{expr}")
    }
}

fn join<T: Display>(f: &mut Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(source) = &self.source {
            write!(f, "{source}")?;
            if !self.commands.is_empty() {
                f.write_str(" | ")?;
            }
        }
        join(f, &self.commands, " | ")
    }
}

impl Display for Source {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SOURCE")?;
        for selector in &self.selectors {
            match selector {
                SourceSelector::LogGroups(args) => {
                    f.write_str(" logGroups(")?;
                    join(f, args, ", ")?;
                    f.write_str(")")?;
                }
                SourceSelector::DataSource(names) => {
                    f.write_str(" dataSource(")?;
                    string_list(f, names)?;
                    f.write_str(")")?;
                }
            }
        }
        Ok(())
    }
}

impl Display for LogGroupsArg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.param.as_str())?;
        string_list(f, &self.values)
    }
}

fn string_list(f: &mut Formatter<'_>, values: &[String]) -> fmt::Result {
    f.write_str("[")?;
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        quoted(f, value)?;
    }
    f.write_str("]")
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)
    }
}

impl Display for CommandKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.name())?;
        match self {
            CommandKind::Fields(items) | CommandKind::Display(items) => join(f, items, ", "),
            CommandKind::Filter(expr) => write!(f, "{expr}"),
            CommandKind::Stats(stats) => write!(f, "{stats}"),
            CommandKind::Sort(keys) => join(f, keys, ", "),
            CommandKind::Limit(Limit::Rows(n)) => write!(f, "{n}"),
            CommandKind::Limit(Limit::Any) => f.write_str("any"),
            CommandKind::Parse(parse) => write!(f, "{parse}"),
            CommandKind::Dedup(fields) => join(f, fields, ", "),
            CommandKind::Unnest { expr, into } => write!(f, "{expr} into {into}"),
            CommandKind::Unmask(field) => write!(f, "{field}"),
            CommandKind::Pattern(expr) => write!(f, "{expr}"),
            CommandKind::FilterIndex(index) => write!(f, "{index}"),
        }
    }
}

impl Display for Projection {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if let Some(alias) = &self.alias {
            write!(f, " as {alias}")?;
        }
        Ok(())
    }
}

impl Display for Stats {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, &self.items, ", ")?;
        if !self.by.is_empty() {
            f.write_str(" by ")?;
            join(f, &self.by, ", ")?;
        }
        Ok(())
    }
}

impl Display for GroupKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if let Some(offset) = &self.offset {
            write!(f, " offset {offset}")?;
        }
        if let Some(alias) = &self.alias {
            write!(f, " as {alias}")?;
        }
        Ok(())
    }
}

impl Display for SortKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        match self.order {
            Some(SortOrder::Asc) => f.write_str(" asc"),
            Some(SortOrder::Desc) => f.write_str(" desc"),
            None => Ok(()),
        }
    }
}

impl Display for Parse {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        operand(f, &self.source, 9)?;
        f.write_str(" ")?;
        match &self.pattern {
            ParsePattern::Glob { pattern, fields } => {
                quoted(f, pattern)?;
                f.write_str(" as ")?;
                join(f, fields, ", ")
            }
            ParsePattern::Regex(re) => write!(f, "{re}"),
        }
    }
}

impl Display for FilterIndex {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field)?;
        match &self.values {
            FilterIndexValues::Eq(value) => write!(f, " = {value}"),
            FilterIndexValues::In(values) => {
                f.write_str(" in [")?;
                join(f, values, ", ")?;
                f.write_str("]")
            }
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Field(path) => write!(f, "{path}"),
            ExprKind::Literal(lit) => write!(f, "{lit}"),
            ExprKind::List(items) => {
                f.write_str("[")?;
                join(f, items, ", ")?;
                f.write_str("]")
            }
            ExprKind::Wildcard => f.write_str("*"),
            ExprKind::Unary {
                op: UnaryOp::Not,
                expr,
            } => {
                f.write_str("not ")?;
                operand(f, expr, 3)
            }
            ExprKind::Unary {
                op: UnaryOp::Neg,
                expr,
            } => {
                f.write_str("-")?;
                operand(f, expr, 7)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let p = precedence(self);
                let (lhs_min, rhs_min) = match op {
                    BinaryOp::Pow => (9, 7),
                    _ if p == 4 => (5, 5),
                    _ => (p, p + 1),
                };
                operand(f, lhs, lhs_min)?;
                write!(f, " {} ", op.symbol())?;
                operand(f, rhs, rhs_min)
            }
            ExprKind::Match { expr, op, pattern } => {
                operand(f, expr, 5)?;
                let op = match op {
                    MatchOp::Like => "like",
                    MatchOp::NotLike => "not like",
                    MatchOp::Regex => "=~",
                };
                write!(f, " {op} ")?;
                match pattern {
                    MatchPattern::Substring(s) => quoted(f, s),
                    MatchPattern::Regex(re) => write!(f, "{re}"),
                }
            }
            ExprKind::In {
                expr,
                negated,
                list,
            } => {
                operand(f, expr, 5)?;
                f.write_str(if *negated { " not in [" } else { " in [" })?;
                join(f, list, ", ")?;
                f.write_str("]")
            }
            ExprKind::Call(call) => write!(f, "{call}"),
        }
    }
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Pow => "^",
        }
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        join(f, &self.args, ", ")?;
        f.write_str(")")
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => quoted(f, s),
            Literal::Integer(n) => write!(f, "{n}"),
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::Duration(d) => write!(f, "{d}"),
            Literal::Regex(re) => write!(f, "{re}"),
        }
    }
}

impl Display for Duration {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.as_str())
    }
}

impl Display for Regex {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('/')?;
        let mut chars = self.pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    f.write_char('\\')?;
                    f.write_char(chars.next().unwrap_or('\\'))?;
                }
                '/' => f.write_str("\\/")?,
                c => f.write_char(c)?,
            }
        }
        write!(f, "/{}", self.flags)
    }
}

fn quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}

impl Display for FieldPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let single = self.segments.len() == 1;
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Name(name) => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    let plain = !name.is_empty()
                        && name.chars().all(is_word)
                        && (i > 0 || !name.starts_with(|c: char| c.is_ascii_digit()))
                        && !(single && KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name)));
                    if plain {
                        f.write_str(name)?;
                    } else {
                        write!(f, "`{}`", name.replace('`', "``"))?;
                    }
                }
            }
        }
        Ok(())
    }
}
