//! CloudWatch's other two protocols against metrics a metric filter publishes: Smithy RPC v2
//! CBOR through the AWS SDK for Rust ([`cbor`]), awsQuery as raw forms and through boto3 forced
//! onto the query protocol ([`query`]), and gzipped bodies in all three ([`gzip`]).

mod cbor;
mod gzip;
mod query;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, MetricTransformation};

use crate::support::{Server, now_ms};

const NAMESPACE: &str = "VPC/Proto";

/// The data every test reads: a metric filter turns flow records into `Bytes` by `Action`.
/// Minute `m` (epoch ms, a minute start) holds ACCEPTed 100, 200, 300 and a REJECTed 999;
/// minute `m + 60 s` holds ACCEPTed 50 and 70.
pub(super) async fn publish(server: &Server) -> anyhow::Result<i64> {
    let logs = crate::sdk::client(server);
    logs.create_log_group()
        .log_group_name("flows")
        .send()
        .await?;
    logs.create_log_stream()
        .log_group_name("flows")
        .log_stream_name("eni-1-all")
        .send()
        .await?;
    logs.put_metric_filter()
        .log_group_name("flows")
        .filter_name("bytes")
        .filter_pattern("[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action, flowlogstatus]")
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("Bytes")
                .metric_namespace(NAMESPACE)
                .metric_value("$bytes")
                .dimensions("Action", "$action")
                .unit(aws_sdk_cloudwatchlogs::types::StandardUnit::Bytes)
                .build()?,
        )
        .send()
        .await?;
    let m = (now_ms() / 60_000 - 10) * 60_000;
    let records = [
        (m + 1_000, 100, "ACCEPT"),
        (m + 2_000, 200, "ACCEPT"),
        (m + 3_000, 999, "REJECT"),
        (m + 4_000, 300, "ACCEPT"),
        (m + 61_000, 50, "ACCEPT"),
        (m + 62_000, 70, "ACCEPT"),
    ];
    let events = records
        .iter()
        .map(|(t, bytes, action)| {
            InputLogEvent::builder()
                .timestamp(*t)
                .message(format!(
                    "2 123456789010 eni-1 10.0.0.1 10.0.0.2 40000 443 6 1 {bytes} 1 2 {action} OK"
                ))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    logs.put_log_events()
        .log_group_name("flows")
        .log_stream_name("eni-1-all")
        .set_log_events(Some(events))
        .send()
        .await?;
    Ok(m)
}

/// A form, percent-encoded.
pub(super) fn form_urlencoded(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The texts of every element at `path` (`A/B/C`, from the root).
pub(super) fn texts(xml: &str, path: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                stack.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                current = (stack.join("/") == path).then(String::new);
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.decode().expect("utf-8"));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = current.as_mut() {
                    let name: &[u8] = &r;
                    let named = match name {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ => None,
                    };
                    let ch = named
                        .or_else(|| r.resolve_char_ref().ok().flatten())
                        .expect("known reference");
                    c.push(ch);
                }
            }
            Event::End(_) => {
                if stack.join("/") == path {
                    out.push(current.take().unwrap_or_default());
                }
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}
