//! Matching term, regex and space-delimited patterns does not allocate (after the regex
//! engine's per-thread cache has been warmed up by a first match).

use flowwatch_pattern::{FilterPattern, PatternSet, SetScratch};

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

#[test]
fn pattern_set_matching_does_not_allocate_once_warm() {
    let set = PatternSet::new(
        [
            "ERROR",
            "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]",
            "[version, account, eni, source, destination, srcport, destport = 443, ..., action = ACCEPT, status]",
            "[..., bytes > 1000, start, end, action, status]",
            "%REJECT OK$%",
        ]
        .iter()
        .map(|p| FilterPattern::parse(p).unwrap())
        .collect(),
    );
    let events = [
        "2 123456789012 eni-0a1b2c3d 198.51.100.7 10.0.0.5 49152 22 6 10 8400 1700000000 1700000060 REJECT OK",
        "2 123456789012 eni-0a1b2c3d 198.51.100.7 10.0.0.5 49152 443 6 10 840 1700000000 1700000060 ACCEPT OK",
        LINE,
    ];
    let mut scratch = SetScratch::default();
    for event in events {
        let _ = set.matching(event, &mut scratch); // grows the buffers, warms the regex cache
    }
    for (event, want) in events.iter().zip([&[1usize, 3, 4][..], &[2][..], &[][..]]) {
        let info = allocation_counter::measure(|| {
            assert_eq!(set.matching(event, &mut scratch), want, "{event}");
        });
        assert_eq!(info.count_total, 0, "allocated matching `{event}`");
    }
}
