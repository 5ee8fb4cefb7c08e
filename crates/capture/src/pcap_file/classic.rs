//! Classic pcap records read in place: every packet is handed out as a slice of the bytes a
//! [`Source`] holds, without copying (pcap-file's reader copies each packet through its own
//! buffer and checks each one again; this is the per-packet path of every pcap file). The
//! bytes are either read in large blocks into one buffer ([`Reading`], any input) or a window
//! of a mapped file ([`super::mapped::Mapped`], regular files). The cache line of the records
//! a kilobyte ahead is asked for while a record is counted ([`PREFETCH_AHEAD`]): a mapped
//! window's bytes are not in the cache as a buffer just read into is.
//!
//! The file header and the checks on each record are pcap-file 2.0's, with its messages, so a
//! malformed file gives the same error; a record that ends past the end of the input, or that
//! is longer than pcap-file's buffer ([`MAX_RECORD`]), is [`Next::Cut`] as it was there.

use std::io::{self, ErrorKind, Read};

use pcap_file::pcap::PcapHeader;
use pcap_file::{Endianness, PcapError, TsResolution};

use crate::packet::Timestamp;

/// Bytes read at once (and the buffer's size unless a record is longer).
const BLOCK: usize = 256 << 10;

/// The longest record (header and data) read: pcap-file's buffer, 8,000,000 bytes; a longer
/// one ends the file as cut.
const MAX_RECORD: usize = 8_000_000;

/// The record header: seconds, fraction, captured length, original length.
const RECORD_HEADER: usize = 16;

/// How far ahead of a record its reader asks for the input's cache line: about fifteen
/// records of a trace cut at 64 bytes, some 100 ns of work before they are needed. Without it
/// a mapped file's records are read cold from memory, which cost as much as `read` copying
/// them (`docs/benchmarks.md`).
const PREFETCH_AHEAD: usize = 1024;

/// Where a pcap reader's bytes come from.
pub(super) trait Source {
    /// The bytes held now; a reader's position is an index into them.
    fn bytes(&self) -> &[u8];

    /// Keeps the bytes from `pos` on and makes at least `need` of them available when the
    /// input has them (the bytes before `pos` may be dropped). Returns where the byte at `pos`
    /// is now and whether `need` bytes are held from there.
    fn refill(&mut self, pos: usize, need: usize) -> io::Result<(usize, bool)>;
}

/// Any input, read in blocks of [`BLOCK`] bytes into one buffer.
pub(super) struct Reading<R> {
    reader: R,
    buf: Vec<u8>,
    /// Bytes of `buf` read.
    len: usize,
}

impl<R: Read> Reading<R> {
    pub(super) fn new(reader: R) -> Self {
        Self {
            reader,
            buf: vec![0; BLOCK],
            len: 0,
        }
    }
}

impl<R: Read> Source for Reading<R> {
    #[inline]
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    #[cold]
    fn refill(&mut self, pos: usize, need: usize) -> io::Result<(usize, bool)> {
        self.buf.copy_within(pos..self.len, 0);
        self.len -= pos;
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
        while self.len < need {
            match self.reader.read(&mut self.buf[self.len..]) {
                Ok(0) => return Ok((0, false)),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok((0, true))
    }
}

/// What the next record is.
#[derive(Debug)]
pub(super) enum Next<'a> {
    Packet(Timestamp, &'a [u8]),
    /// The input ended after the last record.
    End,
    /// The input ends inside a record (or the record is too long to read).
    Cut,
}

/// A pcap file's records.
pub(super) struct PcapRecords<S> {
    source: S,
    /// Unread bytes are `source.bytes()[pos..]`.
    pos: usize,
    header: PcapHeader,
}

impl<S: Source> PcapRecords<S> {
    /// Reads the file header.
    pub(super) fn new(source: S) -> Result<Self, PcapError> {
        let mut this = Self {
            source,
            pos: 0,
            header: PcapHeader::default(),
        };
        if !this.fill(24).map_err(PcapError::IoError)? {
            return Err(PcapError::IoError(ErrorKind::UnexpectedEof.into()));
        }
        let (_, header) = PcapHeader::from_slice(&this.source.bytes()[this.pos..])?;
        this.pos += 24;
        this.header = header;
        Ok(this)
    }

    pub(super) fn header(&self) -> &PcapHeader {
        &self.header
    }

    /// The next record.
    #[inline]
    pub(super) fn next_record(&mut self) -> Result<Next<'_>, PcapError> {
        if self.unread() < RECORD_HEADER && !self.fill(RECORD_HEADER).map_err(PcapError::IoError)? {
            return Ok(if self.unread() == 0 {
                Next::End
            } else {
                Next::Cut
            });
        }
        let at = self.pos;
        let buf = self.source.bytes();
        crate::hint::prefetch(buf.as_ptr().addr() + at + PREFETCH_AHEAD);
        let field = |i: usize| {
            let bytes: [u8; 4] = buf[at + 4 * i..at + 4 * i + 4]
                .try_into()
                .unwrap_or_default();
            match self.header.endianness {
                Endianness::Little => u32::from_le_bytes(bytes),
                Endianness::Big => u32::from_be_bytes(bytes),
            }
        };
        let (secs, frac, incl_len, orig_len) = (field(0), field(1), field(2), field(3));
        let size = RECORD_HEADER + incl_len as usize;
        if size > MAX_RECORD {
            return Ok(Next::Cut);
        }
        if self.unread() < size && !self.fill(size).map_err(PcapError::IoError)? {
            return Ok(Next::Cut);
        }
        let nanos = match self.header.ts_resolution {
            TsResolution::MicroSecond => frac.checked_mul(1000).ok_or(PcapError::InvalidField(
                "PacketHeader ts_nanosecond is invalid",
            ))?,
            TsResolution::NanoSecond => frac,
        };
        if nanos >= 1_000_000_000 {
            return Err(PcapError::InvalidField(
                "PacketHeader ts_nanosecond >= 1_000_000_000",
            ));
        }
        let snaplen = self.header.snaplen;
        if incl_len > snaplen {
            return Err(PcapError::InvalidField("PacketHeader incl_len > snap_len"));
        }
        if orig_len > snaplen {
            return Err(PcapError::InvalidField("PacketHeader orig_len > snap_len"));
        }
        if incl_len > orig_len {
            return Err(PcapError::InvalidField("PacketHeader incl_len > orig_len"));
        }
        // `fill` may have moved the record to the start of the buffer.
        let at = self.pos;
        self.pos += size;
        let ts = Timestamp {
            secs: u64::from(secs),
            micros: nanos / 1000,
        };
        Ok(Next::Packet(
            ts,
            &self.source.bytes()[at + RECORD_HEADER..at + size],
        ))
    }

    #[inline]
    fn unread(&self) -> usize {
        self.source.bytes().len() - self.pos
    }

    /// Makes at least `need` bytes unread; `false` if the input ends first.
    #[cold]
    fn fill(&mut self, need: usize) -> io::Result<bool> {
        let (pos, enough) = self.source.refill(self.pos, need)?;
        self.pos = pos;
        Ok(enough)
    }
}
