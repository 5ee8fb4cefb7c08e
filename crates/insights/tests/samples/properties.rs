//! Property tests: printing any AST and parsing it back gives the same AST, and no input
//! makes the front end panic.

use flowwatch_insights::ast::{
    BinaryOp, Call, Command, CommandKind, Duration, Expr, ExprKind, FieldPath, FilterIndex,
    FilterIndexValues, GroupKey, Limit, Literal, LogGroupsArg, LogGroupsParam, MatchOp,
    MatchPattern, Parse, ParsePattern, Projection, Query, Regex, Segment, SortKey, SortOrder,
    Source, SourceSelector, Stats, TimeUnit, UnaryOp,
};
use flowwatch_insights::{Span, compile, functions, parse};
use proptest::prelude::*;

fn expr(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn field_path() -> impl Strategy<Value = FieldPath> {
    let first = prop_oneof![
        "[a-zA-Z_@][a-zA-Z0-9_@]{0,6}",
        // names that need backquotes: keywords, digits first, punctuation, backquotes
        prop::sample::select(vec![
            "and", "BY", "not", "in", "as", "desc", "offset", "into", "like"
        ])
        .prop_map(str::to_owned),
        "[a-z0-9 :.`-]{1,6}",
    ];
    let rest = prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9_]{1,5}".prop_map(Segment::Name),
            "[a-z.:-]{1,4}".prop_map(Segment::Name),
            (0u64..100).prop_map(Segment::Index),
        ],
        0..3,
    );
    (first, rest).prop_map(|(first, rest)| {
        let mut segments = vec![Segment::Name(first)];
        segments.extend(rest);
        FieldPath {
            segments,
            span: Span::default(),
        }
    })
}

fn time_unit() -> impl Strategy<Value = TimeUnit> {
    prop::sample::select(vec![
        TimeUnit::Millisecond,
        TimeUnit::Second,
        TimeUnit::Minute,
        TimeUnit::Hour,
        TimeUnit::Day,
        TimeUnit::Week,
        TimeUnit::Month,
        TimeUnit::Quarter,
        TimeUnit::Year,
    ])
}

fn duration() -> impl Strategy<Value = Duration> {
    (0u64..100_000, time_unit()).prop_map(|(amount, unit)| Duration { amount, unit })
}

fn regex() -> impl Strategy<Value = Regex> {
    let piece = prop::sample::select(vec![
        "a", "/", "\\d", "\\\\", "(?i)", ".*", "(?<n>x)", "é", " ", "#",
    ]);
    (
        prop::collection::vec(piece, 0..5),
        prop::sample::select(vec!["", "i", "ms", "u"]),
    )
        .prop_map(|(pieces, flags)| Regex {
            pattern: pieces.concat(),
            flags: flags.into(),
        })
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        ".{0,8}".prop_map(Literal::String),
        "[\"'\\\\\n\t]{0,4}".prop_map(Literal::String),
        (0i64..=i64::MAX).prop_map(Literal::Integer),
        (prop::num::f64::POSITIVE | prop::num::f64::ZERO)
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Literal::Float),
        duration().prop_map(Literal::Duration),
        regex().prop_map(Literal::Regex),
    ]
}

fn function_name() -> impl Strategy<Value = String> {
    let names: Vec<&'static str> = functions::all().map(|d| d.name).collect();
    prop::sample::select(names).prop_map(str::to_owned)
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    prop::sample::select(vec![
        BinaryOp::Or,
        BinaryOp::And,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Rem,
        BinaryOp::Pow,
    ])
}

fn any_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        4 => field_path().prop_map(|p| expr(ExprKind::Field(p))),
        3 => literal().prop_map(|l| expr(ExprKind::Literal(l))),
        1 => Just(expr(ExprKind::Wildcard)),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        let pattern = prop_oneof![
            ".{0,6}".prop_map(MatchPattern::Substring),
            regex().prop_map(MatchPattern::Regex),
        ];
        prop_oneof![
            (
                prop::sample::select(vec![UnaryOp::Neg, UnaryOp::Not]),
                inner.clone()
            )
                .prop_map(|(op, e)| expr(ExprKind::Unary {
                    op,
                    expr: Box::new(e)
                })),
            (binary_op(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| expr(
                ExprKind::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r)
                }
            )),
            (
                inner.clone(),
                prop::sample::select(vec![MatchOp::Like, MatchOp::NotLike, MatchOp::Regex]),
                pattern
            )
                .prop_map(|(e, op, pattern)| expr(ExprKind::Match {
                    expr: Box::new(e),
                    op,
                    pattern
                })),
            (
                inner.clone(),
                any::<bool>(),
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(e, negated, list)| expr(ExprKind::In {
                    expr: Box::new(e),
                    negated,
                    list
                })),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|l| expr(ExprKind::List(l))),
            (function_name(), prop::collection::vec(inner, 0..3)).prop_map(|(name, args)| {
                expr(ExprKind::Call(Call {
                    name,
                    name_span: Span::default(),
                    args,
                }))
            }),
        ]
    })
}

fn projection() -> impl Strategy<Value = Projection> {
    (any_expr(), prop::option::of(field_path()))
        .prop_map(|(expr, alias)| Projection { expr, alias })
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(".{0,5}", 0..3)
}

fn source() -> impl Strategy<Value = Source> {
    let param = prop::sample::select(vec![
        LogGroupsParam::NamePrefix,
        LogGroupsParam::AccountIdentifiers,
        LogGroupsParam::Class,
    ]);
    let arg = (param, strings()).prop_map(|(param, values)| LogGroupsArg {
        param,
        values,
        span: Span::default(),
    });
    let selector = prop_oneof![
        prop::collection::vec(arg, 1..3).prop_map(SourceSelector::LogGroups),
        strings().prop_map(SourceSelector::DataSource),
    ];
    prop::collection::vec(selector, 1..3).prop_map(|selectors| Source {
        selectors,
        span: Span::default(),
    })
}

fn command() -> impl Strategy<Value = Command> {
    let projections = || prop::collection::vec(projection(), 1..3);
    let group_key = (
        any_expr(),
        prop::option::of(duration()),
        prop::option::of(field_path()),
    )
        .prop_map(|(expr, offset, alias)| GroupKey {
            expr,
            offset,
            alias,
        });
    let sort_key = (
        any_expr(),
        prop::option::of(prop::sample::select(vec![SortOrder::Asc, SortOrder::Desc])),
    )
        .prop_map(|(expr, order)| SortKey { expr, order });
    let parse_pattern = prop_oneof![
        (".{0,8}", prop::collection::vec(field_path(), 1..3))
            .prop_map(|(pattern, fields)| ParsePattern::Glob { pattern, fields }),
        regex().prop_map(ParsePattern::Regex),
    ];
    let filter_index = (
        field_path(),
        prop_oneof![
            any_expr().prop_map(FilterIndexValues::Eq),
            prop::collection::vec(any_expr(), 0..3).prop_map(FilterIndexValues::In),
        ],
    )
        .prop_map(|(field, values)| FilterIndex { field, values });
    let kind = prop_oneof![
        projections().prop_map(CommandKind::Fields),
        projections().prop_map(CommandKind::Display),
        any_expr().prop_map(CommandKind::Filter),
        (projections(), prop::collection::vec(group_key, 0..3))
            .prop_map(|(items, by)| CommandKind::Stats(Stats { items, by })),
        prop::collection::vec(sort_key, 1..3).prop_map(CommandKind::Sort),
        prop_oneof![
            (0..=i64::MAX as u64).prop_map(Limit::Rows),
            Just(Limit::Any)
        ]
        .prop_map(CommandKind::Limit),
        (any_expr(), parse_pattern)
            .prop_map(|(source, pattern)| CommandKind::Parse(Parse { source, pattern })),
        prop::collection::vec(field_path(), 1..3).prop_map(CommandKind::Dedup),
        (any_expr(), field_path()).prop_map(|(expr, into)| CommandKind::Unnest { expr, into }),
        field_path().prop_map(CommandKind::Unmask),
        any_expr().prop_map(CommandKind::Pattern),
        filter_index.prop_map(CommandKind::FilterIndex),
    ];
    kind.prop_map(|kind| Command {
        kind,
        span: Span::default(),
    })
}

fn query() -> impl Strategy<Value = Query> {
    (
        prop::option::of(source()),
        prop::collection::vec(command(), 1..4),
    )
        .prop_map(|(source, commands)| Query { source, commands })
}

/// Words and symbols that make deeper parser paths likely than random text does.
fn token_soup() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "fields",
        "filter",
        "stats",
        "sort",
        "limit",
        "parse",
        "dedup",
        "display",
        "unnest",
        "unmask",
        "filterIndex",
        "SOURCE",
        "logGroups",
        "dataSource",
        "namePrefix:",
        "pattern",
        "by",
        "as",
        "and",
        "or",
        "not",
        "in",
        "like",
        "into",
        "asc",
        "desc",
        "offset",
        "any",
        "count(*)",
        "sum(",
        "bin(",
        "5m",
        "1h",
        "@message",
        "a.b",
        "`x-y`",
        "m[1]",
        "'s'",
        "\"t\"",
        "/re/",
        "/(?<n>x)/i",
        "(",
        ")",
        "[",
        "]",
        ",",
        "|",
        "=",
        "!=",
        "<=",
        "=~",
        "+",
        "-",
        "*",
        "/",
        "%",
        "^",
        "1",
        "2.5",
        "1e3",
        "#c\n",
        "é",
        "`",
        "'",
        "\"",
        "\\",
    ]);
    prop::collection::vec(word, 0..24).prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4096,
        // a test run leaves the tree clean; failures print their minimal input
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn display_round_trips(q in query()) {
        let text = q.to_string();
        let parsed = parse(&text);
        prop_assert!(parsed.is_ok(), "{text}\n -> {:?}", parsed.err());
        prop_assert_eq!(parsed.unwrap(), q, "{}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,80}") {
        let _ = compile(&src);
    }

    #[test]
    fn parsed_token_soup_round_trips(src in token_soup()) {
        let _ = compile(&src);
        if let Ok(q) = parse(&src) {
            let text = q.to_string();
            prop_assert_eq!(parse(&text).ok(), Some(q), "{} printed as {}", src, text);
        }
    }
}
