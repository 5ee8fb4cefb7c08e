//! The character cursor shared by the three structured parsers, and the lexing of the pieces
//! they have in common: quoted strings, `%regex%` literals, bare words, numbers, operators.
//!
//! Positions are byte offsets internally; errors report 0-based *character* offsets.

use crate::MAX_REGEX_TERMS;
use crate::error::PatternError;
use crate::regex::PatternRegex;
use crate::value::{CmpOp, Number, Value};

/// A cursor over the whole pattern source (offsets stay absolute so errors point into what the
/// user wrote).
#[derive(Debug)]
pub(crate) struct Cursor<'s> {
    src: &'s str,
    pos: usize,
    regex_count: usize,
}

impl<'s> Cursor<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Self {
            src,
            pos: 0,
            regex_count: 0,
        }
    }

    /// Moves back to `pos` (a position this cursor has been at), e.g. to report an error at the
    /// start of a word.
    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn rest(&self) -> &'s str {
        &self.src[self.pos..]
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Consumes `s` if the input continues with it.
    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// The 0-based character offset of byte position `byte`.
    pub(crate) fn offset_of(&self, byte: usize) -> usize {
        self.src[..byte.min(self.src.len())].chars().count()
    }

    pub(crate) fn offset(&self) -> usize {
        self.offset_of(self.pos)
    }

    /// An "expected X, found Y" error at the current position.
    pub(crate) fn unexpected(&self, expected: &'static str) -> PatternError {
        let found = match self.peek() {
            None => "end of pattern".to_owned(),
            Some(_) => {
                let word: String = self.rest().chars().take(12).collect();
                format!("`{word}`")
            }
        };
        PatternError::Unexpected {
            offset: self.offset(),
            expected,
            found,
        }
    }

    pub(crate) fn unsupported(&self, byte: usize, message: impl Into<String>) -> PatternError {
        PatternError::Unsupported {
            offset: self.offset_of(byte),
            message: message.into(),
        }
    }

    pub(crate) fn expect(
        &mut self,
        s: &'static str,
        expected: &'static str,
    ) -> Result<(), PatternError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// A `"..."` string at the cursor; `\"` and `\\` are escapes, any other backslash is
    /// literal.
    pub(crate) fn quoted(&mut self) -> Result<String, PatternError> {
        let start = self.pos;
        debug_assert_eq!(self.peek(), Some('"'));
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(PatternError::Unterminated {
                        offset: self.offset_of(start),
                        what: "quoted string",
                    });
                }
                Some('"') => return Ok(out),
                Some('\\') if matches!(self.peek(), Some('"' | '\\')) => {
                    out.extend(self.bump());
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// A `%regex%` literal at the cursor, validated against AWS's rules and counted against the
    /// per-pattern regex quota.
    pub(crate) fn regex(&mut self) -> Result<PatternRegex, PatternError> {
        let start = self.pos;
        debug_assert_eq!(self.peek(), Some('%'));
        self.bump();
        let body_start = self.pos;
        let Some(len) = self.rest().find('%') else {
            return Err(PatternError::Unterminated {
                offset: self.offset_of(start),
                what: "regular expression (missing closing `%`)",
            });
        };
        self.pos += len + 1;
        self.regex_count += 1;
        if self.regex_count > MAX_REGEX_TERMS {
            return Err(PatternError::TooManyRegex {
                offset: self.offset_of(start),
                max: MAX_REGEX_TERMS,
            });
        }
        let body = &self.src[body_start..body_start + len];
        PatternRegex::new(body).map_err(|(at, reason)| PatternError::InvalidRegex {
            offset: self.offset_of(body_start + at),
            reason,
        })
    }

    /// The longest run of characters for which `stop` is false (possibly empty).
    pub(crate) fn bare_word(&mut self, stop: impl Fn(char) -> bool) -> &'s str {
        let start = self.pos;
        while self.peek().is_some_and(|c| !c.is_whitespace() && !stop(c)) {
            self.bump();
        }
        &self.src[start..self.pos]
    }

    /// A comparison operator, or `None` if there is none here. `==`, `=<`, `!` alone and the
    /// like are errors.
    pub(crate) fn cmp_op(&mut self) -> Result<Option<CmpOp>, PatternError> {
        let start = self.pos;
        let op = if self.eat("!=") {
            CmpOp::Ne
        } else if self.eat("<=") {
            CmpOp::Le
        } else if self.eat(">=") {
            CmpOp::Ge
        } else if self.eat("=") {
            CmpOp::Eq
        } else if self.eat("<") {
            CmpOp::Lt
        } else if self.eat(">") {
            CmpOp::Gt
        } else if self.peek() == Some('!') {
            return Err(self.unsupported(start, "`!` must be followed by `=`"));
        } else {
            return Ok(None);
        };
        if matches!(self.peek(), Some('=' | '<' | '>' | '!')) {
            let end = self.pos + 1;
            return Err(self.unsupported(
                start,
                format!("unknown operator `{}`", &self.src[start..end]),
            ));
        }
        Ok(Some(op))
    }

    /// A comparison value: `"quoted"`, `%regex%`, a number, or a bare word ended by whitespace
    /// or a character for which `stop` is true.
    pub(crate) fn value(&mut self, stop: impl Fn(char) -> bool) -> Result<Value, PatternError> {
        match self.peek() {
            Some('"') => Ok(Value::Text(self.quoted()?)),
            Some('%') => Ok(Value::Regex(self.regex()?)),
            _ => {
                let word = self.bare_word(|c| stop(c) || is_value_delimiter(c));
                if word.is_empty() {
                    return Err(self.unexpected("a value"));
                }
                Ok(match Number::parse(word) {
                    Some(n) => Value::Number(n),
                    None => Value::Text(word.to_owned()),
                })
            }
        }
    }
}

/// Characters that can never be part of a bare (unquoted) value.
pub(crate) fn is_value_delimiter(c: char) -> bool {
    matches!(
        c,
        '"' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | '&' | '|' | '%' | '=' | '!' | '<' | '>'
    )
}

/// Writes `text` as a `"..."` string, escaping `"` and `\`.
pub(crate) fn write_quoted(f: &mut std::fmt::Formatter<'_>, text: &str) -> std::fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}
