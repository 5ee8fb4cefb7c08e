//! The typed AST of a Logs Insights query.
//!
//! Every node that can be blamed in an error carries a byte [`Span`]; spans never take part
//! in equality. `Display` (in `display.rs`) prints a node back as query text that parses to
//! an equal node.

mod literal;

pub use literal::{Duration, Literal, Regex, TimeUnit};

use crate::span::Span;

/// A whole query: an optional `SOURCE` clause, then commands separated by `|`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `SOURCE logGroups(...) dataSource(...)`, API only.
    pub source: Option<Source>,
    /// The pipeline, in order; never empty after a successful parse.
    pub commands: Vec<Command>,
}

/// One command of the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// What the command does.
    pub kind: CommandKind,
    /// From the command name to its last token.
    pub span: Span,
}

/// The supported commands.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    /// `fields expr [as alias], …`
    Fields(Vec<Projection>),
    /// `display expr [as alias], …` (only the last `display` counts).
    Display(Vec<Projection>),
    /// `filter expr`; `where expr` parses to the same node.
    Filter(Expr),
    /// `stats agg [as a], … [by key [offset d] [as k], …]`
    Stats(Stats),
    /// `sort expr [asc|desc], …`
    Sort(Vec<SortKey>),
    /// `limit n` or `limit any`.
    Limit(Limit),
    /// `parse expr "glob" as f, …` or `parse expr /regex with (?<named>groups)/`.
    Parse(Parse),
    /// `dedup f, …`
    Dedup(Vec<FieldPath>),
    /// `unnest expr into field`
    Unnest {
        /// The list to expand.
        expr: Expr,
        /// The field that receives each element.
        into: FieldPath,
    },
    /// `unmask field`
    Unmask(FieldPath),
    /// `pattern expr`: clusters the values into patterns (`@pattern`, `@ratio`,
    /// `@sampleCount`, `@severityLabel`).
    Pattern(Expr),
    /// `filterIndex field = value` / `filterIndex field in [...]`
    FilterIndex(FilterIndex),
}

impl CommandKind {
    /// The command's keyword as printed.
    pub fn name(&self) -> &'static str {
        match self {
            CommandKind::Fields(_) => "fields",
            CommandKind::Display(_) => "display",
            CommandKind::Filter(_) => "filter",
            CommandKind::Stats(_) => "stats",
            CommandKind::Sort(_) => "sort",
            CommandKind::Limit(_) => "limit",
            CommandKind::Parse(_) => "parse",
            CommandKind::Dedup(_) => "dedup",
            CommandKind::Unnest { .. } => "unnest",
            CommandKind::Unmask(_) => "unmask",
            CommandKind::Pattern(_) => "pattern",
            CommandKind::FilterIndex(_) => "filterIndex",
        }
    }
}

/// An expression with an optional `as` alias (`fields`, `display`, `stats`).
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// The value.
    pub expr: Expr,
    /// The name it is shown under.
    pub alias: Option<FieldPath>,
}

/// The body of `stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Aggregates (and arithmetic over them), each with an optional alias.
    pub items: Vec<Projection>,
    /// Group keys after `by`; empty when there is no `by`.
    pub by: Vec<GroupKey>,
}

/// One `by` key of `stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupKey {
    /// A field, an expression or `bin(period)`.
    pub expr: Expr,
    /// `bin(5m) offset 1h` shifts the bins.
    pub offset: Option<Duration>,
    /// `as name`.
    pub alias: Option<FieldPath>,
}

/// One `sort` key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// What to sort by.
    pub expr: Expr,
    /// `asc` / `desc`; `None` when omitted (the service then sorts descending).
    pub order: Option<SortOrder>,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// `asc`
    Asc,
    /// `desc`
    Desc,
}

/// The argument of `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// `limit n`
    Rows(u64),
    /// `limit any`: stop scanning once enough rows are found.
    Any,
}

/// The body of `parse`.
#[derive(Debug, Clone, PartialEq)]
pub struct Parse {
    /// The text to parse, usually `@message`.
    pub source: Expr,
    /// How to split it.
    pub pattern: ParsePattern,
}

/// A `parse` pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsePattern {
    /// `"literal * text *" as f1, f2`: each `*` captures one field.
    Glob {
        /// The glob text (unescaped).
        pattern: String,
        /// The fields the wildcards fill, in order.
        fields: Vec<FieldPath>,
    },
    /// `/…(?<name>…)…/`: named groups become fields.
    Regex(Regex),
}

/// The body of `filterIndex`.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterIndex {
    /// The indexed field.
    pub field: FieldPath,
    /// `= value` or `in [values]`.
    pub values: FilterIndexValues,
}

/// What `filterIndex` compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterIndexValues {
    /// `field = value`
    Eq(Expr),
    /// `field in [v, …]`
    In(Vec<Expr>),
}

/// `SOURCE selector …` at the start of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// `logGroups(...)` and `dataSource([...])`, in order.
    pub selectors: Vec<SourceSelector>,
    /// From `SOURCE` to the end of the last selector.
    pub span: Span,
}

/// One selector of `SOURCE`.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSelector {
    /// `logGroups(namePrefix: [...], accountIdentifiers: [...], class: [...])`
    LogGroups(Vec<LogGroupsArg>),
    /// `dataSource(['amazon_vpc.flow', …])`
    DataSource(Vec<String>),
}

/// A named argument of `logGroups(...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogGroupsArg {
    /// Which argument.
    pub param: LogGroupsParam,
    /// Its string list.
    pub values: Vec<String>,
    /// The whole `name: [...]`.
    pub span: Span,
}

/// The argument names `logGroups(...)` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogGroupsParam {
    /// `namePrefix` (up to 5).
    NamePrefix,
    /// `accountIdentifiers` (up to 20).
    AccountIdentifiers,
    /// `class`: `STANDARD` or `INFREQUENT_ACCESS`.
    Class,
}

impl LogGroupsParam {
    /// The argument's name as written in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            LogGroupsParam::NamePrefix => "namePrefix",
            LogGroupsParam::AccountIdentifiers => "accountIdentifiers",
            LogGroupsParam::Class => "class",
        }
    }
}

/// A field reference: `@message`, `userIdentity.userName`, `` `detail-type` ``,
/// `json.list[1].x`. Field names are case-sensitive.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    /// The path, never empty.
    pub segments: Vec<Segment>,
    /// Where it was written.
    pub span: Span,
}

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A name; dots separate names, backquotes allow any character.
    Name(String),
    /// `[n]`, indexing a list made by `jsonParse`.
    Index(u64),
}

impl FieldPath {
    /// A one-segment path (no span).
    pub fn simple(name: &str) -> Self {
        Self {
            segments: vec![Segment::Name(name.to_owned())],
            span: Span::default(),
        }
    }

    /// The flattened name under which discovered fields are stored: names joined by `.`,
    /// indexes as `.n` (`items.0.instanceId`).
    pub fn flat_name(&self) -> String {
        let mut out = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            match seg {
                Segment::Name(name) => out.push_str(name),
                Segment::Index(n) => out.push_str(&n.to_string()),
            }
        }
        out
    }

    /// Whether this is a system field (`@message`, `@timestamp`, …).
    pub fn is_system(&self) -> bool {
        matches!(self.segments.first(), Some(Segment::Name(n)) if n.starts_with('@'))
    }
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// Its shape.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The shapes of expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A field reference.
    Field(FieldPath),
    /// A literal value.
    Literal(Literal),
    /// `[a, b, …]`
    List(Vec<Expr>),
    /// `*`, only meaningful in `count(*)`.
    Wildcard,
    /// `-x`, `not x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `a op b`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `x like "s"`, `x not like /re/`, `x =~ /re/`.
    Match {
        /// The tested value.
        expr: Box<Expr>,
        /// Which operator.
        op: MatchOp,
        /// The substring or regex.
        pattern: MatchPattern,
    },
    /// `x in [...]`, `x not in [...]`.
    In {
        /// The tested value.
        expr: Box<Expr>,
        /// `not in`.
        negated: bool,
        /// The candidates.
        list: Vec<Expr>,
    },
    /// A function call.
    Call(Call),
}

/// A function call. Known functions are stored under their canonical name
/// ([`crate::functions::lookup`]); unknown ones as written, for the checks to report.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function name.
    pub name: String,
    /// Where the name was written.
    pub name_span: Span,
    /// The arguments.
    pub args: Vec<Expr>,
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `not`
    Not,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `^`
    Pow,
}

/// Pattern-match operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `like`
    Like,
    /// `not like`
    NotLike,
    /// `=~`
    Regex,
}

/// The right side of `like` / `=~`.
#[derive(Debug, Clone, PartialEq)]
pub enum MatchPattern {
    /// A quoted string: case-sensitive substring.
    Substring(String),
    /// A regex literal: unanchored match.
    Regex(Regex),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_names_join_segments_with_dots() {
        let path = FieldPath {
            segments: vec![
                Segment::Name("items".into()),
                Segment::Index(0),
                Segment::Name("id".into()),
            ],
            span: Span::default(),
        };
        assert_eq!(path.flat_name(), "items.0.id");
    }
}
