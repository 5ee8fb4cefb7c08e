//! The typed AST of a Logs Insights query.
//!
//! Every node that can be blamed in an error carries a byte [`Span`]; spans never take part
//! in equality. `Display` (in `display.rs`) prints a node back as query text that parses to
//! an equal node.

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

/// Literal values.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'` or `"text"` (unescaped).
    String(String),
    /// An integer that fits in `i64`.
    Integer(i64),
    /// A decimal or exponent number (or an integer too large for `i64`).
    Float(f64),
    /// `5m`, `1h`: a period for `bin`, `datefloor`, `offset`.
    Duration(Duration),
    /// `/pattern/flags`.
    Regex(Regex),
}

/// A regex literal `/pattern/flags`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Regex {
    /// The pattern, with `\/` unescaped to `/`.
    pub pattern: String,
    /// Flags after the closing slash, each one of `imsux`.
    pub flags: String,
}

impl Regex {
    /// The names of the named capture groups `(?<name>…)` / `(?P<name>…)`, in order.
    pub fn named_groups(&self) -> Vec<&str> {
        let mut names = Vec::new();
        let bytes = self.pattern.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'(' if self.pattern[i..].starts_with("(?<")
                    && !self.pattern[i..].starts_with("(?<=")
                    && !self.pattern[i..].starts_with("(?<!") =>
                {
                    i = self.push_group(i + 3, &mut names);
                }
                b'(' if self.pattern[i..].starts_with("(?P<") => {
                    i = self.push_group(i + 4, &mut names);
                }
                _ => i += 1,
            }
        }
        names
    }

    fn push_group<'a>(&'a self, start: usize, names: &mut Vec<&'a str>) -> usize {
        match self.pattern[start..].find('>') {
            Some(len) => {
                names.push(&self.pattern[start..start + len]);
                start + len + 1
            }
            None => self.pattern.len(),
        }
    }
}

/// A time period such as `5m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    /// How many units.
    pub amount: u64,
    /// Which unit.
    pub unit: TimeUnit,
}

/// The units of a [`Duration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `ms`, `msec`, `millisecond`
    Millisecond,
    /// `s`, `sec`, `second`
    Second,
    /// `m`, `min`, `minute`
    Minute,
    /// `h`, `hr`, `hour`
    Hour,
    /// `d`, `day`
    Day,
    /// `w`, `week`
    Week,
    /// `mo`, `mon`, `month`
    Month,
    /// `q`, `qtr`, `quarter`
    Quarter,
    /// `y`, `yr`, `year`
    Year,
}

impl TimeUnit {
    /// Every unit with its spellings (singular; a plural `s` is allowed on multi-letter ones).
    const SPELLINGS: &'static [(TimeUnit, &'static [&'static str])] = &[
        (TimeUnit::Millisecond, &["ms", "msec", "millisecond"]),
        (TimeUnit::Second, &["s", "sec", "second"]),
        (TimeUnit::Minute, &["m", "min", "minute"]),
        (TimeUnit::Hour, &["h", "hr", "hour"]),
        (TimeUnit::Day, &["d", "day"]),
        (TimeUnit::Week, &["w", "week"]),
        (TimeUnit::Month, &["mo", "mon", "month"]),
        (TimeUnit::Quarter, &["q", "qtr", "quarter"]),
        (TimeUnit::Year, &["y", "yr", "year"]),
    ];

    /// Parses a unit spelling, case-insensitively.
    pub fn parse(text: &str) -> Option<TimeUnit> {
        let lower = text.to_ascii_lowercase();
        let singular = match lower.strip_suffix('s') {
            Some(stem) if stem.len() > 1 => stem,
            _ => lower.as_str(),
        };
        Self::SPELLINGS
            .iter()
            .find(|(_, names)| names.contains(&lower.as_str()) || names.contains(&singular))
            .map(|(unit, _)| *unit)
    }

    /// The canonical short spelling (`ms s m h d w mo q y`).
    pub fn as_str(self) -> &'static str {
        Self::SPELLINGS
            .iter()
            .find(|(unit, _)| *unit == self)
            .map_or("", |(_, names)| names[0])
    }

    /// The unit's length in milliseconds; months, quarters and years are calendar units and
    /// give their nominal length (30, 91 and 365 days).
    pub fn millis(self) -> u64 {
        const DAY: u64 = 86_400_000;
        match self {
            TimeUnit::Millisecond => 1,
            TimeUnit::Second => 1_000,
            TimeUnit::Minute => 60_000,
            TimeUnit::Hour => 3_600_000,
            TimeUnit::Day => DAY,
            TimeUnit::Week => 7 * DAY,
            TimeUnit::Month => 30 * DAY,
            TimeUnit::Quarter => 91 * DAY,
            TimeUnit::Year => 365 * DAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_accept_documented_spellings() {
        for (text, unit) in [
            ("5m", TimeUnit::Minute),
            ("mins", TimeUnit::Minute),
            ("MS", TimeUnit::Millisecond),
            ("msecs", TimeUnit::Millisecond),
            ("hours", TimeUnit::Hour),
            ("mo", TimeUnit::Month),
            ("qtrs", TimeUnit::Quarter),
            ("yr", TimeUnit::Year),
        ] {
            let text = text.trim_start_matches(char::is_numeric);
            assert_eq!(TimeUnit::parse(text), Some(unit), "{text}");
        }
        assert_eq!(TimeUnit::parse("ss"), None);
        assert_eq!(TimeUnit::parse("x"), None);
    }

    #[test]
    fn named_groups_skip_lookbehinds_and_escapes() {
        let re = Regex {
            pattern: r"(?<user>\w+) \(?<no> (?<=x)(?P<id>\d+)".into(),
            flags: String::new(),
        };
        assert_eq!(re.named_groups(), vec!["user", "id"]);
    }

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
