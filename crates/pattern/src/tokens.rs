//! Tokenising an event for space-delimited patterns (spec §5.1) and lining the tokens up with
//! the field specs. Both are allocation-free: the event is scanned twice (count, then match)
//! instead of collecting tokens.

use crate::delimited::{DelimitedPattern, FieldSpec};
use crate::value::compare_text;

/// One token of an event: its value (without enclosing `[]`/`""`) and its raw extent in the
/// message (with them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'m> {
    pub(crate) value: &'m str,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Splits a message into tokens: runs of non-whitespace, except that text from `[` to the
/// next `]`, or from `"` to the next `"`, at the start of a token is one token whatever it
/// contains. An opening `[`/`"` without its closing partner starts an ordinary token.
#[derive(Debug, Clone)]
pub(crate) struct Tokens<'m> {
    message: &'m str,
    pos: usize,
}

impl<'m> Tokens<'m> {
    pub(crate) fn new(message: &'m str) -> Self {
        Self { message, pos: 0 }
    }
}

fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'m> Iterator for Tokens<'m> {
    type Item = Token<'m>;

    fn next(&mut self) -> Option<Token<'m>> {
        let bytes = self.message.as_bytes();
        while self.pos < bytes.len() && is_separator(bytes[self.pos]) {
            self.pos += 1;
        }
        let start = self.pos;
        let first = *bytes.get(start)?;
        let close = match first {
            b'[' => Some(b']'),
            b'"' => Some(b'"'),
            _ => None,
        };
        if let Some(close) = close
            && let Some(len) = bytes[start + 1..].iter().position(|&b| b == close)
        {
            let end = start + 1 + len + 1;
            self.pos = end;
            return Some(Token {
                value: &self.message[start + 1..end - 1],
                start,
                end,
            });
        }
        let mut end = start;
        while end < bytes.len() && !is_separator(bytes[end]) {
            end += 1;
        }
        self.pos = end;
        Some(Token {
            value: &self.message[start..end],
            start,
            end,
        })
    }
}

/// Where a field value came from, for extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot<'p> {
    /// A named field spec.
    Named(&'p str),
    /// A blank spec or a token covered by `...`.
    Unnamed,
}

impl DelimitedPattern {
    /// Lines `message` up with the specs, checks every condition, and calls `visit(slot,
    /// position, value)` for each field (1-based token position; a last field that absorbs the
    /// rest of the line is reported once, at its first token). Returns whether it matched.
    pub(crate) fn walk<'p, 'm>(
        &'p self,
        message: &'m str,
        mut visit: impl FnMut(Slot<'p>, usize, &'m str),
    ) -> bool {
        let specs = &self.specs;
        let count = Tokens::new(message).count();
        if specs.is_empty() {
            for (i, tok) in Tokens::new(message).enumerate() {
                visit(Slot::Unnamed, i + 1, tok.value);
            }
            return true;
        }
        let ellipsis = specs.iter().position(|s| *s == FieldSpec::Ellipsis);
        let (prefix, suffix) = match ellipsis {
            Some(e) => (e, specs.len() - e - 1),
            None => (specs.len(), 0),
        };
        if count < prefix + suffix {
            return false;
        }
        let mut absorbed: Option<(usize, Token<'m>, Token<'m>)> = None;
        for (i, tok) in Tokens::new(message).enumerate() {
            let spec = match ellipsis {
                Some(_) if i >= prefix && i < count - suffix => {
                    visit(Slot::Unnamed, i + 1, tok.value);
                    continue;
                }
                Some(e) if i >= prefix => &specs[e + 1 + (i - (count - suffix))],
                None if i + 1 >= prefix => {
                    // No `...`: the last spec takes this token and everything after it.
                    match &mut absorbed {
                        None => absorbed = Some((i + 1, tok, tok)),
                        Some((_, _, last)) => *last = tok,
                    }
                    continue;
                }
                _ => &specs[i],
            };
            if !check(spec, i + 1, tok.value, &mut visit) {
                return false;
            }
        }
        match absorbed {
            None => true,
            Some((pos, first, last)) => {
                let value = if first == last {
                    first.value
                } else {
                    &message[first.start..last.end]
                };
                check(&specs[prefix - 1], pos, value, &mut visit)
            }
        }
    }
}

fn check<'p, 'm>(
    spec: &'p FieldSpec,
    position: usize,
    value: &'m str,
    visit: &mut impl FnMut(Slot<'p>, usize, &'m str),
) -> bool {
    let FieldSpec::Field { name, any_of } = spec else {
        visit(Slot::Unnamed, position, value);
        return true;
    };
    let ok = any_of.is_empty()
        || any_of
            .iter()
            .any(|group| group.iter().all(|t| compare_text(t.op, &t.value, value)));
    if ok {
        let slot = name.as_deref().map_or(Slot::Unnamed, Slot::Named);
        visit(slot, position, value);
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(msg: &str) -> Vec<&str> {
        Tokens::new(msg).map(|t| t.value).collect()
    }

    #[test]
    fn apache_line() {
        assert_eq!(
            values(
                "127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534"
            ),
            [
                "127.0.0.1",
                "Prod",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /index.html HTTP/1.0",
                "404",
                "1534"
            ]
        );
    }

    #[test]
    fn edge_cases() {
        assert_eq!(values("  a   b  "), ["a", "b"]);
        assert_eq!(values("[unclosed x"), ["[unclosed", "x"]);
        assert_eq!(values("\"\" []"), ["", ""]);
        assert_eq!(values("a\"b c\""), ["a\"b", "c\""]);
        assert!(values("").is_empty());
    }
}
