//! Matching term, regex and space-delimited patterns does not allocate (after the regex
//! engine's per-thread cache has been warmed up by a first match).

use flowwatch_pattern::FilterPattern;

const LINE: &str =
    "127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534";

#[test]
fn term_regex_and_delimited_matching_does_not_allocate() {
    let patterns = [
        "ERROR -ARGUMENTS",
        "?ERROR ?frank",
        "\"GET /index.html\" frank",
        "%^127\\.0\\.0\\.[1-9]%",
        "[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes > 1000]",
        "[ip=%127\\.0\\.0\\.[1-9]%, ..., status_code = 404 || status_code = 410, bytes]",
        "[w1, w2]",
        "[]",
    ];
    let messages = [
        LINE,
        "ERROR 09/25/2014 12:00:02 Failed to process request",
        "",
    ];
    for pattern in patterns {
        let p = FilterPattern::parse(pattern).unwrap();
        for message in messages {
            let expected = p.matches(message); // warms up regex caches
            let mut got = !expected;
            let info = allocation_counter::measure(|| {
                got = p.matches(message);
            });
            assert_eq!(got, expected);
            assert_eq!(
                info.count_total, 0,
                "`{pattern}` allocated matching `{message}`"
            );
        }
    }
    // The pattern above really matched something.
    assert!(FilterPattern::parse(patterns[4]).unwrap().matches(LINE));
}

#[test]
fn json_matching_allocates_as_documented() {
    let p = FilterPattern::parse("{ $.a = 1 }").unwrap();
    let info = allocation_counter::measure(|| {
        assert!(p.matches("{\"a\": 1}"));
    });
    assert!(info.count_total > 0);
}
