//! Tokenising an event for space-delimited patterns (spec §5.1) and lining the tokens up with
//! the field specs. Both are allocation-free: a pattern without `...` scans the event once; one
//! with `...` scans it twice (count, then match) instead of collecting tokens. A
//! [`crate::PatternSet`] tokenises an event once into [`Span`]s and checks each pattern's
//! conditioned fields by index ([`Layout`]).

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

/// A token as byte offsets into its message, so that the tokens of an event can be kept in a
/// reused buffer without borrowing the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: usize,
    end: usize,
    /// Enclosed in `[]` or `""` (the value is the text inside).
    enclosed: bool,
}

impl Span {
    pub(crate) fn value<'m>(&self, message: &'m str) -> &'m str {
        if self.enclosed {
            &message[self.start + 1..self.end - 1]
        } else {
            &message[self.start..self.end]
        }
    }
}

impl Token<'_> {
    pub(crate) fn span(&self) -> Span {
        Span {
            start: self.start,
            end: self.end,
            enclosed: self.value.len() + 2 == self.end - self.start,
        }
    }
}

fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The index of the first separator at or after `from` (or the length of `bytes`). Eight bytes
/// at a time: a token is mostly followed by a space, and few bytes are below `!`.
fn separator_from(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk).map(u64::from_le_bytes) else {
            break;
        };
        // The high bit of each byte below 0x21 (space and the control characters). A borrow
        // can only mark bytes above a marked one, so the lowest mark is exact.
        let below = word.wrapping_sub(ONES * 0x21) & !word & HIGH_BITS;
        if below == 0 {
            i += 8;
            continue;
        }
        let at = i + (below.trailing_zeros() / 8) as usize;
        if is_separator(bytes[at]) {
            return at;
        }
        // A control character that does not separate tokens: part of this one.
        i = at + 1;
    }
    while i < bytes.len() && !is_separator(bytes[i]) {
        i += 1;
    }
    i
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
        let end = separator_from(bytes, start);
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
        // Only `...` needs the number of tokens up front (to place the suffix); without it, too
        // few tokens shows as a last field that absorbed nothing.
        let count = match ellipsis {
            Some(_) => Tokens::new(message).count(),
            None => usize::MAX,
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
            None => ellipsis.is_some(),
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
    let ok = holds(any_of, value);
    if ok {
        let slot = name.as_deref().map_or(Slot::Unnamed, Slot::Named);
        visit(slot, position, value);
    }
    ok
}

/// Whether a field value satisfies a spec's conditions (none, or every test of one group).
pub(crate) fn holds(any_of: &[Vec<crate::delimited::FieldTest>], value: &str) -> bool {
    any_of.is_empty()
        || any_of
            .iter()
            .any(|group| group.iter().all(|t| compare_text(t.op, &t.value, value)))
}

/// Where a field spec finds its value among the `n` tokens of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Place {
    /// Token `i` (0-based).
    Index(usize),
    /// Token `n - d`: a spec after `...`.
    FromEnd(usize),
    /// Tokens `i..`: the last spec of a pattern without `...` absorbs the rest of the line.
    Rest(usize),
}

impl Place {
    /// The value at this place, if the event has enough tokens for it.
    pub(crate) fn value<'m>(self, message: &'m str, spans: &[Span]) -> Option<&'m str> {
        match self {
            Self::Index(i) => spans.get(i).map(|s| s.value(message)),
            Self::FromEnd(d) => spans.len().checked_sub(d).map(|i| spans[i].value(message)),
            Self::Rest(i) => {
                let first = spans.get(i)?;
                let last = spans.last()?;
                Some(if spans.len() == i + 1 {
                    first.value(message)
                } else {
                    &message[first.start..last.end]
                })
            }
        }
    }
}

/// A space-delimited pattern seen as checks by index: how many tokens an event needs, and where
/// the value of each spec with conditions is. An already tokenised event matches when it has
/// `min_tokens` and every check [`holds`] at its place: the same as [`DelimitedPattern::walk`]
/// without the visits (a [`crate::PatternSet`] checks patterns this way).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    pub(crate) min_tokens: usize,
    /// (place, index of the spec) for each spec with conditions, in spec order.
    pub(crate) checks: Vec<(Place, usize)>,
}

impl DelimitedPattern {
    pub(crate) fn layout(&self) -> Layout {
        let specs = &self.specs;
        let ellipsis = specs.iter().position(|s| *s == FieldSpec::Ellipsis);
        let min_tokens = specs.len() - usize::from(ellipsis.is_some());
        let checks = specs
            .iter()
            .enumerate()
            .filter(
                |(_, spec)| matches!(spec, FieldSpec::Field { any_of, .. } if !any_of.is_empty()),
            )
            .map(|(j, _)| {
                let place = match ellipsis {
                    Some(e) if j > e => Place::FromEnd(specs.len() - j),
                    Some(_) => Place::Index(j),
                    None if j + 1 == specs.len() => Place::Rest(j),
                    None => Place::Index(j),
                };
                (place, j)
            })
            .collect();
        Layout { min_tokens, checks }
    }

    /// Where the value of the field named `name` is.
    pub(crate) fn place_of_field(&self, name: &str) -> Option<Place> {
        let j = self
            .specs
            .iter()
            .position(|s| matches!(s, FieldSpec::Field { name: Some(n), .. } if n == name))?;
        let ellipsis = self.specs.iter().position(|s| *s == FieldSpec::Ellipsis);
        Some(match ellipsis {
            Some(e) if j > e => Place::FromEnd(self.specs.len() - j),
            Some(_) => Place::Index(j),
            None if j + 1 == self.specs.len() => Place::Rest(j),
            None => Place::Index(j),
        })
    }

    /// Where the value extracted at 1-based token `position` is: every token has one when the
    /// pattern has `...` (or no specs); without, the last field's value (at its first token)
    /// covers the rest of the line and the tokens after its first have none.
    pub(crate) fn place_of_position(&self, position: usize) -> Option<Place> {
        let i = position.checked_sub(1)?;
        let ellipsis = self.specs.is_empty() || self.specs.contains(&FieldSpec::Ellipsis);
        let last = self.specs.len().saturating_sub(1);
        match i {
            _ if ellipsis => Some(Place::Index(i)),
            i if i < last => Some(Place::Index(i)),
            i if i == last => Some(Place::Rest(i)),
            _ => None,
        }
    }
}

/// Splits `message` into `spans` (cleared first).
pub(crate) fn split_into(message: &str, spans: &mut Vec<Span>) {
    spans.clear();
    spans.extend(Tokens::new(message).map(|t| t.span()));
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
    fn separators_past_the_first_eight_bytes() {
        let long = "abcdefghijklmnopq\u{1}rs\ttuvwxyz0123456789é\r\n x";
        assert_eq!(
            values(long),
            ["abcdefghijklmnopq\u{1}rs", "tuvwxyz0123456789é", "x"]
        );
        for cut in 0..long.len() {
            if long.is_char_boundary(cut) {
                let by_byte = long[cut..]
                    .bytes()
                    .position(is_separator)
                    .map_or(long.len(), |p| p + cut);
                assert_eq!(separator_from(long.as_bytes(), cut), by_byte, "{cut}");
            }
        }
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
