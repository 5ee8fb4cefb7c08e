//! `Content-Encoding` of request bodies. botocore and the AWS SDKs gzip the bodies of
//! operations the model marks `requestcompression` (CloudWatch's PutMetricData) once they pass
//! 10 KiB, in every protocol; a gzipped body is inflated here, before any protocol reads it,
//! off the I/O runtime, and bounded like any body (a small bomb cannot become a large body).

use std::io::Read;

use axum::http::HeaderMap;
use flowwatch_model::{ApiError, ApiResult, ErrorCode, limits};

/// The body as sent, inflated when its `Content-Encoding` is `gzip`.
pub(crate) async fn decode(headers: &HeaderMap, body: bytes::Bytes) -> ApiResult<bytes::Bytes> {
    let encodings: Vec<String> = headers
        .get_all("content-encoding")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e != "identity")
        .collect();
    match encodings.as_slice() {
        [] => Ok(body),
        [gzip] if gzip == "gzip" => tokio::task::spawn_blocking(move || gunzip(&body))
            .await
            .map_err(|e| ApiError::internal(format!("inflating the body failed: {e}")))?,
        other => Err(ApiError::new(
            ErrorCode::SerializationException,
            format!(
                "Content-Encoding {} is not supported (only gzip).",
                other.join(", ")
            ),
        )),
    }
}

/// Inflates every gzip member of `body`, up to `MAX_REQUEST_BODY_BYTES`.
fn gunzip(body: &[u8]) -> ApiResult<bytes::Bytes> {
    let limit = limits::MAX_REQUEST_BODY_BYTES;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            ApiError::new(
                ErrorCode::SerializationException,
                format!("The request body is not valid gzip: {e}"),
            )
        })?;
    if out.len() > limit {
        return Err(ApiError::new(
            ErrorCode::RequestEntityTooLargeException,
            format!("The inflated request body is larger than {limit} bytes."),
        ));
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn headers(encoding: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("content-encoding", HeaderValue::from_static(encoding));
        h
    }

    #[tokio::test]
    async fn gzip_is_inflated_identity_is_kept() {
        let body = bytes::Bytes::from(gzip(b"Action=ListMetrics"));
        let got = decode(&headers("gzip"), body).await.unwrap();
        assert_eq!(&got[..], b"Action=ListMetrics");
        let plain = bytes::Bytes::from_static(b"{}");
        assert_eq!(
            decode(&HeaderMap::new(), plain.clone()).await.unwrap(),
            plain
        );
        assert_eq!(
            decode(&headers("identity"), plain.clone()).await.unwrap(),
            plain
        );
    }

    #[tokio::test]
    async fn bad_gzip_bombs_and_other_encodings_are_refused() {
        let err = decode(&headers("gzip"), bytes::Bytes::from_static(b"not gzip"))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::SerializationException);
        let bomb = gzip(&vec![0u8; limits::MAX_REQUEST_BODY_BYTES + 1]);
        assert!(bomb.len() < 100_000);
        let err = decode(&headers("gzip"), bomb.into()).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::RequestEntityTooLargeException);
        let err = decode(&headers("br"), bytes::Bytes::from_static(b"x"))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::SerializationException);
    }
}
