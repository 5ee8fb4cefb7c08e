//! Compile errors carry the exact character range of the fault.

use flowwatch_insights::{ErrorKind, QueryError, compile};

fn error(src: &str) -> QueryError {
    compile(src).expect_err(src)
}

/// The range of `needle` (first occurrence) in `src`, in characters.
fn chars_of(src: &str, needle: &str) -> (usize, usize) {
    let byte = src.find(needle).expect("needle in source");
    let start = src[..byte].chars().count();
    (start, start + needle.chars().count())
}

fn range(err: &QueryError) -> (usize, usize) {
    (err.location.start, err.location.end)
}

#[test]
fn unclosed_paren_points_at_the_opener() {
    let err = error("filter (action = \"REJECT\" | limit 5");
    assert_eq!(err.kind, ErrorKind::Unclosed { open: '(' });
    assert_eq!(range(&err), (7, 8));
    let err = error("stats count(* by x");
    assert_eq!(
        err.kind,
        ErrorKind::Unexpected {
            expected: "`,` or `)`".into(),
            found: "`by`".into()
        }
    );
    assert_eq!(range(&err), (14, 16));
    let err = error("fields concat(a, b");
    assert_eq!(err.kind, ErrorKind::Unclosed { open: '(' });
    assert_eq!(range(&err), (13, 14));
    let err = error("filter x in [1, 2");
    assert_eq!(err.kind, ErrorKind::Unclosed { open: '[' });
    assert_eq!(range(&err), (12, 13));
}

#[test]
fn stray_closing_paren_is_unexpected() {
    let err = error("filter x = 1)");
    assert_eq!(
        err.kind,
        ErrorKind::Unexpected {
            expected: "`|` or end of query".into(),
            found: "`)`".into()
        }
    );
    assert_eq!(range(&err), (12, 13));
}

#[test]
fn unterminated_quotes_span_to_the_end() {
    let src = "filter action = \"REJECT | limit 5";
    let err = error(src);
    assert_eq!(err.kind, ErrorKind::UnterminatedString);
    assert_eq!(range(&err), (16, 33));
    let err = error("filter action = 'REJ\\'");
    assert_eq!(err.kind, ErrorKind::UnterminatedString);
    assert_eq!(range(&err), (16, 22));
    let err = error("fields `detail-type");
    assert_eq!(err.kind, ErrorKind::UnterminatedBackquote);
    assert_eq!(range(&err), (7, 19));
    let err = error("filter @message like /abc");
    assert_eq!(err.kind, ErrorKind::UnterminatedRegex);
    assert_eq!(range(&err), (21, 25));
}

#[test]
fn unknown_command_is_named_and_located() {
    let src = "fields @message | fitler x = 1";
    let err = error(src);
    assert_eq!(
        err.kind,
        ErrorKind::UnknownCommand {
            name: "fitler".into()
        }
    );
    assert_eq!(err.message(), "unknown command `fitler`");
    assert_eq!(range(&err), chars_of(src, "fitler"));
}

#[test]
fn unsupported_commands_fail_loudly() {
    for name in ["diff", "anomaly", "lookup", "join", "fillmissing", "DIFF"] {
        let src = format!("filter @message like /ERROR/ | {name} @message | sort @sampleCount asc");
        let err = error(&src);
        assert_eq!(
            err.kind,
            ErrorKind::UnsupportedCommand { name: name.into() },
            "{src}"
        );
        assert_eq!(
            err.message(),
            format!("command `{name}` is not supported yet")
        );
        assert_eq!(range(&err), chars_of(&src, name));
    }
}

#[test]
fn unknown_function_points_at_its_name() {
    let src = "fields @message | stats avg(bytes), frobnicate(x) by srcAddr";
    let err = error(src);
    assert_eq!(
        err.kind,
        ErrorKind::UnknownFunction {
            name: "frobnicate".into()
        }
    );
    assert_eq!(range(&err), chars_of(src, "frobnicate"));
}

#[test]
fn wrong_arity_spans_the_call() {
    let src = "filter isIpv4InSubnet(srcAddr) and x = 1";
    let err = error(src);
    assert_eq!(
        err.kind,
        ErrorKind::WrongArity {
            name: "isIpv4InSubnet".into(),
            expected: "2".into(),
            found: 1
        }
    );
    assert_eq!(range(&err), chars_of(src, "isIpv4InSubnet(srcAddr)"));
    let src = "fields now(1)";
    assert_eq!(range(&error(src)), chars_of(src, "now(1)"));
    let src = "stats pct(@duration)";
    assert_eq!(range(&error(src)), chars_of(src, "pct(@duration)"));
}

#[test]
fn aggregates_outside_stats_are_rejected() {
    let src = "filter sum(bytes) > 1000";
    let err = error(src);
    assert_eq!(
        err.kind,
        ErrorKind::AggregateOutsideStats { name: "sum".into() }
    );
    assert_eq!(range(&err), (7, 17));
    let src = "fields @message | sort count(*) desc";
    let err = error(src);
    assert_eq!(
        err.kind,
        ErrorKind::AggregateOutsideStats {
            name: "count".into()
        }
    );
    assert_eq!(range(&err), chars_of(src, "count(*)"));
    let src = "stats max(avg(bytes))";
    let err = error(src);
    assert_eq!(
        err.kind,
        ErrorKind::MisplacedAggregate { name: "avg".into() }
    );
    assert_eq!(range(&err), chars_of(src, "avg(bytes)"));
    let src = "stats count(*) by max(bytes)";
    let err = error(src);
    assert_eq!(
        err.kind,
        ErrorKind::MisplacedAggregate { name: "max".into() }
    );
    assert_eq!(range(&err), chars_of(src, "max(bytes)"));
}

#[test]
fn bin_and_wildcards_only_where_allowed() {
    let src = "stats count(*) by datefloor(bin(5m), 1h)";
    let err = error(src);
    assert_eq!(err.kind, ErrorKind::BinOutsideBy);
    assert_eq!(range(&err), chars_of(src, "bin(5m)"));
    let src = "stats sum(*)";
    let err = error(src);
    assert_eq!(err.kind, ErrorKind::MisplacedWildcard);
    assert_eq!(range(&err), (10, 11));
    let src = "stats count(*) by bin(x)";
    let err = error(src);
    assert!(matches!(err.kind, ErrorKind::InvalidArgument { .. }));
    let (x, _) = chars_of(src, "x)");
    assert_eq!(range(&err), (x, x + 1));
}

#[test]
fn offsets_count_characters_not_bytes() {
    let src = "filter x = 'é→ü' | fields nope(x)";
    let err = error(src);
    assert_eq!(
        err.kind,
        ErrorKind::UnknownFunction {
            name: "nope".into()
        }
    );
    assert_eq!(range(&err), (26, 30));
}

#[test]
fn command_rules() {
    let cases = [
        ("limit 0", "limit must be between 1 and 100000", "limit 0"),
        (
            "limit 100001",
            "limit must be between 1 and 100000",
            "limit 100001",
        ),
        (
            "fields a | dedup a | sort a",
            "only limit can follow dedup",
            "sort a",
        ),
        (
            "stats count(*) as c by bin(5m) | sort c | stats max(c)",
            "with several stats commands, sort and limit must come after the last stats",
            "sort c",
        ),
        (
            "parse @message \"* *\" as a",
            "parse pattern has 2 wildcard(s) but 1 field name(s)",
            "parse @message \"* *\" as a",
        ),
        (
            "parse @message /no groups/",
            "parse regex needs at least one named group such as (?<name>...)",
            "parse @message /no groups/",
        ),
        (
            "stats topk(5, a), count(*)",
            "topk cannot be combined with by or with other aggregates",
            "stats topk(5, a), count(*)",
        ),
        (
            "stats count(*) by srcAddr offset 1h",
            "offset is only allowed after a bin() key",
            "srcAddr",
        ),
        (
            "SOURCE logGroups(class: ['COLD']) | fields a",
            "class must be STANDARD or INFREQUENT_ACCESS",
            "class: ['COLD']",
        ),
        (
            "fields a | SOURCE logGroups(class: ['STANDARD'])",
            "SOURCE must be the first command of the query",
            "SOURCE",
        ),
        ("", "query is empty", ""),
        ("fields a |", "expected a command, found end of query", ""),
        (
            "filter a = b = c",
            "expected `|` or end of query, found `=`",
            "= c",
        ),
    ];
    for (src, message, blamed) in cases {
        let err = error(src);
        assert_eq!(err.message(), message, "{src}");
        let expected = if blamed.is_empty() {
            let n = src.chars().count();
            (n, n)
        } else if blamed == "= c" {
            let (start, _) = chars_of(src, blamed);
            (start, start + 1)
        } else {
            chars_of(src, blamed)
        };
        assert_eq!(range(&err), expected, "{src}");
    }
    let eleven = ["stats count(*) as c"; 11].join(" | ");
    let err = error(&eleven);
    assert_eq!(err.message(), "a query can have at most 10 stats commands");
    let start = eleven.rfind("stats").unwrap();
    assert_eq!(range(&err), (start, eleven.len()));
}

#[test]
fn too_long_queries_are_rejected() {
    let src = format!("fields {}", "a".repeat(10_000));
    let err = error(&src);
    assert_eq!(err.kind, ErrorKind::TooLong { max: 10_000 });
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!("filter {}x{}", "(".repeat(4000), ")".repeat(4000));
    assert_eq!(error(&src).kind, ErrorKind::TooDeep);
    let src = format!("filter {}x", "not ".repeat(2000));
    assert_eq!(error(&src).kind, ErrorKind::TooDeep);
    let src = format!("filter {}x", "-".repeat(5000));
    assert_eq!(error(&src).kind, ErrorKind::TooDeep);
    let src = format!(
        "filter {}x",
        "x and ".repeat(flowwatch_insights::MAX_CHAIN + 1)
    );
    assert_eq!(error(&src).kind, ErrorKind::TooDeep);
}

#[test]
fn a_later_stats_sees_only_what_the_previous_one_produced() {
    compile("stats sum(bytes) as b by srcAddr | stats max(b), count(*) by srcAddr")
        .expect("b, srcAddr");
    compile("stats max(@timestamp) as @timestamp, sum(bytes) as b | stats sum(b) by bin(1h)")
        .expect("@timestamp carried");
    compile("stats sum(bytes) as b by srcAddr | fields b * 8 as bits | stats avg(bits)")
        .expect("fields adds bits");
    let src = "stats sum(bytes) as b by srcAddr | stats max(bytes)";
    let err = error(src);
    assert_eq!(
        err.kind,
        ErrorKind::UnavailableField {
            name: "bytes".into()
        }
    );
    assert_eq!(range(&err), (45, 50));
    let src = "stats sum(bytes) as b by bin(5m) | stats max(b) by bin(1h)";
    let err = error(src);
    assert_eq!(
        err.message(),
        "bin() needs @timestamp, which the previous stats does not produce"
    );
    let (start, _) = chars_of(src, "bin(1h)");
    assert_eq!(range(&err), (start, start + 7));
}

#[test]
fn long_operator_chains_do_not_overflow_the_stack() {
    for op in ["+", " and ", "^", " or "] {
        let n = (10_000 - 20) / (op.len() + 1);
        let src = format!("filter {}a", format!("a{op}").repeat(n));
        if let Ok(query) = compile(&src) {
            let printed = query.to_string();
            assert_eq!(flowwatch_insights::parse(&printed).ok(), Some(query));
        }
    }
}

#[test]
fn the_deepest_accepted_expressions_survive_a_small_stack() {
    let depth = flowwatch_insights::MAX_DEPTH - 2;
    let chain = flowwatch_insights::MAX_CHAIN;
    let nested = format!("filter {}a{}", "(".repeat(depth), ")".repeat(depth));
    let mixed = format!("filter {}a", "a + -(b ^ ".repeat(depth / 3)) + &")".repeat(depth / 3);
    let chain = format!(
        "filter ({}a) + {}b",
        "a or ".repeat(chain / 2),
        "b * ".repeat(chain / 2 - 1)
    );
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            for src in [nested, chain, mixed] {
                let query = compile(&src).unwrap_or_else(|e| panic!("{e}"));
                let printed = query.to_string();
                assert_eq!(flowwatch_insights::parse(&printed).ok(), Some(query));
            }
        })
        .expect("spawn");
    handle.join().expect("no stack overflow");
}
