//! Source positions: byte [`Span`]s inside the crate, character [`Location`]s in errors.

/// A byte range `start..end` in the query text.
///
/// Spans never take part in equality: every `Span` equals every other, so two ASTs compare
/// equal when they have the same structure whatever text they came from (this is what makes
/// `parse(&ast.to_string()) == ast` hold).
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// This span as a character range in `source`.
    pub fn location(self, source: &str) -> Location {
        Location {
            start: char_offset(source, self.start),
            end: char_offset(source, self.end),
        }
    }
}

/// A character range `start..end` (Unicode scalar values, end exclusive), the unit of
/// `queryCompileError.location.startCharOffset` / `endCharOffset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Location {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
}

fn char_offset(source: &str, byte: usize) -> usize {
    let mut byte = byte.min(source.len());
    while !source.is_char_boundary(byte) {
        byte -= 1;
    }
    source[..byte].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_characters_not_bytes() {
        let src = "filter x = 'é' | bad";
        let bad = src.find("bad").unwrap();
        let loc = Span::new(bad, bad + 3).location(src);
        assert_eq!(loc, Location { start: 17, end: 20 });
    }

    #[test]
    fn spans_never_affect_equality() {
        assert_eq!(Span::new(1, 2), Span::new(5, 9));
    }
}
