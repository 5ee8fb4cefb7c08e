//! Token kinds and their names in error messages.

use crate::ast::{Duration, Regex, Segment};
use crate::span::Span;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A field path or bare word; `quoted` when any part was backquoted.
    Ident {
        segments: Vec<Segment>,
        quoted: bool,
    },
    Str(String),
    Int(i64),
    Float(f64),
    Duration(Duration),
    Regex(Regex),
    Pipe,
    Comma,
    Colon,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Tilde,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Eof,
}

impl Tok {
    /// How the token is named in "expected …, found …" messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident { segments, .. } => match segments.as_slice() {
                [Segment::Name(name)] => format!("`{name}`"),
                _ => "field name".into(),
            },
            Tok::Str(_) => "string".into(),
            Tok::Int(_) | Tok::Float(_) => "number".into(),
            Tok::Duration(_) => "duration".into(),
            Tok::Regex(_) => "regex".into(),
            Tok::Eof => "end of query".into(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::Pipe => "|",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Eq => "=",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Tilde => "=~",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Caret => "^",
            _ => "",
        }
    }
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}
