//! JSON patterns, spec §4: `{ $.a.b[0] = "x" && ($.c > 3 || $.d NOT EXISTS) }`.
//!
//! The AST is canonical: `&&`/`||` chains are flattened (`a && (b && c)` is `And[a, b, c]`) and
//! redundant parentheses dropped, so `Display` prints parentheses only where precedence needs
//! them and `parse(display(p)) == p`. Evaluation lives in `json_eval.rs`.

use std::fmt;

use crate::error::PatternError;
use crate::lexer::Cursor;
use crate::value::{CmpOp, Value};

/// At most one wildcard per selector and three per pattern (spec §4.1).
const MAX_WILDCARDS_PER_PATTERN: usize = 3;

/// One step of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// `.name` or `.['name.with.dots']`.
    Key(String),
    /// `[n]`, zero-based.
    Index(usize),
    /// `.*`: every member of an object.
    AnyKey,
    /// `[*]`: every element of an array.
    AnyIndex,
}

/// `$` followed by at least one step.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector {
    pub steps: Vec<Step>,
}

impl Selector {
    /// Parses a selector at the cursor (which is on `$`).
    pub(crate) fn parse(cur: &mut Cursor<'_>) -> Result<Self, PatternError> {
        let start = cur.pos();
        cur.expect("$", "a selector starting with `$.`")?;
        let mut steps = Vec::new();
        loop {
            let step_start = cur.pos();
            if cur.eat(".*") {
                steps.push(Step::AnyKey);
            } else if cur.eat("[*]") {
                steps.push(Step::AnyIndex);
            } else if cur.eat(".['") || cur.eat("['") {
                let Some(len) = cur.rest().find("']") else {
                    return Err(PatternError::Unterminated {
                        offset: cur.offset_of(step_start),
                        what: "bracketed key (missing `']`)",
                    });
                };
                let key = cur.rest()[..len].to_owned();
                for _ in 0..key.chars().count() + 2 {
                    cur.bump();
                }
                steps.push(Step::Key(key));
            } else if cur.eat("[") {
                let digits = cur.bare_word(|c| !c.is_ascii_digit());
                let index = digits
                    .parse::<usize>()
                    .map_err(|_| cur.unexpected("an array index"))?;
                cur.expect("]", "`]` closing the array index")?;
                steps.push(Step::Index(index));
            } else if cur.eat(".") {
                let name = cur.bare_word(|c| !is_name_char(c));
                if name.is_empty() {
                    return Err(cur.unexpected("a property name"));
                }
                steps.push(Step::Key(name.to_owned()));
            } else {
                break;
            }
        }
        if steps.is_empty() {
            return Err(cur.unexpected("`.` after `$`"));
        }
        let wildcards = steps
            .iter()
            .filter(|s| matches!(s, Step::AnyKey | Step::AnyIndex))
            .count();
        if wildcards > 1 {
            return Err(PatternError::TooManyWildcards {
                offset: cur.offset_of(start),
                message: "a selector may contain at most one wildcard",
            });
        }
        Ok(Self { steps })
    }

    pub fn has_wildcard(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s, Step::AnyKey | Step::AnyIndex))
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '@'
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.steps {
            match step {
                Step::Key(k) if !k.is_empty() && k.chars().all(is_name_char) => write!(f, ".{k}")?,
                Step::Key(k) => write!(f, ".['{k}']")?,
                Step::Index(i) => write!(f, "[{i}]")?,
                Step::AnyKey => f.write_str(".*")?,
                Step::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// What a condition tests about the selected value(s).
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Compare(CmpOp, Value),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// `selector test`, e.g. `$.latency > 50`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub selector: Selector,
    pub test: Test,
}

/// A boolean expression of conditions. Canonical: an `And` never directly holds an `And`, an
/// `Or` never an `Or`, and both have at least two children.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonExpr {
    Condition(Condition),
    And(Vec<JsonExpr>),
    Or(Vec<JsonExpr>),
}

/// A whole `{ ... }` pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPattern {
    pub expr: JsonExpr,
}

impl JsonPattern {
    /// Parses `src`, whose first non-blank character is `{`.
    pub(crate) fn parse(src: &str) -> Result<Self, PatternError> {
        let mut cur = Cursor::new(src);
        cur.skip_ws();
        let open = cur.pos();
        cur.expect("{", "`{`")?;
        let mut parser = Parser { cur, wildcards: 0 };
        parser.cur.skip_ws();
        if parser.cur.peek() == Some('}') {
            return Err(parser.cur.unexpected("a condition inside `{ }`"));
        }
        let expr = parser.or()?;
        parser.cur.skip_ws();
        if parser.cur.at_end() {
            return Err(PatternError::Unterminated {
                offset: parser.cur.offset_of(open),
                what: "JSON pattern (missing `}`)",
            });
        }
        parser.cur.expect("}", "`&&`, `||` or `}`")?;
        parser.cur.skip_ws();
        if !parser.cur.at_end() {
            return Err(parser.cur.unexpected("end of pattern after `}`"));
        }
        Ok(Self { expr })
    }
}

struct Parser<'s> {
    cur: Cursor<'s>,
    wildcards: usize,
}

impl Parser<'_> {
    fn or(&mut self) -> Result<JsonExpr, PatternError> {
        let mut items = Vec::new();
        push_flat(&mut items, self.and()?, false);
        loop {
            self.cur.skip_ws();
            if !self.cur.eat("||") {
                break;
            }
            push_flat(&mut items, self.and()?, false);
        }
        Ok(collapse(items, JsonExpr::Or))
    }

    fn and(&mut self) -> Result<JsonExpr, PatternError> {
        let mut items = Vec::new();
        push_flat(&mut items, self.factor()?, true);
        loop {
            self.cur.skip_ws();
            if !self.cur.eat("&&") {
                break;
            }
            push_flat(&mut items, self.factor()?, true);
        }
        Ok(collapse(items, JsonExpr::And))
    }

    fn factor(&mut self) -> Result<JsonExpr, PatternError> {
        self.cur.skip_ws();
        let open = self.cur.pos();
        if self.cur.eat("(") {
            let inner = self.or()?;
            self.cur.skip_ws();
            if self.cur.at_end() {
                return Err(PatternError::Unterminated {
                    offset: self.cur.offset_of(open),
                    what: "parenthesis",
                });
            }
            self.cur.expect(")", "`&&`, `||` or `)`")?;
            return Ok(inner);
        }
        if self.cur.peek() != Some('$') {
            return Err(self.cur.unexpected("a selector starting with `$.` or `(`"));
        }
        let sel_start = self.cur.pos();
        let selector = Selector::parse(&mut self.cur)?;
        if selector.has_wildcard() {
            self.wildcards += 1;
            if self.wildcards > MAX_WILDCARDS_PER_PATTERN {
                return Err(PatternError::TooManyWildcards {
                    offset: self.cur.offset_of(sel_start),
                    message: "a JSON pattern may contain at most three wildcard selectors",
                });
            }
        }
        self.cur.skip_ws();
        let test = self.test()?;
        Ok(JsonExpr::Condition(Condition { selector, test }))
    }

    fn test(&mut self) -> Result<Test, PatternError> {
        let kw_start = self.cur.pos();
        let word = self.cur.bare_word(|c| !c.is_ascii_alphabetic());
        if !word.is_empty() {
            return self.keyword_test(word, kw_start);
        }
        let op_start = self.cur.pos();
        let Some(op) = self.cur.cmp_op()? else {
            return Err(self
                .cur
                .unexpected("a comparison operator, `IS` or `NOT EXISTS`"));
        };
        self.cur.skip_ws();
        let value = self.cur.value(|_| false)?;
        if op.is_relational() && !matches!(value, Value::Number(_)) {
            return Err(self
                .cur
                .unsupported(op_start, format!("operator `{op}` needs a numeric value")));
        }
        Ok(Test::Compare(op, value))
    }

    fn keyword_test(&mut self, word: &str, start: usize) -> Result<Test, PatternError> {
        if word.eq_ignore_ascii_case("IS") {
            self.cur.skip_ws();
            let what_start = self.cur.pos();
            let what = self.cur.bare_word(|c| !c.is_ascii_alphabetic());
            return match what.to_ascii_uppercase().as_str() {
                "NULL" => Ok(Test::IsNull),
                "TRUE" => Ok(Test::IsTrue),
                "FALSE" => Ok(Test::IsFalse),
                "NOT" => Err(self
                    .cur
                    .unsupported(what_start, "`IS NOT` is not supported")),
                _ => {
                    self.cur.set_pos(what_start);
                    Err(self.cur.unexpected("`NULL`, `TRUE` or `FALSE` after `IS`"))
                }
            };
        }
        if word.eq_ignore_ascii_case("NOT") {
            self.cur.skip_ws();
            let what_start = self.cur.pos();
            let what = self.cur.bare_word(|c| !c.is_ascii_alphabetic());
            if what.eq_ignore_ascii_case("EXISTS") {
                return Ok(Test::NotExists);
            }
            self.cur.set_pos(what_start);
            return Err(self.cur.unexpected("`EXISTS` after `NOT`"));
        }
        if word.eq_ignore_ascii_case("EXISTS") {
            return Err(self
                .cur
                .unsupported(start, "`EXISTS` is not supported; use `NOT EXISTS`"));
        }
        self.cur.set_pos(start);
        Err(self
            .cur
            .unexpected("a comparison operator, `IS` or `NOT EXISTS`"))
    }
}

/// Appends `expr` to a chain, splicing in a same-kind chain (`and` selects which kind).
fn push_flat(items: &mut Vec<JsonExpr>, expr: JsonExpr, and: bool) {
    match expr {
        JsonExpr::And(inner) if and => items.extend(inner),
        JsonExpr::Or(inner) if !and => items.extend(inner),
        other => items.push(other),
    }
}

fn collapse(mut items: Vec<JsonExpr>, make: fn(Vec<JsonExpr>) -> JsonExpr) -> JsonExpr {
    if items.len() == 1 {
        items.remove(0)
    } else {
        make(items)
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare(op, value) => write!(f, "{op} {value}"),
            Self::IsNull => f.write_str("IS NULL"),
            Self::IsTrue => f.write_str("IS TRUE"),
            Self::IsFalse => f.write_str("IS FALSE"),
            Self::NotExists => f.write_str("NOT EXISTS"),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.selector, self.test)
    }
}

impl fmt::Display for JsonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Condition(c) => write!(f, "{c}"),
            Self::Or(items) => join(f, items, " || ", false),
            Self::And(items) => join(f, items, " && ", true),
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, items: &[JsonExpr], sep: &str, and: bool) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        let parens =
            matches!(item, JsonExpr::Or(_)) && and || matches!(item, JsonExpr::And(_)) && !and;
        if parens {
            write!(f, "({item})")?;
        } else {
            write!(f, "{item}")?;
        }
    }
    Ok(())
}

impl fmt::Display for JsonPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{ {} }}", self.expr)
    }
}
