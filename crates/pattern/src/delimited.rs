//! Space-delimited patterns, spec §5: `[ip, user, ..., status_code = 4*, bytes > 1000]`.
//! The event tokenizer and the matcher are in `tokens.rs`.

use std::fmt;

use crate::error::PatternError;
use crate::lexer::Cursor;
use crate::value::{CmpOp, Value};

/// One comparison inside a field spec, e.g. `= 404` in `status_code = 404`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldTest {
    pub op: CmpOp,
    pub value: Value,
}

/// One comma-separated spec of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSpec {
    /// `...`: any number of fields, extracted positionally.
    Ellipsis,
    /// One field, named or blank, with conditions in disjunctive normal form: the field
    /// matches when every test of at least one group holds (`&&` binds tighter than `||`).
    /// No groups means no condition.
    Field {
        name: Option<String>,
        any_of: Vec<Vec<FieldTest>>,
    },
}

/// A whole `[ ... ]` pattern.
///
/// Invariants: at most one `...`; field names are unique; a blank field has no condition.
/// No specs at all (`[]`) matches every event and extracts every token.
#[derive(Debug, Clone, PartialEq)]
pub struct DelimitedPattern {
    pub(crate) specs: Vec<FieldSpec>,
}

impl DelimitedPattern {
    pub fn specs(&self) -> &[FieldSpec] {
        &self.specs
    }

    /// Whether a field is named `name`.
    pub fn has_field(&self, name: &str) -> bool {
        self.specs
            .iter()
            .any(|s| matches!(s, FieldSpec::Field { name: Some(n), .. } if n == name))
    }

    /// Parses `src`, whose first non-blank character is `[`.
    pub(crate) fn parse(src: &str) -> Result<Self, PatternError> {
        let mut cur = Cursor::new(src);
        cur.skip_ws();
        let open = cur.pos();
        cur.expect("[", "`[`")?;
        let mut specs = Vec::new();
        cur.skip_ws();
        if !cur.eat("]") {
            loop {
                cur.skip_ws();
                let spec_start = cur.pos();
                let spec = parse_spec(&mut cur)?;
                if let FieldSpec::Field { name: Some(n), .. } = &spec
                    && specs
                        .iter()
                        .any(|s| matches!(s, FieldSpec::Field { name: Some(m), .. } if m == n))
                {
                    return Err(cur.unsupported(spec_start, format!("duplicate field `{n}`")));
                }
                if spec == FieldSpec::Ellipsis && specs.contains(&FieldSpec::Ellipsis) {
                    return Err(
                        cur.unsupported(spec_start, "only one `...` is supported per pattern")
                    );
                }
                specs.push(spec);
                cur.skip_ws();
                if cur.eat(",") {
                    continue;
                }
                if cur.eat("]") {
                    break;
                }
                if cur.at_end() {
                    return Err(PatternError::Unterminated {
                        offset: cur.offset_of(open),
                        what: "space-delimited pattern (missing `]`)",
                    });
                }
                return Err(cur.unexpected("`,`, `&&`, `||` or `]`"));
            }
        }
        cur.skip_ws();
        if !cur.at_end() {
            return Err(cur.unexpected("end of pattern after `]`"));
        }
        Ok(Self { specs })
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn parse_spec(cur: &mut Cursor<'_>) -> Result<FieldSpec, PatternError> {
    if cur.eat("...") {
        return Ok(FieldSpec::Ellipsis);
    }
    if matches!(cur.peek(), Some(',' | ']')) || cur.at_end() {
        return Ok(FieldSpec::Field {
            name: None,
            any_of: Vec::new(),
        });
    }
    let name = field_name(cur)?;
    cur.skip_ws();
    let mut any_of: Vec<Vec<FieldTest>> = Vec::new();
    let op_start = cur.pos();
    if let Some(op) = cur.cmp_op()? {
        let mut group = vec![field_test(cur, op, op_start)?];
        loop {
            cur.skip_ws();
            let and = if cur.eat("&&") {
                true
            } else if cur.eat("||") {
                false
            } else {
                break;
            };
            cur.skip_ws();
            let again_start = cur.pos();
            let again = field_name(cur)?;
            if again != name {
                return Err(cur.unsupported(
                    again_start,
                    format!("conditions in field `{name}` must all test `{name}`, not `{again}`"),
                ));
            }
            cur.skip_ws();
            let op_start = cur.pos();
            let Some(op) = cur.cmp_op()? else {
                return Err(cur.unexpected("a comparison operator"));
            };
            let test = field_test(cur, op, op_start)?;
            if and {
                group.push(test);
            } else {
                any_of.push(std::mem::replace(&mut group, vec![test]));
            }
        }
        any_of.push(group);
    }
    Ok(FieldSpec::Field {
        name: Some(name),
        any_of,
    })
}

fn field_name(cur: &mut Cursor<'_>) -> Result<String, PatternError> {
    let start = cur.pos();
    let name = cur.bare_word(|c| !is_name_char(c));
    if name.is_empty() {
        return Err(cur.unexpected("a field name, `...` or `,`"));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(cur.unsupported(start, format!("field name `{name}` must not be a number")));
    }
    Ok(name.to_owned())
}

fn field_test(cur: &mut Cursor<'_>, op: CmpOp, op_start: usize) -> Result<FieldTest, PatternError> {
    cur.skip_ws();
    let value = cur.value(|_| false)?;
    if op.is_relational() && !matches!(value, Value::Number(_)) {
        return Err(cur.unsupported(op_start, format!("operator `{op}` needs a numeric value")));
    }
    Ok(FieldTest { op, value })
}

impl fmt::Display for FieldSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ellipsis => f.write_str("..."),
            Self::Field { name: None, .. } => Ok(()),
            Self::Field {
                name: Some(name),
                any_of,
            } => {
                f.write_str(name)?;
                for (g, group) in any_of.iter().enumerate() {
                    for (t, test) in group.iter().enumerate() {
                        match (g, t) {
                            (0, 0) => {}
                            (_, 0) => write!(f, " || {name}")?,
                            _ => write!(f, " && {name}")?,
                        }
                        write!(f, " {} {}", test.op, test.value)?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for DelimitedPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, spec) in self.specs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{spec}")?;
        }
        f.write_str("]")
    }
}
