//! Any text as a filter pattern: parsing never panics; a pattern that parses matches a few
//! fixed events without panicking (and `extract` agrees with `matches`), and its `Display`
//! parses back to an equal pattern that prints the same.

#![no_main]

use flowwatch_pattern::FilterPattern;
use libfuzzer_sys::fuzz_target;

/// One event of each shape the patterns are written for, plus edge cases.
const EVENTS: [&str; 8] = [
    "",
    "   ",
    "2 123456789012 eni-0a1b2c3d 198.51.100.7 10.0.0.5 49152 22 6 10 840 1700000000 1700000060 REJECT OK",
    "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534",
    "2026-11-23T13:25:15.123Z ERROR [worker-3] \"POST /api/v1/orders\" 500 timeout=1.5e3",
    r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication","a":{"b":[1,2.5,"3",null,true]},"latency":-12.5e1,"x.y":"z"}"#,
    r#"[1, 2, {"a": 1}]"#,
    "[unclosed \"quote [x] \"y\" \t é 💥 % $ \\",
];

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pattern) = FilterPattern::parse(src) else {
        return;
    };
    for event in EVENTS {
        let matched = pattern.matches(event);
        assert_eq!(matched, pattern.extract(event).is_some(), "{src:?} on {event:?}");
    }
    let shown = pattern.to_string();
    let again = FilterPattern::parse(&shown)
        .unwrap_or_else(|e| panic!("display {shown:?} of {src:?} does not parse: {e}"));
    assert_eq!(again, pattern, "{src:?} displayed as {shown:?}");
    assert_eq!(again.to_string(), shown, "{src:?}");
});
