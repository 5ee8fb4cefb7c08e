//! Every documented example of `spec/filter-patterns.md`, table-driven, plus invalid patterns
//! and property tests. One integration-test binary for the crate.

#[path = "spec_examples/alloc.rs"]
mod alloc;
#[path = "spec_examples/errors.rs"]
mod errors;
#[path = "spec_examples/props.rs"]
mod props;

use flowwatch_pattern::{FilterPattern, PatternKind, ValueRef};

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

// ----------------------------------------------------------------------------------- §4 JSON

const EVENT_A: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c"}"#;

const EVENT_B: &str = r#"{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}"#;

#[test]
fn json_event_a() {
    check_rows(&[
        ("{ $.eventType = \"UpdateTrail\" }", EVENT_A, true),
        ("{ $.eventType = \"UpdateTrailX\" }", EVENT_A, false),
        ("{ $.sourceIPAddress != 123.123.* }", EVENT_A, true),
        ("{ $.sourceIPAddress != 111.111.* }", EVENT_A, false),
        ("{ $.arrayKey[0] = \"value\" }", EVENT_A, true),
        ("{ $.arrayKey[1] = \"value\" }", EVENT_A, false),
        ("{ $.objectList[1].id = 2 }", EVENT_A, true),
        ("{ $.objectList[0].id = 2 }", EVENT_A, false),
        ("{ $.eventType = %Trail% }", EVENT_A, true),
        ("{ $.eventType = %^Trail% }", EVENT_A, false),
        ("{ $.arrayKey[*] = %val.{2}% }", EVENT_A, true),
        ("{ $.arrayKey[*] = %^xyz% }", EVENT_A, false),
        ("{ $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }", EVENT_A, true),
        ("{ $.* = %112\\.111% }", EVENT_A, false),
        ("{ $.['cluster.name'] = \"c\" }", EVENT_A, true),
        ("{ $.['cluster.name'] = \"d\" }", EVENT_A, false),
        ("{ $.SomeObject IS NULL }", EVENT_A, true),
        ("{ $.eventType IS NULL }", EVENT_A, false),
        ("{ $.Missing IS NULL }", EVENT_A, false),
        ("{ $.SomeOtherObject NOT EXISTS }", EVENT_A, true),
        ("{ $.SomeObject NOT EXISTS }", EVENT_A, false),
        (
            "{ $.eventType = \"*\" && $.sourceIPAddress != 123.123.* }",
            EVENT_A,
            true,
        ),
        (
            "{ $.eventType = \"*\" && $.missing != 123.123.* }",
            EVENT_A,
            false,
        ),
        // A selector that resolves to an array or object never matches.
        ("{ $.arrayKey = \"value\" }", EVENT_A, false),
        ("{ $.objectList = * }", EVENT_A, false),
        ("{ $.eventType = UpdateTrail }", EVENT_A, true),
    ]);
}

#[test]
fn json_event_b() {
    check_rows(&[
        (
            "{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }",
            EVENT_B,
            true,
        ),
        (
            "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\" && $.actions[2] = \"nonmatch\" }",
            EVENT_B,
            true,
        ),
        (
            "{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\") && $.actions[2] = \"nonmatch\" }",
            EVENT_B,
            false,
        ),
        (
            "{ ($.user.id = 2 && $.users[0].email = \"nonmatch\") || $.actions[2] = \"GET\" }",
            EVENT_B,
            false,
        ),
        ("{ $.actions[2] = \"DELETE\" }", EVENT_B, true),
        ("{ $.coordinates[2][0] = 7 }", EVENT_B, true),
        ("{ $.coordinates[0][1] = 2 }", EVENT_B, false),
    ]);
}

#[test]
fn json_numeric_comparisons() {
    let ev = r#"{"bandwidth":80,"latency":40,"refreshRate":60,"responseTime":5,"errorCode":400,"number":[1000, 0.002]}"#;
    check_rows(&[
        ("{ $.bandwidth > 75 }", ev, true),
        ("{ $.bandwidth > 80 }", ev, false),
        ("{ $.latency < 50 }", ev, true),
        ("{ $.latency < 40 }", ev, false),
        ("{ $.refreshRate >= 60 }", ev, true),
        ("{ $.refreshRate >= 61 }", ev, false),
        ("{ $.responseTime <= 5 }", ev, true),
        ("{ $.responseTime <= 4.9 }", ev, false),
        ("{ $.errorCode = 400 }", ev, true),
        ("{ $.errorCode = 401 }", ev, false),
        ("{ $.errorCode != 500 }", ev, true),
        ("{ $.errorCode != 400 }", ev, false),
        ("{ $.number[0] = 1e+3 }", ev, true),
        ("{ $.number[0] != 1e-3 }", ev, true),
        ("{ $.number[1] = 2e-3 }", ev, true),
        ("{ $.number[1] != 2e-3 }", ev, false),
        ("{ $.latency = * }", ev, true),
        ("{ $.nothing = * }", ev, false),
        ("{ $.errorCode = -400 }", ev, false),
    ]);
}

#[test]
fn json_non_json_events_never_match() {
    let p = parse("{ $.a NOT EXISTS }");
    assert!(p.matches("{}"));
    for msg in ["", "not json", "[1,2]", "\"s\"", "{\"a\":", "12"] {
        assert!(!p.matches(msg), "{msg}");
    }
}

#[test]
fn json_booleans() {
    let ev = r#"{"ok":true,"bad":false}"#;
    check_rows(&[
        ("{ $.ok IS TRUE }", ev, true),
        ("{ $.ok IS FALSE }", ev, false),
        ("{ $.bad IS FALSE }", ev, true),
        ("{ $.bad is true }", ev, false),
    ]);
}

#[test]
fn json_metric_value() {
    let p = parse("{ $.latency = * }");
    let ev = r#"{"latency": 50, "requestType": "GET"}"#;
    let r = ValueRef::parse("$.latency").unwrap();
    p.check_ref(&r).unwrap();
    let e = p.extract(ev).unwrap();
    assert!(
        e.to_map().is_empty(),
        "JSON patterns report extractedValues {{}}"
    );
    assert_eq!(e.resolve_number(&r), Some(50.0));
    assert_eq!(
        e.resolve(&ValueRef::parse("$.requestType").unwrap())
            .as_deref(),
        Some("GET")
    );
    assert_eq!(e.resolve(&ValueRef::parse("$.missing").unwrap()), None);
}

#[test]
fn cloudtrail_alarm_patterns() {
    let login_failed = r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication"}"#;
    let login_ok = r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"Yes"}}"#;
    let login_no_mfa = r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}"#;
    let ingress = r#"{"eventName":"AuthorizeSecurityGroupIngress"}"#;
    let unauthorized = r#"{"errorCode":"Client.UnauthorizedOperation"}"#;
    let denied = r#"{"errorCode":"AccessDeniedException"}"#;
    let root = r#"{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}"#;
    let root_service = r#"{"userIdentity":{"type":"Root","invokedBy":"s3.amazonaws.com"},"eventType":"AwsApiCall"}"#;
    let failed = "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";
    let sg = "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) }";
    let unauth =
        "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }";
    let root_use = "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }";
    let mfa = "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }";
    check_rows(&[
        (failed, login_failed, true),
        (failed, login_ok, false),
        (sg, ingress, true),
        (sg, login_ok, false),
        (unauth, unauthorized, true),
        (unauth, denied, true),
        (unauth, login_ok, false),
        (root_use, root, true),
        (root_use, root_service, false),
        (mfa, login_no_mfa, true),
        (mfa, login_ok, false),
        (mfa, login_failed, false),
    ]);
}

// ------------------------------------------------------------------------ §5 space-delimited

const APACHE: &str =
    "127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534";

const API_LINES: [&str; 3] = [
    "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 1534",
    "127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] \"GET /apache_pb.gif HTTP/1.0\" 500 5324",
    "127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 4355",
];

#[test]
fn api_reference_examples() {
    let named = "[ip, identity, user_id, timestamp, request, status_code, size]";
    assert_eq!(matching(named, &API_LINES), [0, 1, 2]);
    assert_eq!(
        extracted(named, API_LINES[0]),
        pairs(&[
            ("$ip", "127.0.0.1"),
            ("$identity", "-"),
            ("$user_id", "frank"),
            ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /apache_pb.gif HTTP/1.0"),
            ("$status_code", "200"),
            ("$size", "1534"),
        ])
    );

    assert_eq!(matching("[..., size]", &API_LINES), [0, 1, 2]);
    assert_eq!(
        extracted("[..., size]", API_LINES[0]),
        pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$5", "GET /apache_pb.gif HTTP/1.0"),
            ("$6", "200"),
            ("$size", "1534"),
        ])
    );

    assert_eq!(matching("[]", &API_LINES), [0, 1, 2]);
    assert_eq!(
        extracted("[]", API_LINES[0]),
        pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$5", "GET /apache_pb.gif HTTP/1.0"),
            ("$6", "200"),
            ("$7", "1534"),
        ])
    );

    let ok = "[..., status_code=200, size]";
    assert_eq!(matching(ok, &API_LINES), [0, 2]);
    assert_eq!(
        extracted(ok, API_LINES[0]),
        pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$5", "GET /apache_pb.gif HTTP/1.0"),
            ("$status_code", "200"),
            ("$size", "1534"),
        ])
    );

    let four = [
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534",
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /about-us/index.html HTTP/1.0\" 200 1534",
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 404 1534",
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /products/index.html HTTP/1.0\" 400 1534",
    ];
    let html4xx = "[..., request=*.html*, status_code=4*,]";
    assert_eq!(matching(html4xx, &four), [0, 3]);
    assert_eq!(
        extracted(html4xx, four[0]),
        pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /index.html HTTP/1.0"),
            ("$status_code", "404"),
            ("$7", "1534"),
        ])
    );
}

#[test]
fn user_guide_apache_examples() {
    let full = "[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]";
    assert_eq!(
        extracted(full, APACHE),
        pairs(&[
            ("$bytes", "1534"),
            ("$status_code", "404"),
            ("$request", "GET /index.html HTTP/1.0"),
            ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
            ("$username", "frank"),
            ("$user", "Prod"),
            ("$ip", "127.0.0.1"),
        ])
    );
    let server = "[ip, server, username, timestamp, request, status_code, bytes > 1000]";
    let e = parse(server);
    let values = e.extract(APACHE).unwrap();
    assert_eq!(values.to_map()["$server"], "Prod");
    let gif = APACHE.replace("index.html", "a.gif");
    let ok = APACHE.replace(" 404 ", " 200 ");
    let small = APACHE.replace(" 1534", " 999");
    let other_ip = APACHE.replace("127.0.0.1", "10.0.0.1");
    check_rows(&[
        (full, APACHE, true),
        (full, &gif, false),
        (full, &ok, false),
        (
            "[..., request =*.html*, status_code = 4*, bytes]",
            APACHE,
            true,
        ),
        (
            "[..., request =*.html*, status_code = 4*, bytes]",
            &ok,
            false,
        ),
        (
            "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
            APACHE,
            true,
        ),
        (
            "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
            &APACHE.replace(" 404 ", " 410 "),
            true,
        ),
        (
            "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
            &APACHE.replace(" 404 ", " 400 "),
            false,
        ),
        (
            "[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
            APACHE,
            true,
        ),
        (
            "[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
            &other_ip,
            false,
        ),
        (server, APACHE, true),
        (server, &small, false),
        // The pattern must line up with the whole event: too few tokens never match.
        (full, "127.0.0.1 Prod frank", false),
    ]);
}

const WORDS: [&str; 4] = [
    "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
    "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
    "WARNING 09/25/2014 12:00:02 Invalid user request",
    "ERROR 09/25/2014 12:00:02 Failed to process request",
];

#[test]
fn word_order_examples() {
    assert_eq!(matching("[w1=ERROR, w2]", &WORDS), [3]);
    assert_eq!(matching("[w1=ERROR || w1=WARNING, w2]", &WORDS), [2, 3]);
    assert_eq!(matching("[w1!=ERROR && w1!=WARNING, w2]", &WORDS), [0, 1]);
    assert_eq!(matching("[w1=ERROR || w1=%WARN%, w2]", &WORDS), [2, 3]);
    assert_eq!(
        matching(
            "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
            &WORDS
        ),
        [0]
    );
    assert_eq!(
        matching(
            "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]",
            &WORDS
        ),
        [1]
    );
    // Interpretation (spec §5.2): the last field absorbs the rest of the line.
    assert_eq!(
        extracted("[w1=ERROR, w2]", WORDS[3]),
        pairs(&[
            ("$w1", "ERROR"),
            ("$w2", "09/25/2014 12:00:02 Failed to process request")
        ])
    );
}

// --------------------------------------------------------------------------- VPC flow logs

const FLOWS: [&str; 5] = [
    "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 49761 22 6 20 4249 1418530010 1418530070 REJECT OK",
    "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 49761 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
    "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
    "2 123456789010 eni-1235b8ca123456789 10.0.0.1 10.0.2.7 5000 80 6 10 400 1418530010 1418530070 ACCEPT OK",
    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
];

#[test]
fn vpc_flow_log_patterns() {
    let ssh = "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]";
    assert_eq!(matching(ssh, &FLOWS), [0]);
    let e = parse(ssh);
    let values = e.extract(FLOWS[0]).unwrap().to_map();
    assert_eq!(values["$source"], "203.0.113.12");
    assert_eq!(values["$destport"], "22");
    assert_eq!(values["$flowlogstatus"], "OK");
    assert_eq!(values.len(), 14);

    let base = "version, accountid, interfaceid, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, logstatus";
    let with = |field: &str, cond: &str| format!("[{}]", base.replacen(field, cond, 1));
    assert_eq!(matching(&format!("[{base}]"), &FLOWS), [0, 1, 2, 3, 4]);
    assert_eq!(
        matching(&with("srcaddr", "srcaddr = 10.0.0.1"), &FLOWS),
        [3]
    );
    assert_eq!(
        matching(&with("dstaddr", "dstaddr = 10.0.2.*"), &FLOWS),
        [3]
    );
    assert_eq!(
        matching(&with("dstport", "dstport = 80 || dstport = 8080"), &FLOWS),
        [3]
    );
    assert_eq!(
        matching(&with("bytes", "bytes >= 400"), &FLOWS),
        [0, 1, 2, 3]
    );
    assert_eq!(matching(&with("bytes", "bytes > 400"), &FLOWS), [0, 1, 2]);
    assert_eq!(matching(&with("action", "action = REJECT"), &FLOWS), [0, 2]);
    // A 13-field line cannot line up with 14 specs.
    assert!(!parse(ssh).matches("2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 22 6 1 1 1 1 REJECT"));
}

// ------------------------------------------------------------------ §7 metric value lookups

#[test]
fn value_references() {
    let p = parse("[..., request=*.html*, status_code=4*,]");
    let line =
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534";
    let e = p.extract(line).unwrap();
    let get = |r: &str| {
        let r = ValueRef::parse(r).unwrap();
        p.check_ref(&r).unwrap();
        e.resolve(&r).map(|v| v.into_owned())
    };
    assert_eq!(get("$7").as_deref(), Some("1534"));
    assert_eq!(get("$status_code").as_deref(), Some("404"));
    assert_eq!(
        get("$6").as_deref(),
        Some("404"),
        "positions reach named fields"
    );
    assert_eq!(get("$9"), None);
    assert_eq!(
        e.resolve_number(&ValueRef::parse("$7").unwrap()),
        Some(1534.0)
    );
    assert_eq!(
        e.resolve_number(&ValueRef::parse("$request").unwrap()),
        None
    );

    assert!(p.check_ref(&ValueRef::parse("$nope").unwrap()).is_err());
    assert!(p.check_ref(&ValueRef::parse("$.a").unwrap()).is_err());
    let terms = parse("ERROR");
    let err = terms
        .check_ref(&ValueRef::parse("$a").unwrap())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the term filter pattern cannot resolve `$a`"
    );
    let json = parse("{ $.a = 1 }");
    assert!(json.check_ref(&ValueRef::parse("$a").unwrap()).is_err());

    for bad in ["", "$", "a", "$0", "$.a[*]", "$.*", "$a b", "$.a..b"] {
        assert!(ValueRef::parse(bad).is_err(), "{bad}");
    }
    for good in ["$.a.b[0]", "$.['x.y']", "$size", "$12"] {
        let r = ValueRef::parse(good).unwrap();
        assert_eq!(ValueRef::parse(&r.to_string()).unwrap(), r);
    }
}
