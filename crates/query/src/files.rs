//! Queries straight over files, with no server: the flow-log objects AWS (or flowwatch's S3
//! delivery) writes, and CloudTrail log files.
//!
//! A path is a file or a directory searched recursively (for example `./AWSLogs/`). Each file
//! is recognised by its name:
//!
//! - `*.log.gz`, `*.log`: flow-log plain text, the first line naming the fields (the header
//!   AWS writes), then one record per line;
//! - `*.parquet`: flow-log Parquet, columns named as AWS names them;
//! - `*.json.gz`, `*.json`: CloudTrail, `{"Records": [...]}`;
//!
//! anything else is skipped and counted. Every file is one log stream (`@logStream` = its
//! path below the root); `@log` is the root path. Flow-log records are stamped with their
//! `start` (as delivery to CloudWatch Logs does) and their fields are named by the Insights
//! names of their format's fields (`srcAddr`, `dstPort`, `interfaceId`, …), whatever the
//! format. CloudTrail records are stamped with `eventTime`, and their fields are discovered
//! from the JSON as for any JSON event.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use flowwatch_flowlog::{Field, LogFormat};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{QueryError, Result};
use crate::input::{Event, FieldPositions, InputBuilder};

/// What a file holds, decided by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    /// Flow-log plain text with a header line; `gzip` when compressed.
    FlowLogText { gzip: bool },
    /// Flow-log Parquet.
    FlowLogParquet,
    /// A CloudTrail log file; `gzip` when compressed.
    CloudTrail { gzip: bool },
}

impl FileKind {
    /// The kind of the file at `path`, `None` for a file queries do not read.
    pub fn of(path: &Path) -> Option<FileKind> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".log.gz") {
            Some(FileKind::FlowLogText { gzip: true })
        } else if name.ends_with(".log") {
            Some(FileKind::FlowLogText { gzip: false })
        } else if name.ends_with(".parquet") {
            Some(FileKind::FlowLogParquet)
        } else if name.ends_with(".json.gz") {
            Some(FileKind::CloudTrail { gzip: true })
        } else if name.ends_with(".json") {
            Some(FileKind::CloudTrail { gzip: false })
        } else {
            None
        }
    }
}

/// The files under one root that a query reads, in path order.
#[derive(Debug, Clone)]
pub struct FileSet {
    pub root: PathBuf,
    /// Each readable file, its kind and size in bytes.
    pub files: Vec<(PathBuf, FileKind, u64)>,
    /// Files skipped because their names say nothing a query reads.
    pub skipped: usize,
}

impl FileSet {
    /// Finds the files at `root` (a file, or a directory searched recursively).
    pub fn find(root: &Path) -> Result<FileSet> {
        let meta = std::fs::metadata(root).map_err(|e| io_error(root, e))?;
        let mut set = FileSet {
            root: root.to_owned(),
            files: Vec::new(),
            skipped: 0,
        };
        if meta.is_file() {
            match FileKind::of(root) {
                Some(kind) => set.files.push((root.to_owned(), kind, meta.len())),
                None => {
                    return Err(QueryError::Input {
                        message: format!(
                            "{}: not a file a query reads (.log.gz, .log, .parquet, .json.gz, .json)",
                            root.display()
                        ),
                    });
                }
            }
            return Ok(set);
        }
        let mut pending = vec![root.to_owned()];
        while let Some(dir) = pending.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| io_error(&dir, e))?;
                let path = entry.path();
                let meta = entry.metadata().map_err(|e| io_error(&path, e))?;
                if meta.is_dir() {
                    pending.push(path);
                } else if let Some(kind) = FileKind::of(&path) {
                    set.files.push((path, kind, meta.len()));
                } else {
                    set.skipped += 1;
                }
            }
        }
        set.files.sort();
        Ok(set)
    }

    /// Whether every file holds flow-log records (text or Parquet): a query over them can type
    /// their numbers ([`InputBuilder::with_flow_types`]).
    pub fn flow_logs_only(&self) -> bool {
        self.files
            .iter()
            .all(|(_, kind, _)| !matches!(kind, FileKind::CloudTrail { .. }))
    }

    /// Bytes of all the files (as stored, compressed or not).
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|(_, _, size)| size).sum()
    }

    /// The names of the fields of the files' records, at most `max` (first seen first): the
    /// fields a flow-log file's header or columns name, and those discovered in CloudTrail
    /// records (which are read for it). For SQL, whose tables have every field as a column.
    pub fn field_names(&self, max: usize) -> Result<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            if names.len() < max && !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        };
        for (path, kind, _) in &self.files {
            let found = match kind {
                FileKind::FlowLogText { gzip } => open(path, *gzip).and_then(|r| {
                    let header = r
                        .lines()
                        .next()
                        .transpose()
                        .map_err(|e| bad(e.to_string()))?;
                    if let Some(header) = header {
                        let format = LogFormat::from_header(header.trim_end()).map_err(|e| {
                            bad(format!("the first line is not a flow-log header: {e}"))
                        })?;
                        format.fields().iter().for_each(|f| add(f.insights_name()));
                    }
                    Ok(())
                }),
                FileKind::FlowLogParquet => File::open(path)
                    .map_err(|e| io_error(path, e))
                    .and_then(|file| {
                        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                            .map_err(|e| bad(format!("not a Parquet file: {e}")))?;
                        builder
                            .schema()
                            .fields()
                            .iter()
                            .filter_map(|f| Field::from_parquet_name(f.name()))
                            .for_each(|f| add(f.insights_name()));
                        Ok(())
                    }),
                FileKind::CloudTrail { gzip } => open(path, *gzip).and_then(|r| {
                    each_cloudtrail_record(r, |record| {
                        for (name, _) in crate::discover::discover(&record.to_string()) {
                            add(&name);
                        }
                        Ok(())
                    })
                }),
            };
            found.map_err(|e| match e {
                QueryError::Input { message } => QueryError::Input {
                    message: format!("{}: {message}", path.display()),
                },
                other => other,
            })?;
        }
        Ok(names)
    }

    /// Reads every file into `input`, calling `progress` with each file's size once read.
    pub fn load(&self, input: &mut InputBuilder, mut progress: impl FnMut(u64)) -> Result<()> {
        let log = self.root.display().to_string();
        let mut seq = 0u64;
        for (path, kind, size) in &self.files {
            let stream = path
                .strip_prefix(&self.root)
                .ok()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(path)
                .display()
                .to_string();
            let ptr_needed = input.needs(crate::input::PTR);
            let mut reader = FileReader {
                ptr_needed,
                input: &mut *input,
                log: &log,
                stream: &stream,
                seq: &mut seq,
                ptr: String::new(),
                spans: Vec::new(),
            };
            let read = match kind {
                FileKind::FlowLogText { gzip } => open(path, *gzip).and_then(|r| reader.text(r)),
                FileKind::FlowLogParquet => reader.parquet(path),
                FileKind::CloudTrail { gzip } => {
                    open(path, *gzip).and_then(|r| reader.cloudtrail(r))
                }
            };
            read.map_err(|e| match e {
                QueryError::Input { message } => QueryError::Input {
                    message: format!("{}: {message}", path.display()),
                },
                other => other,
            })?;
            progress(*size);
        }
        Ok(())
    }
}

fn io_error(path: &Path, e: std::io::Error) -> QueryError {
    QueryError::Input {
        message: format!("{}: {e}", path.display()),
    }
}

fn bad(message: impl Into<String>) -> QueryError {
    QueryError::Input {
        message: message.into(),
    }
}

fn open(path: &Path, gzip: bool) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    Ok(if gzip {
        Box::new(BufReader::new(MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// Reads one file's records into the input.
struct FileReader<'a> {
    /// Whether the query reads `@ptr`.
    ptr_needed: bool,
    input: &'a mut InputBuilder,
    log: &'a str,
    stream: &'a str,
    seq: &'a mut u64,
    /// The `@ptr` of the event being pushed (one buffer, not a string per event).
    ptr: String,
    /// Where a record's values are (one list, not one per record).
    spans: Vec<(usize, usize)>,
}

impl FileReader<'_> {
    /// How the records of a file in `format` are read: done once per file.
    fn named(&self, format: &LogFormat) -> Named {
        let names: Vec<&str> = format.fields().iter().map(|f| f.insights_name()).collect();
        Named {
            count: names.len(),
            positions: self.input.positions_of(&names),
            start_at: format.position(Field::Start),
        }
    }

    fn push_flow_record(&mut self, named: &Named, line: &str) -> Result<()> {
        // One pass over the bytes, into spans kept from record to record.
        let mut spans = std::mem::take(&mut self.spans);
        spans.clear();
        let mut start = 0;
        for (i, &b) in line.as_bytes().iter().enumerate() {
            if b == b' ' {
                spans.push((start, i));
                start = i + 1;
            }
        }
        spans.push((start, line.len()));
        let pushed = if spans.len() == named.count {
            let timestamp = named
                .start_at
                .and_then(|at| line.get(spans[at].0..spans[at].1))
                .and_then(|v| v.parse::<i64>().ok())
                .map_or(0, |s| s.saturating_mul(1000));
            self.push(timestamp, line, Some((&named.positions, &spans)))
        } else {
            Err(bad(format!(
                "a record has {} values where the header names {} fields",
                spans.len(),
                named.count
            )))
        };
        self.spans = spans;
        pushed
    }

    /// Appends the next event of this file: its fields named by `named`, or discovered.
    fn push(
        &mut self,
        timestamp: i64,
        message: &str,
        named: Option<(&FieldPositions, &[(usize, usize)])>,
    ) -> Result<()> {
        use std::fmt::Write as _;
        *self.seq += 1;
        if self.ptr_needed {
            self.ptr.clear();
            let _ = write!(self.ptr, "{}:{}", self.stream, self.seq);
        }
        let event = Event {
            timestamp,
            ingestion_time: timestamp,
            seq: *self.seq,
            log_stream: self.stream,
            log: self.log,
            ptr: &self.ptr,
            message,
        };
        match named {
            Some((at, spans)) => self.input.push_named(&event, at, spans),
            None => self.input.push(&event),
        }
    }

    fn text(&mut self, mut reader: Box<dyn BufRead>) -> Result<()> {
        // One line buffer for the whole file.
        let mut line = String::new();
        if reader
            .read_line(&mut line)
            .map_err(|e| bad(e.to_string()))?
            == 0
        {
            return Ok(());
        }
        let format = LogFormat::from_header(line.trim_end())
            .map_err(|e| bad(format!("the first line is not a flow-log header: {e}")))?;
        let named = self.named(&format);
        loop {
            line.clear();
            if reader
                .read_line(&mut line)
                .map_err(|e| bad(e.to_string()))?
                == 0
            {
                return Ok(());
            }
            let record = line.trim_end_matches(['\n', '\r']);
            if record.is_empty() {
                continue;
            }
            self.push_flow_record(&named, record)?;
        }
    }

    fn parquet(&mut self, path: &Path) -> Result<()> {
        let file = File::open(path).map_err(|e| io_error(path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| bad(format!("not a Parquet file: {e}")))?;
        let fields: Vec<Field> = builder
            .schema()
            .fields()
            .iter()
            .filter_map(|f| Field::from_parquet_name(f.name()))
            .collect();
        let format =
            LogFormat::new(fields).map_err(|e| bad(format!("no flow-log columns: {e}")))?;
        let named = self.named(&format);
        let reader = builder
            .build()
            .map_err(|e| bad(format!("cannot read: {e}")))?;
        let mut line = String::new();
        for batch in reader {
            let batch = batch.map_err(|e| bad(format!("cannot read: {e}")))?;
            let records = flowwatch_flowlog::from_record_batch(&batch)
                .map_err(|e| bad(format!("not flow-log columns: {e}")))?;
            for record in &records {
                line.clear();
                format.encode_into(record, &mut line);
                self.push_flow_record(&named, &line)?;
            }
        }
        Ok(())
    }

    /// A CloudTrail log file, `{"Records": [...]}`, read one record at a time (a file is
    /// never held whole in memory).
    fn cloudtrail(&mut self, reader: Box<dyn BufRead>) -> Result<()> {
        each_cloudtrail_record(reader, |record| self.push_cloudtrail_record(record))
    }

    fn push_cloudtrail_record(&mut self, record: &serde_json::Value) -> Result<()> {
        let message = record.to_string();
        let timestamp = record
            .get("eventTime")
            .and_then(|t| t.as_str())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(0, |t| t.timestamp_millis());
        self.push(timestamp, &message, None)
    }
}

/// Calls `each` with every record of a CloudTrail file's `Records` array as it is parsed (the
/// file is never held whole). A record `each` refuses stops the parse with its error.
fn each_cloudtrail_record(
    reader: Box<dyn BufRead>,
    mut each: impl FnMut(&serde_json::Value) -> Result<()>,
) -> Result<()> {
    let mut failed = None;
    let mut json = serde_json::Deserializer::from_reader(reader);
    let found = CloudTrailFile {
        each: &mut each,
        failed: &mut failed,
    }
    .deserialize(&mut json);
    if let Some(error) = failed {
        return Err(error);
    }
    match found {
        Ok(true) => json
            .end()
            .map_err(|e| bad(format!("not CloudTrail JSON: {e}"))),
        Ok(false) => Err(bad("not a CloudTrail log file: no \"Records\" array")),
        Err(e) => Err(bad(format!("not CloudTrail JSON: {e}"))),
    }
}

/// A record callback of [`each_cloudtrail_record`].
type EachRecord<'e> = dyn FnMut(&serde_json::Value) -> Result<()> + 'e;

/// Reads the top-level object of a CloudTrail file, handing the records of its `Records`
/// array over as they are parsed (other members are skipped). Says whether it had that array.
/// A record the callback refuses stops the parse; its error is left in `failed`.
struct CloudTrailFile<'c, 'e> {
    each: &'c mut EachRecord<'e>,
    failed: &'c mut Option<QueryError>,
}

impl<'de> DeserializeSeed<'de> for CloudTrailFile<'_, '_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<bool, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CloudTrailFile<'_, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail log file, {\"Records\": [...]}")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> std::result::Result<bool, M::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" && !found {
                found = true;
                map.next_value_seed(CloudTrailRecords {
                    each: &mut *self.each,
                    failed: &mut *self.failed,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// The `Records` array of a CloudTrail file, each record handed over as it is parsed.
struct CloudTrailRecords<'c, 'e> {
    each: &'c mut EachRecord<'e>,
    failed: &'c mut Option<QueryError>,
}

impl<'de> DeserializeSeed<'de> for CloudTrailRecords<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CloudTrailRecords<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> std::result::Result<(), S::Error> {
        while let Some(record) = seq.next_element::<serde_json::Value>()? {
            if let Err(error) = (self.each)(&record) {
                let message = error.to_string();
                *self.failed = Some(error);
                return Err(serde::de::Error::custom(message));
            }
        }
        Ok(())
    }
}

/// How the records of one flow-log file are read: how many fields each has, where the
/// query's fields are among them, and which is the start time.
#[derive(Debug)]
struct Named {
    count: usize,
    positions: FieldPositions,
    start_at: Option<usize>,
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::{Compiled, Params, run};

    fn query(root: &Path, text: &str) -> Vec<Vec<(String, String)>> {
        let compiled = Compiled::new(text).unwrap();
        let set = FileSet::find(root).unwrap();
        let mut input = compiled.input(1 << 26);
        set.load(&mut input, |_| {}).unwrap();
        let params = Params {
            start_ms: i64::MIN / 2,
            end_ms: i64::MAX / 2,
            now_ms: 0,
            default_limit: 10_000,
        };
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(run(&compiled, input.finish().unwrap(), params, 1 << 26))
            .unwrap()
            .rows
    }

    fn gz(path: &Path, text: &str) {
        let mut enc =
            flate2::write::GzEncoder::new(File::create(path).unwrap(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
    }

    #[test]
    fn custom_format_text_files_are_named_by_their_header() {
        let dir = tempdir();
        let day = dir.join("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24");
        std::fs::create_dir_all(&day).unwrap();
        gz(
            &day.join("a.log.gz"),
            "version vpc-id srcaddr dstaddr dstport action start end\n\
             5 vpc-1 10.0.0.1 10.0.0.2 22 REJECT 1700000000 1700000060\n\
             5 vpc-1 10.0.0.1 10.0.0.3 22 REJECT 1700000000 1700000060\n\
             5 vpc-1 10.0.0.9 10.0.0.2 443 ACCEPT 1700000000 1700000060\n",
        );
        std::fs::write(day.join("README.txt"), "not a log").unwrap();
        let rows = query(
            &dir,
            "filter action = 'REJECT' | stats count(*) as n by srcAddr, vpcId",
        );
        assert_eq!(
            rows,
            vec![vec![
                ("srcAddr".into(), "10.0.0.1".into()),
                ("vpcId".into(), "vpc-1".into()),
                ("n".into(), "2".into())
            ]]
        );
        assert_eq!(FileSet::find(&dir).unwrap().skipped, 1);
    }

    #[test]
    fn cloudtrail_files_are_json_events_stamped_with_event_time() {
        let dir = tempdir();
        gz(
            &dir.join("trail.json.gz"),
            r#"{"Records":[
              {"eventTime":"2026-11-24T01:00:00Z","eventName":"ConsoleLogin","userIdentity":{"userName":"alice"},"errorCode":"AccessDenied"},
              {"eventTime":"2026-11-24T01:05:00Z","eventName":"DescribeLogGroups","userIdentity":{"userName":"bob"}}]}"#,
        );
        let rows = query(
            &dir,
            "filter ispresent(errorCode) | fields @timestamp, userIdentity.userName",
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0][0],
            ("@timestamp".into(), "2026-11-24 01:00:00.000".into())
        );
        assert_eq!(rows[0][1], ("userIdentity.userName".into(), "alice".into()));
    }

    #[test]
    fn cloudtrail_files_are_read_record_by_record_and_checked_whole() {
        let dir = tempdir();
        // Other members before and after the records are skipped.
        gz(
            &dir.join("a.json.gz"),
            r#"{"Version":"1","Records":[{"eventTime":"2026-11-24T01:00:00Z","eventName":"A"}],"More":{"x":[1]}}"#,
        );
        assert_eq!(query(&dir, "stats count(*) as n")[0][0].1, "1");
        let load = |text: &str| {
            let dir = tempdir();
            gz(&dir.join("b.json.gz"), text);
            let compiled = Compiled::new("fields @message").unwrap();
            let mut input = compiled.input(1 << 20);
            FileSet::find(&dir)
                .unwrap()
                .load(&mut input, |_| {})
                .map(|_| input.records())
        };
        for bad in [
            r#"{"Records":[{"eventName":"A"}"#,
            r#"{"Records":[{"eventName":"A"}]} trailing"#,
            r#"{"Records":{"eventName":"A"}}"#,
            r#"{"NotRecords":[]}"#,
            r#"[1, 2]"#,
        ] {
            let err = load(bad).unwrap_err().to_string();
            assert!(err.contains("b.json.gz"), "{bad}: {err}");
        }
        assert_eq!(load(r#"{"Records":[]}"#).unwrap(), 0);
    }

    #[test]
    fn a_bad_file_is_an_input_error_naming_it() {
        let dir = tempdir();
        std::fs::write(dir.join("x.log"), "not a header line\n").unwrap();
        let compiled = Compiled::new("fields @message").unwrap();
        let mut input = compiled.input(1 << 20);
        let err = FileSet::find(&dir)
            .unwrap()
            .load(&mut input, |_| {})
            .unwrap_err();
        assert!(err.to_string().contains("x.log"), "{err}");
        assert!(FileSet::find(&dir.join("missing")).is_err());
    }

    fn tempdir() -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "flowwatch-query-files-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
