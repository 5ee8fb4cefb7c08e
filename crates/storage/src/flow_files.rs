//! Flow-log files delivered "to S3" (`spec/flowlogs.md` §7): encoded as AWS writes them and put
//! into a bucket store.
//!
//! - Plain text: gzip; the first line is the header (the format's field names separated by
//!   spaces), then one record per line in the flow log's format, each line ending in `\n`.
//! - Parquet: the Arrow codec's columns (AWS's names and types), GZIP-compressed pages.
//!
//! A bucket is a directory `<root>/<bucket>/` of a local object store, or a bucket of an
//! S3-compatible service ([`BucketStoreConfig`]). A local object is written to a temporary file
//! and renamed into place, and an S3 object is one PUT, so a reader never sees a partial file.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use flowwatch_flowlog::{FlowRecord, LogFormat, to_record_batch};
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, ObjectStore, ObjectStoreExt, PutOptions};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCompression, GzipLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{Result, StorageError};
use crate::types::S3Connection;

/// Where the buckets flow logs deliver to live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketStoreConfig {
    /// One directory per bucket under `root` (default: `<data-dir>/s3`).
    Local { root: PathBuf },
    /// The buckets of an S3-compatible service (they must exist, as in AWS).
    S3(S3Connection),
}

/// The file format of a flow log delivering to S3 (`DestinationOptions.FileFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowFileFormat {
    PlainText,
    Parquet,
}

/// The buckets flow-log files are written to.
#[derive(Debug, Clone)]
pub struct Buckets {
    config: BucketStoreConfig,
    stores: Arc<Mutex<HashMap<String, Arc<dyn ObjectStore>>>>,
}

impl Buckets {
    pub fn new(config: BucketStoreConfig) -> Self {
        Self {
            config,
            stores: Arc::default(),
        }
    }

    /// Where a user finds object `key` of `bucket` (a file path for local buckets).
    pub fn location(&self, bucket: &str, key: &str) -> String {
        match &self.config {
            BucketStoreConfig::Local { root } => root.join(bucket).join(key).display().to_string(),
            BucketStoreConfig::S3(_) => format!("s3://{bucket}/{key}"),
        }
    }

    fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        let mut stores = self.stores.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = stores.get(bucket) {
            return Ok(store.clone());
        }
        let store: Arc<dyn ObjectStore> = match &self.config {
            BucketStoreConfig::Local { root } => {
                let dir = root.join(bucket);
                std::fs::create_dir_all(&dir).map_err(|e| StorageError::io(dir.display(), e))?;
                Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&dir)?)
            }
            BucketStoreConfig::S3(connection) => Arc::new(connection.bucket(bucket)?),
        };
        stores.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    /// Encodes `records` in `format` as a `file_format` file (off the async runtime) and puts
    /// it at `key` of `bucket`; returns the file's [`location`](Self::location).
    pub async fn write_flow_log_file(
        &self,
        bucket: &str,
        key: &str,
        file_format: FlowFileFormat,
        format: LogFormat,
        records: Vec<FlowRecord>,
    ) -> Result<String> {
        let path = ObjectPath::parse(key).map_err(|e| StorageError::Corrupt {
            what: format!("object key {key}"),
            detail: e.to_string(),
        })?;
        let store = self.store(bucket)?;
        let bytes = tokio::task::spawn_blocking(move || match file_format {
            FlowFileFormat::PlainText => plain_text_gz(&format, &records),
            FlowFileFormat::Parquet => parquet_file(&format, &records),
        })
        .await
        .map_err(|e| StorageError::Task(e.to_string()))??;
        store.put(&path, Bytes::from(bytes).into()).await?;
        Ok(self.location(bucket, key))
    }

    /// Puts `body` at `key` of `bucket`, with object metadata `signature` and
    /// `signature-algorithm` when `signature` is given (`(signature, algorithm)`; S3 sends them
    /// as `x-amz-meta-*`). A local bucket has no metadata: the signature is written first, alone,
    /// to the file `<key>` + [`SIGNATURE_SUFFIX`], then the object, so an object is never seen
    /// without its signature. Returns the object's [`location`](Self::location).
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        signature: Option<(&str, &str)>,
    ) -> Result<String> {
        let parse = |key: &str| {
            ObjectPath::parse(key).map_err(|e| StorageError::Corrupt {
                what: format!("object key {key}"),
                detail: e.to_string(),
            })
        };
        let path = parse(key)?;
        let store = self.store(bucket)?;
        let mut options = PutOptions::default();
        if let Some((signature, algorithm)) = signature {
            match &self.config {
                BucketStoreConfig::Local { .. } => {
                    let sidecar = parse(&format!("{key}{SIGNATURE_SUFFIX}"))?;
                    store
                        .put(&sidecar, Bytes::from(signature.to_owned()).into())
                        .await?;
                }
                BucketStoreConfig::S3(_) => {
                    options.attributes.insert(
                        Attribute::Metadata("signature".into()),
                        signature.to_owned().into(),
                    );
                    options.attributes.insert(
                        Attribute::Metadata("signature-algorithm".into()),
                        algorithm.to_owned().into(),
                    );
                }
            }
        }
        store
            .put_opts(&path, Bytes::from(body).into(), options)
            .await?;
        Ok(self.location(bucket, key))
    }
}

/// In a local bucket, the file beside an object holding its `signature` metadata (hex).
pub const SIGNATURE_SUFFIX: &str = ".signature";

/// A plain-text flow-log file: gzip of the header line and one line per record.
pub fn plain_text_gz(format: &LogFormat, records: &[FlowRecord]) -> Result<Vec<u8>> {
    let gzip = |e| StorageError::io("gzip stream", e);
    let mut out = GzEncoder::new(Vec::new(), Compression::default());
    let mut text = format.header();
    text.push('\n');
    for record in records {
        format.encode_into(record, &mut text);
        text.push('\n');
        if text.len() >= 64 * 1024 {
            out.write_all(text.as_bytes()).map_err(gzip)?;
            text.clear();
        }
    }
    out.write_all(text.as_bytes()).map_err(gzip)?;
    out.finish().map_err(gzip)
}

/// A Parquet flow-log file: AWS's columns, GZIP-compressed.
pub fn parquet_file(format: &LogFormat, records: &[FlowRecord]) -> Result<Vec<u8>> {
    let batch = to_record_batch(format, records)?;
    let properties = WriterProperties::builder()
        .set_compression(ParquetCompression::GZIP(GzipLevel::default()))
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(properties))?;
    writer.write(&batch)?;
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use arrow_array::{Array, Int32Array, Int64Array, StringArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    const LINES: [&str; 2] = [
        "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
        "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
    ];

    fn records() -> (LogFormat, Vec<FlowRecord>) {
        let format = LogFormat::default_vpc();
        let records = LINES.iter().map(|l| format.decode(l).unwrap()).collect();
        (format, records)
    }

    #[test]
    fn plain_text_is_gzip_with_the_header_first() {
        let (format, records) = records();
        let gz = plain_text_gz(&format, &records).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(
            text,
            format!(
                "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n{}\n{}\n",
                LINES[0], LINES[1]
            )
        );
    }

    #[test]
    fn parquet_has_aws_columns_and_gzip_pages() {
        let (format, records) = records();
        let file = parquet_file(&format, &records).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file)).unwrap();
        let meta = builder.metadata().clone();
        let column = meta.row_group(0).column(0);
        assert_eq!(
            column.compression(),
            ParquetCompression::GZIP(GzipLevel::default())
        );
        let batch = builder.build().unwrap().next().unwrap().unwrap();
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names[1], "account_id");
        assert_eq!(names[13], "log_status");
        assert_eq!(batch.num_rows(), 2);
        let version = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert_eq!(version.value(0), 2);
        let bytes = batch
            .column(9)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(bytes.value(0), 4249);
        assert!(bytes.is_null(1), "NODATA has no bytes");
        let status = batch
            .column(13)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(status.value(1), "NODATA");
        assert_eq!(
            flowwatch_flowlog::from_record_batch(&batch).unwrap(),
            records
        );
    }

    #[tokio::test]
    async fn files_land_under_the_bucket_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let buckets = Buckets::new(BucketStoreConfig::Local {
            root: tmp.path().join("s3"),
        });
        let (format, records) = records();
        let key = "p/AWSLogs/123456789010/vpcflowlogs/us-east-1/2014/12/14/f.log.gz";
        let location = buckets
            .write_flow_log_file("my-bucket", key, FlowFileFormat::PlainText, format, records)
            .await
            .unwrap();
        let expected = tmp.path().join("s3/my-bucket").join(key);
        assert_eq!(location, expected.display().to_string());
        assert!(std::fs::metadata(&expected).unwrap().len() > 20);
    }

    #[tokio::test]
    async fn a_local_objects_signature_is_a_file_beside_it() {
        let tmp = tempfile::tempdir().unwrap();
        let buckets = Buckets::new(BucketStoreConfig::Local {
            root: tmp.path().join("s3"),
        });
        let key = "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/24/d.json.gz";
        buckets
            .put_object(
                "b",
                key,
                b"digest".to_vec(),
                Some(("00ff", "SHA256withRSA")),
            )
            .await
            .unwrap();
        let path = tmp.path().join("s3/b").join(key);
        assert_eq!(std::fs::read(&path).unwrap(), b"digest");
        let sidecar = format!("{}{SIGNATURE_SUFFIX}", path.display());
        assert_eq!(std::fs::read_to_string(sidecar).unwrap(), "00ff");
        buckets
            .put_object("b", "plain.json.gz", b"x".to_vec(), None)
            .await
            .unwrap();
        assert!(!tmp.path().join("s3/b/plain.json.gz.signature").exists());
    }
}
