//! CloudWatch over Smithy RPC v2 CBOR, through the AWS SDK for Rust.

use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Datapoint, Dimension, DimensionFilter, Statistic};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use super::{NAMESPACE, publish};
use crate::support::Server;
use crate::support::SignExt;

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

    // The protocol's own rules, as raw requests: CBOR errors, whatever went wrong.
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.endpoint);
    for (request, code) in [
        (
            http.post(url(
                "/service/GraniteServiceVersion20100801/operation/ListMetrics",
            ))
            .header("smithy-protocol", "rpc-v2-cbor")
            .header("x-amz-target", "GraniteServiceVersion20100801.ListMetrics"),
            "SerializationException",
        ),
        (
            http.post(url(
                "/service/GraniteServiceVersion20100801/operation/ListMetrics",
            )),
            "SerializationException",
        ),
        (
            http.post(url("/service/NoSuchService/operation/ListMetrics"))
                .header("smithy-protocol", "rpc-v2-cbor"),
            "UnknownOperationException",
        ),
        (
            http.post(url(
                "/service/GraniteServiceVersion20100801/operation/NoSuchOp",
            ))
            .header("smithy-protocol", "rpc-v2-cbor"),
            "UnknownOperationException",
        ),
    ] {
        let answer = request.signed().send().await?;
        assert_eq!(answer.status().as_u16(), 400);
        assert_eq!(answer.headers()["smithy-protocol"], "rpc-v2-cbor");
        assert_eq!(answer.headers()["content-type"], "application/cbor");
        let query_error = answer.headers()["x-amzn-query-error"].to_str()?.to_owned();
        assert_eq!(query_error, format!("{code};Sender"));
        let body = answer.bytes().await?;
        let mut d = minicbor::Decoder::new(&body);
        let mut type_ = None;
        for _ in 0..d.map()?.unwrap_or(0) {
            match d.str()? {
                "__type" => type_ = Some(d.str()?.to_owned()),
                _ => d.skip()?,
            }
        }
        assert!(type_.is_some_and(|t| t.ends_with(&format!("#{code}"))));
    }
    Ok(())
}
