//! The parser: tokens → [`Query`](crate::ast::Query).
//!
//! Recursive descent, one token of lookahead. Expression nesting is bounded
//! ([`MAX_DEPTH`]) so hostile input cannot overflow the stack. Commands live in
//! `parser/commands.rs`, `SOURCE` in `parser/source.rs`, expressions in `parser/expr.rs`.

mod commands;
mod expr;
mod source;

use crate::ast::{Command, FieldPath, Query, Regex, Segment};
use crate::error::{DResult, Diag, ErrorKind};
use crate::lexer::{Lexer, Tok, Token};
use crate::span::Span;

/// The deepest nesting accepted: every parenthesis, call, list, prefix operator and `^` adds
/// one level. With [`MAX_CHAIN`] this bounds the depth of the AST, so parsing, checking,
/// printing and dropping never overflow a 2 MiB stack.
pub const MAX_DEPTH: usize = 64;

/// The most binary operators on one path of the AST (`a or b or c` has 2).
pub const MAX_CHAIN: usize = 256;

/// Words that cannot be bare field names (write them in backquotes).
pub(crate) const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "like", "as", "by", "asc", "desc", "into", "offset",
];

/// Parses a query without checking it (see [`crate::check`]).
pub(crate) fn parse_query(src: &str) -> DResult<Query> {
    let mut parser = Parser::new(src)?;
    parser.query()
}

pub(crate) struct Parser<'a> {
    lexer: Lexer<'a>,
    token: Token,
    /// End of the last consumed token.
    prev_end: usize,
    depth: usize,
    /// Binary operators on the current path.
    chain: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> DResult<Self> {
        let mut lexer = Lexer::new(src);
        let token = lexer.next_token()?;
        Ok(Self {
            lexer,
            token,
            prev_end: 0,
            depth: 0,
            chain: 0,
        })
    }

    fn query(&mut self) -> DResult<Query> {
        let source = if self.at_keyword("source") {
            let source = self.source()?;
            if self.token.tok != Tok::Eof {
                self.expect(&Tok::Pipe, "`|`")?;
            }
            Some(source)
        } else {
            None
        };
        let mut commands = Vec::new();
        while self.token.tok != Tok::Eof || commands.is_empty() {
            if self.token.tok == Tok::Eof {
                if source.is_some() {
                    break;
                }
                return Err(Diag::new(ErrorKind::Empty, self.token.span));
            }
            commands.push(self.command()?);
            match self.token.tok {
                Tok::Pipe => {
                    self.advance()?;
                    if self.token.tok == Tok::Eof {
                        return Err(self.unexpected("a command"));
                    }
                }
                Tok::Eof => {}
                _ => return Err(self.unexpected("`|` or end of query")),
            }
        }
        Ok(Query { source, commands })
    }

    fn command(&mut self) -> DResult<Command> {
        let start = self.token.span;
        let name = match &self.token.tok {
            Tok::Ident {
                segments,
                quoted: false,
            } => match segments.as_slice() {
                [Segment::Name(name)] => name.clone(),
                _ => return Err(self.unexpected("a command")),
            },
            _ => return Err(self.unexpected("a command")),
        };
        let kind = self.command_body(&name, start)?;
        Ok(Command {
            kind,
            span: start.to(Span::new(self.prev_end, self.prev_end)),
        })
    }

    // ---- token helpers ----

    fn advance(&mut self) -> DResult<Token> {
        let next = self.lexer.next_token()?;
        self.prev_end = self.token.span.end;
        Ok(std::mem::replace(&mut self.token, next))
    }

    /// Reads the current `/` token again as a regex literal.
    fn regex(&mut self) -> DResult<(Regex, Span)> {
        let token = self.lexer.regex(self.token.span.start)?;
        self.token = token;
        let token = self.advance()?;
        match token.tok {
            Tok::Regex(re) => Ok((re, token.span)),
            _ => unreachable!("Lexer::regex returns a regex token"),
        }
    }

    fn eat(&mut self, tok: &Tok) -> DResult<bool> {
        if &self.token.tok == tok {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> DResult<Token> {
        if &self.token.tok == tok {
            self.advance()
        } else {
            Err(self.unexpected(what))
        }
    }

    /// Expects the closer of `open` (at `open_span`); at the end of the query the error
    /// points at the unclosed opener.
    fn close(&mut self, closer: &Tok, open: char, open_span: Span, what: &str) -> DResult<Token> {
        if &self.token.tok == closer {
            return self.advance();
        }
        if matches!(self.token.tok, Tok::Eof | Tok::Pipe) {
            return Err(Diag::new(ErrorKind::Unclosed { open }, open_span));
        }
        Err(self.unexpected(what))
    }

    fn unexpected(&self, expected: &str) -> Diag {
        Diag::new(
            ErrorKind::Unexpected {
                expected: expected.into(),
                found: self.token.tok.describe(),
            },
            self.token.span,
        )
    }

    /// Whether the current token is the bare word `word` (case-insensitive).
    fn at_keyword(&self, word: &str) -> bool {
        match &self.token.tok {
            Tok::Ident {
                segments,
                quoted: false,
            } => {
                matches!(segments.as_slice(), [Segment::Name(n)] if n.eq_ignore_ascii_case(word))
            }
            _ => false,
        }
    }

    fn eat_keyword(&mut self, word: &str) -> DResult<bool> {
        if self.at_keyword(word) {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect_keyword(&mut self, word: &str) -> DResult<()> {
        if self.eat_keyword(word)? {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{word}`")))
        }
    }

    /// Whether the current token is a keyword that ends an expression list.
    fn at_any_keyword(&self) -> bool {
        KEYWORDS.iter().any(|k| self.at_keyword(k))
    }

    /// A field name (for aliases, `dedup`, `unnest … into`, …).
    fn field(&mut self, what: &str) -> DResult<FieldPath> {
        match &self.token.tok {
            Tok::Ident { .. } if !self.at_any_keyword() => {
                let token = self.advance()?;
                let Tok::Ident { segments, .. } = token.tok else {
                    unreachable!("checked above")
                };
                Ok(FieldPath {
                    segments,
                    span: token.span,
                })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// `a, b, c` of whatever `item` parses.
    fn comma_list<T>(&mut self, mut item: impl FnMut(&mut Self) -> DResult<T>) -> DResult<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.eat(&Tok::Comma)? {
            items.push(item(self)?);
        }
        Ok(items)
    }

    fn string(&mut self, what: &str) -> DResult<String> {
        match &self.token.tok {
            Tok::Str(_) => match self.advance()?.tok {
                Tok::Str(s) => Ok(s),
                _ => unreachable!("checked above"),
            },
            _ => Err(self.unexpected(what)),
        }
    }

    fn enter(&mut self) -> DResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diag::new(ErrorKind::TooDeep, self.token.span));
        }
        Ok(())
    }

    /// One more binary operator on the current path.
    fn chain_step(&mut self) -> DResult<()> {
        self.chain += 1;
        if self.chain > MAX_CHAIN {
            return Err(Diag::new(ErrorKind::TooDeep, self.token.span));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::ast::{CommandKind, ExprKind, Limit, Literal, MatchOp, MatchPattern, SortOrder};
    use crate::parse;

    fn only(src: &str) -> CommandKind {
        let mut query = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(query.commands.len(), 1, "{src}");
        query.commands.remove(0).kind
    }

    #[test]
    fn where_is_filter_and_keywords_ignore_case() {
        assert_eq!(only("WHERE x = 1"), only("filter x = 1"));
        assert_eq!(
            only("Stats Count(*) BY Bin(5M)"),
            only("stats count(*) by bin(5m)")
        );
    }

    #[test]
    fn field_names_keep_their_case() {
        assert_ne!(only("fields SrcAddr"), only("fields srcAddr"));
    }

    #[test]
    fn slash_is_division_after_an_operand_and_a_regex_elsewhere() {
        let CommandKind::Filter(expr) = only("filter bytes / 2 > 1 and @message like /a b/") else {
            panic!("filter")
        };
        let ExprKind::Binary { rhs, .. } = expr.kind else {
            panic!("and")
        };
        assert!(matches!(
            rhs.kind,
            ExprKind::Match {
                op: MatchOp::Like,
                pattern: MatchPattern::Regex(_),
                ..
            }
        ));
        let CommandKind::Parse(parse) = only("parse @message /(?<a>x)/") else {
            panic!("parse")
        };
        assert!(matches!(parse.pattern, crate::ast::ParsePattern::Regex(_)));
    }

    #[test]
    fn sort_order_and_limit_forms() {
        let CommandKind::Sort(keys) = only("sort a, b ASC, c desc") else {
            panic!("sort")
        };
        let orders: Vec<_> = keys.iter().map(|k| k.order).collect();
        assert_eq!(
            orders,
            vec![None, Some(SortOrder::Asc), Some(SortOrder::Desc)]
        );
        assert_eq!(only("limit 25"), CommandKind::Limit(Limit::Rows(25)));
        assert_eq!(only("limit ANY"), CommandKind::Limit(Limit::Any));
    }

    #[test]
    fn prefix_not_and_infix_not_like() {
        let CommandKind::Filter(expr) = only("filter not a not like 'x'") else {
            panic!("filter")
        };
        let ExprKind::Unary { expr: inner, .. } = expr.kind else {
            panic!("not")
        };
        assert!(matches!(
            inner.kind,
            ExprKind::Match {
                op: MatchOp::NotLike,
                ..
            }
        ));
    }

    #[test]
    fn stats_keys_take_offset_and_alias() {
        let CommandKind::Stats(stats) = only("stats count(*) by bin(5m) offset 1h as t, x") else {
            panic!("stats")
        };
        assert_eq!(stats.by.len(), 2);
        assert_eq!(stats.by[0].offset.map(|d| d.millis()), Some(3_600_000));
        assert_eq!(
            stats.by[0].alias.as_ref().map(|a| a.flat_name()),
            Some("t".into())
        );
    }

    #[test]
    fn lists_and_negative_numbers() {
        let CommandKind::Filter(expr) = only("filter x in [-1, 2.5, 'a']") else {
            panic!("filter")
        };
        let ExprKind::In {
            list,
            negated: false,
            ..
        } = expr.kind
        else {
            panic!("in")
        };
        assert!(matches!(list[1].kind, ExprKind::Literal(Literal::Float(x)) if x == 2.5));
        assert!(matches!(list[0].kind, ExprKind::Unary { .. }));
    }
}
