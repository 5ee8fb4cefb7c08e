//! CloudWatch over awsQuery: raw forms (POST and GET) with their XML parsed, and boto3 forced
//! onto the query protocol.

use super::{NAMESPACE, form_urlencoded, publish, texts};
use crate::support::Server;
use crate::support::SignExt;

const XMLNS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

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
    let response = request.signed().send().await.expect("send");
    let status = response.status().as_u16();
    assert!(response.headers().contains_key("x-amzn-requestid"));
    assert_eq!(response.headers()["content-type"], "text/xml");
    (status, response.text().await.expect("body"))
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
