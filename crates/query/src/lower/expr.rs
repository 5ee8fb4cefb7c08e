//! Expressions: fields, literals, operators, `like`, `=~`, `in`; the coercions Insights
//! applies between text and numbers.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{Expr, Operator, binary_expr, cast, in_list, lit, try_cast, when};
use flowwatch_insights::ast::{
    BinaryOp, CommandKind, FieldPath, MatchOp, MatchPattern, Regex, Segment, UnaryOp,
};
use flowwatch_insights::{Expr as Ast, ExprKind, Literal};

use super::{Lowering, col_ident};
use crate::error::Result;
use crate::udf::json::{index_step, key_step};
use crate::udf::{TextFn, TextUdf};

pub(crate) fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_number(t: &DataType) -> bool {
    t.is_numeric()
}

fn is_time(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(..))
}

/// The value as a number: text is read as a double (null when not numeric), times as epoch
/// milliseconds, booleans as 0/1.
pub(crate) fn as_number(e: Expr, t: &DataType) -> Expr {
    match t {
        t if is_text(t) || *t == DataType::Null => try_cast(e, DataType::Float64),
        t if is_time(t) => cast(e, DataType::Int64),
        DataType::Boolean => cast(e, DataType::Int64),
        _ => e,
    }
}

/// The value as a double.
pub(crate) fn as_double(e: Expr, t: &DataType) -> Expr {
    match t {
        DataType::Float64 => e,
        t if is_text(t) || *t == DataType::Null => try_cast(e, DataType::Float64),
        _ => cast(as_number(e, t), DataType::Float64),
    }
}

/// The value as text.
pub(crate) fn as_text(e: Expr, t: &DataType) -> Expr {
    if is_text(t) {
        e
    } else {
        cast(e, DataType::Utf8)
    }
}

/// The value as a condition: numbers are true when non-zero, text when non-empty.
pub(crate) fn as_bool(e: Expr, t: &DataType) -> Expr {
    match t {
        DataType::Boolean => e,
        DataType::Null => lit(false),
        t if is_text(t) => e.clone().is_not_null().and(e.not_eq(lit(""))),
        t => as_number(e, t).not_eq(lit(0i64)),
    }
}

/// `/pattern/flags` as a Rust regex (flags become an inline group).
pub(crate) fn regex_text(re: &Regex) -> String {
    let flags: String = re.flags.chars().filter(|c| "imsux".contains(*c)).collect();
    if flags.is_empty() {
        re.pattern.clone()
    } else {
        format!("(?{flags}){}", re.pattern)
    }
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Lowering<'_> {
    /// The JSON column a path starts with (its longest such prefix of names) and the steps
    /// into it (`udf::json`), when it starts with one.
    pub(crate) fn json_root(&self, path: &FieldPath) -> Option<(String, Vec<String>)> {
        let names: Vec<&str> = path
            .segments
            .iter()
            .map_while(|s| match s {
                Segment::Name(n) => Some(n.as_str()),
                Segment::Index(_) => None,
            })
            .collect();
        (1..=names.len()).rev().find_map(|k| {
            let root = names[..k].join(".");
            self.json_columns.contains(&root).then(|| {
                let steps = path.segments[k..]
                    .iter()
                    .map(|s| match s {
                        Segment::Name(n) => key_step(n),
                        Segment::Index(i) => index_step(*i),
                    })
                    .collect();
                (root, steps)
            })
        })
    }

    /// Whether an expression's value is JSON (a map or list made by `jsonParse` or `split`,
    /// or a path into a JSON column).
    pub(crate) fn makes_json(&self, ast: &Ast) -> bool {
        match &ast.kind {
            ExprKind::Call(call) => {
                let name = call.name.to_ascii_lowercase();
                name == "jsonparse" || name == "split"
            }
            ExprKind::Field(path) => self.json_root(path).is_some(),
            _ => false,
        }
    }

    /// A `filter` condition.
    pub(crate) fn predicate(&mut self, ast: &Ast) -> Result<Expr> {
        let e = self.lower(ast)?;
        let t = self.type_of(&e);
        Ok(as_bool(e, &t))
    }

    /// Lowers one expression against the current columns.
    pub(crate) fn lower(&mut self, ast: &Ast) -> Result<Expr> {
        match &ast.kind {
            ExprKind::Field(path) => {
                if let Some((root, steps)) = self.json_root(path) {
                    let mut args = vec![col_ident(&root)];
                    if steps.is_empty() {
                        return Ok(args.remove(0));
                    }
                    args.extend(steps.into_iter().map(lit));
                    return Ok(TextUdf::call(TextFn::JsonPath, args).expect("no regex to compile"));
                }
                let name = path.flat_name();
                if let Some(e) = self.item_exprs.get(&name) {
                    return Ok(e.clone());
                }
                Ok(if self.has_column(&name) {
                    col_ident(&name)
                } else {
                    lit(ScalarValue::Utf8(None))
                })
            }
            ExprKind::Literal(l) => Ok(match l {
                Literal::String(s) => lit(s.clone()),
                Literal::Integer(i) => lit(*i),
                Literal::Float(x) => lit(*x),
                Literal::Duration(d) => lit(i64::try_from(d.millis()).unwrap_or(i64::MAX)),
                Literal::Regex(re) => lit(regex_text(re)),
            }),
            ExprKind::List(_) => Err(self.unsupported("a list outside `in`", ast.span)),
            ExprKind::Wildcard => Err(self.unsupported("`*` outside count(*)", ast.span)),
            ExprKind::Unary { op, expr } => {
                let e = self.lower(expr)?;
                let t = self.type_of(&e);
                Ok(match op {
                    UnaryOp::Neg => Expr::Negative(Box::new(as_number(e, &t))),
                    UnaryOp::Not => Expr::Not(Box::new(as_bool(e, &t))),
                })
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.lower(lhs)?;
                let r = self.lower(rhs)?;
                self.binary(*op, l, r)
            }
            ExprKind::Match { expr, op, pattern } => {
                let e = self.lower(expr)?;
                let t = self.type_of(&e);
                let e = as_text(e, &t);
                Ok(match (op, pattern) {
                    (MatchOp::Like | MatchOp::NotLike, MatchPattern::Substring(s)) => {
                        Expr::Like(Like::new(
                            *op == MatchOp::NotLike,
                            Box::new(e),
                            Box::new(lit(like_escape(s))),
                            Some('\\'),
                            false,
                        ))
                    }
                    (MatchOp::Regex, MatchPattern::Substring(s)) => {
                        binary_expr(e, Operator::RegexMatch, lit(s.clone()))
                    }
                    (MatchOp::NotLike, MatchPattern::Regex(re)) => {
                        binary_expr(e, Operator::RegexNotMatch, lit(regex_text(re)))
                    }
                    (_, MatchPattern::Regex(re)) => {
                        binary_expr(e, Operator::RegexMatch, lit(regex_text(re)))
                    }
                })
            }
            ExprKind::In {
                expr,
                negated,
                list,
            } => {
                let e = self.lower(expr)?;
                let t = self.type_of(&e);
                let mut items = Vec::with_capacity(list.len());
                for item in list {
                    items.push(self.lower(item)?);
                }
                let types: Vec<DataType> = items.iter().map(|i| self.type_of(i)).collect();
                let numeric = types.iter().any(is_number);
                Ok(if is_text(&t) && numeric {
                    let items = items
                        .into_iter()
                        .zip(&types)
                        .map(|(i, t)| as_double(i, t))
                        .collect();
                    in_list(as_double(e, &t), items, *negated)
                } else if is_number(&t) && types.iter().all(is_text) {
                    in_list(as_text(e, &t), items, *negated)
                } else {
                    in_list(e, items, *negated)
                })
            }
            ExprKind::Call(call) => self.call(call, ast.span),
        }
    }

    fn binary(&mut self, op: BinaryOp, l: Expr, r: Expr) -> Result<Expr> {
        let lt = self.type_of(&l);
        let rt = self.type_of(&r);
        let cmp = |op: Operator| -> Expr {
            match (&lt, &rt) {
                (a, b) if (is_text(a) && is_number(b)) || (is_number(a) && is_text(b)) => {
                    binary_expr(as_double(l.clone(), &lt), op, as_double(r.clone(), &rt))
                }
                (a, b)
                    if (is_time(a) || *a == DataType::Boolean) && is_number(b)
                        || is_number(a) && (is_time(b) || *b == DataType::Boolean) =>
                {
                    binary_expr(as_number(l.clone(), &lt), op, as_number(r.clone(), &rt))
                }
                (a, b)
                    if is_text(a)
                        && is_text(b)
                        && !matches!(op, Operator::Eq | Operator::NotEq) =>
                {
                    // Two texts: as numbers when both are numbers, else as text.
                    let numeric = binary_expr(
                        try_cast(l.clone(), DataType::Float64),
                        op,
                        try_cast(r.clone(), DataType::Float64),
                    );
                    f::coalesce(vec![numeric, binary_expr(l.clone(), op, r.clone())])
                }
                _ => binary_expr(l.clone(), op, r.clone()),
            }
        };
        let arith = |op: Operator, double: bool| -> Expr {
            let (a, b) = if double
                || !(matches!(lt, DataType::Int64 | DataType::Int32 | DataType::UInt64)
                    && matches!(rt, DataType::Int64 | DataType::Int32 | DataType::UInt64))
            {
                (as_double(l.clone(), &lt), as_double(r.clone(), &rt))
            } else {
                (l.clone(), r.clone())
            };
            binary_expr(a, op, b)
        };
        Ok(match op {
            BinaryOp::Or => as_bool(l.clone(), &lt).or(as_bool(r.clone(), &rt)),
            BinaryOp::And => as_bool(l.clone(), &lt).and(as_bool(r.clone(), &rt)),
            BinaryOp::Eq => cmp(Operator::Eq),
            BinaryOp::Ne => cmp(Operator::NotEq),
            BinaryOp::Lt => cmp(Operator::Lt),
            BinaryOp::Le => cmp(Operator::LtEq),
            BinaryOp::Gt => cmp(Operator::Gt),
            BinaryOp::Ge => cmp(Operator::GtEq),
            BinaryOp::Add => arith(Operator::Plus, false),
            BinaryOp::Sub => arith(Operator::Minus, false),
            BinaryOp::Mul => arith(Operator::Multiply, false),
            BinaryOp::Div => arith(Operator::Divide, true),
            BinaryOp::Rem => arith(Operator::Modulo, false),
            BinaryOp::Pow => f::power(as_double(l.clone(), &lt), as_double(r.clone(), &rt)),
        })
    }

    /// `if (cond, a, b)`.
    pub(crate) fn if_then(&self, c: Expr, a: Expr, b: Expr) -> Result<Expr> {
        let t = self.type_of(&c);
        Ok(when(as_bool(c, &t), a).otherwise(b)?)
    }
}

/// Collects the field names a command refers to.
pub(crate) fn command_fields(kind: &CommandKind, out: &mut Vec<String>) {
    let expr = |e: &Ast, out: &mut Vec<String>| walk(e, out);
    match kind {
        CommandKind::Fields(items) | CommandKind::Display(items) => {
            for i in items {
                expr(&i.expr, out);
            }
        }
        CommandKind::Filter(e) => expr(e, out),
        CommandKind::Stats(s) => {
            for i in &s.items {
                expr(&i.expr, out);
            }
            for k in &s.by {
                expr(&k.expr, out);
            }
        }
        CommandKind::Sort(keys) => {
            for k in keys {
                expr(&k.expr, out);
            }
        }
        CommandKind::Parse(p) => expr(&p.source, out),
        CommandKind::Dedup(fields) => out.extend(fields.iter().map(|f| f.flat_name())),
        CommandKind::Unnest { expr: e, .. } | CommandKind::Pattern(e) => expr(e, out),
        _ => {}
    }
}

fn walk(e: &Ast, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Field(path) => out.push(path.flat_name()),
        ExprKind::Literal(_) | ExprKind::Wildcard => {}
        ExprKind::List(items) => items.iter().for_each(|i| walk(i, out)),
        ExprKind::Unary { expr, .. } | ExprKind::Match { expr, .. } => walk(expr, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk(lhs, out);
            walk(rhs, out);
        }
        ExprKind::In { expr, list, .. } => {
            walk(expr, out);
            list.iter().for_each(|i| walk(i, out));
        }
        ExprKind::Call(call) => call.args.iter().for_each(|a| walk(a, out)),
    }
}
