//! CloudWatch's other two protocols against metrics a metric filter publishes: Smithy RPC v2
//! CBOR through the AWS SDK for Rust, and awsQuery as raw forms and through boto3 forced onto
//! the query protocol; gzipped bodies in all three.

use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Datapoint, Dimension, DimensionFilter, Statistic};
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, MetricTransformation};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::support::{Server, now_ms};

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=abcd";
const NAMESPACE: &str = "VPC/Proto";
const XMLNS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

fn cloudwatch(server: &Server) -> aws_sdk_cloudwatch::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIAFLOWWATCHTEST",
            "flowwatch-test-secret",
            None,
            None,
            "e2e",
        ))
        .endpoint_url(&server.endpoint)
        .http_client(http)
        .build();
    aws_sdk_cloudwatch::Client::from_conf(config)
}

/// The data both tests read: a metric filter turns flow records into `Bytes` by `Action`.
/// Minute `m` (epoch ms, a minute start) holds ACCEPTed 100, 200, 300 and a REJECTed 999;
/// minute `m + 60 s` holds ACCEPTed 50 and 70.
async fn publish(server: &Server) -> anyhow::Result<i64> {
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

fn accept() -> Dimension {
    Dimension::builder().name("Action").value("ACCEPT").build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_reads_metrics_over_cbor() -> anyhow::Result<()> {
    let server = Server::start();
    let m = publish(&server).await?;
    let cw = cloudwatch(&server);

    let listed = cw.list_metrics().namespace(NAMESPACE).send().await?;
    let mut actions: Vec<&str> = listed
        .metrics()
        .iter()
        .map(|metric| {
            assert_eq!(metric.metric_name(), Some("Bytes"));
            assert_eq!(metric.namespace(), Some(NAMESPACE));
            metric.dimensions()[0].value().unwrap_or_default()
        })
        .collect();
    actions.sort_unstable();
    assert_eq!(actions, ["ACCEPT", "REJECT"]);
    let filtered = cw
        .list_metrics()
        .namespace(NAMESPACE)
        .dimensions(
            DimensionFilter::builder()
                .name("Action")
                .value("REJECT")
                .build(),
        )
        .send()
        .await?;
    assert_eq!(filtered.metrics().len(), 1);
    // No input at all is `{}`.
    cw.list_metrics().send().await?;

    let got = cw
        .get_metric_statistics()
        .namespace(NAMESPACE)
        .metric_name("Bytes")
        .dimensions(accept())
        .start_time(DateTime::from_millis(m - 300_000))
        .end_time(DateTime::from_millis(m + 300_000))
        .period(60)
        .set_statistics(Some(vec![
            Statistic::Sum,
            Statistic::SampleCount,
            Statistic::Minimum,
            Statistic::Maximum,
            Statistic::Average,
        ]))
        .send()
        .await?;
    assert_eq!(got.label(), Some("Bytes"));
    let mut points: Vec<&Datapoint> = got.datapoints().iter().collect();
    points.sort_by_key(|d| d.timestamp().map(|t| t.secs()));
    let summary: Vec<_> = points
        .iter()
        .map(|d| {
            (
                d.timestamp().map(|t| t.to_millis().expect("millis")),
                d.sum(),
                d.sample_count(),
                d.minimum(),
                d.maximum(),
                d.average(),
                d.unit().map(|u| u.as_str().to_owned()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                Some(m),
                Some(600.0),
                Some(3.0),
                Some(100.0),
                Some(300.0),
                Some(200.0),
                Some("Bytes".to_owned())
            ),
            (
                Some(m + 60_000),
                Some(120.0),
                Some(2.0),
                Some(50.0),
                Some(70.0),
                Some(60.0),
                Some("Bytes".to_owned())
            ),
        ]
    );

    // A map of doubles inside a list of structures.
    let got = cw
        .get_metric_statistics()
        .namespace(NAMESPACE)
        .metric_name("Bytes")
        .dimensions(accept())
        .start_time(DateTime::from_millis(m))
        .end_time(DateTime::from_millis(m + 60_000))
        .period(60)
        .extended_statistics("p100")
        .send()
        .await?;
    let [point] = got.datapoints() else {
        panic!("one datapoint: {got:?}");
    };
    assert_eq!(point.timestamp(), Some(&DateTime::from_millis(m)));
    let p100 = point.extended_statistics().and_then(|s| s.get("p100"));
    assert_eq!(p100, Some(&300.0), "{point:?}");

    // Errors: the SDK reads the awsQuery code from x-amzn-query-error.
    let err = cw
        .get_metric_statistics()
        .namespace(NAMESPACE)
        .metric_name("Bytes")
        .start_time(DateTime::from_millis(m))
        .end_time(DateTime::from_millis(m + 60_000))
        .period(90)
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect_err("period 90")
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(err.code(), Some("InvalidParameterValue"));
    assert!(
        err.message().is_some_and(|m| m.contains("Period")),
        "{err:?}"
    );
    let err = cw
        .get_metric_statistics()
        .namespace(NAMESPACE)
        .metric_name("Bytes")
        .start_time(DateTime::from_millis(m))
        .end_time(DateTime::from_millis(m + 60_000))
        .period(60)
        .statistics(Statistic::Sum)
        .extended_statistics("p99")
        .send()
        .await
        .expect_err("both kinds of statistics")
        .into_service_error();
    assert!(err.is_invalid_parameter_combination_exception(), "{err:?}");
    let err = cw
        .get_metric_statistics()
        .metric_name("Bytes")
        .send()
        .await
        .expect_err("no namespace")
        .into_service_error();
    assert!(err.is_missing_required_parameter_exception(), "{err:?}");
    Ok(())
}

/// `(status, body)` of a raw awsQuery request: a form POST, or a GET when `get`.
async fn query(server: &Server, form: &[(&str, &str)], get: bool) -> (u16, String) {
    let http = reqwest::Client::new();
    let encoded: String = form_urlencoded(form);
    let request = if get {
        http.get(format!("{}/?{encoded}", server.endpoint))
    } else {
        http.post(&server.endpoint)
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(encoded)
    };
    let response = request
        .header("authorization", AUTH)
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    assert!(response.headers().contains_key("x-amzn-requestid"));
    assert_eq!(response.headers()["content-type"], "text/xml");
    (status, response.text().await.expect("body"))
}

fn form_urlencoded(form: &[(&str, &str)]) -> String {
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
fn texts(xml: &str, path: &str) -> Vec<String> {
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
                    let named = match r.as_ref() {
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

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("time")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_query_forms_and_boto3_over_query() -> anyhow::Result<()> {
    let server = Server::start();
    let m = publish(&server).await?;

    let (status, xml) = query(
        &server,
        &[
            ("Action", "ListMetrics"),
            ("Version", "2010-08-01"),
            ("Namespace", NAMESPACE),
            ("Dimensions.member.1.Name", "Action"),
            ("Dimensions.member.1.Value", "ACCEPT"),
        ],
        false,
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.starts_with(&format!("<ListMetricsResponse xmlns=\"{XMLNS}\">")),
        "{xml}"
    );
    let metrics = "ListMetricsResponse/ListMetricsResult/Metrics/member";
    assert_eq!(texts(&xml, &format!("{metrics}/MetricName")), ["Bytes"]);
    assert_eq!(texts(&xml, &format!("{metrics}/Namespace")), [NAMESPACE]);
    assert_eq!(
        texts(&xml, &format!("{metrics}/Dimensions/member/Value")),
        ["ACCEPT"]
    );
    let ids = texts(&xml, "ListMetricsResponse/ResponseMetadata/RequestId");
    assert_eq!(ids.len(), 1);
    assert!(!ids[0].is_empty());

    // GET with the parameters in the query string.
    let (status, xml) = query(
        &server,
        &[
            ("Action", "GetMetricStatistics"),
            ("Version", "2010-08-01"),
            ("Namespace", NAMESPACE),
            ("MetricName", "Bytes"),
            ("Dimensions.member.1.Name", "Action"),
            ("Dimensions.member.1.Value", "ACCEPT"),
            ("StartTime", &iso(m - 300_000)),
            ("EndTime", &iso(m + 300_000)),
            ("Period", "60"),
            ("Statistics.member.1", "Sum"),
            ("Statistics.member.2", "Maximum"),
        ],
        true,
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    let result = "GetMetricStatisticsResponse/GetMetricStatisticsResult";
    assert_eq!(texts(&xml, &format!("{result}/Label")), ["Bytes"]);
    let points = format!("{result}/Datapoints/member");
    let mut got: Vec<(String, String, String)> = texts(&xml, &format!("{points}/Timestamp"))
        .into_iter()
        .zip(texts(&xml, &format!("{points}/Sum")))
        .zip(texts(&xml, &format!("{points}/Maximum")))
        .map(|((t, s), x)| (t, s, x))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (iso(m), "600.0".to_owned(), "300.0".to_owned()),
            (iso(m + 60_000), "120.0".to_owned(), "70.0".to_owned()),
        ]
    );
    assert_eq!(texts(&xml, &format!("{points}/Unit")), ["Bytes", "Bytes"]);

    // Errors: XML with the awsQuery code, the fault and the status.
    let (status, xml) = query(
        &server,
        &[
            ("Action", "GetMetricStatistics"),
            ("Version", "2010-08-01"),
            ("Namespace", NAMESPACE),
            ("MetricName", "Bytes"),
            ("StartTime", &iso(m)),
            ("EndTime", &iso(m + 60_000)),
            ("Period", "90"),
            ("Statistics.member.1", "Sum"),
        ],
        false,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        xml.starts_with(&format!("<ErrorResponse xmlns=\"{XMLNS}\"><Error>")),
        "{xml}"
    );
    assert_eq!(texts(&xml, "ErrorResponse/Error/Type"), ["Sender"]);
    assert_eq!(
        texts(&xml, "ErrorResponse/Error/Code"),
        ["InvalidParameterValue"]
    );
    assert!(texts(&xml, "ErrorResponse/Error/Message")[0].contains("Period"));
    assert_eq!(texts(&xml, "ErrorResponse/RequestId").len(), 1);
    for (form, code) in [
        (
            vec![("Action", "Frobnicate"), ("Version", "2010-08-01")],
            "InvalidAction",
        ),
        (vec![("Version", "2010-08-01")], "MissingAction"),
        (
            vec![
                ("Action", "ListMetrics"),
                ("Version", "2010-08-01"),
                ("Dimensions.member.first.Name", "x"),
            ],
            "InvalidQueryParameter",
        ),
        (
            vec![
                ("Action", "GetMetricStatistics"),
                ("Version", "2010-08-01"),
                ("Period", "sixty"),
            ],
            "InvalidParameterValue",
        ),
        (
            vec![("Action", "GetMetricStatistics"), ("Version", "2010-08-01")],
            "MissingParameter",
        ),
    ] {
        let (status, xml) = query(&server, &form, false).await;
        assert_eq!(status, 400, "{form:?}: {xml}");
        assert_eq!(texts(&xml, "ErrorResponse/Error/Code"), [code], "{form:?}");
    }

    // boto3 with CloudWatch's query protocol instead of its default awsJson.
    server.python(&format!(
        r#"
import os, datetime, boto3, botocore.model
from botocore.exceptions import ClientError
botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("query",)
cw = boto3.client("cloudwatch", endpoint_url=os.environ["FLOWWATCH_ENDPOINT"])
assert cw.meta.service_model.resolved_protocol == "query"
m = datetime.datetime.fromtimestamp({m} / 1000, datetime.timezone.utc)
listed = cw.list_metrics(Namespace="{NAMESPACE}")["Metrics"]
assert sorted(d["Value"] for x in listed for d in x["Dimensions"]) == ["ACCEPT", "REJECT"], listed
got = cw.get_metric_statistics(Namespace="{NAMESPACE}", MetricName="Bytes",
    Dimensions=[{{"Name": "Action", "Value": "ACCEPT"}}],
    StartTime=m - datetime.timedelta(minutes=5), EndTime=m + datetime.timedelta(minutes=5),
    Period=60, Statistics=["Sum", "SampleCount", "Average"])
points = sorted((p["Timestamp"], p["Sum"], p["SampleCount"], p["Average"]) for p in got["Datapoints"])
assert points == [(m, 600.0, 3.0, 200.0), (m + datetime.timedelta(minutes=1), 120.0, 2.0, 60.0)], points
try:
    cw.get_metric_statistics(Namespace="{NAMESPACE}", MetricName="Bytes", StartTime=m,
        EndTime=m + datetime.timedelta(minutes=1), Period=90, Statistics=["Sum"])
    raise SystemExit("period 90 was accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidParameterValue", e.response
    assert e.response["Error"]["Type"] == "Sender", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
"#
    ));
    Ok(())
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// botocore and the SDKs gzip large PutMetricData bodies in every protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzipped_bodies_in_every_protocol() -> anyhow::Result<()> {
    let server = Server::start();
    publish(&server).await?;
    let http = reqwest::Client::new();
    let send = |request: reqwest::RequestBuilder, body: Vec<u8>| {
        request
            .header("authorization", AUTH)
            .header("content-encoding", "gzip")
            .body(gzip(&body))
            .send()
    };

    let json = send(
        http.post(&server.endpoint)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "GraniteServiceVersion20100801.ListMetrics"),
        format!(r#"{{"Namespace": "{NAMESPACE}"}}"#).into_bytes(),
    )
    .await?;
    assert_eq!(json.status().as_u16(), 200);
    let json: serde_json::Value = json.json().await?;
    assert_eq!(json["Metrics"][0]["MetricName"], "Bytes");

    let mut cbor = minicbor::Encoder::new(Vec::new());
    cbor.map(1)?.str("Namespace")?.str(NAMESPACE)?;
    let answer = send(
        http.post(format!(
            "{}/service/GraniteServiceVersion20100801/operation/ListMetrics",
            server.endpoint
        ))
        .header("smithy-protocol", "rpc-v2-cbor")
        .header("content-type", "application/cbor"),
        cbor.into_writer(),
    )
    .await?;
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.headers()["content-type"], "application/cbor");
    let bytes = answer.bytes().await?;
    assert!(
        bytes.windows(5).any(|w| w == b"Bytes"),
        "the metric is listed: {bytes:02x?}"
    );

    let form = form_urlencoded(&[
        ("Action", "ListMetrics"),
        ("Version", "2010-08-01"),
        ("Namespace", NAMESPACE),
    ]);
    let answer = send(
        http.post(&server.endpoint)
            .header("content-type", "application/x-www-form-urlencoded"),
        form.into_bytes(),
    )
    .await?;
    assert_eq!(answer.status().as_u16(), 200);
    let xml = answer.text().await?;
    assert_eq!(
        texts(
            &xml,
            "ListMetricsResponse/ListMetricsResult/Metrics/member/MetricName"
        ),
        ["Bytes", "Bytes"]
    );

    // Not gzip after all: a client error, in the protocol (the query protocols have no
    // SerializationException; a malformed request is InvalidQueryParameter).
    let answer = http
        .post(&server.endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-encoding", "gzip")
        .header("authorization", AUTH)
        .body("Action=ListMetrics&Version=2010-08-01")
        .send()
        .await?;
    assert_eq!(answer.status().as_u16(), 400);
    let xml = answer.text().await?;
    assert_eq!(
        texts(&xml, "ErrorResponse/Error/Code"),
        ["InvalidQueryParameter"]
    );
    Ok(())
}
