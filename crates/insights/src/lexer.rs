//! The lexer: query text → tokens with byte spans.
//!
//! It is pulled by the parser one token at a time, because `/` is ambiguous: after an
//! operand it divides, where an operand is expected it starts a regex literal. The parser
//! asks for [`Lexer::regex`] in the second case.
//!
//! Keywords (`and`, `by`, …) and command names are ordinary identifiers here; the parser
//! recognises them case-insensitively.

mod token;

pub(crate) use token::{Tok, Token};

use crate::ast::Regex;
use crate::ast::{Duration, Segment, TimeUnit};
use crate::error::{DResult, Diag, ErrorKind};
use crate::span::Span;

/// The lexer's position in the text.
#[derive(Debug)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Self { src, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_trivia(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.bump();
            } else if c == '#' {
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// The next token in operator position (`/` is division).
    pub fn next_token(&mut self) -> DResult<Token> {
        self.skip_trivia();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        };
        let tok = match c {
            '|' => self.single(Tok::Pipe),
            ',' => self.single(Tok::Comma),
            ':' => self.single(Tok::Colon),
            '(' => self.single(Tok::LParen),
            ')' => self.single(Tok::RParen),
            '[' => self.single(Tok::LBracket),
            ']' => self.single(Tok::RBracket),
            '+' => self.single(Tok::Plus),
            '-' => self.single(Tok::Minus),
            '*' => self.single(Tok::Star),
            '/' => self.single(Tok::Slash),
            '%' => self.single(Tok::Percent),
            '^' => self.single(Tok::Caret),
            '=' => self.one_or_two('~', Tok::Tilde, Tok::Eq),
            '<' => self.one_or_two('=', Tok::Le, Tok::Lt),
            '>' => self.one_or_two('=', Tok::Ge, Tok::Gt),
            '!' if self.peek_at(1) == Some('=') => {
                self.pos += 2;
                Tok::Ne
            }
            '\'' | '"' => self.string(c)?,
            '0'..='9' => self.number()?,
            c if c.is_ascii_alphabetic() || c == '_' || c == '@' || c == '`' => self.ident()?,
            c => {
                return Err(Diag::new(
                    ErrorKind::UnexpectedChar { ch: c },
                    Span::new(start, start + c.len_utf8()),
                ));
            }
        };
        Ok(Token {
            tok,
            span: Span::new(start, self.pos),
        })
    }

    fn single(&mut self, tok: Tok) -> Tok {
        self.bump();
        tok
    }

    fn one_or_two(&mut self, second: char, two: Tok, one: Tok) -> Tok {
        self.bump();
        if self.peek() == Some(second) {
            self.bump();
            two
        } else {
            one
        }
    }

    fn string(&mut self, quote: char) -> DResult<Tok> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(Diag::new(
                        ErrorKind::UnterminatedString,
                        Span::new(start, self.pos),
                    ));
                }
                Some(c) if c == quote => return Ok(Tok::Str(out)),
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(c) => out.push(c),
                    None => {
                        return Err(Diag::new(
                            ErrorKind::UnterminatedString,
                            Span::new(start, self.pos),
                        ));
                    }
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
    }

    fn number(&mut self) -> DResult<Tok> {
        let start = self.pos;
        self.digits();
        let mut float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.bump();
            self.digits();
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let sign = matches!(self.peek_at(1), Some('+' | '-'));
            let digit_at = if sign { 2 } else { 1 };
            if self.peek_at(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                float = true;
                self.pos += digit_at;
                self.digits();
            }
        }
        let number_end = self.pos;
        while self.peek().is_some_and(is_word) {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        let invalid = || {
            Diag::new(
                ErrorKind::InvalidNumber { text: text.into() },
                Span::new(start, self.pos),
            )
        };
        let digits = &self.src[start..number_end];
        if number_end < self.pos {
            let unit = TimeUnit::parse(&self.src[number_end..self.pos]).ok_or_else(invalid)?;
            if float {
                return Err(invalid());
            }
            let amount = digits.parse::<u64>().map_err(|_| invalid())?;
            return Ok(Tok::Duration(Duration { amount, unit }));
        }
        if !float && let Ok(n) = digits.parse::<i64>() {
            return Ok(Tok::Int(n));
        }
        match digits.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Tok::Float(x)),
            _ => Err(invalid()),
        }
    }

    fn ident(&mut self) -> DResult<Tok> {
        let mut segments = Vec::new();
        let mut quoted = false;
        loop {
            let mut name = String::new();
            let seg_start = self.pos;
            loop {
                match self.peek() {
                    Some(c) if is_word(c) => {
                        name.push(c);
                        self.bump();
                    }
                    Some('`') => {
                        quoted = true;
                        self.backquoted(&mut name)?;
                    }
                    _ => break,
                }
            }
            if name.is_empty() {
                return Err(Diag::new(
                    ErrorKind::EmptyName,
                    Span::new(seg_start, self.pos),
                ));
            }
            segments.push(Segment::Name(name));
            while let Some(index) = self.index() {
                segments.push(Segment::Index(index));
            }
            let next_is_name = self.peek_at(1).is_some_and(|c| is_word(c) || c == '`');
            if self.peek() == Some('.') && next_is_name {
                self.bump();
            } else {
                return Ok(Tok::Ident { segments, quoted });
            }
        }
    }

    /// `[digits]` directly after a name.
    fn index(&mut self) -> Option<u64> {
        let rest = self.src[self.pos..].strip_prefix('[')?;
        let len = rest.find(|c: char| !c.is_ascii_digit())?;
        if len == 0 || !rest[len..].starts_with(']') {
            return None;
        }
        let n = rest[..len].parse().ok()?;
        self.pos += len + 2;
        Some(n)
    }

    fn backquoted(&mut self, out: &mut String) -> DResult<()> {
        let start = self.pos;
        self.bump();
        let before = out.len();
        loop {
            match self.bump() {
                None => {
                    return Err(Diag::new(
                        ErrorKind::UnterminatedBackquote,
                        Span::new(start, self.pos),
                    ));
                }
                Some('`') if self.peek() == Some('`') => {
                    self.bump();
                    out.push('`');
                }
                Some('`') if out.len() == before => {
                    return Err(Diag::new(ErrorKind::EmptyName, Span::new(start, self.pos)));
                }
                Some('`') => return Ok(()),
                Some(c) => out.push(c),
            }
        }
    }

    /// Re-reads the text from `start` (a `/`) as a regex literal `/…/flags`; the next
    /// [`Lexer::next_token`] continues after it.
    pub fn regex(&mut self, start: usize) -> DResult<Token> {
        self.pos = start;
        self.bump();
        let mut pattern = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => {
                    return Err(Diag::new(
                        ErrorKind::UnterminatedRegex,
                        Span::new(start, self.pos),
                    ));
                }
                Some('/') => break,
                Some('\\') => match self.bump() {
                    Some('/') => pattern.push('/'),
                    Some(c) => {
                        pattern.push('\\');
                        pattern.push(c);
                    }
                    None => {
                        return Err(Diag::new(
                            ErrorKind::UnterminatedRegex,
                            Span::new(start, self.pos),
                        ));
                    }
                },
                Some(c) => pattern.push(c),
            }
        }
        let mut flags = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_ascii_alphabetic()) {
            let at = self.pos;
            self.bump();
            if !"imsux".contains(c) {
                return Err(Diag::new(
                    ErrorKind::UnknownRegexFlag { flag: c },
                    Span::new(at, self.pos),
                ));
            }
            flags.push(c);
        }
        Ok(Token {
            tok: Tok::Regex(Regex { pattern, flags }),
            span: Span::new(start, self.pos),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(src: &str) -> Vec<Tok> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token().expect("lexes");
            if token.tok == Tok::Eof {
                return out;
            }
            out.push(token.tok);
        }
    }

    fn name(text: &str) -> Segment {
        Segment::Name(text.into())
    }

    #[test]
    fn identifiers_cover_system_dotted_backquoted_and_indexed_names() {
        let toks = lex(
            "@message userIdentity.userName `detail-type` @`aws.tag.a:b` m.list[1].x items.0.id",
        );
        assert_eq!(
            toks,
            vec![
                Tok::Ident {
                    segments: vec![name("@message")],
                    quoted: false
                },
                Tok::Ident {
                    segments: vec![name("userIdentity"), name("userName")],
                    quoted: false
                },
                Tok::Ident {
                    segments: vec![name("detail-type")],
                    quoted: true
                },
                Tok::Ident {
                    segments: vec![name("@aws.tag.a:b")],
                    quoted: true
                },
                Tok::Ident {
                    segments: vec![name("m"), name("list"), Segment::Index(1), name("x")],
                    quoted: false
                },
                Tok::Ident {
                    segments: vec![name("items"), name("0"), name("id")],
                    quoted: false
                },
            ]
        );
    }

    #[test]
    fn numbers_durations_and_operators() {
        assert_eq!(
            lex("5m 1.5 2e3 10 != <= >= =~ ^ % # comment\n 3hours"),
            vec![
                Tok::Duration(Duration {
                    amount: 5,
                    unit: TimeUnit::Minute
                }),
                Tok::Float(1.5),
                Tok::Float(2000.0),
                Tok::Int(10),
                Tok::Ne,
                Tok::Le,
                Tok::Ge,
                Tok::Tilde,
                Tok::Caret,
                Tok::Percent,
                Tok::Duration(Duration {
                    amount: 3,
                    unit: TimeUnit::Hour
                }),
            ]
        );
    }

    #[test]
    fn strings_unescape_in_both_quote_styles() {
        assert_eq!(
            lex(r#"'it\'s' "say \"hi\"\n""#),
            vec![Tok::Str("it's".into()), Tok::Str("say \"hi\"\n".into())]
        );
    }

    #[test]
    fn regex_unescapes_slashes_and_reads_flags() {
        let mut lexer = Lexer::new(r"/a\/b\d/i rest");
        let token = lexer.regex(0).expect("regex");
        assert_eq!(
            token.tok,
            Tok::Regex(Regex {
                pattern: r"a/b\d".into(),
                flags: "i".into()
            })
        );
        assert_eq!(token.span, Span::new(0, 9));
        assert_eq!(token.span.end, 9);
    }

    #[test]
    fn bad_numbers_and_characters_are_located() {
        let err = Lexer::new("5x").next_token().unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidNumber { text: "5x".into() });
        let err = Lexer::new("  $").next_token().unwrap_err();
        assert_eq!((err.span.start, err.span.end), (2, 3));
        let err = Lexer::new("1e400").next_token().unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::InvalidNumber {
                text: "1e400".into()
            }
        );
        let err = Lexer::new("1.5m").next_token().unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::InvalidNumber {
                text: "1.5m".into()
            }
        );
    }
}
