//! The one integration-test binary of flowwatch-insights: the documented sample queries
//! (this file), error locations (`samples/errors.rs`) and property tests
//! (`samples/properties.rs`).

#[path = "samples/errors.rs"]
mod errors;
#[path = "samples/properties.rs"]
mod properties;

use flowwatch_insights::{compile, parse};

/// Every sample query of spec/insights.md (§4 command pages and §8 sample queries) plus the
/// three from the crate's brief.
const SAMPLES: &[&str] = &[
    // brief
    "filter @logStream = 'eni-0e7ae111222111000-all' | filter action='REJECT' | filter srcAddr = '10.0.1.10' | filter dstAddr = '10.0.2.15' | filter dstPort = '22' | stats count(*) as num by srcAddr, dstAddr, dstPort",
    "filter action=\"REJECT\" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20",
    "stats sum(bytes) as bytesTransferred by bin(5m)",
    // §4 commands
    "fields strlen(@message) as message_length",
    "fields jsonParse(@message) as j",
    "DISPLAY loggingMessage, loggingType = \"ERROR\" as isError",
    "filter f1 like /(?i)Exception/",
    "filter @message like /(?i)(error|failure)/",
    "filter status>=400 and status<=499",
    "filter protocol=17",
    "filter @duration > 1000",
    "filter status=\"200\"",
    "where status != 200",
    "parse @message \"[*] * The error was: *\" as level, config, exception",
    "parse @message /(?<NetworkInterface>eni-.*?) /",
    "fields jsonParse(@message) as json_message | unnest json_message.events into event | display event.name",
    "fields jsonParse(@message) as m | display m.a.b, m.list[1].x, m.`user.id`",
    "unmask @message",
    "filterIndex action = \"REJECT\"",
    "filterIndex action in [\"REJECT\", \"ACCEPT\"] | stats count(*) by srcAddr",
    "SOURCE logGroups(namePrefix: ['p1','p2'], accountIdentifiers: ['111122223333'], class: ['INFREQUENT_ACCESS']) | fields @message",
    "SOURCE dataSource(['amazon_vpc.flow']) logGroups(namePrefix: ['/aws/vpc']) | filter action = 'REJECT'",
    "stats count(*) by bin(5m) offset 1h",
    "stats max(@timestamp) as @t by bin(5m) | stats count(*) by dateceil(@t, 5m)",
    "stats rate(bytes, 1m), countOverTime(bytes), sumOverTime(bytes) by bin(5m)",
    "stats histogram(bytes, 10)",
    "stats topk(10, srcAddr)",
    "stats values(action), variance(bytes), stddev(bytes), pct(@duration, 95)",
    "stats earliest(action), latest(action), sortsFirst(srcAddr), sortsLast(srcAddr) by interfaceId",
    "filter toMillis(@timestamp) >= (now() * 1000 - 7200000)",
    "fields @`aws.tag.aws:cloudformation:stack-name`",
    "fields 2 ^ 3 as eight, 10 % 3 as one",
    "filter x in [1, 2] and y not in ['a'] or z =~ /^a.*b$/",
    "FIELDS @message | STATS SUM(Fault) BY BIN(5m)",
    // §8 general
    "fields @timestamp, @message | sort @timestamp desc | limit 25",
    "filter @message like /Exception/ | stats count(*) as exceptionCount by bin(1h) | sort exceptionCount desc",
    "fields @message | filter @message not like /Exception/",
    "fields @timestamp, server, severity, message | sort @timestamp asc | dedup server",
    "fields @timestamp, server, severity, message | sort @timestamp desc | dedup server, severity",
    // §8 Lambda
    "filter @type = \"REPORT\" | stats max(@memorySize / 1000 / 1000) as provisonedMemoryMB, min(@maxMemoryUsed / 1000 / 1000) as smallestMemoryRequestMB, avg(@maxMemoryUsed / 1000 / 1000) as avgMemoryUsedMB, max(@maxMemoryUsed / 1000 / 1000) as maxMemoryUsedMB, provisonedMemoryMB - maxMemoryUsedMB as overProvisionedMB",
    "filter @type = \"REPORT\" | stats avg(@duration), max(@duration), min(@duration) by bin(5m)",
    "fields @timestamp, @requestId, @message, @logStream | filter @type = \"REPORT\" and @duration > 1000 | sort @timestamp desc | dedup @requestId | limit 20",
    // §8 VPC flow logs
    "stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred desc | limit 15",
    "filter isIpv4InSubnet(srcAddr, \"192.0.2.0/24\") | stats sum(bytes) as bytesTransferred by dstAddr | sort bytesTransferred desc | limit 15",
    "filter protocol=17 | stats count(*) by srcAddr",
    "filter logStatus=\"SKIPDATA\" | stats count(*) by bin(1h) as t | sort t",
    "fields @timestamp, srcAddr, dstAddr, srcPort, dstPort, protocol, bytes | filter logStream = 'vpc-flow-logs' and interfaceId = 'eni-0123456789abcdef0' | sort @timestamp desc | dedup srcAddr, dstAddr, srcPort, dstPort, protocol | limit 20",
    "stats avg(bytes) by dstAddr",
    "stats avg(bytes), max(bytes) by dstAddr",
    "parse @message /(?<NetworkInterface>eni-.*?) / | display NetworkInterface, @message",
    "filter (dstAddr like 'x.x.x.x' and srcAddr like 'y.y.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
    "filter (dstAddr like 'x.x.x.x' and srcAddr like 'y.y.') or (srcAddr like 'xxx.xx.xx.xx' and dstAddr like 'y.y.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
    "filter (srcAddr like 'x.x.x.x' and dstAddr not like 'y.y.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
    "filter (dstAddr like 'x.x.x.x' and srcAddr not like 'y.y.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10",
    // §8 Route 53
    "stats count(*) by queryType, bin(1h)",
    "stats count(*) as numRequests by resolverIp | sort numRequests desc | limit 10",
    "filter responseCode=\"SERVFAIL\" | stats count(*) by queryName",
    "stats count(*) by queryType",
    // §8 CloudTrail
    "stats count(*) by eventSource, eventName, awsRegion",
    "filter (eventName=\"StartInstances\" or eventName=\"StopInstances\") and awsRegion=\"us-east-2\"",
    "filter eventName=\"CreateUser\" | fields awsRegion, requestParameters.userName, responseElements.user.arn",
    "filter eventName=\"UpdateTrail\" and ispresent(errorCode) | stats count(*) by errorCode, errorMessage",
    "filter tlsDetails.tlsVersion in [ \"TLSv1\", \"TLSv1.1\" ] | stats count(*) as numOutdatedTlsCalls by userIdentity.accountId, recipientAccountId, eventSource, eventName, awsRegion, tlsDetails.tlsVersion, tlsDetails.cipherSuite, userAgent | sort eventSource, eventName, awsRegion, tlsDetails.tlsVersion",
    "filter tlsDetails.tlsVersion in [ \"TLSv1\", \"TLSv1.1\" ] | stats count(*) as numOutdatedTlsCalls by eventSource | sort numOutdatedTlsCalls desc",
    "fields @timestamp, @message | filter requestParameters.instancesSet.items.0.instanceId=\"i-abcde123\" | sort @timestamp desc",
    // §8 API Gateway / Apache / EventBridge / tags / parse
    "stats count(*) as numberOfEvents by `detail-type` | sort numberOfEvents desc",
    "filter @aws.tag.env = \"production\"",
    "stats countDistinct(remoteIP) as UniqueVisits",
    "stats count_distinct(remoteIP) as UniqueVisits",
    "parse @message \"user=*, method:*, latency := *\" as @user, @method, @latency | stats avg(@latency) by @method, @user",
    "parse @message /user=(?<user2>.*?), method:(?<method2>.*?), latency := (?<latency2>.*?)/ | stats avg(latency2) by method2, user2",
    "FIELDS @message | PARSE @message \"* [*] *\" as loggingTime, loggingType, loggingMessage | FILTER loggingType IN [\"ERROR\", \"INFO\"] | DISPLAY loggingMessage, loggingType = \"ERROR\" as isError",
    "FIELDS strlen(@message) AS message_length | STATS sum(message_length)/1024/1024 as logs_mb BY bin(5m) | STATS max(logs_mb) AS peak_ingest_mb, min(logs_mb) AS min_ingest_mb, avg(logs_mb) AS avg_ingest_mb",
    // comments
    "# newest first\nfields @timestamp, @message # the raw event\n| sort @timestamp desc",
];

#[test]
fn every_sample_compiles_and_round_trips() {
    for sample in SAMPLES {
        let query = compile(sample).unwrap_or_else(|e| panic!("{sample}\n  -> {e}"));
        let printed = query.to_string();
        let reparsed = parse(&printed).unwrap_or_else(|e| panic!("{printed}\n  -> {e}"));
        assert_eq!(
            reparsed, query,
            "round trip of {sample}\n  printed {printed}"
        );
        assert_eq!(reparsed.to_string(), printed, "printing is a fixed point");
    }
}

/// Canonical text of a few samples: lowercase keywords, `where` → `filter`, double quotes,
/// canonical function names and units, parentheses only where needed.
#[test]
fn golden_displays() {
    let golden = [
        (
            "filter @logStream = 'eni-0e7ae111222111000-all' | filter action='REJECT' | filter srcAddr = '10.0.1.10' | filter dstAddr = '10.0.2.15' | filter dstPort = '22' | stats count(*) as num by srcAddr, dstAddr, dstPort",
            "filter @logStream = \"eni-0e7ae111222111000-all\" | filter action = \"REJECT\" | filter srcAddr = \"10.0.1.10\" | filter dstAddr = \"10.0.2.15\" | filter dstPort = \"22\" | stats count(*) as num by srcAddr, dstAddr, dstPort",
        ),
        (
            "stats sum(bytes) as bytesTransferred by bin(5min)",
            "stats sum(bytes) as bytesTransferred by bin(5m)",
        ),
        (
            "filter (eventName=\"StartInstances\" or eventName=\"StopInstances\") and awsRegion=\"us-east-2\"",
            "filter (eventName = \"StartInstances\" or eventName = \"StopInstances\") and awsRegion = \"us-east-2\"",
        ),
        (
            "filter (dstAddr like 'x.x.x.x' and srcAddr like 'y.y.') or (srcAddr like 'xxx.xx.xx.xx' and dstAddr like 'y.y.')",
            "filter dstAddr like \"x.x.x.x\" and srcAddr like \"y.y.\" or srcAddr like \"xxx.xx.xx.xx\" and dstAddr like \"y.y.\"",
        ),
        (
            "FIELDS @message | PARSE @message \"* [*] *\" as loggingTime, loggingType, loggingMessage | FILTER loggingType IN [\"ERROR\", \"INFO\"] | DISPLAY loggingMessage, loggingType = \"ERROR\" as isError",
            "fields @message | parse @message \"* [*] *\" as loggingTime, loggingType, loggingMessage | filter loggingType in [\"ERROR\", \"INFO\"] | display loggingMessage, loggingType = \"ERROR\" as isError",
        ),
        (
            "FIELDS strlen(@message) AS message_length | STATS sum(message_length)/1024/1024 as logs_mb BY bin(5m)",
            "fields strlen(@message) as message_length | stats sum(message_length) / 1024 / 1024 as logs_mb by bin(5m)",
        ),
        (
            "where x - (y - z) * -2 ^ 2 >= 1 and not (a or b)",
            "filter x - (y - z) * -2 ^ 2 >= 1 and not (a or b)",
        ),
        (
            "stats count(*) as numberOfEvents by `detail-type` | sort numberOfEvents",
            "stats count(*) as numberOfEvents by `detail-type` | sort numberOfEvents",
        ),
        (
            "parse @message /a\\/b(?<x>\\d+)/i | stats count(*) by bin(1hour) offset 30mins as t | limit any",
            "parse @message /a\\/b(?<x>\\d+)/i | stats count(*) by bin(1h) offset 30m as t | limit any",
        ),
        (
            "SOURCE logGroups(namePrefix: ['p1','p2'], class: ['STANDARD']) dataSource(['amazon_vpc.flow']) | fields `and`, `123`",
            "SOURCE logGroups(namePrefix: [\"p1\", \"p2\"], class: [\"STANDARD\"]) dataSource([\"amazon_vpc.flow\"]) | fields `and`, `123`",
        ),
    ];
    for (input, expected) in golden {
        let query = compile(input).unwrap_or_else(|e| panic!("{input}\n  -> {e}"));
        assert_eq!(query.to_string(), expected, "display of {input}");
    }
}

#[test]
fn precedence_builds_the_expected_tree() {
    use flowwatch_insights::ast::{BinaryOp, ExprKind, UnaryOp};
    let query = parse("filter a or b and not c = 1 + 2 * 3").unwrap();
    let flowwatch_insights::CommandKind::Filter(expr) = &query.commands[0].kind else {
        panic!("filter expected")
    };
    let ExprKind::Binary {
        op: BinaryOp::Or,
        rhs,
        ..
    } = &expr.kind
    else {
        panic!("or at the top: {expr}")
    };
    let ExprKind::Binary {
        op: BinaryOp::And,
        rhs,
        ..
    } = &rhs.kind
    else {
        panic!("and below or")
    };
    let ExprKind::Unary {
        op: UnaryOp::Not,
        expr: cmp,
    } = &rhs.kind
    else {
        panic!("not below and")
    };
    let ExprKind::Binary {
        op: BinaryOp::Eq,
        rhs: sum,
        ..
    } = &cmp.kind
    else {
        panic!("= below not")
    };
    assert!(
        matches!(&sum.kind, ExprKind::Binary { op: BinaryOp::Add, rhs, .. }
        if matches!(rhs.kind, ExprKind::Binary { op: BinaryOp::Mul, .. }))
    );
}

#[test]
fn spans_point_into_the_source() {
    let src = "fields @message | filter action = 'REJECT'";
    let query = parse(src).unwrap();
    let filter = &query.commands[1];
    assert_eq!(
        &src[filter.span.start..filter.span.end],
        "filter action = 'REJECT'"
    );
    let flowwatch_insights::CommandKind::Filter(expr) = &filter.kind else {
        panic!("filter expected")
    };
    assert_eq!(&src[expr.span.start..expr.span.end], "action = 'REJECT'");
}
