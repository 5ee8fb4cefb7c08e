//! A capture file read through a window of memory mapped onto it ([`Mapped`]), for
//! [`super::classic::PcapRecords`]: the kernel does not copy the file into a buffer as `read`
//! does, the window's pages are mapped all at once (`MAP_POPULATE`), and at most
//! [`WINDOW`] bytes of the file are mapped at a time, so resident memory stays bounded
//! whatever the file's size.
//!
//! Mapping is unsafe because the file could change under the mapping. A capture file being
//! appended to (a running `tcpdump -w`) is fine: a window covers only bytes that were in the
//! file when it was mapped, and the file's size is looked at again for each window, so
//! appended packets are read as `read` would read them. A file *truncated* while it is read
//! would fault (SIGBUS) where `read` would only see it end; `FLOWWATCH_CAPTURE_MMAP=off`
//! reads instead (docs/capture.md).
#![expect(
    unsafe_code,
    reason = "memory-mapping a file is unsafe (another process could change it under the \
              mapping; see the module docs)"
)]

use std::cell::Cell;
use std::fs::File;
use std::io;
use std::rc::Rc;

use memmap2::{Mmap, MmapOptions};

use super::classic::Source;

/// Bytes mapped at a time (or more, for a record longer than this).
const WINDOW: usize = 16 << 20;

/// A regular file, mapped a window at a time.
pub(super) struct Mapped {
    file: File,
    /// The window mapped now (`None` before the first and when it would be empty).
    map: Option<Mmap>,
    /// Where in the file the window starts.
    offset: u64,
    /// Bytes of the file mapped so far, for progress reports.
    seen: Rc<Cell<u64>>,
    /// Bytes mapped at a time ([`WINDOW`] but in tests).
    window: usize,
}

impl Mapped {
    /// `file`, not mapped yet: the first [`Source::refill`] maps its start.
    pub(super) fn new(file: File, seen: Rc<Cell<u64>>) -> Self {
        Self::with_window(file, seen, WINDOW)
    }

    /// Mapping `window` bytes at a time.
    pub(super) fn with_window(file: File, seen: Rc<Cell<u64>>, window: usize) -> Self {
        Self {
            file,
            map: None,
            offset: 0,
            seen,
            window: window.max(1),
        }
    }
}

impl Source for Mapped {
    #[inline]
    fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }

    #[cold]
    fn refill(&mut self, pos: usize, need: usize) -> io::Result<(usize, bool)> {
        let held = self.bytes().len();
        let start = self.offset + pos as u64;
        let size = self.file.metadata()?.len();
        if start + (held - pos) as u64 >= size {
            // Nothing more in the file than what is mapped.
            return Ok((pos, held - pos >= need));
        }
        let len = usize::try_from(size - start)
            .unwrap_or(usize::MAX)
            .min(self.window.max(need));
        // Unmapped before the next window is mapped, so at most one is resident.
        self.map = None;
        // SAFETY: the mapping is read only and private, and `len` bytes from `start` are in
        // the file now; the hazard of another process changing the file meanwhile is the
        // module's to document (see the module docs).
        let map = unsafe {
            MmapOptions::new()
                .offset(start)
                .len(len)
                .populate()
                .map(&self.file)?
        };
        self.map = Some(map);
        self.offset = start;
        self.seen.set(start + len as u64);
        Ok((0, len >= need))
    }
}
