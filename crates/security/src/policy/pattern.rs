//! Wildcard patterns with policy variables: the text of an `Action`, a `Resource` or a
//! condition value, parsed once into tokens.
//!
//! `*` matches zero or more characters (including `/` and `:`), `?` exactly one. In a
//! `2012-10-17` policy `${key}` is replaced by the request's single value for `key` (or by a
//! default written `${key, 'text'}`); `${*}`, `${?}` and `${$}` are the literal characters.
//! A substituted value is always literal text: its own `*` or `?` are not wildcards.

use std::borrow::Cow;

use super::context::RequestContext;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Text(String),
    Star,
    Question,
    /// `${key}` or `${key, 'default'}`; the key is stored lowercase (keys ignore case).
    Variable {
        key: String,
        default: Option<String>,
    },
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    tokens: Vec<Token>,
    /// The pieces, compiled once when the pattern holds no variable.
    fixed: Option<Vec<Piece>>,
}

/// One element of a resolved pattern: literal characters or a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Char(char),
    Star,
    Question,
}

impl Pattern {
    /// Compiles `source`; `variables` is false for `2008-10-17` policies, where `${...}` is
    /// literal text.
    pub fn new(source: &str, variables: bool) -> Self {
        let mut tokens = Vec::new();
        let mut text = String::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            if variables
                && rest.starts_with("${")
                && let Some((token, after)) = parse_variable(&rest[2..])
            {
                match token {
                    Token::Text(t) => text.push_str(&t),
                    other => {
                        flush(&mut text, &mut tokens);
                        tokens.push(other);
                    }
                }
                rest = after;
                continue;
            }
            match c {
                '*' => {
                    flush(&mut text, &mut tokens);
                    tokens.push(Token::Star);
                }
                '?' => {
                    flush(&mut text, &mut tokens);
                    tokens.push(Token::Question);
                }
                _ => text.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        flush(&mut text, &mut tokens);
        let mut pattern = Self {
            source: source.to_owned(),
            tokens,
            fixed: None,
        };
        if !pattern
            .tokens
            .iter()
            .any(|t| matches!(t, Token::Variable { .. }))
        {
            pattern.fixed = pattern.substitute(None);
        }
        pattern
    }

    /// The pattern as written in the policy.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the pattern has no wildcard and no variable.
    pub fn is_literal(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Text(_)))
    }

    /// Whether `value` matches, with variables resolved from `context` (`None` context: no
    /// variable resolves). An unresolvable variable matches nothing.
    pub fn matches(
        &self,
        value: &str,
        context: Option<&RequestContext>,
        ignore_case: bool,
    ) -> bool {
        match self.resolve(context) {
            Some(pieces) => glob(&pieces, value, ignore_case),
            None => false,
        }
    }

    /// The pattern with its variables substituted, as plain text (wildcards kept as `*`/`?`);
    /// `None` when a variable has no value. Used by the exact-comparison operators, where
    /// `*` is an ordinary character.
    pub fn resolve_text(&self, context: Option<&RequestContext>) -> Option<String> {
        let mut out = String::new();
        for token in &self.tokens {
            match token {
                Token::Text(t) => out.push_str(t),
                Token::Star => out.push('*'),
                Token::Question => out.push('?'),
                Token::Variable { key, default } => out.push_str(&variable(key, default, context)?),
            }
        }
        Some(out)
    }

    /// Whether `arn` matches, comparing the six colon-separated parts separately (the
    /// resource part is everything after the fifth colon, colons included). A pattern with
    /// fewer than six parts (`*`, `arn:aws:logs:*`) is matched against the whole ARN.
    pub fn matches_arn(&self, arn: &str, context: Option<&RequestContext>) -> bool {
        let Some(pieces) = self.resolve(context) else {
            return false;
        };
        let parts = split_arn_pieces(&pieces);
        if parts.len() < 6 {
            return glob(&pieces, arn, false);
        }
        let arn_parts: Vec<&str> = arn.splitn(6, ':').collect();
        arn_parts.len() == 6 && parts.iter().zip(&arn_parts).all(|(p, a)| glob(p, a, false))
    }

    fn resolve(&self, context: Option<&RequestContext>) -> Option<Cow<'_, [Piece]>> {
        if let Some(fixed) = &self.fixed {
            return Some(Cow::Borrowed(fixed));
        }
        self.substitute(context).map(Cow::Owned)
    }

    fn substitute(&self, context: Option<&RequestContext>) -> Option<Vec<Piece>> {
        let mut pieces = Vec::new();
        for token in &self.tokens {
            match token {
                Token::Text(t) => pieces.extend(t.chars().map(Piece::Char)),
                Token::Star => pieces.push(Piece::Star),
                Token::Question => pieces.push(Piece::Question),
                Token::Variable { key, default } => {
                    pieces.extend(variable(key, default, context)?.chars().map(Piece::Char));
                }
            }
        }
        Some(pieces)
    }
}

fn variable(
    key: &str,
    default: &Option<String>,
    context: Option<&RequestContext>,
) -> Option<String> {
    match context.and_then(|c| c.single_value(key)) {
        Some(value) => Some(value.to_owned()),
        None => default.clone(),
    }
}

/// Splits resolved pieces at the first five literal colons.
fn split_arn_pieces(pieces: &[Piece]) -> Vec<&[Piece]> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    for (i, piece) in pieces.iter().enumerate() {
        if parts.len() == 5 {
            break;
        }
        if *piece == Piece::Char(':') {
            parts.push(&pieces[start..i]);
            start = i + 1;
        }
    }
    parts.push(&pieces[start..]);
    parts
}

fn flush(text: &mut String, tokens: &mut Vec<Token>) {
    if !text.is_empty() {
        tokens.push(Token::Text(std::mem::take(text)));
    }
}

/// Parses the inside of `${...}` (after `${`); `None` when it is not a well-formed variable,
/// in which case the characters are literal text.
fn parse_variable(rest: &str) -> Option<(Token, &str)> {
    let special = |c: &str| rest.strip_prefix(c).and_then(|r| r.strip_prefix('}'));
    for c in ["*", "?", "$"] {
        if let Some(after) = special(c) {
            return Some((Token::Text(c.to_owned()), after));
        }
    }
    let close = rest.find('}')?;
    let (inside, default, after) = match rest[..close].find(',') {
        None => (&rest[..close], None, &rest[close + 1..]),
        Some(comma) => {
            // `${key, 'default'}`: the default is quoted, `''` is one quote, and may hold `}`.
            let name = &rest[..comma];
            let quoted = rest[comma + 1..].trim_start();
            let body = quoted.strip_prefix('\'')?;
            let mut value = String::new();
            let mut chars = body.char_indices();
            let end = loop {
                let (i, c) = chars.next()?;
                if c == '\'' {
                    if body[i + 1..].starts_with('\'') {
                        value.push('\'');
                        chars.next();
                    } else {
                        break i + 1;
                    }
                } else {
                    value.push(c);
                }
            };
            let after = body[end..].trim_start().strip_prefix('}')?;
            (name, Some(value), after)
        }
    };
    let key = inside.trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    Some((
        Token::Variable {
            key: key.to_ascii_lowercase(),
            default,
        },
        after,
    ))
}

fn eq_char(a: char, b: char, ignore_case: bool) -> bool {
    a == b || (ignore_case && a.to_lowercase().eq(b.to_lowercase()))
}

/// Iterative wildcard matching with one backtrack point (linear in practice, never
/// exponential).
fn glob(pattern: &[Piece], value: &str, ignore_case: bool) -> bool {
    let text: Vec<char> = value.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Piece::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Piece::Question) => {
                p += 1;
                t += 1;
            }
            Some(Piece::Char(c)) if eq_char(*c, text[t], ignore_case) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|piece| *piece == Piece::Star)
}

/// Plain wildcard match of `value` against `pattern` (no variables).
pub fn wildcard_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    Pattern::new(pattern, false).matches(value, None, ignore_case)
}
