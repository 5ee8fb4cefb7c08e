//! A `TPACKET_V3` receive ring (`PACKET_RX_RING`): the kernel copies frames into blocks of a
//! memory area shared with us and hands each block over when it is full or after
//! [`RETIRE_TOV_MS`]; we walk the block's frames and hand it back. No system call per frame.
//!
//! Layout (`linux/if_packet.h`): each block opens with a `tpacket_block_desc` whose
//! `hdr.bh1` says who owns the block (`block_status`: `TP_STATUS_KERNEL` or `TP_STATUS_USER`),
//! how many frames it holds (`num_pkts`) and where the first one starts
//! (`offset_to_first_pkt`). Each frame opens with a `tpacket3_hdr` (`tp_next_offset` to the
//! next frame, `tp_sec`/`tp_nsec`, `tp_snaplen`, `tp_len`, `tp_mac`), followed at
//! `TPACKET_ALIGN(sizeof(tpacket3_hdr))` by the `sockaddr_ll` that says the packet type.
//!
//! [`walk_block`] reads a block as plain bytes, every offset checked against the block's size,
//! so a malformed block ends the walk instead of reading out of bounds; [`Ring`] owns the
//! mapping and is the only code here that touches shared memory.
#![expect(
    unsafe_code,
    reason = "the ring is memory shared with the kernel: mmap, munmap and atomic accesses to \
              its block headers (see the module docs)"
)]

use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::packet::Timestamp;

/// Bytes of each block: a power of two, a multiple of the page size. One block holds about
/// 1,700 frames cut to 512 bytes (see [`crate::sys::PacketSocket::open_ring`]).
pub(crate) const BLOCK_SIZE: u32 = 1 << 20;
/// Blocks in the ring (16 MiB per interface): about 27,000 cut frames waiting to be read.
pub(crate) const BLOCK_NR: u32 = 16;
/// `tp_frame_size`: TPACKET_V3 frames are of variable size and packed in the blocks; the
/// kernel only checks that this divides the block and is aligned.
pub(crate) const FRAME_SIZE: u32 = 2048;
/// `tp_retire_blk_tov`: a block that is not full is handed over this many milliseconds after
/// it was opened, so a quiet interface's packets are read within about this delay. Below the
/// 200 ms a [`crate::LiveCapture::poll`] waits at most, so a poll that times out has normally
/// seen every packet that arrived before it started waiting.
pub(crate) const RETIRE_TOV_MS: u32 = 100;

/// `TPACKET_ALIGN`.
const fn tpacket_align(x: usize) -> usize {
    (x + libc::TPACKET_ALIGNMENT - 1) & !(libc::TPACKET_ALIGNMENT - 1)
}

/// Offsets in a block's header (`tpacket_block_desc`, whose `hdr` holds a `tpacket_hdr_v1`).
const BLOCK_HDR: usize = offset_of!(libc::tpacket_block_desc, hdr);
const BLOCK_STATUS: usize = BLOCK_HDR + offset_of!(libc::tpacket_hdr_v1, block_status);
const NUM_PKTS: usize = BLOCK_HDR + offset_of!(libc::tpacket_hdr_v1, num_pkts);
const FIRST_PKT: usize = BLOCK_HDR + offset_of!(libc::tpacket_hdr_v1, offset_to_first_pkt);
/// Offsets in a frame's header (`tpacket3_hdr`).
const NEXT_OFFSET: usize = offset_of!(libc::tpacket3_hdr, tp_next_offset);
const SEC: usize = offset_of!(libc::tpacket3_hdr, tp_sec);
const NSEC: usize = offset_of!(libc::tpacket3_hdr, tp_nsec);
const SNAPLEN: usize = offset_of!(libc::tpacket3_hdr, tp_snaplen);
const LEN: usize = offset_of!(libc::tpacket3_hdr, tp_len);
const MAC: usize = offset_of!(libc::tpacket3_hdr, tp_mac);
/// The `sockaddr_ll` after the frame header, and its `sll_pkttype`.
const SLL: usize = tpacket_align(size_of::<libc::tpacket3_hdr>());
const PKTTYPE: usize = SLL + offset_of!(libc::sockaddr_ll, sll_pkttype);
/// Bytes from a frame's start that must lie in the block before its header is read.
const FRAME_HDR_LEN: usize = SLL + size_of::<libc::sockaddr_ll>();

/// One frame of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// The captured bytes from the link-layer header on (at most the `max_len` walked with).
    pub data: &'a [u8],
    /// The frame's length on the wire (`tp_len`).
    pub wire_len: u32,
    /// When the kernel received it (`tp_sec`, `tp_nsec`); `None` when it says 0.
    pub ts: Option<Timestamp>,
    /// `sll_pkttype`: `PACKET_HOST`, `PACKET_OUTGOING`...
    pub pkttype: u8,
}

/// What [`walk_block`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Walked {
    /// Frames given to the callback.
    pub frames: u32,
    /// False when the walk stopped early at an offset or length outside the block.
    pub complete: bool,
}

fn read_u32(block: &[u8], at: usize) -> Option<u32> {
    let bytes = block.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(bytes.try_into().ok()?))
}

fn read_u16(block: &[u8], at: usize) -> Option<u16> {
    let bytes = block.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes(bytes.try_into().ok()?))
}

/// One frame at `off`, its data cut to `max_len` bytes, and the offset of the next one.
fn frame_at(block: &[u8], off: usize, max_len: usize) -> Option<(Frame<'_>, u32)> {
    let end = off.checked_add(FRAME_HDR_LEN)?;
    let header = block.get(off..end)?;
    let next = read_u32(header, NEXT_OFFSET)?;
    let sec = read_u32(header, SEC)?;
    let nsec = read_u32(header, NSEC)?;
    let snaplen = read_u32(header, SNAPLEN)?;
    let wire_len = read_u32(header, LEN)?;
    let mac = read_u16(header, MAC)?;
    let pkttype = *header.get(PKTTYPE)?;
    let start = off.checked_add(usize::from(mac))?;
    let len = usize::try_from(snaplen).ok()?.min(max_len);
    let data = block.get(start..start.checked_add(len)?)?;
    let ts = (sec != 0).then(|| Timestamp {
        secs: u64::from(sec),
        micros: (nsec / 1000).min(999_999),
    });
    Some((
        Frame {
            data,
            wire_len,
            ts,
            pkttype,
        },
        next,
    ))
}

/// Calls `f` with each frame of a block the kernel handed over (`block`: the whole block,
/// header included), data cut to `max_len` bytes. Stops at the first frame whose header or
/// data would lie outside the block, or whose `tp_next_offset` is 0 before the last frame.
pub(crate) fn walk_block(block: &[u8], max_len: usize, mut f: impl FnMut(Frame<'_>)) -> Walked {
    let mut walked = Walked {
        frames: 0,
        complete: false,
    };
    let (Some(count), Some(first)) = (read_u32(block, NUM_PKTS), read_u32(block, FIRST_PKT)) else {
        return walked;
    };
    let Ok(mut off) = usize::try_from(first) else {
        return walked;
    };
    for i in 0..count {
        let Some((frame, next)) = frame_at(block, off, max_len) else {
            return walked;
        };
        f(frame);
        walked.frames += 1;
        if i + 1 < count {
            match off.checked_add(next as usize) {
                Some(n) if next != 0 => off = n,
                _ => return walked,
            }
        }
    }
    walked.complete = true;
    walked
}

/// A mapped `PACKET_RX_RING` of [`BLOCK_NR`] blocks of [`BLOCK_SIZE`] bytes, unmapped on drop.
#[derive(Debug)]
pub(crate) struct Ring {
    base: NonNull<u8>,
    block_size: usize,
    block_nr: usize,
    /// The block to look at next: the kernel fills blocks in order, and so do we read them.
    next: usize,
}

// SAFETY: the mapping belongs to this value alone (nothing else holds its address) and is only
// touched through `&mut self`; moving it to another thread moves that exclusive access with it.
// The kernel's side of the sharing does not depend on which thread reads.
unsafe impl Send for Ring {}

impl Ring {
    /// Maps the ring set up on packet socket `fd` (`PACKET_RX_RING` already done, with
    /// `block_nr` blocks of `block_size` bytes).
    pub(crate) fn map(fd: RawFd, block_size: u32, block_nr: u32) -> io::Result<Self> {
        let block_size = block_size as usize;
        let block_nr = block_nr as usize;
        let len = block_size
            .checked_mul(block_nr)
            .filter(|&l| l > 0)
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a fresh shared mapping of the socket's ring, at an address the kernel picks;
        // the result is checked below and unmapped once, on drop.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null address"))?;
        Ok(Self {
            base,
            block_size,
            block_nr,
            next: 0,
        })
    }

    pub(crate) fn blocks(&self) -> usize {
        self.block_nr
    }

    /// The status word of block `i` (< `block_nr`), as an atomic.
    fn status(&self, i: usize) -> &AtomicU32 {
        // SAFETY: block `i` lies in the mapping (i < block_nr), blocks start on page
        // boundaries, so `block_status` (at offset 8) is aligned for a u32 and lives as long as
        // `self`. The kernel accesses it concurrently, so it is only ever read and written
        // atomically here (never through a plain reference while the kernel owns the block).
        unsafe {
            AtomicU32::from_ptr(
                self.base
                    .as_ptr()
                    .add(i * self.block_size + BLOCK_STATUS)
                    .cast::<u32>(),
            )
        }
    }

    /// If the next block is ours (`TP_STATUS_USER`), calls `f` with it and hands it back to the
    /// kernel; `None` when the kernel still owns it.
    pub(crate) fn next_block<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let i = self.next;
        // Acquire: the kernel fills the block's frames, then (after `smp_wmb`) sets
        // `TP_STATUS_USER`. Reading the status with acquire ordering makes those frame writes
        // visible to the reads of the block below; with a relaxed read the CPU or compiler
        // could read frame bytes from before the kernel wrote them.
        let status = self.status(i).load(Ordering::Acquire);
        if status & libc::TP_STATUS_USER == 0 {
            return None;
        }
        let result = {
            // SAFETY: block `i` lies in the mapping; it is ours (TP_STATUS_USER, acquired
            // above) until we store TP_STATUS_KERNEL below, so the kernel does not write it
            // while this shared slice lives, and the slice ends before that store.
            let block = unsafe {
                std::slice::from_raw_parts(
                    self.base.as_ptr().add(i * self.block_size).cast_const(),
                    self.block_size,
                )
            };
            f(block)
        };
        // Release: every read of the block above must be complete before the kernel can see
        // the block as its own again and overwrite it; a release store orders them before the
        // status change (a plain store could become visible first).
        self.status(i)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.next = (i + 1) % self.block_nr;
        Some(result)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `base` and this length are the mapping `map` created; no slice of it
        // outlives `next_block`, and it is unmapped once.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.block_size * self.block_nr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: usize = 4096;
    /// Where the first frame starts, as the kernel puts it (after the aligned block header).
    const FIRST: usize = 48;

    struct TestFrame {
        off: usize,
        next: u32,
        sec: u32,
        nsec: u32,
        mac: u16,
        data: Vec<u8>,
        wire_len: u32,
        pkttype: u8,
    }

    fn put_u32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    }

    fn block(num_pkts: u32, first: u32, frames: &[TestFrame]) -> Vec<u8> {
        let mut b = vec![0u8; BLOCK];
        put_u32(&mut b, BLOCK_STATUS, libc::TP_STATUS_USER);
        put_u32(&mut b, NUM_PKTS, num_pkts);
        put_u32(&mut b, FIRST_PKT, first);
        for f in frames {
            put_u32(&mut b, f.off + NEXT_OFFSET, f.next);
            put_u32(&mut b, f.off + SEC, f.sec);
            put_u32(&mut b, f.off + NSEC, f.nsec);
            put_u32(&mut b, f.off + SNAPLEN, f.data.len() as u32);
            put_u32(&mut b, f.off + LEN, f.wire_len);
            b[f.off + MAC..f.off + MAC + 2].copy_from_slice(&f.mac.to_ne_bytes());
            b[f.off + PKTTYPE] = f.pkttype;
            let start = f.off + usize::from(f.mac);
            b[start..start + f.data.len()].copy_from_slice(&f.data);
        }
        b
    }

    fn frame(off: usize, next: u32, fill: u8, len: usize, pkttype: u8) -> TestFrame {
        TestFrame {
            off,
            next,
            sec: 1_700_000_000 + off as u32,
            nsec: 123_456_789,
            mac: 82,
            data: vec![fill; len],
            wire_len: len as u32 + 1000,
            pkttype,
        }
    }

    /// A frame's data, wire length, timestamp and packet type.
    type Got = (Vec<u8>, u32, Option<Timestamp>, u8);

    fn collect(b: &[u8], max_len: usize) -> (Walked, Vec<Got>) {
        let mut got = Vec::new();
        let walked = walk_block(b, max_len, |f| {
            got.push((f.data.to_vec(), f.wire_len, f.ts, f.pkttype))
        });
        (walked, got)
    }

    #[test]
    fn layout_is_the_kernels() {
        // linux/if_packet.h: tpacket3_hdr is 48 bytes, TPACKET3_HDRLEN 68; the block header's
        // status word follows `version` and `offset_to_priv`.
        assert_eq!(size_of::<libc::tpacket3_hdr>(), 48);
        assert_eq!(FRAME_HDR_LEN, libc::TPACKET3_HDRLEN);
        assert_eq!((BLOCK_STATUS, NUM_PKTS, FIRST_PKT), (8, 12, 16));
        assert_eq!(
            (NEXT_OFFSET, SEC, NSEC, SNAPLEN, LEN, MAC),
            (0, 4, 8, 12, 16, 24)
        );
        assert_eq!(PKTTYPE, 58);
    }

    #[test]
    fn walks_frames_at_their_offsets() {
        let frames = [
            frame(FIRST, 160, 0xa1, 60, libc::PACKET_HOST),
            frame(FIRST + 160, 640, 0xb2, 500, libc::PACKET_OUTGOING),
            // The last frame's next offset is not followed.
            frame(FIRST + 800, 7, 0xc3, 40, libc::PACKET_BROADCAST),
        ];
        let b = block(3, FIRST as u32, &frames);
        let (walked, got) = collect(&b, 512);
        assert_eq!(
            walked,
            Walked {
                frames: 3,
                complete: true
            }
        );
        assert_eq!(got.len(), 3);
        for (f, (data, wire_len, ts, pkttype)) in frames.iter().zip(&got) {
            assert_eq!(data, &f.data);
            assert_eq!(*wire_len, f.wire_len);
            assert_eq!(
                *ts,
                Some(Timestamp {
                    secs: u64::from(f.sec),
                    micros: 123_456
                })
            );
            assert_eq!(*pkttype, f.pkttype);
        }
    }

    #[test]
    fn cuts_data_to_max_len() {
        let b = block(1, FIRST as u32, &[frame(FIRST, 0, 0xee, 900, 0)]);
        let (walked, got) = collect(&b, 512);
        assert!(walked.complete);
        assert_eq!(got[0].0, vec![0xee; 512]);
    }

    #[test]
    fn a_block_without_frames_gives_none() {
        let b = block(0, FIRST as u32, &[]);
        assert_eq!(
            collect(&b, 512),
            (
                Walked {
                    frames: 0,
                    complete: true
                },
                vec![]
            )
        );
    }

    #[test]
    fn a_zero_timestamp_is_none() {
        let mut f = frame(FIRST, 0, 1, 20, 0);
        f.sec = 0;
        let b = block(1, FIRST as u32, &[f]);
        assert_eq!(collect(&b, 512).1[0].2, None);
    }

    #[test]
    fn out_of_range_offsets_stop_the_walk() {
        // The second frame's offset points past the block.
        let b = block(
            3,
            FIRST as u32,
            &[frame(FIRST, (BLOCK * 2) as u32, 1, 20, 0)],
        );
        let (walked, got) = collect(&b, 512);
        assert_eq!(
            walked,
            Walked {
                frames: 1,
                complete: false
            }
        );
        assert_eq!(got.len(), 1);

        // A header that would end past the block.
        let b = block(1, (BLOCK - 10) as u32, &[]);
        assert_eq!(collect(&b, 512).0.frames, 0);
        // Offsets near u32::MAX must not overflow.
        let b = block(2, u32::MAX, &[]);
        assert!(!collect(&b, 512).0.complete);
        let b = block(2, FIRST as u32, &[frame(FIRST, u32::MAX, 1, 20, 0)]);
        assert_eq!(collect(&b, 512).0.frames, 1);

        // Data (tp_mac + tp_snaplen) past the block's end.
        let mut b = block(1, FIRST as u32, &[frame(FIRST, 0, 1, 20, 0)]);
        put_u32(&mut b, FIRST + SNAPLEN, 5000);
        assert_eq!(collect(&b, 512).0.frames, 1, "cut to max_len, it fits");
        assert_eq!(collect(&b, 8192).0.frames, 0, "whole, it does not");

        // A zero next offset before the last frame would read the same frame again.
        let b = block(2, FIRST as u32, &[frame(FIRST, 0, 1, 20, 0)]);
        assert_eq!(
            collect(&b, 512).0,
            Walked {
                frames: 1,
                complete: false
            }
        );

        // A block too short for its own header.
        assert_eq!(collect(&[0u8; 10], 512).0.frames, 0);
    }

    #[test]
    fn arbitrary_blocks_never_panic() {
        // A cheap deterministic fuzz: random headers and offsets over a small block.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..2000 {
            let mut b = vec![0u8; 512];
            for byte in &mut b {
                *byte = rand() as u8;
            }
            put_u32(&mut b, NUM_PKTS, (rand() % 8) as u32);
            put_u32(&mut b, FIRST_PKT, (rand() % 600) as u32);
            let walked = walk_block(&b, 512, |f| assert!(f.data.len() <= 512));
            assert!(walked.frames <= 8);
        }
    }
}
