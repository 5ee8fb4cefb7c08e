//! `SOURCE logGroups(namePrefix: [...], accountIdentifiers: [...], class: [...])
//! dataSource([...])` at the start of a query.

use super::Parser;
use crate::ast::{LogGroupsArg, LogGroupsParam, Source, SourceSelector};
use crate::error::DResult;
use crate::lexer::Tok;

impl Parser<'_> {
    pub(super) fn source(&mut self) -> DResult<Source> {
        let start = self.advance()?.span;
        let mut selectors = Vec::new();
        loop {
            if self.at_keyword("logGroups") {
                self.advance()?;
                let open = self.expect(&Tok::LParen, "`(`")?.span;
                let args = self.comma_list(Self::log_groups_arg)?;
                self.close(&Tok::RParen, '(', open, "`,` or `)`")?;
                selectors.push(SourceSelector::LogGroups(args));
            } else if self.at_keyword("dataSource") {
                self.advance()?;
                let open = self.expect(&Tok::LParen, "`(`")?.span;
                let names = self.string_list()?;
                self.close(&Tok::RParen, '(', open, "`)`")?;
                selectors.push(SourceSelector::DataSource(names));
            } else if selectors.is_empty() {
                return Err(self.unexpected("`logGroups(...)` or `dataSource(...)`"));
            } else {
                break;
            }
        }
        Ok(Source {
            selectors,
            span: start.to(crate::span::Span::new(self.prev_end, self.prev_end)),
        })
    }

    fn log_groups_arg(&mut self) -> DResult<LogGroupsArg> {
        let start = self.token.span;
        let param = if self.eat_keyword("namePrefix")? {
            LogGroupsParam::NamePrefix
        } else if self.eat_keyword("accountIdentifiers")? {
            LogGroupsParam::AccountIdentifiers
        } else if self.eat_keyword("class")? {
            LogGroupsParam::Class
        } else {
            return Err(self.unexpected("`namePrefix`, `accountIdentifiers` or `class`"));
        };
        self.expect(&Tok::Colon, "`:`")?;
        let values = self.string_list()?;
        Ok(LogGroupsArg {
            param,
            values,
            span: start.to(crate::span::Span::new(self.prev_end, self.prev_end)),
        })
    }

    /// `['a', "b"]`
    fn string_list(&mut self) -> DResult<Vec<String>> {
        let open = self.expect(&Tok::LBracket, "`[`")?.span;
        let mut values = Vec::new();
        if self.token.tok != Tok::RBracket {
            values = self.comma_list(|p| p.string("a quoted string"))?;
        }
        self.close(&Tok::RBracket, '[', open, "`,` or `]`")?;
        Ok(values)
    }
}
