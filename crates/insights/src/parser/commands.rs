//! One parsing function per command.

use super::Parser;
use crate::ast::{
    CommandKind, FilterIndex, FilterIndexValues, GroupKey, Limit, Parse, ParsePattern, Projection,
    SortKey, SortOrder, Stats,
};
use crate::error::{DResult, Diag, ErrorKind};
use crate::lexer::Tok;
use crate::span::Span;

/// Documented commands flowwatch does not implement yet (lowercase).
pub(crate) const UNSUPPORTED: &[&str] = &[
    "diff",
    "anomaly",
    "lookup",
    "join",
    "autoregress",
    "logcompare",
    "filldown",
    "fillmissing",
    "cidrlookup",
    "outlier",
    "accum",
    "appendcols",
    "sessionize",
    "countfrequent",
    "addtotals",
    "relevantfields",
    "expand",
];

impl Parser<'_> {
    /// Parses the command whose name (as written) is the current token.
    pub(super) fn command_body(&mut self, name: &str, name_span: Span) -> DResult<CommandKind> {
        let lower = name.to_ascii_lowercase();
        if lower == "source" {
            return Err(Diag::new(ErrorKind::MisplacedSource, name_span));
        }
        if UNSUPPORTED.contains(&lower.as_str()) {
            return Err(Diag::new(
                ErrorKind::UnsupportedCommand { name: name.into() },
                name_span,
            ));
        }
        let known = [
            "fields",
            "display",
            "filter",
            "where",
            "stats",
            "sort",
            "limit",
            "parse",
            "dedup",
            "unnest",
            "unmask",
            "pattern",
            "filterindex",
        ];
        if !known.contains(&lower.as_str()) {
            return Err(Diag::new(
                ErrorKind::UnknownCommand { name: name.into() },
                name_span,
            ));
        }
        self.advance()?;
        Ok(match lower.as_str() {
            "fields" => CommandKind::Fields(self.comma_list(Self::projection)?),
            "display" => CommandKind::Display(self.comma_list(Self::projection)?),
            "filter" | "where" => CommandKind::Filter(self.expr()?),
            "stats" => CommandKind::Stats(self.stats()?),
            "sort" => CommandKind::Sort(self.comma_list(Self::sort_key)?),
            "limit" => CommandKind::Limit(self.limit()?),
            "parse" => CommandKind::Parse(self.parse_command()?),
            "dedup" => CommandKind::Dedup(self.comma_list(|p| p.field("a field name"))?),
            "unnest" => {
                let expr = self.expr()?;
                self.expect_keyword("into")?;
                let into = self.field("a field name")?;
                CommandKind::Unnest { expr, into }
            }
            "unmask" => CommandKind::Unmask(self.field("a field name")?),
            "pattern" => CommandKind::Pattern(self.expr()?),
            _ => CommandKind::FilterIndex(self.filter_index()?),
        })
    }

    fn alias(&mut self) -> DResult<Option<crate::ast::FieldPath>> {
        if self.eat_keyword("as")? {
            Ok(Some(self.field("an alias")?))
        } else {
            Ok(None)
        }
    }

    fn projection(&mut self) -> DResult<Projection> {
        let expr = self.expr()?;
        let alias = self.alias()?;
        Ok(Projection { expr, alias })
    }

    fn stats(&mut self) -> DResult<Stats> {
        let items = self.comma_list(Self::projection)?;
        let mut by = Vec::new();
        if self.eat_keyword("by")? {
            by = self.comma_list(Self::group_key)?;
        }
        Ok(Stats { items, by })
    }

    fn group_key(&mut self) -> DResult<GroupKey> {
        let expr = self.expr()?;
        let offset = if self.eat_keyword("offset")? {
            match self.token.tok {
                Tok::Duration(d) => {
                    self.advance()?;
                    Some(d)
                }
                _ => return Err(self.unexpected("a duration such as `1h`")),
            }
        } else {
            None
        };
        let alias = self.alias()?;
        Ok(GroupKey {
            expr,
            offset,
            alias,
        })
    }

    fn sort_key(&mut self) -> DResult<SortKey> {
        let expr = self.expr()?;
        let order = if self.eat_keyword("asc")? {
            Some(SortOrder::Asc)
        } else if self.eat_keyword("desc")? {
            Some(SortOrder::Desc)
        } else {
            None
        };
        Ok(SortKey { expr, order })
    }

    fn limit(&mut self) -> DResult<Limit> {
        if self.eat_keyword("any")? {
            return Ok(Limit::Any);
        }
        match self.token.tok {
            Tok::Int(n) if n >= 0 => {
                self.advance()?;
                Ok(Limit::Rows(n.unsigned_abs()))
            }
            _ => Err(self.unexpected("a row count")),
        }
    }

    fn parse_command(&mut self) -> DResult<Parse> {
        let source = self.atom()?;
        let pattern = match self.token.tok {
            Tok::Str(_) => {
                let pattern = self.string("a glob pattern")?;
                self.expect_keyword("as")?;
                let fields = self.comma_list(|p| p.field("a field name"))?;
                ParsePattern::Glob { pattern, fields }
            }
            Tok::Slash => ParsePattern::Regex(self.regex()?.0),
            _ => return Err(self.unexpected("a quoted glob pattern or a /regex/")),
        };
        Ok(Parse { source, pattern })
    }

    fn filter_index(&mut self) -> DResult<FilterIndex> {
        let field = self.field("a field name")?;
        let values = if self.eat(&Tok::Eq)? {
            FilterIndexValues::Eq(self.expr()?)
        } else if self.eat_keyword("in")? {
            match self.list()?.kind {
                crate::ast::ExprKind::List(items) => FilterIndexValues::In(items),
                _ => unreachable!("list() returns a list"),
            }
        } else {
            return Err(self.unexpected("`=` or `in`"));
        };
        Ok(FilterIndex { field, values })
    }
}
