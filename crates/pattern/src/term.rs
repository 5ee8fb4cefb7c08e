//! Term (unstructured) patterns, spec §2: `ERROR -ARGUMENTS`, `"exact phrase"`,
//! `?ERROR ?WARN`. Matching is substring search, case-sensitive, and allocation-free.

use std::fmt;

use crate::error::PatternError;
use crate::lexer::{Cursor, write_quoted};

/// How a term takes part in the match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermMode {
    /// Plain term: must occur.
    Include,
    /// `-term`: must not occur.
    Exclude,
    /// `?term`: at least one `?` term must occur, unless the pattern has any other term, in
    /// which case all `?` terms are ignored.
    Optional,
}

/// One term: the text that is searched for and how it counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    pub mode: TermMode,
    pub text: String,
}

impl Term {
    /// Whether the term's text occurs in `message`; a blank text (`" "`) occurs in every
    /// message.
    fn occurs_in(&self, message: &str) -> bool {
        message.contains(self.text.as_str()) || self.text.chars().all(char::is_whitespace)
    }
}

/// A term pattern: its terms in the order written.
///
/// Invariant: not empty, and not made only of blank include terms (that is
/// [`crate::FilterPattern::MatchAll`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TermPattern {
    terms: Vec<Term>,
}

impl TermPattern {
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Parses a whole term pattern. `Ok(None)` means it matches everything.
    pub(crate) fn parse(src: &str) -> Result<Option<Self>, PatternError> {
        let mut cur = Cursor::new(src);
        let mut terms = Vec::new();
        loop {
            cur.skip_ws();
            if cur.at_end() {
                break;
            }
            let mode = if cur.eat("-") {
                TermMode::Exclude
            } else if cur.eat("?") {
                TermMode::Optional
            } else {
                TermMode::Include
            };
            let text = match cur.peek() {
                Some('"') => cur.quoted()?,
                Some(c) if !c.is_whitespace() => {
                    let start = cur.pos();
                    let word = cur.bare_word(|c| c == '"');
                    if cur.peek() == Some('"') {
                        return Err(cur.unsupported(
                            start,
                            "a term containing `\"` must be quoted as a whole",
                        ));
                    }
                    word.to_owned()
                }
                _ => return Err(cur.unexpected("a term after `-` or `?`")),
            };
            terms.push(Term { mode, text });
        }
        let match_all = terms
            .iter()
            .all(|t| t.mode == TermMode::Include && t.text.trim().is_empty());
        Ok((!match_all).then_some(Self { terms }))
    }

    /// Whether `message` satisfies the pattern.
    pub fn matches(&self, message: &str) -> bool {
        let has_plain = self.terms.iter().any(|t| t.mode != TermMode::Optional);
        if has_plain {
            self.terms.iter().all(|t| match t.mode {
                TermMode::Include => t.occurs_in(message),
                TermMode::Exclude => !t.occurs_in(message),
                TermMode::Optional => true,
            })
        } else {
            self.terms.iter().any(|t| t.occurs_in(message))
        }
    }
}

impl fmt::Display for TermPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match term.mode {
                TermMode::Include => {}
                TermMode::Exclude => f.write_str("-")?,
                TermMode::Optional => f.write_str("?")?,
            }
            // The first include term must not look like the start of another pattern kind;
            // any term must not look like a prefix.
            let needs_quotes = term.text.is_empty()
                || term.text.chars().any(|c| c.is_whitespace() || c == '"')
                || term.text.starts_with(['-', '?', '{', '[', '%']);
            if needs_quotes {
                write_quoted(f, &term.text)?;
            } else {
                f.write_str(&term.text)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> TermPattern {
        TermPattern::parse(s).unwrap().unwrap()
    }

    #[test]
    fn optional_terms_are_ignored_beside_plain_ones() {
        let pat = p("?ERROR ?ARGUMENTS REQUEST");
        assert!(pat.matches("REQUEST"));
        assert!(!pat.matches("ERROR"));
        let only = p("?ERROR ?ARGUMENTS");
        assert!(only.matches("an ERROR"));
        assert!(!only.matches("fine"));
    }

    #[test]
    fn blank_is_match_all() {
        assert_eq!(TermPattern::parse("\" \"").unwrap(), None);
        assert_eq!(TermPattern::parse("\"\"").unwrap(), None);
        assert!(p("\" \" ERROR").matches("ERROR"));
    }

    #[test]
    fn display_quotes_when_needed() {
        let pat = p("-\"a b\" ?\"-x\" \"q\\\"t\" plain");
        assert_eq!(pat.to_string(), "-\"a b\" ?\"-x\" \"q\\\"t\" plain");
    }
}
