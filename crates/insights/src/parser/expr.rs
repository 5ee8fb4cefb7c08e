//! Expressions, by precedence from loosest to tightest:
//! `or` < `and` < `not` < comparisons (`= != < <= > >=`, `like`, `not like`, `=~`, `in`,
//! `not in`; not chainable) < `+ -` < `* / %` < unary `-` < `^` (right-associative) < atoms.

use super::Parser;
use crate::ast::{
    BinaryOp, Call, Expr, ExprKind, FieldPath, Literal, MatchOp, MatchPattern, Segment, UnaryOp,
};
use crate::error::DResult;
use crate::functions;
use crate::lexer::Tok;

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    Expr {
        span: lhs.span.to(rhs.span),
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
    }
}

impl Parser<'_> {
    /// A full expression.
    pub(super) fn expr(&mut self) -> DResult<Expr> {
        self.enter()?;
        let expr = self.or();
        self.leave();
        expr
    }

    fn or(&mut self) -> DResult<Expr> {
        let mut lhs = self.and()?;
        let chain = self.chain;
        while self.eat_keyword("or")? {
            self.chain_step()?;
            let rhs = self.and()?;
            lhs = binary(BinaryOp::Or, lhs, rhs);
        }
        self.chain = chain;
        Ok(lhs)
    }

    fn and(&mut self) -> DResult<Expr> {
        let mut lhs = self.not()?;
        let chain = self.chain;
        while self.eat_keyword("and")? {
            self.chain_step()?;
            let rhs = self.not()?;
            lhs = binary(BinaryOp::And, lhs, rhs);
        }
        self.chain = chain;
        Ok(lhs)
    }

    fn not(&mut self) -> DResult<Expr> {
        if !self.at_keyword("not") {
            return self.comparison();
        }
        let start = self.advance()?.span;
        self.enter()?;
        let operand = self.not();
        self.leave();
        let operand = operand?;
        Ok(Expr {
            span: start.to(operand.span),
            kind: ExprKind::Unary {
                op: UnaryOp::Not,
                expr: Box::new(operand),
            },
        })
    }

    fn comparison(&mut self) -> DResult<Expr> {
        let lhs = self.additive()?;
        if self.eat_keyword("like")? {
            return self.match_rhs(lhs, MatchOp::Like);
        }
        if self.eat_keyword("in")? {
            return self.in_rhs(lhs, false);
        }
        if self.eat_keyword("not")? {
            if self.eat_keyword("like")? {
                return self.match_rhs(lhs, MatchOp::NotLike);
            }
            if self.eat_keyword("in")? {
                return self.in_rhs(lhs, true);
            }
            return Err(self.unexpected("`like` or `in` after `not`"));
        }
        let op = match self.token.tok {
            Tok::Eq => BinaryOp::Eq,
            Tok::Ne => BinaryOp::Ne,
            Tok::Lt => BinaryOp::Lt,
            Tok::Le => BinaryOp::Le,
            Tok::Gt => BinaryOp::Gt,
            Tok::Ge => BinaryOp::Ge,
            Tok::Tilde => {
                self.advance()?;
                return self.match_rhs(lhs, MatchOp::Regex);
            }
            _ => return Ok(lhs),
        };
        self.advance()?;
        let rhs = self.additive()?;
        Ok(binary(op, lhs, rhs))
    }

    fn match_rhs(&mut self, lhs: Expr, op: MatchOp) -> DResult<Expr> {
        let (pattern, span) = match &self.token.tok {
            Tok::Str(_) => {
                let span = self.token.span;
                (MatchPattern::Substring(self.string("a string")?), span)
            }
            Tok::Slash => {
                let (re, span) = self.regex()?;
                (MatchPattern::Regex(re), span)
            }
            _ => return Err(self.unexpected("a string or a /regex/")),
        };
        Ok(Expr {
            span: lhs.span.to(span),
            kind: ExprKind::Match {
                expr: Box::new(lhs),
                op,
                pattern,
            },
        })
    }

    fn in_rhs(&mut self, lhs: Expr, negated: bool) -> DResult<Expr> {
        if self.token.tok != Tok::LBracket {
            return Err(self.unexpected("`[`"));
        }
        let list = self.list()?;
        Ok(Expr {
            span: lhs.span.to(list.span),
            kind: ExprKind::In {
                expr: Box::new(lhs),
                negated,
                list: match list.kind {
                    ExprKind::List(items) => items,
                    _ => unreachable!("list() returns a list"),
                },
            },
        })
    }

    fn additive(&mut self) -> DResult<Expr> {
        let mut lhs = self.multiplicative()?;
        let chain = self.chain;
        loop {
            let op = match self.token.tok {
                Tok::Plus => BinaryOp::Add,
                Tok::Minus => BinaryOp::Sub,
                _ => {
                    self.chain = chain;
                    return Ok(lhs);
                }
            };
            self.chain_step()?;
            self.advance()?;
            let rhs = self.multiplicative()?;
            lhs = binary(op, lhs, rhs);
        }
    }

    fn multiplicative(&mut self) -> DResult<Expr> {
        let mut lhs = self.negation()?;
        let chain = self.chain;
        loop {
            let op = match self.token.tok {
                Tok::Star => BinaryOp::Mul,
                Tok::Slash => BinaryOp::Div,
                Tok::Percent => BinaryOp::Rem,
                _ => {
                    self.chain = chain;
                    return Ok(lhs);
                }
            };
            self.chain_step()?;
            self.advance()?;
            let rhs = self.negation()?;
            lhs = binary(op, lhs, rhs);
        }
    }

    fn negation(&mut self) -> DResult<Expr> {
        if self.token.tok != Tok::Minus {
            return self.power();
        }
        let start = self.advance()?.span;
        self.enter()?;
        let operand = self.negation();
        self.leave();
        let operand = operand?;
        Ok(Expr {
            span: start.to(operand.span),
            kind: ExprKind::Unary {
                op: UnaryOp::Neg,
                expr: Box::new(operand),
            },
        })
    }

    fn power(&mut self) -> DResult<Expr> {
        let base = self.atom()?;
        if !self.eat(&Tok::Caret)? {
            return Ok(base);
        }
        self.enter()?;
        let exponent = self.negation();
        self.leave();
        Ok(binary(BinaryOp::Pow, base, exponent?))
    }

    /// A literal, field, call, list, `*` or parenthesised expression.
    pub(super) fn atom(&mut self) -> DResult<Expr> {
        let span = self.token.span;
        let literal = |lit| {
            Ok(Expr {
                kind: ExprKind::Literal(lit),
                span,
            })
        };
        match &self.token.tok {
            Tok::LParen => {
                self.advance()?;
                let inner = self.expr()?;
                let close = self.close(&Tok::RParen, '(', span, "`)`")?;
                Ok(Expr {
                    kind: inner.kind,
                    span: span.to(close.span),
                })
            }
            Tok::LBracket => self.list(),
            Tok::Slash => {
                let (re, span) = self.regex()?;
                Ok(Expr {
                    kind: ExprKind::Literal(Literal::Regex(re)),
                    span,
                })
            }
            Tok::Star => {
                self.advance()?;
                Ok(Expr {
                    kind: ExprKind::Wildcard,
                    span,
                })
            }
            Tok::Str(_) | Tok::Int(_) | Tok::Float(_) | Tok::Duration(_) => {
                match self.advance()?.tok {
                    Tok::Str(s) => literal(Literal::String(s)),
                    Tok::Int(n) => literal(Literal::Integer(n)),
                    Tok::Float(x) => literal(Literal::Float(x)),
                    Tok::Duration(d) => literal(Literal::Duration(d)),
                    _ => unreachable!("checked above"),
                }
            }
            Tok::Ident { .. } if !self.at_any_keyword() => {
                let token = self.advance()?;
                let Tok::Ident { segments, quoted } = token.tok else {
                    unreachable!("checked above")
                };
                match segments.as_slice() {
                    [Segment::Name(name)] if !quoted && self.token.tok == Tok::LParen => {
                        self.call(name.clone(), span)
                    }
                    _ => Ok(Expr {
                        kind: ExprKind::Field(FieldPath { segments, span }),
                        span,
                    }),
                }
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn call(&mut self, name: String, name_span: crate::span::Span) -> DResult<Expr> {
        let open = self.advance()?.span;
        let mut args = Vec::new();
        if self.token.tok != Tok::RParen {
            args = self.comma_list(Self::expr)?;
        }
        let close = self.close(&Tok::RParen, '(', open, "`,` or `)`")?;
        let name = match functions::lookup(&name) {
            Some(def) => def.name.to_owned(),
            None => name,
        };
        Ok(Expr {
            kind: ExprKind::Call(Call {
                name,
                name_span,
                args,
            }),
            span: name_span.to(close.span),
        })
    }

    /// `[a, b, …]`, possibly empty.
    pub(super) fn list(&mut self) -> DResult<Expr> {
        let open = self.expect(&crate::lexer::Tok::LBracket, "`[`")?.span;
        let mut items = Vec::new();
        if self.token.tok != Tok::RBracket {
            items = self.comma_list(Self::expr)?;
        }
        let close = self.close(&Tok::RBracket, '[', open, "`,` or `]`")?;
        Ok(Expr {
            kind: ExprKind::List(items),
            span: open.to(close.span),
        })
    }
}
