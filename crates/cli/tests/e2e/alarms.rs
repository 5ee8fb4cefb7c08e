//! The VPC Flow Logs user guide's scenario, end to end with the unmodified aws CLI: rejected SSH
//! records → a metric filter → an alarm → an SNS topic → an HTTP subscriber and an email
//! delivered to a real SMTP server (Python's aiosmtpd, started by the test). Subscriptions are
//! confirmed as in SNS: the HTTP subscriber fetches its SubscribeURL, the email's token goes to
//! `aws sns confirm-subscription`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Server, now_ms};

const SSH: &str = "[version, account, eni, source, destination, srcport, destport=\"22\", protocol=\"6\", packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]";

/// The HTTP subscriber and SMTP server of `fixtures/sinks.py`, saving what they receive.
struct Sinks {
    child: Child,
    http_port: u16,
    smtp_port: u16,
    dir: tempfile::TempDir,
}

impl Sinks {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures/sinks.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sinks.py (pip install aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("sinks.py ports");
        let port = |key: &str| -> u16 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key))
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| {
                    panic!("sinks.py did not start (pip install aiosmtpd): {line:?}")
                })
        };
        Self {
            http_port: port("http="),
            smtp_port: port("smtp="),
            child,
            dir,
        }
    }

    /// Waits until a saved record with `prefix` satisfies `want`, and returns it.
    fn wait_for(&self, prefix: &str, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            for record in self.records(prefix) {
                if want(&record) {
                    return record;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no {what} arrived; {prefix} records: {:#?}",
                self.records(prefix)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn records(&self, prefix: &str) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read sinks dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.starts_with(prefix) && name.ends_with(".json")
            })
            .collect();
        paths.sort();
        paths
            .iter()
            .filter_map(|p| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
            .collect()
    }
}

impl Drop for Sinks {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` flow-log v2 records of eni-1a2b3c4d at `t`: rejected SSH or accepted HTTPS.
fn records(t: i64, n: usize, rejected_ssh: bool) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| {
            let (port, action) = if rejected_ssh { (22, "REJECT") } else { (443, "ACCEPT") };
            format!(
                r#"{{"timestamp":{},"message":"2 123456789010 eni-1a2b3c4d 198.51.100.{i} 10.0.1.7 {} {port} 6 1 40 1418530010 1418530070 {action} OK"}}"#,
                t + i as i64,
                50000 + i
            )
        })
        .collect();
    format!("[{}]", events.join(","))
}

fn alarm_state(server: &Server, name: &str) -> Value {
    let got = server.aws_ok(&["cloudwatch", "describe-alarms", "--alarm-names", name]);
    got["MetricAlarms"][0].clone()
}

/// The body of the email in `data` (after the headers), with quoted-printable soft breaks
/// undone.
fn mail_body(data: &str) -> String {
    let body = data
        .split_once("\r\n\r\n")
        .or_else(|| data.split_once("\n\n"))
        .map_or(data, |(_, b)| b);
    body.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

#[test]
fn rejected_ssh_records_raise_an_alarm_that_reaches_http_and_email() {
    let sinks = Sinks::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let smtp = format!("127.0.0.1:{}", sinks.smtp_port);
    let server = Server::start_in(
        &tmp.path().join("data"),
        &["--smtp", &smtp, "--alarm-evaluation-secs", "1"],
    );

    // 1. The log group of the flow logs of eni-1a2b3c4d.
    server.aws_ok(&["logs", "create-log-group", "--log-group-name", "flowlogs"]);
    server.aws_ok(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "flowlogs",
        "--log-stream-name",
        "eni-1a2b3c4d-all",
    ]);

    // 2. The topic, an HTTP subscriber and an email address, both confirmed as SNS does it.
    let topic = server.aws_ok(&["sns", "create-topic", "--name", "ssh-alerts"]);
    let topic_arn = topic["TopicArn"].as_str().expect("TopicArn").to_owned();
    assert_eq!(topic_arn, "arn:aws:sns:us-east-1:123456789012:ssh-alerts");
    let http_endpoint = format!("http://127.0.0.1:{}/alerts", sinks.http_port);
    let sub = server.aws_ok(&[
        "sns",
        "subscribe",
        "--topic-arn",
        &topic_arn,
        "--protocol",
        "http",
        "--notification-endpoint",
        &http_endpoint,
    ]);
    assert_eq!(sub["SubscriptionArn"], "pending confirmation");
    let confirmation = sinks.wait_for("http", "HTTP subscription confirmation", |r| {
        r["headers"]["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    });
    assert_eq!(confirmation["confirm_status"], 200);
    let confirmation_body: Value =
        serde_json::from_str(confirmation["body"].as_str().expect("body")).expect("json");
    assert_eq!(confirmation_body["Type"], "SubscriptionConfirmation");
    assert_eq!(confirmation_body["TopicArn"], topic_arn.as_str());
    assert!(
        confirmation["confirm_body"]
            .as_str()
            .is_some_and(|b| b.contains("<ConfirmSubscriptionResult>")),
        "the SubscribeURL answers ConfirmSubscription's XML: {confirmation:#?}"
    );

    let sub = server.aws_ok(&[
        "sns",
        "subscribe",
        "--topic-arn",
        &topic_arn,
        "--protocol",
        "email",
        "--notification-endpoint",
        "oncall@example.com",
    ]);
    assert_eq!(sub["SubscriptionArn"], "pending confirmation");
    let mail = sinks.wait_for("mail", "confirmation email", |m| {
        m["data"]
            .as_str()
            .is_some_and(|d| d.contains("Subscription Confirmation"))
    });
    assert_eq!(mail["to"][0], "oncall@example.com");
    let body = mail_body(mail["data"].as_str().expect("data"));
    let token = body
        .split("Token=")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_hexdigit)
                .collect::<String>()
        })
        .expect("the confirmation email carries the SubscribeURL with its token");
    assert_eq!(token.len(), 64, "token in {body}");
    let confirmed = server.aws_ok(&[
        "sns",
        "confirm-subscription",
        "--topic-arn",
        &topic_arn,
        "--token",
        &token,
    ]);
    assert!(
        confirmed["SubscriptionArn"]
            .as_str()
            .is_some_and(|a| a.starts_with(&format!("{topic_arn}:")))
    );
    let subs = server.aws_ok(&[
        "sns",
        "list-subscriptions-by-topic",
        "--topic-arn",
        &topic_arn,
    ]);
    let subs = subs["Subscriptions"].as_array().expect("subscriptions");
    assert_eq!(subs.len(), 2);
    for s in subs {
        assert!(
            s["SubscriptionArn"]
                .as_str()
                .is_some_and(|a| a.starts_with(&format!("{topic_arn}:"))),
            "both subscriptions are confirmed: {s}"
        );
    }

    // 3. The metric filter of the user guide.
    server.aws_ok(&[
        "logs",
        "put-metric-filter",
        "--log-group-name",
        "flowlogs",
        "--filter-name",
        "ssh-rejects",
        "--filter-pattern",
        SSH,
        "--metric-transformations",
        "metricName=SSHRejects,metricNamespace=VPC/FlowLogs,metricValue=1",
    ]);

    // 4. test-metric-filter shows which sample lines match and what they extract.
    let tested = server.aws_ok(&[
        "logs",
        "test-metric-filter",
        "--filter-pattern",
        SSH,
        "--log-event-messages",
        "2 123456789010 eni-1a2b3c4d 198.51.100.7 10.0.1.7 50007 22 6 1 40 1418530010 1418530070 REJECT OK",
        "2 123456789010 eni-1a2b3c4d 198.51.100.8 10.0.1.7 50008 443 6 1 40 1418530010 1418530070 ACCEPT OK",
        "2 123456789010 eni-1a2b3c4d 198.51.100.9 10.0.1.7 50009 22 6 1 40 1418530010 1418530070 REJECT OK",
    ]);
    let matches = tested["matches"].as_array().expect("matches");
    let numbers: Vec<i64> = matches
        .iter()
        .map(|m| m["eventNumber"].as_i64().expect("eventNumber"))
        .collect();
    assert_eq!(numbers, [1, 3]);
    assert_eq!(matches[0]["extractedValues"]["$destport"], "22");
    assert_eq!(matches[0]["extractedValues"]["$action"], "REJECT");
    assert_eq!(matches[1]["extractedValues"]["$source"], "198.51.100.9");

    // 5. The alarm: Sum over an hour ≥ 10, publishing to the topic.
    server.aws_ok(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "ssh-rejects",
        "--alarm-description",
        "Ten or more rejected SSH connections in an hour",
        "--namespace",
        "VPC/FlowLogs",
        "--metric-name",
        "SSHRejects",
        "--statistic",
        "Sum",
        "--period",
        "3600",
        "--evaluation-periods",
        "1",
        "--threshold",
        "10",
        "--comparison-operator",
        "GreaterThanOrEqualToThreshold",
        "--alarm-actions",
        &topic_arn,
    ]);
    let alarm = alarm_state(&server, "ssh-rejects");
    assert_eq!(alarm["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(alarm["StateReason"], "Unchecked: Initial alarm creation");

    // 6. Accepted traffic publishes nothing: the alarm keeps INSUFFICIENT_DATA.
    let t = now_ms();
    let put = |events: String| {
        server.aws_ok(&[
            "logs",
            "put-log-events",
            "--log-group-name",
            "flowlogs",
            "--log-stream-name",
            "eni-1a2b3c4d-all",
            "--log-events",
            &events,
        ]);
    };
    put(records(t, 5, false));
    std::thread::sleep(Duration::from_millis(2500));
    let alarm = alarm_state(&server, "ssh-rejects");
    assert_eq!(alarm["StateValue"], "INSUFFICIENT_DATA", "{alarm}");

    // Ten rejected SSH records within the hour, in a minute that has ended (an alarm evaluates
    // complete minutes, as CloudWatch does): ALARM at the next evaluation.
    put(records(t - 65_000, 10, true));
    let deadline = Instant::now() + Duration::from_secs(30);
    let alarm = loop {
        let alarm = alarm_state(&server, "ssh-rejects");
        if alarm["StateValue"] == "ALARM" {
            break alarm;
        }
        assert!(Instant::now() < deadline, "no ALARM: {alarm}");
        std::thread::sleep(Duration::from_millis(250));
    };
    let reason = alarm["StateReason"].as_str().expect("reason").to_owned();
    assert!(
        reason.starts_with("Threshold Crossed: 1 out of the last 1 datapoints [10.0 (")
            && reason.ends_with(
                ")] was greater than or equal to the threshold (10.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> ALARM transition)."
            ),
        "AWS's threshold-crossing reason: {reason}"
    );
    let reason_data: Value =
        serde_json::from_str(alarm["StateReasonData"].as_str().expect("data")).expect("json");
    assert_eq!(reason_data["statistic"], "Sum");
    assert_eq!(reason_data["period"], 3600);
    assert_eq!(reason_data["recentDatapoints"][0], 10.0);
    assert_eq!(reason_data["threshold"], 10.0);

    // describe-alarm-history: the one transition, with the same reason.
    let history = server.aws_ok(&[
        "cloudwatch",
        "describe-alarm-history",
        "--alarm-name",
        "ssh-rejects",
        "--history-item-type",
        "StateUpdate",
    ]);
    let items = history["AlarmHistoryItems"].as_array().expect("items");
    assert_eq!(items.len(), 1, "one transition: {items:#?}");
    assert_eq!(
        items[0]["HistorySummary"],
        "Alarm updated from INSUFFICIENT_DATA to ALARM"
    );
    let data: Value =
        serde_json::from_str(items[0]["HistoryData"].as_str().expect("data")).expect("json");
    assert_eq!(data["oldState"]["stateValue"], "INSUFFICIENT_DATA");
    assert_eq!(data["newState"]["stateValue"], "ALARM");
    assert_eq!(data["newState"]["stateReason"], reason.as_str());

    // The HTTP subscriber receives the SNS notification carrying CloudWatch's alarm JSON.
    let subject = "ALARM: \"ssh-rejects\" in US East (N. Virginia)";
    let note = sinks.wait_for("http", "HTTP notification", |r| {
        r["headers"]["x-amz-sns-message-type"] == "Notification"
    });
    assert_eq!(note["headers"]["x-amz-sns-topic-arn"], topic_arn.as_str());
    assert_eq!(note["headers"]["content-type"], "text/plain; charset=UTF-8");
    let envelope: Value = serde_json::from_str(note["body"].as_str().expect("body")).expect("json");
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], topic_arn.as_str());
    assert_eq!(envelope["Subject"], subject);
    assert_eq!(envelope["SignatureVersion"], "1");
    assert!(
        envelope["UnsubscribeURL"]
            .as_str()
            .is_some_and(|u| u.starts_with(&server.endpoint) && u.contains("Action=Unsubscribe"))
    );
    let message: Value =
        serde_json::from_str(envelope["Message"].as_str().expect("message")).expect("alarm json");
    assert_eq!(message["AlarmName"], "ssh-rejects");
    assert_eq!(
        message["AlarmDescription"],
        "Ten or more rejected SSH connections in an hour"
    );
    assert_eq!(message["AWSAccountId"], "123456789012");
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(message["NewStateReason"], reason.as_str());
    assert_eq!(message["Region"], "US East (N. Virginia)");
    assert_eq!(
        message["AlarmArn"],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ssh-rejects"
    );
    assert_eq!(message["AlarmActions"][0], topic_arn.as_str());
    let trigger = &message["Trigger"];
    assert_eq!(trigger["MetricName"], "SSHRejects");
    assert_eq!(trigger["Namespace"], "VPC/FlowLogs");
    assert_eq!(trigger["Statistic"], "SUM");
    assert_eq!(trigger["Period"], 3600);
    assert_eq!(
        trigger["ComparisonOperator"],
        "GreaterThanOrEqualToThreshold"
    );
    assert_eq!(trigger["Threshold"], 10.0);

    // The email arrives at the SMTP server with the same subject and the alarm JSON.
    let mail = sinks.wait_for("mail", "alarm email", |m| {
        m["data"].as_str().is_some_and(|d| d.contains("ALARM: "))
    });
    assert_eq!(mail["to"][0], "oncall@example.com");
    let data = mail["data"].as_str().expect("data");
    assert!(
        data.contains(&format!("Subject: {subject}")),
        "subject line in {data}"
    );
    let body = mail_body(data);
    assert!(
        body.contains("\"AlarmName\":\"ssh-rejects\"")
            && body.contains("\"NewStateValue\":\"ALARM\""),
        "alarm JSON in the email body: {body}"
    );

    // The action is in the history, once.
    let actions = server.aws_ok(&[
        "cloudwatch",
        "describe-alarm-history",
        "--alarm-name",
        "ssh-rejects",
        "--history-item-type",
        "Action",
    ]);
    let actions = actions["AlarmHistoryItems"].as_array().expect("items");
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(
        actions[0]["HistorySummary"],
        format!("Successfully executed action {topic_arn}").as_str()
    );
}

#[test]
fn alarm_api_answers_like_cloudwatch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // No evaluation during the test: it would put SetAlarmState's state back (no data).
    let quiet = ["--alarm-evaluation-secs", "86400"];
    let mut server = Server::start_in(&tmp.path().join("data"), &quiet);
    let put = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            name,
            "--namespace",
            "App",
            "--metric-name",
            "Errors",
            "--statistic",
            "Sum",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--threshold",
            "1",
            "--comparison-operator",
            "GreaterThanThreshold",
        ];
        args.extend_from_slice(extra);
        server.aws(&args)
    };
    for name in ["api-a", "api-b", "web-a"] {
        assert!(put(name, &[]).success);
    }
    // Validation with CloudWatch's codes.
    let bad = put("bad", &["--period", "45"]);
    assert!(
        bad.stderr.contains("(InvalidParameterValue)"),
        "{}",
        bad.stderr
    );
    server.aws_err(
        &[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "x",
            "--namespace",
            "App",
            "--metric-name",
            "Errors",
            "--statistic",
            "Sum",
            "--extended-statistic",
            "p99",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--threshold",
            "1",
            "--comparison-operator",
            "GreaterThanThreshold",
        ],
        "InvalidParameterCombination",
    );

    // Filters and paging.
    let got = server.aws_ok(&[
        "cloudwatch",
        "describe-alarms",
        "--alarm-name-prefix",
        "api-",
    ]);
    let names: Vec<&str> = got["MetricAlarms"]
        .as_array()
        .expect("alarms")
        .iter()
        .map(|a| a["AlarmName"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["api-a", "api-b"]);
    let page = server.aws_ok(&[
        "cloudwatch",
        "describe-alarms",
        "--max-records",
        "2",
        "--no-paginate",
    ]);
    assert_eq!(page["MetricAlarms"].as_array().map(Vec::len), Some(2));
    let token = page["NextToken"].as_str().expect("NextToken").to_owned();
    let rest = server.aws_ok(&[
        "cloudwatch",
        "describe-alarms",
        "--max-records",
        "2",
        "--no-paginate",
        "--next-token",
        &token,
    ]);
    assert_eq!(rest["MetricAlarms"][0]["AlarmName"], "web-a");
    server.aws_err(
        &["cloudwatch", "describe-alarms", "--max-records", "101"],
        "InvalidParameterValue",
    );

    // SetAlarmState: a transition, StateValue filter, InvalidFormat and ResourceNotFound.
    server.aws_ok(&[
        "cloudwatch",
        "set-alarm-state",
        "--alarm-name",
        "api-a",
        "--state-value",
        "ALARM",
        "--state-reason",
        "testing the pager",
    ]);
    let alarming = server.aws_ok(&["cloudwatch", "describe-alarms", "--state-value", "ALARM"]);
    assert_eq!(alarming["MetricAlarms"][0]["AlarmName"], "api-a");
    assert_eq!(
        alarming["MetricAlarms"][0]["StateReason"],
        "testing the pager"
    );
    server.aws_err(
        &[
            "cloudwatch",
            "set-alarm-state",
            "--alarm-name",
            "api-a",
            "--state-value",
            "OK",
            "--state-reason",
            "x",
            "--state-reason-data",
            "{not json",
        ],
        "InvalidFormat",
    );
    server.aws_err(
        &[
            "cloudwatch",
            "set-alarm-state",
            "--alarm-name",
            "nope",
            "--state-value",
            "OK",
            "--state-reason",
            "x",
        ],
        "ResourceNotFound",
    );

    // Actions can be switched off and on.
    server.aws_ok(&[
        "cloudwatch",
        "disable-alarm-actions",
        "--alarm-names",
        "api-b",
    ]);
    assert_eq!(alarm_state(&server, "api-b")["ActionsEnabled"], false);
    server.aws_ok(&[
        "cloudwatch",
        "enable-alarm-actions",
        "--alarm-names",
        "api-b",
    ]);
    assert_eq!(alarm_state(&server, "api-b")["ActionsEnabled"], true);

    // DescribeAlarmsForMetric.
    let for_metric = server.aws_ok(&[
        "cloudwatch",
        "describe-alarms-for-metric",
        "--namespace",
        "App",
        "--metric-name",
        "Errors",
    ]);
    assert_eq!(for_metric["MetricAlarms"].as_array().map(Vec::len), Some(3));

    // Alarms, their state and history survive a restart.
    server.stop();
    let server = Server::start_in(&tmp.path().join("data"), &quiet);
    let alarm = alarm_state(&server, "api-a");
    assert_eq!(alarm["StateValue"], "ALARM");
    assert_eq!(alarm["StateReason"], "testing the pager");

    // DeleteAlarms removes the names that exist and reports the others; history stays.
    let err = server.aws_err(
        &[
            "cloudwatch",
            "delete-alarms",
            "--alarm-names",
            "api-a",
            "nope",
        ],
        "ResourceNotFound",
    );
    assert!(err.contains("nope"), "{err}");
    let left = server.aws_ok(&["cloudwatch", "describe-alarms"]);
    assert_eq!(left["MetricAlarms"].as_array().map(Vec::len), Some(2));
    let history = server.aws_ok(&[
        "cloudwatch",
        "describe-alarm-history",
        "--alarm-name",
        "api-a",
    ]);
    let summaries: Vec<&str> = history["AlarmHistoryItems"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["HistorySummary"].as_str().expect("summary"))
        .collect();
    assert_eq!(
        summaries,
        [
            "Alarm \"api-a\" deleted",
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "Alarm \"api-a\" created",
        ]
    );
}
