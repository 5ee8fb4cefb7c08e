//! Invalid patterns are rejected with a message that says what and where.

use flowwatch_pattern::{FilterPattern, PatternError};

fn err(pattern: &str) -> PatternError {
    match FilterPattern::parse(pattern) {
        Ok(p) => panic!("`{pattern}` should be rejected, parsed as {p:?}"),
        Err(e) => e,
    }
}

/// (pattern, the 0-based offset the error must report, a fragment of the message)
#[test]
fn rejected_patterns_report_offset_and_reason() {
    let rows: &[(&str, usize, &str)] = &[
        // unbalanced quotes, brackets, braces, parentheses, percent signs
        ("\"unterminated", 0, "unterminated quoted string"),
        ("ERROR \"abc", 6, "unterminated quoted string"),
        ("abc\"def", 0, "must be quoted"),
        ("[ip, user", 0, "missing `]`"),
        ("[ip, user]]", 10, "end of pattern after `]`"),
        ("[ip, user=\"x]", 10, "unterminated quoted string"),
        ("{ $.a = 1", 0, "missing `}`"),
        ("{ $.a = 1 }}", 11, "end of pattern after `}`"),
        ("{ ($.a = 1 }", 11, "expected `&&`, `||` or `)`"),
        (
            "{ ($.a = 1 && ($.b = 2) }",
            24,
            "expected `&&`, `||` or `)`",
        ),
        ("{ $.a = \"x }", 8, "unterminated quoted string"),
        ("{ $.['a.b = 1 }", 3, "unterminated bracketed key"),
        ("{ $.a[0 = 1 }", 7, "`]` closing the array index"),
        ("%abc", 0, "unterminated regular expression"),
        ("{ $.a = %abc }", 8, "unterminated regular expression"),
        ("{ }", 2, "a condition"),
        ("{ a = 1 }", 2, "a selector"),
        ("{ $ = 1 }", 3, "`.` after `$`"),
        // bad operators
        ("{ $.a == 1 }", 6, "unknown operator `==`"),
        ("{ $.a => 1 }", 6, "unknown operator `=>`"),
        ("{ $.a ! 1 }", 6, "`!` must be followed by `=`"),
        ("{ $.a ~ 1 }", 6, "a comparison operator"),
        ("{ $.a < \"x\" }", 6, "needs a numeric value"),
        ("{ $.a > abc }", 6, "needs a numeric value"),
        ("{ $.a >= %x% }", 6, "needs a numeric value"),
        ("{ $.a IS NOT NULL }", 9, "`IS NOT` is not supported"),
        ("{ $.a EXISTS }", 6, "use `NOT EXISTS`"),
        ("{ $.a IS MAYBE }", 9, "`NULL`, `TRUE` or `FALSE`"),
        ("{ $.a NOT THERE }", 10, "`EXISTS` after `NOT`"),
        ("{ $.a = 1 & $.b = 2 }", 10, "`&&`, `||` or `}`"),
        ("{ $.a = }", 8, "a value"),
        ("[a == 1]", 3, "unknown operator `==`"),
        ("[a > x]", 3, "needs a numeric value"),
        ("[a = 1 || b = 2]", 10, "must all test `a`"),
        ("[a = 1 ||]", 9, "a field name"),
        ("[a, a]", 4, "duplicate field `a`"),
        ("[..., a, ...]", 9, "only one `...`"),
        ("[1, a]", 1, "must not be a number"),
        ("[a b]", 3, "`,`, `&&`, `||` or `]`"),
        ("- ERROR", 1, "a term after `-` or `?`"),
        ("%a% b", 4, "a regex must be the whole term pattern"),
        // regex restrictions
        ("%something!%", 10, "character `!` is not allowed"),
        ("%(a|b)%", 1, "parentheses"),
        ("%a(?i)b%", 2, "parentheses"),
        ("%caf\u{e9}%", 4, "multi-byte"),
        ("%\\p{L}%", 1, "unsupported escape `\\p`"),
        ("%\\x4%", 1, "two hex digits"),
        ("%%", 1, "empty regular expression"),
        ("[a=%x\"y%]", 5, "character `\"` is not allowed"),
        ("%a{2%", 1, "invalid regular expression"),
        // wildcard limits
        ("{ $.*.b[*] = 1 }", 2, "at most one wildcard"),
        (
            "{ $.* = 1 || $.a[*] = 2 || $.b.* = 3 || $.c[*] = 4 }",
            40,
            "at most three wildcard",
        ),
    ];
    let mut failures = Vec::new();
    for &(pattern, offset, fragment) in rows {
        let text = err(pattern).to_string();
        if !text.contains(fragment) || !text.contains(&format!("offset {offset}:")) {
            failures.push(format!(
                "`{pattern}`: `{text}`; want `{fragment}` at offset {offset}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn too_many_regex_terms() {
    assert!(FilterPattern::parse("[a=%x%, b=%y%]").is_ok());
    assert!(FilterPattern::parse("{ $.a = %x% || $.b = %y% }").is_ok());
    let e = err("[a=%x%, b=%y%, c=%z%]");
    assert_eq!(e, PatternError::TooManyRegex { offset: 17, max: 2 }, "{e}");
    assert!(matches!(
        err("{ $.a = %x% || $.b = %y% || $.c = %z% }"),
        PatternError::TooManyRegex { offset: 34, .. }
    ));
    assert!(matches!(
        err("[w1=%a% || w1=%b% || w1=%c%, w2]"),
        PatternError::TooManyRegex { .. }
    ));
}

#[test]
fn length_limit_counts_characters() {
    let ok = "a".repeat(1024);
    assert!(FilterPattern::parse(&ok).is_ok());
    let long = "a".repeat(1025);
    assert_eq!(
        err(&long),
        PatternError::TooLong {
            len: 1025,
            max: 1024
        }
    );
    // 1024 two-byte characters are 1024 characters, not 2048.
    assert!(FilterPattern::parse(&"é".repeat(1024)).is_ok());
    assert_eq!(
        err(&"é".repeat(1025)).to_string(),
        "filter pattern is 1025 characters long; the maximum is 1024"
    );
}

#[test]
fn offsets_count_characters_not_bytes() {
    // `é` is two bytes; the unterminated quote is at character 3.
    let e = err("éé \"x");
    assert_eq!(
        e,
        PatternError::Unterminated {
            offset: 3,
            what: "quoted string"
        }
    );
}
