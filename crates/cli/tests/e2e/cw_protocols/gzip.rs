//! Gzipped request bodies (`Content-Encoding: gzip`) in each of CloudWatch's protocols.

use super::{NAMESPACE, form_urlencoded, publish, texts};
use crate::support::Server;
use crate::support::SignExt;

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
            .header("content-encoding", "gzip")
            .body(gzip(&body))
            .signed()
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
        .body("Action=ListMetrics&Version=2010-08-01")
        .signed()
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
