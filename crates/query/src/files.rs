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
//!
//! [`load`] reads them on several threads into a running query; an event's `@ptr` is
//! `<stream>:<place>`, its place in the file being a text line's byte offset or a Parquet
//! row's or CloudTrail record's number.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

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
}

/// Plain-text files larger than this are read in ranges of lines this long, by several threads.
const CHUNK_BYTES: u64 = 32 << 20;

/// Bits of an event's `seq` that hold its place in its file (a byte offset, or a record
/// number); the bits above hold the file's number, so `seq` orders events as the files and
/// their lines do whatever thread read them.
const POSITION_BITS: u32 = 40;

/// Reads every file of `sets` into `input`, calling `progress` with the bytes of each piece
/// (a file, or a range of a large text file) once read. A streamed input
/// ([`crate::Compiled::stream`]) is read on up to `threads` threads, each pushing into a fork
/// of `input` ([`InputBuilder::fork`]): a large plain-text file in ranges of lines, other
/// files whole. Events are then handed to the query in no fixed order; their `seq` (the
/// file's number and the event's place in it) keeps the order of results. A kept input is
/// read on this thread.
///
/// Stops at the first error, or with [`QueryError::InputClosed`] when the query needs no
/// more input.
pub fn load(
    sets: &[FileSet],
    input: &mut InputBuilder,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    load_in(sets, input, threads, CHUNK_BYTES, progress)
}

/// [`load`], text files split in ranges of `chunk` bytes.
fn load_in(
    sets: &[FileSet],
    input: &mut InputBuilder,
    threads: usize,
    chunk: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    let units = units(sets, chunk);
    let threads = threads.min(units.len());
    if threads <= 1 || !input.is_streamed() {
        for unit in &units {
            unit.read(input)?;
            progress(unit.bytes());
        }
        return Ok(());
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failed: Mutex<Option<QueryError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let Some(mut fork) = input.fork() else {
                break;
            };
            let (units, next, stop, failed) = (&units, &next, &stop, &failed);
            scope.spawn(move || {
                let mut read = || -> Result<()> {
                    while !stop.load(Ordering::Relaxed) {
                        let Some(unit) = units.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            break;
                        };
                        unit.read(&mut fork)?;
                        progress(unit.bytes());
                    }
                    Ok(())
                };
                let result = read().and_then(|()| fork.finish().map(drop));
                if let Err(error) = result {
                    // A closed input is this fork's partition: the other threads read on (their
                    // partitions close too if the query needs nothing more).
                    if !matches!(error, QueryError::InputClosed) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    let mut failed = failed.lock().unwrap_or_else(PoisonError::into_inner);
                    // A real error wins over the query having closed its input.
                    if failed
                        .as_ref()
                        .is_none_or(|f| matches!(f, QueryError::InputClosed))
                    {
                        *failed = Some(error);
                    }
                }
            });
        }
    });
    match failed.into_inner().unwrap_or_else(PoisonError::into_inner) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The pieces the files of `sets` are read in, in file order.
fn units(sets: &[FileSet], chunk: u64) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    let mut number = 0u64;
    for set in sets {
        for (path, kind, size) in &set.files {
            let unit = |range| Unit {
                set,
                number,
                path,
                kind: *kind,
                size: *size,
                range,
            };
            if *kind == (FileKind::FlowLogText { gzip: false }) && *size > chunk {
                let mut start = 0;
                while start < *size {
                    let end = (*size).min(start.saturating_add(chunk));
                    units.push(unit(Some((start, end))));
                    start = end;
                }
            } else {
                units.push(unit(None));
            }
            number += 1;
        }
    }
    units
}

/// One piece of the input: a whole file, or the lines of a plain-text file starting in a
/// range of bytes.
#[derive(Debug)]
struct Unit<'s> {
    set: &'s FileSet,
    /// The file's number among all the files read (the high bits of its events' `seq`).
    number: u64,
    path: &'s Path,
    kind: FileKind,
    size: u64,
    range: Option<(u64, u64)>,
}

impl Unit<'_> {
    fn bytes(&self) -> u64 {
        self.range.map_or(self.size, |(start, end)| end - start)
    }

    /// Reads this piece's events into `input`.
    fn read(&self, input: &mut InputBuilder) -> Result<()> {
        let root = &self.set.root;
        let stream = self
            .path
            .strip_prefix(root)
            .ok()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(self.path)
            .display()
            .to_string();
        let log = root.display().to_string();
        let ptr_needed = input.needs(crate::input::PTR);
        let mut reader = FileReader {
            ptr_needed,
            input,
            log: &log,
            stream: &stream,
            file: self.number.min((1 << (63 - POSITION_BITS)) - 1) << POSITION_BITS,
            ptr: String::new(),
            spans: Vec::new(),
        };
        let path = self.path;
        let read = match self.kind {
            FileKind::FlowLogText { gzip } => reader.text(path, gzip, self.range),
            FileKind::FlowLogParquet => reader.parquet(path),
            FileKind::CloudTrail { gzip } => open(path, gzip).and_then(|r| reader.cloudtrail(r)),
        };
        read.map_err(|e| match e {
            QueryError::Input { message } => QueryError::Input {
                message: format!("{}: {message}", path.display()),
            },
            other => other,
        })
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

/// [`open_read`], buffered.
fn open(path: &Path, gzip: bool) -> Result<Box<dyn BufRead>> {
    Ok(Box::new(BufReader::new(open_read(path, gzip)?)))
}

/// The bytes of the file at `path`, inflated when `gzip`.
fn open_read(path: &Path, gzip: bool) -> Result<Box<dyn Read>> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    Ok(if gzip {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// Text read in large blocks, handed out as runs of whole lines checked as UTF-8 once per
/// block (not a `String` or a check per line), with where each run starts in the input.
struct Blocks<R> {
    reader: R,
    buf: Vec<u8>,
    /// Unread bytes are `buf[pos..len]`.
    pos: usize,
    len: usize,
    /// Where in the input `buf` starts.
    offset: u64,
    eof: bool,
}

/// Bytes a text file is read in at once (the buffer grows for a longer line).
const TEXT_BLOCK: usize = 1 << 20;

impl<R: Read> Blocks<R> {
    /// The text of `reader`, whose first byte is at `offset` in the input, read `block` bytes
    /// at a time.
    fn new(reader: R, offset: u64, block: usize) -> Self {
        Self {
            reader,
            buf: vec![0; block.max(1)],
            pos: 0,
            len: 0,
            offset,
            eof: false,
        }
    }

    /// The next run of whole lines (each ending in `\n`, except the input's last line) and
    /// where it starts; `None` at the end of the input.
    fn next_block(&mut self) -> Result<Option<(u64, &str)>> {
        loop {
            let start = self.pos;
            let end = match memchr::memrchr(b'\n', &self.buf[start..self.len]) {
                Some(n) => start + n + 1,
                None if self.eof && start < self.len => self.len,
                None if self.eof => return Ok(None),
                None => {
                    self.fill()?;
                    continue;
                }
            };
            self.pos = end;
            let at = self.offset + start as u64;
            let text = std::str::from_utf8(&self.buf[start..end]).map_err(|e| {
                bad(format!(
                    "the text at byte {} is not UTF-8",
                    at + e.valid_up_to() as u64
                ))
            })?;
            return Ok(Some((at, text)));
        }
    }

    /// Skips the rest of the current line, through its `\n`.
    fn skip_line(&mut self) -> Result<()> {
        loop {
            if let Some(n) = memchr::memchr(b'\n', &self.buf[self.pos..self.len]) {
                self.pos += n + 1;
                return Ok(());
            }
            self.pos = self.len;
            if self.eof {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// Keeps the unfinished line and reads more after it.
    #[cold]
    fn fill(&mut self) -> Result<()> {
        self.buf.copy_within(self.pos..self.len, 0);
        self.offset += self.pos as u64;
        self.len -= self.pos;
        self.pos = 0;
        if self.len == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.len..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(bad(e.to_string())),
            }
            return Ok(());
        }
    }
}

/// The spans of `line`'s space-separated values, into `spans` (cleared first). Eight bytes
/// at a time: a word's spaces are found together by a bit trick, not byte by byte.
fn space_spans(line: &[u8], spans: &mut Vec<(usize, usize)>) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    spans.clear();
    let mut start = 0;
    let mut base = 0;
    let mut words = line.chunks_exact(8);
    for word in &mut words {
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default())
            ^ (ONES * u64::from(b' '));
        // The high bit of exactly the bytes that were spaces (no carry crosses a byte).
        let mut found = !(((x & LOW7) + LOW7) | x | LOW7);
        while found != 0 {
            let i = base + (found.trailing_zeros() / 8) as usize;
            spans.push((start, i));
            start = i + 1;
            found &= found - 1;
        }
        base += 8;
    }
    for (j, &b) in words.remainder().iter().enumerate() {
        if b == b' ' {
            spans.push((start, base + j));
            start = base + j + 1;
        }
    }
    spans.push((start, line.len()));
}

/// Reads one file's records into the input.
struct FileReader<'a> {
    /// Whether the query reads `@ptr`.
    ptr_needed: bool,
    input: &'a mut InputBuilder,
    log: &'a str,
    stream: &'a str,
    /// The file's number, shifted to the high bits of `seq`.
    file: u64,
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

    /// Pushes a flow-log record, `position` its place in its file.
    fn push_flow_record(&mut self, named: &Named, position: u64, line: &str) -> Result<()> {
        // One pass over the bytes, into spans kept from record to record.
        let mut spans = std::mem::take(&mut self.spans);
        space_spans(line.as_bytes(), &mut spans);
        let pushed = if spans.len() == named.count {
            let timestamp = named
                .start_at
                .and_then(|at| line.get(spans[at].0..spans[at].1))
                .and_then(|v| v.parse::<i64>().ok())
                .map_or(0, |s| s.saturating_mul(1000));
            self.push(timestamp, position, line, Some((&named.positions, &spans)))
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

    /// Appends an event of this file: its fields named by `named`, or discovered. `position`
    /// is its place in the file (a text line's byte offset, a record's number): its `@ptr` is
    /// `<stream>:<position>`.
    fn push(
        &mut self,
        timestamp: i64,
        position: u64,
        message: &str,
        named: Option<(&FieldPositions, &[(usize, usize)])>,
    ) -> Result<()> {
        use std::fmt::Write as _;
        if self.ptr_needed {
            self.ptr.clear();
            let _ = write!(self.ptr, "{}:{position}", self.stream);
        }
        let event = Event {
            timestamp,
            ingestion_time: timestamp,
            seq: self.file | position.min((1 << POSITION_BITS) - 1),
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

    /// A flow-log text file: its header line names the fields. With `range`, only the
    /// records whose lines start in it (the header is read for their names).
    fn text(&mut self, path: &Path, gzip: bool, range: Option<(u64, u64)>) -> Result<()> {
        let mut blocks = Blocks::new(open_read(path, gzip)?, 0, TEXT_BLOCK);
        let Some((at, first)) = blocks.next_block()? else {
            return Ok(());
        };
        let (header, rest) = first.split_once('\n').unwrap_or((first, ""));
        let format = LogFormat::from_header(header.trim_end())
            .map_err(|e| bad(format!("the first line is not a flow-log header: {e}")))?;
        let named = self.named(&format);
        let (start, end) = range.unwrap_or((0, u64::MAX));
        if start == 0 {
            let rest_at = at + header.len() as u64 + 1;
            if !self.flow_lines(&named, rest_at, rest, end)? {
                return Ok(());
            }
        } else {
            // From the byte before `start`: the rest of the line it is in is another range's
            // (or, if it is a line's end, the next line starts at `start`).
            let mut file = File::open(path).map_err(|e| io_error(path, e))?;
            file.seek(SeekFrom::Start(start - 1))
                .map_err(|e| io_error(path, e))?;
            blocks = Blocks::new(Box::new(file), start - 1, TEXT_BLOCK);
            blocks.skip_line()?;
        }
        while let Some((at, text)) = blocks.next_block()? {
            if !self.flow_lines(&named, at, text, end)? {
                break;
            }
        }
        Ok(())
    }

    /// Pushes the records of `text`, whole lines starting at byte `at`, that start before
    /// `end`; `false` once a line starts at or after it.
    fn flow_lines(&mut self, named: &Named, at: u64, text: &str, end: u64) -> Result<bool> {
        // One search over the run for its line ends (not one per line).
        let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
        let mut start = 0;
        for stop in ends {
            if start > text.len() {
                break;
            }
            let line_at = at + start as u64;
            if line_at >= end {
                return Ok(false);
            }
            // `\n` is one byte, so both ends are character boundaries.
            let line = &text[start..stop];
            start = stop + 1;
            let record = line.strip_suffix('\r').unwrap_or(line);
            if !record.is_empty() {
                self.push_flow_record(named, line_at, record)?;
            }
        }
        Ok(true)
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
        let mut number = 0;
        for batch in reader {
            let batch = batch.map_err(|e| bad(format!("cannot read: {e}")))?;
            let records = flowwatch_flowlog::from_record_batch(&batch)
                .map_err(|e| bad(format!("not flow-log columns: {e}")))?;
            for record in &records {
                line.clear();
                format.encode_into(record, &mut line);
                number += 1;
                self.push_flow_record(&named, number, &line)?;
            }
        }
        Ok(())
    }

    /// A CloudTrail log file, `{"Records": [...]}`, read one record at a time (a file is
    /// never held whole in memory).
    fn cloudtrail(&mut self, reader: Box<dyn BufRead>) -> Result<()> {
        let mut number = 0;
        each_cloudtrail_record(reader, |record| {
            number += 1;
            self.push_cloudtrail_record(number, record)
        })
    }

    fn push_cloudtrail_record(&mut self, number: u64, record: &serde_json::Value) -> Result<()> {
        let message = record.to_string();
        let timestamp = record
            .get("eventTime")
            .and_then(|t| t.as_str())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(0, |t| t.timestamp_millis());
        self.push(timestamp, number, &message, None)
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
    use std::sync::atomic::AtomicU64;

    use super::*;
    use crate::{Compiled, Params, run};

    fn query(root: &Path, text: &str) -> Vec<Vec<(String, String)>> {
        let compiled = Compiled::new(text).unwrap();
        let set = FileSet::find(root).unwrap();
        let mut input = compiled.input(1 << 26);
        super::load(std::slice::from_ref(&set), &mut input, 1, &|_| {}).unwrap();
        let params = Params {
            start_ms: i64::MIN / 2,
            end_ms: i64::MAX / 2,
            now_ms: 0,
            default_limit: 10_000,
            stable_ties: false,
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
        let tmp = tempdir();
        let dir = tmp.path();
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
            dir,
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
        assert_eq!(FileSet::find(dir).unwrap().skipped, 1);
    }

    #[test]
    fn cloudtrail_files_are_json_events_stamped_with_event_time() {
        let tmp = tempdir();
        let dir = tmp.path();
        gz(
            &dir.join("trail.json.gz"),
            r#"{"Records":[
              {"eventTime":"2026-11-24T01:00:00Z","eventName":"ConsoleLogin","userIdentity":{"userName":"alice"},"errorCode":"AccessDenied"},
              {"eventTime":"2026-11-24T01:05:00Z","eventName":"DescribeLogGroups","userIdentity":{"userName":"bob"}}]}"#,
        );
        let rows = query(
            dir,
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
        let tmp = tempdir();
        let dir = tmp.path();
        // Other members before and after the records are skipped.
        gz(
            &dir.join("a.json.gz"),
            r#"{"Version":"1","Records":[{"eventTime":"2026-11-24T01:00:00Z","eventName":"A"}],"More":{"x":[1]}}"#,
        );
        assert_eq!(query(dir, "stats count(*) as n")[0][0].1, "1");
        let load = |text: &str| {
            let tmp = tempdir();
            let dir = tmp.path();
            gz(&dir.join("b.json.gz"), text);
            let compiled = Compiled::new("fields @message").unwrap();
            let mut input = compiled.input(1 << 20);
            let set = FileSet::find(dir).unwrap();
            super::load(&[set], &mut input, 1, &|_| {}).map(|_| input.records())
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
        let tmp = tempdir();
        let dir = tmp.path();
        std::fs::write(dir.join("x.log"), "not a header line\n").unwrap();
        let compiled = Compiled::new("fields @message").unwrap();
        let mut input = compiled.input(1 << 20);
        let set = FileSet::find(dir).unwrap();
        let err = super::load(&[set], &mut input, 1, &|_| {}).unwrap_err();
        assert!(err.to_string().contains("x.log"), "{err}");
        assert!(FileSet::find(&dir.join("missing")).is_err());
    }

    const PARAMS: Params = Params {
        start_ms: i64::MIN / 2,
        end_ms: i64::MAX / 2,
        now_ms: 0,
        default_limit: 10_000,
        stable_ties: true,
    };

    /// A flow-log text file of `n` records of varied lengths, with CRLF and empty lines and no
    /// newline after the last record.
    fn varied_file(path: &Path, n: u64) {
        let mut text = String::from(
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
        );
        for i in 0..n {
            let end = match i % 5 {
                0 => "\r\n",
                1 => "\n\n",
                _ => "\n",
            };
            text.push_str(&format!(
                "2 123456789012 eni-{} 10.0.{}.{} 10.1.0.1 {} 443 6 {} {} {} {} ACCEPT OK{}",
                i % 3,
                i % 7,
                i % 250,
                1024 + i,
                i % 11 + 1,
                i * 1000 + 40,
                1_700_000_000 + i % 13,
                1_700_000_060 + i % 13,
                if i + 1 == n { "" } else { end },
            ));
        }
        std::fs::write(path, text).unwrap();
    }

    /// Rows of `text` over the files at `root`, read in ranges of `chunk` bytes on `threads`
    /// threads into a streamed query (or a kept input when `threads` is 0).
    fn query_in(
        root: &Path,
        text: &str,
        chunk: u64,
        (threads, partitions): (usize, usize),
    ) -> (Vec<Vec<(String, String)>>, u64) {
        let compiled = Compiled::new(text).unwrap();
        let set = FileSet::find(root).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let output = if threads == 0 {
            let mut input = compiled.input(1 << 26);
            load_in(std::slice::from_ref(&set), &mut input, 1, chunk, &|_| {}).unwrap();
            runtime
                .block_on(run(&compiled, input.finish().unwrap(), PARAMS, 1 << 26))
                .unwrap()
        } else {
            let (input, streamed) = compiled
                .stream_partitioned(PARAMS, true, partitions)
                .unwrap();
            let feeder = std::thread::spawn(move || {
                let mut input = input;
                let read = AtomicU64::new(0);
                let progress = |bytes| {
                    read.fetch_add(bytes, Ordering::Relaxed);
                };
                match load_in(&[set], &mut input, threads, chunk, &progress) {
                    Ok(()) | Err(QueryError::InputClosed) => {}
                    Err(e) => panic!("{e}"),
                }
                input.finish().unwrap();
                read.into_inner()
            });
            let output = runtime.block_on(streamed.run(1 << 26)).unwrap();
            let read = feeder.join().unwrap();
            assert_eq!(read, std::fs::metadata(root).unwrap().len());
            output
        };
        (output.rows, output.records_scanned)
    }

    #[test]
    fn text_files_read_in_ranges_and_on_threads_give_every_record_once() {
        let tmp = tempdir();
        let dir = tmp.path();
        let file = dir.join("flows.log");
        varied_file(&file, 300);
        for text in [
            "stats count(*) as n, sum(bytes) as b, count_distinct(srcPort) as p by srcAddr | sort srcAddr",
            "fields srcPort, interfaceId, @ptr | limit 50",
            // Every group ties on `n`: ties are broken by the group keys.
            "stats count(*) as n by interfaceId | sort n desc | limit 2",
            "filter dstPort = 443 and srcPort > 1100 | fields @timestamp, srcPort, @ptr",
        ] {
            let whole = query_in(&file, text, u64::MAX, (0, 1));
            assert_eq!(whole.1, 300, "{text}");
            for chunk in [1, 7, 97, 4096] {
                assert_eq!(
                    query_in(&file, text, chunk, (0, 1)),
                    whole,
                    "{text} in {chunk}-byte ranges"
                );
                // Threads feeding one partition, a partition each, and two sharing one.
                for (threads, partitions) in [(2, 1), (2, 2), (3, 2)] {
                    assert_eq!(
                        query_in(&file, text, chunk, (threads, partitions)),
                        whole,
                        "{text} in {chunk}-byte ranges on {threads} threads, {partitions} partitions"
                    );
                }
            }
        }
        let (rows, _) = query_in(
            &file,
            "stats count(*) as n by interfaceId | sort n desc",
            7,
            (2, 2),
        );
        let enis: Vec<&str> = rows.iter().map(|r| r[0].1.as_str()).collect();
        assert_eq!(enis, ["eni-0", "eni-1", "eni-2"]);
        // `@ptr` is the record's byte offset in its file.
        let (rows, _) = query_in(&file, "filter srcPort = 1024 | fields @ptr", 7, (2, 2));
        let header = std::fs::read_to_string(&file).unwrap().find('\n').unwrap() + 1;
        assert_eq!(rows[0][0].1, format!("{}:{header}", file.display()));
    }

    #[test]
    fn spaces_are_found_a_word_at_a_time_as_byte_by_byte() {
        let mut spans = Vec::new();
        let mut state = 7u64;
        for n in 0..2000 {
            let len = n % 41;
            let line: Vec<u8> = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    [b' ', b'a', b'9', 0xa0, 0x20 ^ 0x80, b'-', 0x00][(state >> 59) as usize % 7]
                })
                .collect();
            space_spans(&line, &mut spans);
            let mut want = Vec::new();
            let mut start = 0;
            for (i, &b) in line.iter().enumerate() {
                if b == b' ' {
                    want.push((start, i));
                    start = i + 1;
                }
            }
            want.push((start, line.len()));
            assert_eq!(spans, want, "{line:?}");
        }
    }

    #[test]
    fn text_comes_in_runs_of_whole_lines_whatever_the_block_size() {
        let text = "first line\nsecond\r\n\na line longer than a small block of bytes\nlast";
        for block in [1, 2, 5, 16, 1000] {
            let mut blocks = Blocks::new(text.as_bytes(), 100, block);
            let mut got = String::new();
            while let Some((at, run)) = blocks.next_block().unwrap() {
                assert_eq!(at, 100 + got.len() as u64);
                assert!(run.ends_with('\n') || got.len() + run.len() == text.len());
                got.push_str(run);
            }
            assert_eq!(got, text);
            let mut blocks = Blocks::new(&text.as_bytes()[3..], 3, block);
            blocks.skip_line().unwrap();
            assert_eq!(blocks.next_block().unwrap().unwrap().0, 11);
        }
        let bad = b"ok\nbad \xff line\n";
        let mut blocks = Blocks::new(&bad[..], 0, 4);
        let mut message = String::new();
        loop {
            match blocks.next_block() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    message = e.to_string();
                    break;
                }
            }
        }
        assert!(message.contains("byte 7"), "{message}");
    }

    #[test]
    fn an_error_on_one_thread_stops_the_read_and_names_the_file() {
        let tmp = tempdir();
        let dir = tmp.path();
        varied_file(&dir.join("a.log"), 200);
        std::fs::write(dir.join("b.log"), "not a header line\n").unwrap();
        varied_file(&dir.join("c.log"), 200);
        let compiled = Compiled::new("stats count(*) as n").unwrap();
        let (input, streamed) = compiled.stream_with(PARAMS, true).unwrap();
        let set = FileSet::find(dir).unwrap();
        let feeder = std::thread::spawn(move || {
            let mut input = input;
            let err = load_in(&[set], &mut input, 2, 100, &|_| {}).unwrap_err();
            drop(input);
            err
        });
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(streamed.run(1 << 26)).unwrap();
        let err = feeder.join().unwrap();
        assert!(err.to_string().contains("b.log"), "{err}");
    }

    /// A test's directory, removed when the test is done with it.
    fn tempdir() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary directory")
    }
}
