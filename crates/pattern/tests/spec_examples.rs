//! Every documented example of `spec/filter-patterns.md`, table-driven, plus invalid patterns
//! and property tests. One integration-test binary for the crate.

#[path = "spec_examples/alloc.rs"]
mod alloc;
#[path = "spec_examples/delimited.rs"]
mod delimited;
#[path = "spec_examples/errors.rs"]
mod errors;
#[path = "spec_examples/json.rs"]
mod json;
#[path = "spec_examples/props.rs"]
mod props;

use flowwatch_pattern::{FilterPattern, PatternKind};

fn parse(pattern: &str) -> FilterPattern {
    FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("`{pattern}` should parse: {e}"))
}

/// Checks each (pattern, message, expected) row, and that `extract` agrees with `matches`.
fn check_rows(rows: &[(&str, &str, bool)]) {
    for &(pattern, message, expected) in rows {
        let p = parse(pattern);
        assert_eq!(
            p.matches(message),
            expected,
            "pattern `{pattern}` on `{message}`"
        );
        assert_eq!(
            p.extract(message).is_some(),
            expected,
            "extract `{pattern}`"
        );
        // Display round-trips and the reprinted pattern behaves the same.
        let again = parse(&p.to_string());
        assert_eq!(again, p, "round trip of `{pattern}` via `{p}`");
    }
}

/// Which of `lines` (by index) the pattern matches.
fn matching(pattern: &str, lines: &[&str]) -> Vec<usize> {
    let p = parse(pattern);
    (0..lines.len()).filter(|&i| p.matches(lines[i])).collect()
}

fn extracted(pattern: &str, line: &str) -> Vec<(String, String)> {
    let p = parse(pattern);
    p.extract(line)
        .unwrap_or_else(|| panic!("`{pattern}` should match `{line}`"))
        .to_map()
        .into_iter()
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------- §1 kinds

#[test]
fn kinds_are_recognised_by_first_character() {
    for (pattern, kind) in [
        ("", PatternKind::MatchAll),
        ("   ", PatternKind::MatchAll),
        ("\" \"", PatternKind::MatchAll),
        ("{ $.eventType = \"UpdateTrail\" }", PatternKind::Json),
        (
            "[ip, user, username, timestamp, request, status_code, bytes]",
            PatternKind::Delimited,
        ),
        ("[ERROR]", PatternKind::Delimited),
        ("%AUTHORIZED%", PatternKind::Regex),
        ("ERROR -ARGUMENTS", PatternKind::Terms),
        ("\"INTERNAL SERVER ERROR\"", PatternKind::Terms),
        ("\"[ERROR]\"", PatternKind::Terms),
    ] {
        let p = parse(pattern);
        assert_eq!(p.kind(), kind, "{pattern}");
        assert_eq!(
            p.supports_dimensions(),
            matches!(kind, PatternKind::Json | PatternKind::Delimited),
            "{pattern}"
        );
    }
}

#[test]
fn match_all_patterns_match_everything() {
    for pattern in ["", "\" \"", "  "] {
        let p = parse(pattern);
        for msg in ["", "x", "[ERROR] 400 BAD REQUEST"] {
            assert!(p.matches(msg));
            assert!(p.extract(msg).unwrap().to_map().is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------- §2 terms

#[test]
fn term_patterns() {
    let api = "02 May 2014 00:34:16,142 [ERROR] Unhanded exception: InvalidQueryException";
    check_rows(&[
        ("Error", "an error occurred", false),
        ("error", "an error occurred", true),
        ("\"[ERROR]\" Exception", api, true),
        ("\"[ERROR]\" Exception", "[ERROR] all fine", false),
        ("ERROR", "[ERROR 400] BAD REQUEST", true),
        ("ERROR", "[INFO] 200 OK", false),
        ("ERROR ARGUMENTS", "ARGUMENTS missing: ERROR", true),
        ("ERROR ARGUMENTS", "ERROR only", false),
        (
            "\"INTERNAL SERVER ERROR\"",
            "500 INTERNAL SERVER ERROR x",
            true,
        ),
        ("\"INTERNAL SERVER ERROR\"", "INTERNAL ERROR SERVER", false),
        ("ERROR -ARGUMENTS", "ERROR bad", true),
        ("ERROR -ARGUMENTS", "ERROR bad ARGUMENTS", false),
        ("ERROR -\"bad args\"", "ERROR bad args", false),
        ("ERROR -\"bad args\"", "ERROR bad", true),
        ("?ERROR ?ARGUMENTS", "an ERROR", true),
        ("?ERROR ?ARGUMENTS", "ARGUMENTS", true),
        ("?ERROR ?ARGUMENTS", "ERROR ARGUMENTS", true),
        ("?ERROR ?ARGUMENTS", "INFO", false),
        ("?ERROR ?ARGUMENTS REQUEST", "REQUEST", true),
        ("?ERROR ?ARGUMENTS REQUEST", "ERROR", false),
        ("?ERROR ?ARGUMENTS REQUEST", "ERROR ARGUMENTS", false),
        ("?ERROR -REQUEST", "INFO", true),
        ("\" \"", "nospaces", true),
    ]);
}

#[test]
fn test_metric_filter_cli_example() {
    let p = parse("ERROR");
    let msgs = [
        "[ERROR] 400 BAD REQUEST",
        "[ERROR] 400 BAD REQUEST",
        "[INFO] 200 OK",
    ];
    let numbers: Vec<usize> = (0..msgs.len())
        .filter_map(|i| p.extract(msgs[i]).map(|e| (i + 1, e)))
        .map(|(n, e)| {
            assert!(e.to_map().is_empty(), "term patterns extract {{}}");
            n
        })
        .collect();
    assert_eq!(numbers, [1, 2]);
}

// ---------------------------------------------------------------------------------- §3 regex

#[test]
fn regex_examples() {
    check_rows(&[
        ("%AUTHORIZED%", "user UNAUTHORIZED", true),
        ("%AUTHORIZED%", "authorized", false),
        ("%^[hc]at%", "hat trick", true),
        ("%^[hc]at%", "cat", true),
        ("%^[hc]at%", "that", false),
        ("%[hc]at$%", "the cat", true),
        ("%[hc]at$%", "cats", false),
        ("%colou?r%", "color", true),
        ("%colou?r%", "colour", true),
        ("%colou?r%", "colr", false),
        ("%[abc]%", "xxbxx", true),
        ("%[abc]%", "xyz", false),
        ("%[a-z]%", "123q", true),
        ("%[a-z]%", "123", false),
        ("%[abcx-z]%", "y", true),
        ("%[abcx-z]%", "w", false),
        ("%a{3,5}%", "aaa", true),
        ("%a{3,5}%", "aaaaa", true),
        ("%a{3,5}%", "aa", false),
        ("%gray|grey%", "gray", true),
        ("%gray|grey%", "grey", true),
        ("%gray|grey%", "gryy", false),
        ("%gra|ey%", "key", true),
        ("%gra|ey%", "gr", false),
        (
            "%^starting|^initializing|^shutting down%",
            "starting x",
            true,
        ),
        (
            "%^starting|^initializing|^shutting down%",
            "initializing",
            true,
        ),
        (
            "%^starting|^initializing|^shutting down%",
            "shutting down",
            true,
        ),
        (
            "%^starting|^initializing|^shutting down%",
            "skipping initializing x",
            false,
        ),
        ("%abcc|ab[^c]$%", "abcc xyz", true),
        ("%abcc|ab[^c]$%", "aba", true),
        ("%abcc|ab[^c]$%", "aac xyz", false),
        ("%\\[.\\]%", "[a]", true),
        ("%\\[.\\]%", "[]]", true),
        ("%\\[.\\]%", "[ ]", true),
        ("%\\[.\\]%", "[@]", true),
        ("%\\[.\\]%", "[]", false),
        ("%ab*c%", "ac", true),
        ("%ab*c%", "abbbc", true),
        ("%ab*c%", "ab", false),
        ("%ab[0-9]*%", "ab", true),
        ("%ab[0-9]*%", "ab129", true),
        ("%ab+c%", "abc", true),
        ("%ab+c%", "abbc", true),
        ("%ab+c%", "ac", false),
        ("%.at%", "hat", true),
        ("%.at%", "4at", true),
        ("%.at%", "#at", true),
        ("%.at%", " at", true),
        ("%.at%", "at", false),
        ("%10\\.10\\.0\\.1%", "10.10.0.1", true),
        ("%10\\.10\\.0\\.1%", "10010,051", false),
        ("%10.10.0.1%", "10010,051", true),
        ("%\\d%", "a1", true),
        ("%\\d%", "ab", false),
        ("%\\D%", "12a", true),
        ("%\\D%", "12", false),
        (
            "%\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%",
            "from 192.168.0.1",
            true,
        ),
        (
            "%\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%",
            "from 192.168.0",
            false,
        ),
        ("%[Ee]rror|[Ff]ail%", "an error", true),
        ("%[Ee]rror|[Ff]ail%", "Failure", true),
        ("%[Ee]rror|[Ff]ail%", "ok", false),
        ("%\\x3A%", "a:b", true),
        ("%\\x3A%", "ab", false),
        ("%\\x28%", "f(x)", true),
        ("%\\w\\s\\S%", "a b", true),
        ("%\\w\\s\\S%", "a  b", false),
    ]);
}

#[test]
fn regex_is_case_sensitive() {
    assert!(!parse("%error%").matches("ERROR"));
}
