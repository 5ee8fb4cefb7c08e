//! Patterns and an event, all arbitrary: every line but the last is a pattern (those that
//! parse are kept), the last line is the event. Matching never panics, `extract` agrees with
//! `matches`, every value reference a pattern accepts resolves without panicking, and a
//! `PatternSet` of the patterns answers what matching them one by one answers and resolves the
//! same values for the events they match.

#![no_main]

use flowwatch_pattern::{FilterPattern, PatternSet, SetScratch, ValueRef};
use libfuzzer_sys::fuzz_target;

const REFERENCES: [&str; 10] = [
    "$1", "$2", "$3", "$14", "$a", "$b", "$.a", "$.a.b[0]", "$status_code", "$bytes",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (sources, event) = text.rsplit_once('\n').unwrap_or((text, ""));
    let patterns: Vec<FilterPattern> = sources
        .split('\n')
        .take(16)
        .filter_map(|src| FilterPattern::parse(src).ok())
        .collect();
    let mut want = Vec::new();
    for (i, pattern) in patterns.iter().enumerate() {
        let matched = pattern.matches(event);
        let extracted = pattern.extract(event);
        assert_eq!(matched, extracted.is_some(), "{pattern} on {event:?}");
        if matched {
            want.push(i);
        }
        let Some(values) = extracted else {
            continue;
        };
        let _ = values.to_map();
        for reference in REFERENCES {
            let Ok(r) = ValueRef::parse(reference) else {
                continue;
            };
            if pattern.check_ref(&r).is_ok() {
                let _ = values.resolve(&r);
                let _ = values.resolve_number(&r);
            }
        }
    }
    let set = PatternSet::new(patterns);
    let mut scratch = SetScratch::default();
    assert_eq!(set.matching(event, &mut scratch), want.as_slice(), "{event:?}");
    for &i in scratch.matched() {
        let pattern = &set.patterns()[i];
        let extracted = pattern.extract(event).expect("it matched");
        let matched = set.matched_event(i, event, &scratch);
        for reference in REFERENCES {
            let Ok(r) = ValueRef::parse(reference) else {
                continue;
            };
            assert_eq!(matched.resolve(&r), extracted.resolve(&r), "{pattern} {r} {event:?}");
            assert_eq!(
                matched.resolve_number(&r),
                extracted.resolve_number(&r),
                "{pattern} {r} {event:?}"
            );
        }
    }
});
