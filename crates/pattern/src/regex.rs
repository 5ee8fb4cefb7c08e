//! `%regex%` terms: AWS's restricted regular-expression dialect (spec §3), validated and
//! translated once into a [`regex::Regex`].
//!
//! Allowed: ASCII letters and digits, the symbols `: _ # = @ / ; , -` and space, the operators
//! `^ $ ? [ ] { } | \ * + .`, the escapes `\d \D \s \S \w \W`, `\xhh`, and `\` before any
//! allowed non-alphanumeric character. Not allowed: `(`, `)`, any other character, multi-byte
//! characters. `\w`, `\d` and `\s` are the ASCII classes AWS documents.

use std::fmt;

/// Bound on the compiled program so that `a{1000}{1000}` is rejected instead of eating memory.
const COMPILED_SIZE_LIMIT: usize = 1 << 20;

/// A validated, compiled `%regex%` term. Equality and `Display` use the source text.
#[derive(Clone)]
pub struct PatternRegex {
    source: String,
    compiled: regex::Regex,
}

impl PatternRegex {
    /// Validates `source` (the text between the `%`s) and compiles it. The error carries the
    /// byte offset in `source` of the problem and a reason.
    pub(crate) fn new(source: &str) -> Result<Self, (usize, String)> {
        if source.is_empty() {
            return Err((0, "empty regular expression".to_owned()));
        }
        let translated = translate(source)?;
        let compiled = regex::RegexBuilder::new(&translated)
            .size_limit(COMPILED_SIZE_LIMIT)
            .build()
            .map_err(|e| (0, compile_reason(&e)))?;
        Ok(Self {
            source: source.to_owned(),
            compiled,
        })
    }

    /// The text between the `%`s, as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the expression occurs anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.compiled.is_match(text)
    }
}

impl PartialEq for PatternRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for PatternRegex {}

impl fmt::Debug for PatternRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PatternRegex(%{}%)", self.source)
    }
}

impl fmt::Display for PatternRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}%", self.source)
    }
}

fn compile_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(_) => "regular expression is too large".to_owned(),
        other => {
            // The syntax error text is multi-line (it draws the pattern); keep its last line.
            let text = other.to_string();
            let last = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            last.trim().trim_start_matches("error: ").to_owned()
        }
    }
}

const SYMBOLS: &str = ":_#=@/;,- ";
const OPERATORS: &str = "^$?[]{}|\\*+.";

/// Checks AWS's character rules and rewrites the AWS escapes into `regex` syntax.
fn translate(source: &str) -> Result<String, (usize, String)> {
    let mut out = String::with_capacity(source.len() + 8);
    let mut chars = source.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err((at, "trailing `\\`".to_owned()));
                };
                match e {
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    'w' => out.push_str("[a-zA-Z_0-9]"),
                    'W' => out.push_str("[^a-zA-Z_0-9]"),
                    's' => out.push_str("[\\t \\n]"),
                    'S' => out.push_str("[^\\t \\n]"),
                    'x' => {
                        let hex: String = chars.by_ref().take(2).map(|(_, h)| h).collect();
                        if hex.len() != 2 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                            return Err((
                                at,
                                "`\\x` must be followed by two hex digits".to_owned(),
                            ));
                        }
                        out.push_str("\\x");
                        out.push_str(&hex);
                    }
                    e if SYMBOLS.contains(e) || OPERATORS.contains(e) => {
                        // Escaped literal: spell it in hex so `regex` never sees a superfluous
                        // escape.
                        out.push_str(&format!("\\x{:02X}", u32::from(e)));
                    }
                    other => {
                        return Err((at, format!("unsupported escape `\\{other}`")));
                    }
                }
            }
            '(' | ')' => {
                return Err((at, "parentheses (groups) are not allowed".to_owned()));
            }
            c if c.is_ascii_alphanumeric() || SYMBOLS.contains(c) || OPERATORS.contains(c) => {
                if c == '#' {
                    // Literal in `regex` too, but escape so it can never start a comment.
                    out.push_str("\\#");
                } else {
                    out.push(c);
                }
            }
            c if !c.is_ascii() => {
                return Err((at, "multi-byte characters are not allowed".to_owned()));
            }
            other => {
                return Err((at, format!("character `{other}` is not allowed")));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(s: &str) -> PatternRegex {
        PatternRegex::new(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn translation() {
        assert!(re("\\d{1,3}").is_match("a12"));
        assert!(!re("\\d").is_match("abc"));
        assert!(re("\\x3A").is_match("a:b"));
        assert!(re("\\x28").is_match("f(x)"));
        assert!(re("\\w+\\s\\S").is_match("ab c"));
        assert!(!re("^\\w$").is_match("é"));
        assert!(re("a\\.b").is_match("a.b"));
        assert!(!re("a\\.b").is_match("axb"));
        assert!(re("[\\d]").is_match("5"));
        assert!(re("\\#").is_match("#"));
    }

    #[test]
    fn rejections() {
        for (bad, at) in [
            ("something!", 9),
            ("(a)", 0),
            ("ab\\q", 2),
            ("é", 0),
            ("\\x4", 0),
            ("a\\", 1),
            ("", 0),
        ] {
            let err = PatternRegex::new(bad).expect_err(bad);
            assert_eq!(err.0, at, "{bad}: {err:?}");
        }
        assert!(PatternRegex::new("a{2").is_err());
        assert!(PatternRegex::new("[a").is_err());
        assert!(PatternRegex::new("a{1000}{1000}{1000}").is_err());
    }
}
