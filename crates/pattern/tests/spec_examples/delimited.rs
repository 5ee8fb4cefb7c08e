//! Spec §5: space-delimited patterns, VPC flow-log patterns, and `$field` lookups (§7).

use flowwatch_pattern::ValueRef;

use crate::{check_rows, extracted, matching, pairs, parse};

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
