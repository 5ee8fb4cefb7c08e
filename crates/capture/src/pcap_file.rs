//! pcap and pcapng files to flow-log records: [`read_capture`] detects the format by its
//! magic number, decodes every frame and runs the packets through a [`FlowTable`] in file
//! order, reporting [`Progress`] as it reads.
//!
//! All interfaces of a pcapng file count as the one ENI of [`Options`]. pcapng timestamps
//! honour each interface's `if_tsresol` and `if_tsoffset` (pcap-file 2.0 hands out the raw
//! count as nanoseconds, whatever the resolution). A file cut short in the middle of its last
//! packet (a capture that was killed) keeps what was read before; the cut packet is counted as
//! undecodable.
//!
//! Classic pcap records are parsed in place (`classic.rs`, with pcap-file's header parser and
//! checks) from a window of the file mapped into memory when it is a regular file
//! (`mapped.rs`), else from one large read buffer; pcapng blocks go through pcap-file's reader.

use std::cell::Cell;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::net::IpAddr;
use std::path::Path;
use std::rc::Rc;

use flowwatch_flowlog::{FlowRecord, Token};
use pcap_file::PcapError;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgReader};

use self::classic::{Next, PcapRecords, Reading, Source};
use self::mapped::Mapped;
use crate::error::{CaptureError, Result};
use crate::flow_table::{AggregationInterval, Decoded, FlowTable, Interface, Stats, TableConfig};
use crate::packet::{LinkType, Timestamp};
use crate::rules::SecurityGroup;

mod classic;
mod mapped;

/// How often [`Progress`] is reported, in bytes read.
const PROGRESS_STEP: u64 = 1 << 20;

/// What a capture file is read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `interface-id` of every record.
    pub eni: Token,
    /// `account-id` of every record.
    pub account: Token,
    pub interval: AggregationInterval,
    /// The capturing host's addresses, primary first (see [`Interface::local_addrs`]).
    pub local_addrs: Vec<IpAddr>,
    /// NODATA records for windows without traffic between the first and last packet.
    pub nodata: bool,
    /// See [`TableConfig::max_flows`].
    pub max_flows: usize,
    /// See [`TableConfig::version`].
    pub version: u8,
    /// See [`TableConfig::exclude_unlogged`].
    pub exclude_unlogged: bool,
    /// Security-group rules deciding ACCEPT/REJECT (needs `local_addrs`); `None`: all ACCEPT.
    pub rules: Option<SecurityGroup>,
}

impl Options {
    /// Defaults: 600-second windows, no local addresses, no NODATA, 100,000 flows, version 2,
    /// unlogged traffic excluded.
    pub fn new(eni: Token, account: Token) -> Self {
        let table = TableConfig::default();
        Self {
            eni,
            account,
            interval: table.interval,
            local_addrs: Vec::new(),
            nodata: false,
            max_flows: table.max_flows,
            version: table.version,
            exclude_unlogged: table.exclude_unlogged,
            rules: None,
        }
    }

    /// The flow table these options describe, with the one interface at index 0.
    pub fn table(&self) -> Result<FlowTable> {
        let config = TableConfig {
            interval: self.interval,
            max_flows: self.max_flows,
            version: self.version,
            exclude_unlogged: self.exclude_unlogged,
            reject_wins: false,
        };
        let interface = Interface {
            eni: self.eni.clone(),
            account: self.account.clone(),
            local_addrs: self.local_addrs.clone(),
            nodata: self.nodata,
        };
        let mut table = FlowTable::new(config, vec![interface])?;
        if let Some(group) = &self.rules {
            table.set_rules(0, group.clone())?;
        }
        Ok(table)
    }
}

/// How far reading has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes_read: u64,
    /// The input's size when known.
    pub total: Option<u64>,
}

/// The two capture file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

impl CaptureFormat {
    /// The format of a file starting with `magic`.
    pub fn detect(magic: &[u8]) -> Option<Self> {
        match magic {
            [0xa1, 0xb2, 0xc3, 0xd4, ..]
            | [0xd4, 0xc3, 0xb2, 0xa1, ..]
            | [0xa1, 0xb2, 0x3c, 0x4d, ..]
            | [0x4d, 0x3c, 0xb2, 0xa1, ..] => Some(Self::Pcap),
            [0x0a, 0x0d, 0x0d, 0x0a, ..] => Some(Self::PcapNg),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Pcap => "pcap",
            Self::PcapNg => "pcapng",
        }
    }
}

/// The result of reading a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub format: CaptureFormat,
    /// In window order (see [`FlowTable::advance`]).
    pub records: Vec<FlowRecord>,
    pub stats: Stats,
}

/// Reads the capture file at `path` (see [`read_capture`]).
pub fn read_capture_file(
    path: &Path,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<Capture> {
    collect(|sink| read_capture_file_into(path, options, progress, sink))
}

/// Reads the capture file at `path`, handing records to `sink` as windows close (see
/// [`read_capture_into`]).
pub fn read_capture_file_into(
    path: &Path,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
    sink: &mut RecordSink<'_>,
) -> Result<Summary> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata().ok();
    let total = meta.as_ref().map(std::fs::Metadata::len);
    if meta.is_some_and(|m| m.is_file()) && mapping_allowed() {
        let mut magic = [0u8; 4];
        let got = read_up_to(&mut &file, &mut magic)?;
        if CaptureFormat::detect(&magic[..got]) == Some(CaptureFormat::Pcap) {
            let table = options.table()?;
            let read = Rc::new(Cell::new(0));
            let records = Mapped::new(file, Rc::clone(&read));
            return run(
                CaptureFormat::Pcap,
                table,
                read,
                total,
                progress,
                sink,
                |t, o, r| read_pcap(records, t, o, r),
            );
        }
        // Anything else is read from its start again.
        (&file).seek(SeekFrom::Start(0))?;
    }
    // No BufReader: the pcap readers buffer (large reads) themselves; another buffer would
    // only copy every byte once more.
    read_capture_into(file, total, options, progress, sink)
}

/// Whether regular pcap files may be mapped into memory rather than read
/// (`FLOWWATCH_CAPTURE_MMAP=off` says no; see `mapped.rs`).
fn mapping_allowed() -> bool {
    std::env::var_os("FLOWWATCH_CAPTURE_MMAP").is_none_or(|v| v != "off")
}

/// Reads a pcap or pcapng capture into flow-log records. `total` is the input's size, passed
/// through to `progress`, which is called every MiB read and once at the end.
pub fn read_capture<R: Read>(
    reader: R,
    total: Option<u64>,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<Capture> {
    collect(|sink| read_capture_into(reader, total, options, progress, sink))
}

/// What the streaming readers hand records to: the records of the windows that just closed,
/// in window order (as [`FlowTable::advance`] gives them). The sink takes what it keeps; the
/// vector is cleared after the call. An error stops the reading and is returned.
pub type RecordSink<'a> = dyn FnMut(&mut Vec<FlowRecord>) -> std::io::Result<()> + 'a;

/// What a streaming read found, besides the records it handed out.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub format: CaptureFormat,
    pub stats: Stats,
}

/// [`read_capture`] handing each window's records to `sink` as it closes instead of keeping
/// them: memory stays bounded by the flow table however long the capture is.
pub fn read_capture_into<R: Read>(
    mut reader: R,
    total: Option<u64>,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
    sink: &mut RecordSink<'_>,
) -> Result<Summary> {
    let table = options.table()?;
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut reader, &mut magic)?;
    let format =
        CaptureFormat::detect(&magic[..got]).ok_or_else(|| CaptureError::UnknownFormat {
            magic: magic[..got].to_vec(),
        })?;
    let read = Rc::new(Cell::new(0u64));
    let input = Counting {
        inner: Cursor::new(magic).take(got as u64).chain(reader),
        read: Rc::clone(&read),
    };
    run(
        format,
        table,
        read,
        total,
        progress,
        sink,
        |t, o, r| match format {
            CaptureFormat::Pcap => read_pcap(Reading::new(input), t, o, r),
            CaptureFormat::PcapNg => read_pcapng(input, t, o, r),
        },
    )
}

/// Runs `body` over a capture of `format` (`read` counting the bytes read so far) with
/// `table`, handing records to `sink` and closing every window at the end.
fn run(
    format: CaptureFormat,
    mut table: FlowTable,
    read: Rc<Cell<u64>>,
    total: Option<u64>,
    progress: &mut dyn FnMut(Progress),
    sink: &mut RecordSink<'_>,
    body: impl FnOnce(&mut FlowTable, &mut Out<'_, '_>, &mut Reporter<'_>) -> Result<()>,
) -> Result<Summary> {
    let mut reporter = Reporter {
        read,
        total,
        next: PROGRESS_STEP,
        progress,
    };
    let mut out = Out {
        batch: Vec::new(),
        sink,
    };
    body(&mut table, &mut out, &mut reporter)?;
    table.finish(&mut out.batch);
    out.flush()?;
    reporter.report();
    Ok(Summary {
        format,
        stats: *table.stats(),
    })
}

/// Runs a streaming read, keeping every record.
fn collect(read: impl FnOnce(&mut RecordSink<'_>) -> Result<Summary>) -> Result<Capture> {
    let mut records = Vec::new();
    let summary = read(&mut |batch: &mut Vec<FlowRecord>| {
        records.append(batch);
        Ok(())
    })?;
    Ok(Capture {
        format: summary.format,
        records,
        stats: summary.stats,
    })
}

/// Records on their way to a sink.
struct Out<'s, 'a> {
    batch: Vec<FlowRecord>,
    sink: &'s mut RecordSink<'a>,
}

impl Out<'_, '_> {
    /// Closes the windows ended by `now` and hands their records on.
    #[inline]
    fn advance(&mut self, table: &mut FlowTable, now: u64) -> Result<()> {
        table.advance(now, &mut self.batch);
        if self.batch.is_empty() {
            Ok(())
        } else {
            self.flush()
        }
    }

    #[cold]
    fn flush(&mut self) -> Result<()> {
        if !self.batch.is_empty() {
            (self.sink)(&mut self.batch)?;
            self.batch.clear();
        }
        Ok(())
    }
}

fn read_pcap(
    input: impl Source,
    table: &mut FlowTable,
    out: &mut Out<'_, '_>,
    reporter: &mut Reporter<'_>,
) -> Result<()> {
    let format = CaptureFormat::Pcap.name();
    let mut reader = PcapRecords::new(input).map_err(|e| CaptureError::pcap(format, e))?;
    let link_type = u32::from(reader.header().datalink);
    let link =
        LinkType::from_number(link_type).ok_or(CaptureError::UnsupportedLinkType { link_type })?;
    // The last AHEAD frames decoded, waiting for their turn, in a ring.
    let mut frames: [(u64, Decoded); AHEAD] = Default::default();
    let mut decoded = 0usize;
    let mut cut = false;
    loop {
        let (ts, data) = match reader.next_record() {
            Ok(Next::Packet(ts, data)) => (ts, data),
            Ok(Next::End) => break,
            Ok(Next::Cut) => {
                cut = true;
                break;
            }
            Err(e) if is_cut(&e) => {
                cut = true;
                break;
            }
            Err(e) => return Err(CaptureError::pcap(format, e)),
        };
        // Each frame is decoded before the one before it is counted, so that the CPU fetches
        // its flow's slot meanwhile (`FlowTable::decode_ahead`).
        let slot = decoded % AHEAD;
        if decoded >= AHEAD {
            out.advance(table, frames[slot].0)?;
            table.observe_ahead(&frames[slot].1);
        }
        table.decode_ahead(0, link, ts, data, &mut frames[slot].1)?;
        frames[slot].0 = ts.secs;
        decoded += 1;
        reporter.maybe_report();
    }
    for n in decoded.saturating_sub(AHEAD)..decoded {
        let (secs, frame) = &frames[n % AHEAD];
        out.advance(table, *secs)?;
        table.observe_ahead(frame);
    }
    if cut {
        table.count_undecodable();
    }
    Ok(())
}

/// How many frames of a pcap file are decoded before they are counted (see `read_pcap`).
const AHEAD: usize = 2;

fn read_pcapng(
    input: impl Read,
    table: &mut FlowTable,
    out: &mut Out<'_, '_>,
    reporter: &mut Reporter<'_>,
) -> Result<()> {
    let format = CaptureFormat::PcapNg.name();
    let mut reader = PcapNgReader::new(input).map_err(|e| CaptureError::pcap(format, e))?;
    // This section's interfaces (the reader's own list cannot be read while a block borrows it).
    let mut interfaces: Vec<NgInterface> = Vec::new();
    // Simple packet blocks carry no time: they take the last time seen.
    let mut last = Timestamp::default();
    while let Some(block) = reader.next_block() {
        let (interface_id, raw_ts, data) = match block {
            Err(e) if is_cut(&e) => {
                table.count_undecodable();
                break;
            }
            Err(e) => return Err(CaptureError::pcap(format, e)),
            Ok(Block::SectionHeader(_)) => {
                interfaces.clear();
                continue;
            }
            Ok(Block::InterfaceDescription(idb)) => {
                interfaces.push(NgInterface::new(&idb));
                continue;
            }
            Ok(Block::EnhancedPacket(p)) => {
                // pcap-file stores the raw 64-bit count in `timestamp` as nanoseconds.
                let raw = u64::try_from(p.timestamp.as_nanos()).unwrap_or(u64::MAX);
                (p.interface_id, Some(raw), p.data)
            }
            Ok(Block::Packet(p)) => (u32::from(p.interface_id), Some(p.timestamp), p.data),
            Ok(Block::SimplePacket(p)) => (0, None, p.data),
            Ok(_) => continue,
        };
        let Some(interface) = interfaces.get(interface_id as usize) else {
            table.count_undecodable();
            continue;
        };
        let ts = match raw_ts {
            Some(raw) => interface.time(raw),
            None => last,
        };
        last = ts;
        out.advance(table, ts.secs)?;
        match interface.link {
            Some(link) => table.observe_frame(0, link, ts, &data)?,
            None => table.count_undecodable(),
        }
        reporter.maybe_report();
    }
    Ok(())
}

/// Whether reading stopped because the input ends inside a packet or block.
fn is_cut(e: &PcapError) -> bool {
    match e {
        PcapError::IncompleteBuffer => true,
        PcapError::IoError(io) => io.kind() == std::io::ErrorKind::UnexpectedEof,
        _ => false,
    }
}

/// What packets need of a pcapng interface description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NgInterface {
    link: Option<LinkType>,
    /// `if_tsresol`: 10^-n, or 2^-n when the high bit is set (default 10^-6).
    resolution: u8,
    /// `if_tsoffset`, seconds.
    offset: u64,
}

impl NgInterface {
    fn new(idb: &InterfaceDescriptionBlock<'_>) -> Self {
        let mut this = Self {
            link: LinkType::from_number(u32::from(idb.linktype)),
            resolution: 6,
            offset: 0,
        };
        for option in &idb.options {
            match option {
                InterfaceDescriptionOption::IfTsResol(r) => this.resolution = *r,
                InterfaceDescriptionOption::IfTsOffset(o) => this.offset = *o,
                _ => {}
            }
        }
        this
    }

    /// The time of a raw timestamp count.
    fn time(&self, raw: u64) -> Timestamp {
        let raw = u128::from(raw);
        // Units per second; resolutions beyond 10^-38 / 2^-127 are nonsense, clamp them.
        let per_sec: u128 = if self.resolution & 0x80 == 0 {
            10u128.pow(u32::from(self.resolution.min(38)))
        } else {
            1u128 << (self.resolution & 0x7f).min(127)
        };
        let secs = u64::try_from(raw / per_sec).unwrap_or(u64::MAX);
        let micros = ((raw % per_sec) * 1_000_000 / per_sec) as u32;
        Timestamp {
            secs: secs.saturating_add(self.offset),
            micros,
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(got)
}

/// A reader that counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

struct Reporter<'a> {
    read: Rc<Cell<u64>>,
    total: Option<u64>,
    next: u64,
    progress: &'a mut dyn FnMut(Progress),
}

impl Reporter<'_> {
    fn maybe_report(&mut self) {
        if self.read.get() >= self.next {
            self.next = self.read.get() + PROGRESS_STEP;
            self.report();
        }
    }

    fn report(&mut self) {
        (self.progress)(Progress {
            bytes_read: self.read.get(),
            total: self.total,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_magic() {
        assert_eq!(
            CaptureFormat::detect(&[0xd4, 0xc3, 0xb2, 0xa1]),
            Some(CaptureFormat::Pcap)
        );
        assert_eq!(
            CaptureFormat::detect(&[0x4d, 0x3c, 0xb2, 0xa1]),
            Some(CaptureFormat::Pcap)
        );
        assert_eq!(
            CaptureFormat::detect(&[0x0a, 0x0d, 0x0d, 0x0a]),
            Some(CaptureFormat::PcapNg)
        );
        assert_eq!(CaptureFormat::detect(&[0x0a, 0x0d]), None);
        assert_eq!(CaptureFormat::detect(b"GIF8"), None);
    }

    /// A classic pcap file (microseconds, Ethernet) of `n` UDP packets of varied flows and
    /// sizes over several minutes.
    fn udp_pcap(n: u32) -> Vec<u8> {
        // Magic, version 2.4, zone, accuracy, snap length, link type 1 (Ethernet).
        let mut file = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        file.extend_from_slice(&[2, 0, 4, 0]);
        for word in [0u32, 0, 65535, 1] {
            file.extend_from_slice(&word.to_le_bytes());
        }
        for i in 0..n {
            let payload = vec![0u8; (i as usize * 37) % 300];
            let mut frame = Vec::new();
            etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
                .ipv4([10, 0, 0, (i % 7) as u8], [10, 0, 1, 1], 64)
                .udp(1000 + (i % 13) as u16, 53)
                .write(&mut frame, &payload)
                .unwrap();
            let secs = 1_700_000_000 + i / 10;
            for word in [
                secs,
                (i % 10) * 1000,
                frame.len() as u32,
                frame.len() as u32,
            ] {
                file.extend_from_slice(&word.to_le_bytes());
            }
            file.extend_from_slice(&frame);
        }
        file
    }

    fn test_options() -> Options {
        Options::new(
            Token::new("eni-0123456789abcdef0").unwrap(),
            Token::new("123456789012").unwrap(),
        )
    }

    /// `path` read through a mapping of `window` bytes at a time: its records, statistics
    /// and last progress report.
    fn read_mapped(path: &Path, window: usize) -> (Vec<FlowRecord>, Stats, u64) {
        let read = Rc::new(Cell::new(0));
        let source =
            Mapped::with_window(std::fs::File::open(path).unwrap(), Rc::clone(&read), window);
        let mut records = Vec::new();
        let mut last = 0;
        let summary = run(
            CaptureFormat::Pcap,
            test_options().table().unwrap(),
            read,
            None,
            &mut |p| last = p.bytes_read,
            &mut |batch| {
                records.append(batch);
                Ok(())
            },
            |t, o, r| read_pcap(source, t, o, r),
        )
        .unwrap();
        (records, summary.stats, last)
    }

    #[test]
    fn a_mapped_file_gives_what_reading_it_gives_at_any_window() {
        let dir = tempfile::tempdir().unwrap();
        let whole = udp_pcap(3000);
        // Whole, and cut inside its last record.
        for bytes in [&whole[..], &whole[..whole.len() - 10]] {
            let path = dir.path().join("t.pcap");
            std::fs::write(&path, bytes).unwrap();
            let read =
                read_capture(Cursor::new(bytes), None, &test_options(), &mut |_| {}).unwrap();
            assert!(read.records.len() > 10);
            // Windows smaller than a record, records across windows, one window.
            for window in [1, 100, 4096, 1 << 20] {
                let (records, stats, progress) = read_mapped(&path, window);
                assert_eq!(records, read.records, "window {window}");
                assert_eq!(stats, read.stats, "window {window}");
                assert_eq!(progress, bytes.len() as u64, "window {window}");
            }
            // And through the public entry point, which maps a regular file.
            let file = read_capture_file(&path, &test_options(), &mut |_| {}).unwrap();
            assert_eq!((file.records, file.stats), (read.records, read.stats));
        }
        // Only a file header, then nothing at all.
        for bytes in [&whole[..24], &whole[..10], &[][..]] {
            let path = dir.path().join("short.pcap");
            std::fs::write(&path, bytes).unwrap();
            let read = read_capture(Cursor::new(bytes), None, &test_options(), &mut |_| {});
            let file = read_capture_file(&path, &test_options(), &mut |_| {});
            assert_eq!(format!("{read:?}"), format!("{file:?}"));
        }
    }

    #[test]
    fn pcapng_resolutions() {
        let mut idb = InterfaceDescriptionBlock::new(pcap_file::DataLink::ETHERNET, 0xffff);
        let time = |idb: &InterfaceDescriptionBlock<'_>, raw| NgInterface::new(idb).time(raw);
        assert_eq!(NgInterface::new(&idb).link, Some(LinkType::Ethernet));
        assert_eq!(
            time(&idb, 1_500_000_250),
            Timestamp {
                secs: 1500,
                micros: 250
            }
        );
        idb.options.push(InterfaceDescriptionOption::IfTsResol(9));
        assert_eq!(
            time(&idb, 1_500_000_250_999),
            Timestamp {
                secs: 1500,
                micros: 250
            }
        );
        idb.options
            .push(InterfaceDescriptionOption::IfTsOffset(100));
        assert_eq!(
            time(&idb, 2_000_000_000),
            Timestamp {
                secs: 102,
                micros: 0
            }
        );
        idb.options[0] = InterfaceDescriptionOption::IfTsResol(0x80 | 10);
        assert_eq!(
            time(&idb, 1024 * 7 + 512),
            Timestamp {
                secs: 107,
                micros: 500_000
            }
        );
        idb.options[0] = InterfaceDescriptionOption::IfTsResol(0xff);
        let _ = time(&idb, u64::MAX); // no overflow
    }
}
