//! SNS delivery against real endpoints on 127.0.0.1: an HTTP server and an SMTP server written
//! here by hand, so what goes over the wire is what is checked.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use flowwatch_model::ManualClock;
use flowwatch_monitor::notify::{
    DeliveryKind, DeliveryOutcome, MessageUrls, Notifier, NotifierConfig, RetryPolicy, SmtpConfig,
    TopicSet,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const NOW_MS: i64 = 1_700_000_123_456;
const NOW_ISO: &str = "2023-11-14T22:15:23.456Z";
const LIMIT: Duration = Duration::from_secs(20);

#[derive(Debug)]
struct Request {
    request_line: String,
    headers: HashMap<String, String>,
    body: String,
}

/// An HTTP/1.1 server answering each connection's one request with the next status of
/// `statuses` (the last repeats), sending what it received on the channel.
async fn http_server(statuses: Vec<u16>) -> (String, mpsc::UnboundedReceiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            reader.read_line(&mut request_line).await.unwrap();
            let mut headers = HashMap::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
            }
            let len: usize = headers["content-length"].parse().unwrap();
            let mut body = vec![0; len];
            reader.read_exact(&mut body).await.unwrap();
            let status = statuses[n.min(statuses.len() - 1)];
            n += 1;
            let response =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            reader
                .get_mut()
                .write_all(response.as_bytes())
                .await
                .unwrap();
            let body = String::from_utf8(body).unwrap();
            let _ = tx.send(Request {
                request_line: request_line.trim_end().into(),
                headers,
                body,
            });
        }
    });
    (url, rx)
}

#[derive(Debug, Default)]
struct Mail {
    helo: String,
    auth: Option<String>,
    from: String,
    to: Vec<String>,
    data: String,
}

/// A minimal SMTP responder: HELO/EHLO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT.
async fn smtp_server() -> (u16, mpsc::UnboundedReceiver<Mail>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                write.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut mail = Mail::default();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap() == 0 {
                        return;
                    }
                    let command = line.trim_end().to_owned();
                    let verb = command.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => {
                            mail.helo = command.clone();
                            b"250-test\r\n250 AUTH PLAIN LOGIN\r\n"
                        }
                        "MAIL" => {
                            mail.from = command.clone();
                            b"250 OK\r\n"
                        }
                        "RCPT" => {
                            mail.to.push(command.clone());
                            b"250 OK\r\n"
                        }
                        "DATA" => {
                            write.write_all(b"354 go ahead\r\n").await.unwrap();
                            loop {
                                let mut l = String::new();
                                reader.read_line(&mut l).await.unwrap();
                                if l == ".\r\n" {
                                    break;
                                }
                                mail.data.push_str(&l);
                            }
                            let _ = tx.send(std::mem::take(&mut mail));
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        "AUTH" => {
                            mail.auth = Some(command.clone());
                            b"235 accepted\r\n"
                        }
                        "RSET" | "NOOP" => b"250 OK\r\n",
                        _ => b"502 unknown\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

fn fast_retry(num_retries: u32) -> RetryPolicy {
    RetryPolicy {
        num_retries,
        num_no_delay_retries: 1,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
    }
}

fn config(smtp_port: u16) -> NotifierConfig {
    NotifierConfig {
        urls: MessageUrls {
            service_url: "http://sns.test:4580/".into(),
            signing_cert_url: "http://sns.test:4580/cert.pem".into(),
        },
        http_timeout: Duration::from_millis(500),
        http_connect_timeout: Duration::from_millis(500),
        http_retry: fast_retry(2),
        smtp: SmtpConfig {
            port: smtp_port,
            from: "alarms@flowwatch.test".into(),
            timeout: Duration::from_secs(2),
            ..SmtpConfig::default()
        },
        email_retry: fast_retry(1),
        ..NotifierConfig::default()
    }
}

fn notifier(smtp_port: u16) -> Notifier {
    Notifier::new(config(smtp_port), Arc::new(ManualClock::new(NOW_MS))).unwrap()
}

async fn idle(n: &Notifier) {
    tokio::time::timeout(LIMIT, n.idle())
        .await
        .expect("deliveries never finished");
}

#[tokio::test]
async fn http_endpoint_receives_the_exact_notification() {
    let (url, mut requests) = http_server(vec![200]).await;
    let mut set = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
    let topic_arn = set.create_topic("alerts", BTreeMap::new()).unwrap();
    let sub = set
        .subscribe(&topic_arn, "http", &url, BTreeMap::new())
        .unwrap();
    let n = notifier(1);

    let message = "{\"AlarmName\":\"cpu\",\"NewStateValue\":\"ALARM\"}";
    let id = n
        .publish(
            set.topic(&topic_arn).unwrap(),
            Some("ALARM: \"cpu\""),
            message,
        )
        .unwrap();
    idle(&n).await;
    let req = requests.recv().await.unwrap();

    assert_eq!(req.request_line, "POST /hook HTTP/1.1");
    let h = &req.headers;
    assert_eq!(h["x-amz-sns-message-type"], "Notification");
    assert_eq!(h["x-amz-sns-message-id"], id);
    assert_eq!(h["x-amz-sns-topic-arn"], topic_arn);
    assert_eq!(h["x-amz-sns-subscription-arn"], sub.subscription_arn);
    assert_eq!(h["content-type"], "text/plain; charset=UTF-8");
    assert_eq!(h["user-agent"], "Amazon Simple Notification Service Agent");

    let json: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected_keys = [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
    ];
    expected_keys.sort_unstable();
    assert_eq!(keys, expected_keys);
    assert_eq!(json["Type"], "Notification");
    let message_id = json["MessageId"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(message_id).unwrap().get_version_num(),
        4
    );
    assert_eq!(message_id, id);
    assert_eq!(json["TopicArn"], topic_arn);
    assert_eq!(json["Subject"], "ALARM: \"cpu\"");
    assert_eq!(json["Message"], message);
    assert_eq!(json["Timestamp"], NOW_ISO);
    assert_eq!(json["SignatureVersion"], "1");
    assert_eq!(json["SigningCertURL"], "http://sns.test:4580/cert.pem");
    assert_eq!(
        json["UnsubscribeURL"],
        format!(
            "http://sns.test:4580/?Action=Unsubscribe&Version=2010-03-31&SubscriptionArn={}",
            sub.subscription_arn
        )
    );

    let records = n.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].kind, DeliveryKind::Notification);
    assert_eq!(
        records[0].outcome,
        DeliveryOutcome::Delivered {
            attempts: 1,
            status: Some(200)
        }
    );
    assert_eq!(records[0].finished_ms, NOW_MS);
}

#[tokio::test]
async fn pending_subscription_gets_confirmation_then_notifications_once_confirmed() {
    let (url, mut requests) = http_server(vec![200]).await;
    let mut set = TopicSet::new("123456789012", "us-east-1");
    let topic_arn = set.create_topic("alerts", BTreeMap::new()).unwrap();
    let sub = set
        .subscribe(&topic_arn, "http", &url, BTreeMap::new())
        .unwrap();
    assert_eq!(sub.response_arn(), "pending confirmation");
    let n = notifier(1);

    // Not confirmed: a publish reaches nobody.
    n.publish(set.topic(&topic_arn).unwrap(), None, "early")
        .unwrap();
    idle(&n).await;
    assert!(n.records().is_empty());

    n.confirm(set.topic(&topic_arn).unwrap(), &sub.subscription_arn)
        .unwrap();
    idle(&n).await;
    let req = requests.recv().await.unwrap();
    assert_eq!(
        req.headers["x-amz-sns-message-type"],
        "SubscriptionConfirmation"
    );
    assert!(!req.headers.contains_key("x-amz-sns-subscription-arn"));
    let json: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(json["Type"], "SubscriptionConfirmation");
    let token = json["Token"].as_str().unwrap();
    assert_eq!(
        json["SubscribeURL"],
        format!(
            "http://sns.test:4580/?Action=ConfirmSubscription&Version=2010-03-31&TopicArn={topic_arn}&Token={token}"
        )
    );
    set.confirm_subscription(&topic_arn, token).unwrap();

    n.publish(set.topic(&topic_arn).unwrap(), None, "now")
        .unwrap();
    idle(&n).await;
    let req = requests.recv().await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(json["Message"], "now");
    assert!(json.get("Subject").is_none());
    assert_eq!(n.records().len(), 2);
}

#[tokio::test]
async fn unreachable_endpoint_fails_after_the_bounded_retries() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    // And one that accepts but never answers: only the timeout ends each attempt.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/", silent.local_addr().unwrap());

    let mut set = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
    let topic_arn = set.create_topic("alerts", BTreeMap::new()).unwrap();
    set.subscribe(&topic_arn, "http", &url, BTreeMap::new())
        .unwrap();
    set.subscribe(&topic_arn, "http", &silent_url, BTreeMap::new())
        .unwrap();
    let n = notifier(1);
    n.publish(set.topic(&topic_arn).unwrap(), None, "x")
        .unwrap();
    idle(&n).await;

    let records = n.records();
    assert_eq!(records.len(), 2);
    for record in &records {
        let DeliveryOutcome::Failed { attempts, reason } = &record.outcome else {
            panic!("delivered to an unreachable endpoint: {record:?}");
        };
        assert_eq!(*attempts, 3, "{record:?}");
        assert!(reason.contains("http request failed"), "{reason}");
    }
    drop(silent);
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let (flaky, mut flaky_requests) = http_server(vec![500, 503, 200]).await;
    let (gone, mut gone_requests) = http_server(vec![404]).await;
    let mut set = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
    let topic_arn = set.create_topic("alerts", BTreeMap::new()).unwrap();
    let flaky_sub = set
        .subscribe(&topic_arn, "http", &flaky, BTreeMap::new())
        .unwrap();
    set.subscribe(&topic_arn, "http", &gone, BTreeMap::new())
        .unwrap();
    let n = notifier(1);
    n.publish(set.topic(&topic_arn).unwrap(), None, "x")
        .unwrap();
    idle(&n).await;

    for record in n.records() {
        if record.subscription_arn == flaky_sub.subscription_arn {
            assert_eq!(
                record.outcome,
                DeliveryOutcome::Delivered {
                    attempts: 3,
                    status: Some(200)
                }
            );
        } else {
            assert_eq!(
                record.outcome,
                DeliveryOutcome::Failed {
                    attempts: 1,
                    reason: "endpoint answered http 404".into()
                }
            );
        }
    }
    for _ in 0..3 {
        flaky_requests.recv().await.unwrap();
    }
    gone_requests.recv().await.unwrap();
    assert!(gone_requests.try_recv().is_err());
}

/// Undoes quoted-printable (soft breaks and `=XX`), the encoding lettre picks for long lines.
fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 3 <= bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn smtp_server_receives_the_email() {
    let (port, mut mails) = smtp_server().await;
    let mut set = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
    let topic_arn = set
        .create_topic(
            "alerts",
            [("DisplayName".to_owned(), "Ops".to_owned())].into(),
        )
        .unwrap();
    let sub = set
        .subscribe(&topic_arn, "email", "oncall@example.com", BTreeMap::new())
        .unwrap();
    let n = notifier(port);
    n.publish(
        set.topic(&topic_arn).unwrap(),
        Some("ALARM: cpu in US East"),
        "CPU is high\nat 99%",
    )
    .unwrap();
    idle(&n).await;
    assert!(n.records()[0].outcome.is_delivered(), "{:?}", n.records());

    let mail = mails.recv().await.unwrap();
    assert!(mail.helo.starts_with("EHLO"), "{}", mail.helo);
    assert_eq!(mail.auth, None);
    assert_eq!(mail.from, "MAIL FROM:<alarms@flowwatch.test>");
    assert_eq!(mail.to, ["RCPT TO:<oncall@example.com>"]);
    let (head, body) = mail.data.split_once("\r\n\r\n").unwrap();
    let headers: HashMap<String, String> = head
        .split("\r\n")
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    assert_eq!(headers["to"], "oncall@example.com");
    assert_eq!(headers["from"], "Ops <alarms@flowwatch.test>");
    assert_eq!(headers["subject"], "ALARM: cpu in US East");
    let body = match headers["content-transfer-encoding"].as_str() {
        "7bit" => body.to_owned(),
        "quoted-printable" => decode_qp(body),
        other => panic!("unexpected encoding {other}"),
    };
    let body = body.replace("\r\n", "\n");
    assert!(body.starts_with("CPU is high\nat 99%\n\n--\n"), "{body}");
    let unsubscribe = format!(
        "http://sns.test:4580/?Action=Unsubscribe&Version=2010-03-31&SubscriptionArn={}",
        sub.subscription_arn
    );
    assert!(body.contains(&unsubscribe), "{body}");
}

#[tokio::test]
async fn email_to_a_dead_smtp_server_is_a_recorded_failure() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut set = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
    let topic_arn = set.create_topic("alerts", BTreeMap::new()).unwrap();
    set.subscribe(&topic_arn, "email-json", "a@example.com", BTreeMap::new())
        .unwrap();
    let n = notifier(port);
    n.publish(set.topic(&topic_arn).unwrap(), None, "x")
        .unwrap();
    idle(&n).await;
    let records = n.records();
    assert!(
        matches!(&records[0].outcome, DeliveryOutcome::Failed { attempts: 2, reason } if reason.contains("smtp")),
        "{records:?}"
    );
}

#[tokio::test]
async fn publish_validates_subject_and_message() {
    let set = {
        let mut s = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
        let arn = s.create_topic("alerts", BTreeMap::new()).unwrap();
        s.subscribe(&arn, "http", "http://127.0.0.1:9/", BTreeMap::new())
            .unwrap();
        s
    };
    let topic = set.list_topics().next().unwrap();
    let n = notifier(1);
    assert_eq!(
        n.publish(topic, None, "").unwrap_err().code(),
        "InvalidParameter"
    );
    assert!(n.publish(topic, Some("two\nlines"), "x").is_err());
    assert!(n.publish(topic, Some(&"s".repeat(100)), "x").is_err());
    assert!(n.publish(topic, None, &"m".repeat(262_145)).is_err());
    assert!(
        n.publish(topic, Some(&"s".repeat(99)), &"m".repeat(262_144))
            .is_ok()
    );
    idle(&n).await;
}

#[tokio::test]
async fn a_full_queue_refuses_the_publish_instead_of_blocking() {
    // An endpoint that accepts and never answers holds the only delivery slot.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let mut set = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
    let topic_arn = set.create_topic("alerts", BTreeMap::new()).unwrap();
    set.subscribe(&topic_arn, "http", &url, BTreeMap::new())
        .unwrap();
    let topic = set.topic(&topic_arn).unwrap();
    let config = NotifierConfig {
        queue_capacity: 1,
        max_concurrent_deliveries: 1,
        http_timeout: Duration::from_millis(200),
        http_retry: fast_retry(0),
        ..config(1)
    };
    let n = Notifier::new(config, Arc::new(ManualClock::new(NOW_MS))).unwrap();
    let pause = || tokio::time::sleep(Duration::from_millis(50));
    n.publish(topic, None, "1").unwrap(); // delivering
    pause().await;
    n.publish(topic, None, "2").unwrap(); // taken by the dispatcher, waiting for the slot
    pause().await;
    n.publish(topic, None, "3").unwrap(); // in the queue
    let e = n.publish(topic, None, "4").unwrap_err();
    assert_eq!(e.code(), "Throttled", "{e}");
    assert_eq!(n.in_flight(), 3);
    idle(&n).await;
    let records = n.records();
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| !r.outcome.is_delivered()));
    drop(silent);
}

#[tokio::test]
async fn records_are_broadcast_and_raw_delivery_posts_the_bare_message() {
    let (url, mut requests) = http_server(vec![204]).await;
    let mut set = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
    let topic_arn = set.create_topic("alerts", BTreeMap::new()).unwrap();
    let raw = [("RawMessageDelivery".to_owned(), "true".to_owned())].into();
    set.subscribe(&topic_arn, "http", &url, raw).unwrap();
    let n = notifier(1);
    let mut events = n.subscribe_records();
    let id = n
        .publish(set.topic(&topic_arn).unwrap(), Some("s"), "just this")
        .unwrap();
    let record = tokio::time::timeout(LIMIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.message_id, id);
    assert_eq!(
        record.outcome,
        DeliveryOutcome::Delivered {
            attempts: 1,
            status: Some(204)
        }
    );
    let req = requests.recv().await.unwrap();
    assert_eq!(req.body, "just this");
    assert_eq!(req.headers["x-amz-sns-rawdelivery"], "true");
    assert_eq!(req.headers["x-amz-sns-message-id"], id);
}

#[test]
fn a_notifier_outside_a_runtime_is_a_config_error() {
    let e = Notifier::new(config(1), Arc::new(ManualClock::new(0))).unwrap_err();
    assert_eq!(e.code(), "InvalidParameter");
}

#[tokio::test]
async fn smtp_credentials_are_sent_with_auth_plain() {
    let (port, mut mails) = smtp_server().await;
    let mut set = TopicSet::new("123456789012", "us-east-1").with_auto_confirm(true);
    let topic_arn = set.create_topic("alerts", BTreeMap::new()).unwrap();
    set.subscribe(
        &topic_arn,
        "email-json",
        "oncall@example.com",
        BTreeMap::new(),
    )
    .unwrap();
    let mut config = config(port);
    config.smtp.credentials = Some(("user".into(), "pass".into()));
    let n = Notifier::new(config, Arc::new(ManualClock::new(NOW_MS))).unwrap();
    let id = n
        .publish(set.topic(&topic_arn).unwrap(), None, "m")
        .unwrap();
    idle(&n).await;
    assert!(n.records()[0].outcome.is_delivered(), "{:?}", n.records());
    let mail = mails.recv().await.unwrap();
    // base64("\0user\0pass")
    assert_eq!(mail.auth.as_deref(), Some("AUTH PLAIN AHVzZXIAcGFzcw=="));
    assert!(
        mail.data.contains("Subject: AWS Notification Message\r\n"),
        "{}",
        mail.data
    );
    let (_, body) = mail.data.split_once("\r\n\r\n").unwrap();
    let body = decode_qp(body);
    let json: serde_json::Value = serde_json::from_str(body.trim_end()).unwrap();
    assert_eq!(json["Type"], "Notification");
    assert_eq!(json["MessageId"], id);
    assert_eq!(json["Message"], "m");
}
