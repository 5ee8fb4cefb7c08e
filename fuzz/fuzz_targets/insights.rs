//! Any text as a Logs Insights query: parsing never panics, and a query that parses displays
//! as text that parses back to a query displaying the same.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(query) = flowwatch_insights::parse(src) else {
        return;
    };
    let shown = query.to_string();
    let again = flowwatch_insights::parse(&shown)
        .unwrap_or_else(|e| panic!("display {shown:?} of {src:?} does not parse: {e}"));
    assert_eq!(again.to_string(), shown, "{src:?}");
});
