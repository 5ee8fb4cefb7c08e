//! Property tests: `Display` round-trips, and nothing panics on arbitrary input.

use flowwatch_pattern::{FieldSpec, FilterPattern, PatternSet, SetScratch, ValueRef};
use proptest::prelude::*;

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9_]{0,6}",
        Just("ERROR".to_owned()),
        Just("*".to_owned()),
        Just("4*".to_owned()),
        Just("*.html*".to_owned()),
        Just("10.0.2.*".to_owned()),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        word(),
        "-?[0-9]{1,4}(\\.[0-9]{1,2})?([eE][+-]?[0-9])?",
        "[ -~]{0,8}".prop_map(|s| format!("{s:?}")),
        "[a-z0-9.^$|\\[\\]*+?]{1,6}".prop_map(|s| format!("%{s}%")),
    ]
}

fn cmp() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("="),
        Just("!="),
        Just("<"),
        Just("<="),
        Just(">"),
        Just(">=")
    ]
}

fn selector() -> impl Strategy<Value = String> {
    let step = prop_oneof![
        "[a-z][a-zA-Z0-9_-]{0,5}".prop_map(|s| format!(".{s}")),
        (0usize..20).prop_map(|i| format!("[{i}]")),
        "[a-z.]{1,5}".prop_map(|s| format!(".['{s}']")),
    ];
    (
        prop::collection::vec(step, 1..4),
        prop::option::of(prop_oneof![Just(".*"), Just("[*]")]),
    )
        .prop_map(|(steps, wild)| format!("${}{}", steps.concat(), wild.unwrap_or("")))
}

fn json_condition() -> impl Strategy<Value = String> {
    prop_oneof![
        (selector(), cmp(), value()).prop_map(|(s, o, v)| format!("{s} {o} {v}")),
        (
            selector(),
            prop_oneof![
                Just("IS NULL"),
                Just("IS TRUE"),
                Just("is false"),
                Just("NOT EXISTS")
            ]
        )
            .prop_map(|(s, t)| format!("{s} {t}")),
    ]
}

fn json_expr() -> impl Strategy<Value = String> {
    json_condition().prop_recursive(3, 12, 3, |inner| {
        (
            prop::collection::vec(inner, 2..4),
            prop_oneof![Just(" && "), Just(" || ")],
            any::<bool>(),
        )
            .prop_map(|(items, op, paren)| {
                let joined = items.join(op);
                if paren { format!("({joined})") } else { joined }
            })
    })
}

fn field_spec() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z][a-z0-9_]{0,5}",
        (
            "[a-z][a-z0-9_]{0,5}",
            prop::collection::vec(
                (cmp(), value(), prop_oneof![Just(" && "), Just(" || ")]),
                1..3
            )
        )
            .prop_map(|(name, tests)| {
                let mut out = String::new();
                for (i, (op, v, join)) in tests.iter().enumerate() {
                    if i > 0 {
                        out.push_str(join);
                    }
                    out.push_str(&format!("{name} {op} {v}"));
                }
                out
            }),
    ]
}

fn pattern_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(
            (
                prop_oneof![Just(""), Just("-"), Just("?")],
                prop_oneof![word(), "[ -~]{0,8}".prop_map(|s| format!("{s:?}"))]
            ),
            1..5
        )
        .prop_map(|terms| terms
            .into_iter()
            .map(|(p, t)| format!("{p}{t}"))
            .collect::<Vec<_>>()
            .join(" ")),
        "[a-z0-9.^$|\\[\\]*+?\\\\]{1,8}".prop_map(|s| format!("%{s}%")),
        json_expr().prop_map(|e| format!("{{ {e} }}")),
        (
            prop::collection::vec(field_spec(), 0..6),
            any::<bool>(),
            0usize..6
        )
            .prop_map(|(mut specs, ellipsis, at)| {
                if ellipsis {
                    specs.insert(at.min(specs.len()), "...".to_owned());
                }
                format!("[{}]", specs.join(", "))
            }),
    ]
}

/// References to try on a pattern's matches: positions, its field names, some JSON paths.
fn references(pattern: &FilterPattern) -> Vec<ValueRef> {
    let mut out: Vec<ValueRef> = (1..=9).map(ValueRef::Position).collect();
    if let FilterPattern::Delimited(d) = pattern {
        for spec in d.specs() {
            if let FieldSpec::Field { name: Some(n), .. } = spec {
                out.push(ValueRef::Field(n.clone()));
            }
        }
    }
    out.extend(
        ["$.a", "$.a[0]", "$.b.c", "$.eventName"].map(|r| ValueRef::parse(r).expect("valid")),
    );
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever generated pattern parses, its `Display` parses back to the same AST and
    /// prints identically the second time.
    #[test]
    fn display_round_trips(src in pattern_string()) {
        if let Ok(p) = FilterPattern::parse(&src) {
            let shown = p.to_string();
            let again = FilterPattern::parse(&shown)
                .unwrap_or_else(|e| panic!("`{shown}` (from `{src}`) does not parse: {e}"));
            prop_assert_eq!(&again, &p, "via `{}`", shown);
            prop_assert_eq!(again.to_string(), shown);
        }
    }

    /// Most generated patterns are valid (so the round trip above really exercises parsing).
    #[test]
    fn generated_delimited_patterns_without_regex_parse(
        specs in prop::collection::vec("[a-z][a-z0-9_]{0,5}( = [A-Za-z0-9*]{1,4})?", 0..8)
    ) {
        let mut seen = std::collections::HashSet::new();
        let specs: Vec<_> = specs
            .into_iter()
            .filter(|s| seen.insert(s.split(' ').next().unwrap_or("").to_owned()))
            .collect();
        let src = format!("[{}]", specs.join(", "));
        prop_assert!(FilterPattern::parse(&src).is_ok(), "{}", src);
    }

    #[test]
    fn parse_never_panics(src in any::<String>()) {
        let _ = FilterPattern::parse(&src);
    }

    #[test]
    fn parse_never_panics_on_pattern_like_input(src in "[\\[\\]{}()%\"$.*, =!<>&|a-z0-9\\\\'-]{0,40}") {
        if let Ok(p) = FilterPattern::parse(&src) {
            let _ = p.matches(&src);
            let _ = FilterPattern::parse(&p.to_string()).expect("display of a parsed pattern parses");
        }
    }

    #[test]
    fn matching_never_panics(src in pattern_string(), message in any::<String>()) {
        if let Ok(p) = FilterPattern::parse(&src) {
            let m = p.matches(&message);
            let e = p.extract(&message);
            prop_assert_eq!(m, e.is_some());
        }
    }

    /// A set answers what matching each of its patterns alone answers.
    #[test]
    fn pattern_set_agrees_with_each_pattern(
        srcs in prop::collection::vec(pattern_string(), 1..12),
        messages in prop::collection::vec(
            prop_oneof![
                "[\\[\\]{}\"\\\\ a-z0-9:,.*-]{0,60}",
                "([a-z0-9*.\\[\\]\"-]{0,4} ){0,8}[a-z0-9]{0,3}",
                any::<String>(),
            ],
            1..8,
        ),
    ) {
        let patterns: Vec<FilterPattern> =
            srcs.iter().filter_map(|s| FilterPattern::parse(s).ok()).collect();
        let set = PatternSet::new(patterns.clone());
        let mut scratch = SetScratch::default();
        for message in &messages {
            let want: Vec<usize> =
                (0..patterns.len()).filter(|&i| patterns[i].matches(message)).collect();
            prop_assert_eq!(set.matching(message, &mut scratch), want.as_slice(), "{:?}", message);
            // Values resolve as `extract` resolves them.
            for &i in scratch.matched() {
                let extracted = patterns[i].extract(message).expect("it matched");
                let event = set.matched_event(i, message, &scratch);
                for reference in references(&patterns[i]) {
                    prop_assert_eq!(
                        event.resolve(&reference),
                        extracted.resolve(&reference),
                        "{} in {:?} by {}", &reference, message, &patterns[i]
                    );
                    prop_assert_eq!(
                        event.resolve_number(&reference),
                        extracted.resolve_number(&reference)
                    );
                }
            }
        }
    }

    #[test]
    fn matching_never_panics_on_event_like_messages(
        src in pattern_string(),
        message in "[\\[\\]{}\"\\\\ a-z0-9:,.*-]{0,60}",
    ) {
        if let Ok(p) = FilterPattern::parse(&src) {
            let m = p.matches(&message);
            let e = p.extract(&message);
            prop_assert_eq!(m, e.is_some());
        }
    }
}
