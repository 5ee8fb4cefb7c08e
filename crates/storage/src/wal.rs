//! The write-ahead log: segmented files of length + CRC framed records, written by one thread
//! that batches every waiting append into one write and one fsync (group commit).
//!
//! Format (version 1), documented in `docs/formats/wal.md`:
//! - file `wal/<first-seq, 20 digits>.wal`, header `FWWAL\0` + u16 version + u64 first seq;
//! - frames: u32 payload length, u32 CRC-32 of the payload, payload (all little-endian);
//! - events payload: u8 kind (1), u64 first seq, i64 group id, i64 stream id, i64 ingestion
//!   time, u32 count, then per event i64 timestamp, u32 length, UTF-8 message.
//!
//! Replay reads files in order and stops at the first torn or corrupt frame of the last file
//! (nothing after it was acknowledged); corruption in an earlier file is an error.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};
use crate::types::{EventRef, StreamKey};

const MAGIC: &[u8; 6] = b"FWWAL\0";
const VERSION: u16 = 1;
const HEADER_LEN: usize = 16;
const FRAME_HEADER_LEN: usize = 8;
const KIND_EVENTS: u8 = 1;
const EVENTS_HEADER_LEN: usize = 1 + 8 + 8 + 8 + 8 + 4;
/// Largest payload a frame may claim; anything larger is corruption.
const MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// Encodes one append's events as a WAL payload (the sequence number is patched in by the
/// writer thread with [`set_first_seq`]).
pub(crate) fn encode_events(
    key: StreamKey,
    ingestion_time: i64,
    events: &[EventRef<'_>],
) -> Vec<u8> {
    let size = EVENTS_HEADER_LEN + events.iter().map(|e| 12 + e.message.len()).sum::<usize>();
    let mut buf = Vec::with_capacity(FRAME_HEADER_LEN + size);
    buf.extend_from_slice(&[0u8; FRAME_HEADER_LEN]);
    buf.push(KIND_EVENTS);
    buf.extend_from_slice(&0u64.to_le_bytes());
    buf.extend_from_slice(&key.group_id.to_le_bytes());
    buf.extend_from_slice(&key.stream_id.to_le_bytes());
    buf.extend_from_slice(&ingestion_time.to_le_bytes());
    buf.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for e in events {
        buf.extend_from_slice(&e.timestamp.to_le_bytes());
        buf.extend_from_slice(&(e.message.len() as u32).to_le_bytes());
        buf.extend_from_slice(e.message.as_bytes());
    }
    buf
}

/// Sets the first sequence number of an encoded frame and seals it (length and CRC).
pub(crate) fn seal(frame: &mut [u8], first_seq: u64) {
    frame[FRAME_HEADER_LEN + 1..FRAME_HEADER_LEN + 9].copy_from_slice(&first_seq.to_le_bytes());
    let payload_len = (frame.len() - FRAME_HEADER_LEN) as u32;
    let crc = crc32fast::hash(&frame[FRAME_HEADER_LEN..]);
    frame[0..4].copy_from_slice(&payload_len.to_le_bytes());
    frame[4..8].copy_from_slice(&crc.to_le_bytes());
}

/// A decoded events record, borrowing from the frame.
#[derive(Debug)]
pub(crate) struct EventsRecord<'a> {
    pub(crate) first_seq: u64,
    pub(crate) key: StreamKey,
    pub(crate) ingestion_time: i64,
    pub(crate) events: Vec<EventRef<'a>>,
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn read_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Decodes a sealed frame's payload.
pub(crate) fn decode_events(payload: &[u8]) -> Option<EventsRecord<'_>> {
    if *payload.first()? != KIND_EVENTS {
        return None;
    }
    let first_seq = read_u64(payload, 1)?;
    let group_id = read_u64(payload, 9)? as i64;
    let stream_id = read_u64(payload, 17)? as i64;
    let ingestion_time = read_u64(payload, 25)? as i64;
    let count = read_u32(payload, 33)? as usize;
    let mut at = EVENTS_HEADER_LEN;
    let mut events = Vec::with_capacity(count.min(payload.len() / 12));
    for _ in 0..count {
        let timestamp = read_u64(payload, at)? as i64;
        let len = read_u32(payload, at + 8)? as usize;
        let bytes = payload.get(at + 12..at + 12 + len)?;
        events.push(EventRef {
            timestamp,
            message: std::str::from_utf8(bytes).ok()?,
        });
        at += 12 + len;
    }
    (at == payload.len()).then_some(EventsRecord {
        first_seq,
        key: StreamKey {
            group_id,
            stream_id,
        },
        ingestion_time,
        events,
    })
}

fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.wal")
}

/// WAL files in `dir`, by first sequence number.
pub(crate) fn list_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut files = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| StorageError::io(dir.display(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io(dir.display(), e))?;
        let name = entry.file_name();
        let Some(seq) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        files.push((seq, entry.path()));
    }
    files.sort();
    Ok(files)
}

/// Reads every intact record of the WAL in `dir`, calling `apply` for each, and truncates a torn
/// tail of the last file. Returns the highest sequence number seen.
pub(crate) fn replay(dir: &Path, mut apply: impl FnMut(EventsRecord<'_>)) -> Result<u64> {
    let files = list_files(dir)?;
    let mut max_seq = 0;
    let last = files.len().saturating_sub(1);
    for (i, (_, path)) in files.iter().enumerate() {
        let mut data = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut data))
            .map_err(|e| StorageError::io(path.display(), e))?;
        let corrupt = |detail: String| StorageError::Corrupt {
            what: path.display().to_string(),
            detail,
        };
        if data.len() < HEADER_LEN || &data[..6] != MAGIC {
            if i == last {
                tracing::warn!(path = %path.display(), "discarding WAL file with a torn header");
                fs::remove_file(path).map_err(|e| StorageError::io(path.display(), e))?;
                continue;
            }
            return Err(corrupt("bad header".into()));
        }
        let version = u16::from_le_bytes([data[6], data[7]]);
        if version != VERSION {
            return Err(corrupt(format!("unsupported WAL version {version}")));
        }
        let mut at = HEADER_LEN;
        while at < data.len() {
            let frame = (|| {
                let len = read_u32(&data, at)? as usize;
                let crc = read_u32(&data, at + 4)?;
                if len > MAX_PAYLOAD {
                    return None;
                }
                let payload = data.get(at + FRAME_HEADER_LEN..at + FRAME_HEADER_LEN + len)?;
                (crc32fast::hash(payload) == crc).then_some(payload)
            })();
            let Some(record) = frame.and_then(decode_events) else {
                if i != last {
                    return Err(corrupt(format!("bad frame at offset {at}")));
                }
                tracing::warn!(path = %path.display(), offset = at, "truncating torn WAL tail");
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| StorageError::io(path.display(), e))?;
                file.set_len(at as u64)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| StorageError::io(path.display(), e))?;
                break;
            };
            let payload_len = FRAME_HEADER_LEN + read_u32(&data, at).map_or(0, |l| l as usize);
            if !record.events.is_empty() {
                max_seq = max_seq.max(record.first_seq + record.events.len() as u64 - 1);
            }
            apply(record);
            at += payload_len;
        }
    }
    Ok(max_seq)
}

/// The file currently appended to.
#[derive(Debug)]
pub(crate) struct WalWriter {
    dir: PathBuf,
    file: BufWriter<File>,
    path: PathBuf,
    size: u64,
    fsync: bool,
}

impl WalWriter {
    /// Starts a new file whose first record will have sequence number `first_seq`.
    pub(crate) fn create(dir: &Path, first_seq: u64, fsync: bool) -> Result<Self> {
        let path = dir.join(file_name(first_seq));
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .map_err(|e| StorageError::io(path.display(), e))?;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&first_seq.to_le_bytes());
        file.write_all(&header)
            .map_err(|e| StorageError::io(path.display(), e))?;
        if fsync {
            file.sync_all()
                .map_err(|e| StorageError::io(path.display(), e))?;
            sync_dir(dir)?;
        }
        Ok(Self {
            dir: dir.to_owned(),
            file: BufWriter::with_capacity(1 << 20, file),
            path,
            size: HEADER_LEN as u64,
            fsync,
        })
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn write(&mut self, frame: &[u8]) -> Result<()> {
        self.file
            .write_all(frame)
            .map_err(|e| StorageError::io(self.path.display(), e))?;
        self.size += frame.len() as u64;
        Ok(())
    }

    /// Makes everything written so far durable.
    pub(crate) fn sync(&mut self) -> Result<()> {
        self.file
            .flush()
            .map_err(|e| StorageError::io(self.path.display(), e))?;
        if self.fsync {
            self.file
                .get_ref()
                .sync_data()
                .map_err(|e| StorageError::io(self.path.display(), e))?;
        }
        Ok(())
    }
}

/// Deletes WAL files holding only records with sequence numbers `<= flushed_seq`, keeping the
/// file currently written (`current_first_seq`).
pub(crate) fn truncate(dir: &Path, flushed_seq: u64, current_first_seq: u64) -> Result<()> {
    let files = list_files(dir)?;
    for pair in files.windows(2) {
        let (first, path) = &pair[0];
        let next_first = pair[1].0;
        if *first < current_first_seq && next_first.saturating_sub(1) <= flushed_seq {
            fs::remove_file(path).map_err(|e| StorageError::io(path.display(), e))?;
        }
    }
    Ok(())
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir.display(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StreamKey {
        StreamKey {
            group_id: 1,
            stream_id: 2,
        }
    }

    fn write_records(dir: &Path, n: u64) -> PathBuf {
        let mut w = WalWriter::create(dir, 1, true).unwrap();
        for seq in 1..=n {
            let msg = format!("message {seq}");
            let mut frame = encode_events(
                key(),
                seq as i64,
                &[EventRef {
                    timestamp: seq as i64 * 10,
                    message: &msg,
                }],
            );
            seal(&mut frame, seq);
            w.write(&frame).unwrap();
        }
        w.sync().unwrap();
        w.path.clone()
    }

    fn replayed(dir: &Path) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        replay(dir, |r| {
            for (i, e) in r.events.iter().enumerate() {
                out.push((r.first_seq + i as u64, e.message.to_owned()));
            }
        })
        .unwrap();
        out
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 5);
        let got = replayed(dir.path());
        assert_eq!(got.len(), 5);
        assert_eq!(got[4], (5, "message 5".to_owned()));
    }

    #[test]
    fn torn_tail_is_cut_at_every_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_records(dir.path(), 3);
        let full = fs::read(&path).unwrap();
        // Frame boundaries: records are equal-sized here.
        let frame_len = (full.len() - HEADER_LEN) / 3;
        for cut in HEADER_LEN..full.len() {
            fs::write(&path, &full[..cut]).unwrap();
            let got = replayed(dir.path());
            let whole = (cut - HEADER_LEN) / frame_len;
            assert_eq!(got.len(), whole, "cut at {cut}");
            // The torn bytes are gone, so appending after replay is safe.
            assert_eq!(
                fs::read(&path).unwrap().len(),
                HEADER_LEN + whole * frame_len
            );
        }
    }

    #[test]
    fn flipped_bit_in_tail_stops_replay() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_records(dir.path(), 3);
        let mut data = fs::read(&path).unwrap();
        let last = data.len() - 2;
        data[last] ^= 0x40;
        fs::write(&path, &data).unwrap();
        assert_eq!(replayed(dir.path()).len(), 2);
    }

    #[test]
    fn corruption_in_older_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_records(dir.path(), 3);
        let mut data = fs::read(&path).unwrap();
        data[HEADER_LEN + 10] ^= 1;
        fs::write(&path, &data).unwrap();
        WalWriter::create(dir.path(), 4, true).unwrap();
        assert!(replay(dir.path(), |_| {}).is_err());
    }

    proptest::proptest! {
        /// Arbitrary bytes after a valid header never panic replay: they are a torn tail.
        #[test]
        fn garbage_tail_never_panics(garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let dir = tempfile::tempdir().unwrap();
            let path = write_records(dir.path(), 2);
            let mut data = fs::read(&path).unwrap();
            data.extend_from_slice(&garbage);
            fs::write(&path, &data).unwrap();
            let got = replayed(dir.path());
            proptest::prop_assert!(got.len() >= 2);
        }

        /// Arbitrary payloads never panic the decoder.
        #[test]
        fn decoder_never_panics(payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = decode_events(&payload);
        }
    }
}
